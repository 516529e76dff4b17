/**
 * Footprints of engine steps, for partial-order reduction.
 *
 * A footprint is the pair of access masks the engine records for every fully traced step
 * (StepRecord.access, see engine/access.ts): the state categories the step read and wrote. Reads cover
 * what the model code touched through the tracked state, what the thread's enabling condition read (a
 * lock it waits for, a wait predicate), and every category of object the thread's operation read in
 * earlier steps (a generator may keep such an object in a local across a preemption point). Writes
 * are the categories of the step's effects plus fields assigned directly; a lock taken and released
 * within the step is not a lock write.
 *
 * Two steps are independent (commute, and neither enables or disables the other) when neither writes
 * a category the other reads or writes. Categories are coarse (all shadow pages are one), so this
 * misses some commuting pairs but never claims a dependent pair independent as long as the masks are
 * complete; the access tests check completeness against state diffs and check claimed independence by
 * running both orders. A step without masks (not fully traced) conflicts with everything.
 */
import type { StepRecord } from '../engine/api';
import { ACC, ACC_ALL } from '../engine/access';

export interface Footprint {
  /** Categories read (engine/access.ts ACC bits). */
  rd: number;
  /** Categories written. */
  wr: number;
}

export const EMPTY_FOOTPRINT: Footprint = { rd: 0, wr: 0 };
const UNKNOWN: Footprint = { rd: ACC_ALL, wr: ACC_ALL };

/** The footprint of one step: the engine's access masks (never changed once recorded). */
export function footprintOf(rec: StepRecord): Footprint {
  return rec.access ?? UNKNOWN;
}

/** True when the two steps commute (executing them in either order gives the same state). */
export function independent(a: Footprint, b: Footprint): boolean {
  // every step moves its own thread: a step whose enabling watched another thread's position
  // depends on all steps
  if ((a.rd | b.rd) & ACC.THREADS) return false;
  return ((a.wr & (b.rd | b.wr)) | (b.wr & a.rd)) === 0;
}
