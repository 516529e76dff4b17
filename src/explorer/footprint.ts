/**
 * Footprints of engine steps, for partial-order reduction.
 *
 * A footprint is derived only from the StepRecord's trace events (the engine records every mutation as
 * exactly one effect). Writes are the objects the effects touched, at a fine grain (one shadow page, one
 * rmap head, one vCPU, one host PTE, the mmu_lock ...). Reads are not traced by the engine, so they are
 * approximated conservatively: a step that ran any kernel code (a call, a point or an effect) is assumed
 * to have read *all* shared state; only a step with no events at all (the thread moved from one preemption
 * point to the next without entering kernel code, e.g. stopping in front of a lock acquisition) is
 * treated as thread-local. Statistics counters and notes are commutative bookkeeping and are ignored.
 *
 * Two steps are independent when neither writes what the other reads or writes:
 *   - disjoint write sets, and
 *   - a step that reads shared state only commutes with steps that write nothing shared.
 * With the read approximation above this means: a thread-local step commutes with everything; two steps
 * that ran kernel code commute only when neither wrote shared state (pure readers, or pure bookkeeping).
 * This is deliberately conservative rather than aggressive; state hashing does
 * most of the merging. The explorer's tests check POR against the unreduced search on every bundled
 * open-schedule scenario.
 */
import type { Effect, StepRecord } from '../engine/api';

export interface Footprint {
  /** Object keys written by the step (sorted, unique). */
  writes: string[];
  /** The step ran kernel code and may have read any shared state. */
  readsShared: boolean;
}

export const EMPTY_FOOTPRINT: Footprint = { writes: [], readsShared: false };

/** Object key touched by one effect (undefined: commutative bookkeeping, ignored). */
export function effectKey(e: Effect): string | undefined {
  switch (e.kind) {
    case 'spte-write': return `sp${e.sp}[${e.index}]`;
    case 'rmap-add':
    case 'rmap-remove': return `rmap${e.slot}:${e.level}:${e.gfn}`;
    case 'parent-pte-add':
    case 'parent-pte-remove': return `sp${e.sp}.parents`;
    case 'sp-alloc': return `sp${e.sp}`;
    case 'sp-state': return `sp${e.sp}`;
    case 'sp-field': return `sp${e.sp}.${e.field}`;
    case 'root-ref': return `sp${e.sp}.${e.field}`;
    case 'vcpu-root': return `vcpu${e.vcpu}.root.${e.slot}`;
    case 'request-set':
    case 'request-clear': return `vcpu${e.vcpu}.req.${e.request}`;
    case 'tlb-fill': return `vcpu${e.vcpu}.tlb`;
    case 'tlb-flush': return e.vcpu === 'all' ? 'vcpu*.tlb' : `vcpu${e.vcpu}.tlb`;
    case 'lock': return `lock:${e.lock}`;
    case 'vm-field': return `vm.${e.field}`;
    case 'host-pte': return `hpte${e.hva}`;
    case 'host-page': return `hpage${e.pfn}`;
    case 'memslot': return `slot${e.id}`;
    case 'stat':
    case 'note':
      return undefined;
  }
}

/** The footprint of one step, from its events. */
export function footprintOf(rec: StepRecord): Footprint {
  if (rec.events.length === 0) return EMPTY_FOOTPRINT;
  const keys = new Set<string>();
  for (const ev of rec.events) {
    if (ev.kind !== 'effect') continue;
    const k = effectKey(ev.effect);
    if (k !== undefined) keys.add(k);
  }
  return { writes: [...keys].sort(), readsShared: true };
}

function intersects(a: readonly string[], b: readonly string[]): boolean {
  // both sorted
  let i = 0, j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!, y = b[j]!;
    if (x === y) return true;
    if (x < y) i++;
    else j++;
  }
  // wildcard vCPU TLB flush touches every vCPU's TLB
  if (a.includes('vcpu*.tlb')) { if (b.some((k) => k.endsWith('.tlb'))) return true; }
  if (b.includes('vcpu*.tlb')) { if (a.some((k) => k.endsWith('.tlb'))) return true; }
  return false;
}

/** True when the two steps commute (executing them in either order gives the same state). */
export function independent(a: Footprint, b: Footprint): boolean {
  if (intersects(a.writes, b.writes)) return false;
  if (a.readsShared && b.writes.length > 0) return false;
  if (b.readsShared && a.writes.length > 0) return false;
  return true;
}
