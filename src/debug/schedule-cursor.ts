/**
 * Runs a scenario's schedule one atomic step at a time (the debugger needs to stop between steps,
 * `runSchedule` runs them all). `next()` names the thread that takes the next step, `advance()` is told
 * the record the engine produced. The cursor's state is a small plain object so the debugger can keep
 * one copy per step and rewind it together with the engine.
 *
 * Semantics (mirroring runSchedule):
 *  - sequential:  the first runnable thread in declaration order runs (so each thread runs to the end
 *                 unless it blocks, then the next one gets the CPU).
 *  - round-robin: runnable threads take one step each in turn.
 *  - explicit:    slices in order; a slice runs its thread until its condition holds (default one
 *                 step); a slice whose thread cannot run is skipped. After the last slice the remaining
 *                 work runs sequentially.
 *  - open:        treated as round-robin over the listed threads (the explorer owns real exploration).
 */
import type { Engine, Schedule, ScheduleSlice, StepRecord, ThreadId } from '../engine/api';

export interface CursorState {
  slice: number;
  /** Steps taken in the current slice. */
  taken: number;
  /** Point hits counted in the current slice. */
  hits: number;
  /** Round-robin: index into the thread order of the thread that ran last. */
  rr: number;
}

/** A frontier stepper (see Timeline) that follows `schedule` with a ScheduleCursor. */
export function cursorStepper(engine: Engine, schedule: Schedule, order: ThreadId[]): () => StepRecord | undefined {
  const cursor = new ScheduleCursor(engine, schedule, order);
  return () => {
    const thread = cursor.next();
    if (thread === undefined) return undefined;
    const rec = engine.step(thread);
    cursor.advance(rec);
    return rec;
  };
}

export class ScheduleCursor {
  state: CursorState = { slice: 0, taken: 0, hits: 0, rr: -1 };

  constructor(
    private readonly engine: Engine,
    private readonly schedule: Schedule,
    /** Threads in declaration order. */
    private readonly order: ThreadId[],
  ) {}

  snapshot(): CursorState {
    return { ...this.state };
  }

  restore(s: CursorState): void {
    this.state = { ...s };
  }

  /** The thread that takes the next atomic step, or undefined when the schedule is finished. */
  next(): ThreadId | undefined {
    const runnable = this.engine.runnableThreads();
    if (runnable.length === 0 || this.engine.isDone()) return undefined;
    const s = this.schedule;
    if (s.kind === 'explicit') {
      while (this.state.slice < s.slices.length) {
        const slice = s.slices[this.state.slice]!;
        if (runnable.includes(slice.thread) && !this.sliceFinished(slice)) return slice.thread;
        this.state = { ...this.state, slice: this.state.slice + 1, taken: 0, hits: 0 };
      }
      return this.firstRunnable(runnable);
    }
    if (s.kind === 'round-robin' || s.kind === 'open') {
      const order = s.kind === 'open' && s.threads?.length ? s.threads : this.order;
      for (let i = 1; i <= order.length; i++) {
        const t = order[(this.state.rr + i) % order.length]!;
        if (runnable.includes(t)) return t;
      }
      return this.firstRunnable(runnable);
    }
    return this.firstRunnable(runnable);
  }

  /** Record that `rec` was produced by stepping the thread `next()` named. */
  advance(rec: StepRecord): void {
    const s = this.schedule;
    if (s.kind === 'explicit' && this.state.slice < s.slices.length) {
      const slice = s.slices[this.state.slice]!;
      if (slice.thread === rec.thread) {
        const until = slice.until;
        const hit = until && 'point' in until && pointMatches(rec.stoppedAt, until.point) ? 1 : 0;
        this.state = { ...this.state, taken: this.state.taken + 1, hits: this.state.hits + hit };
        if (this.sliceDoneAfter(slice, rec)) this.state = { ...this.state, slice: this.state.slice + 1, taken: 0, hits: 0 };
      }
      return;
    }
    if (s.kind === 'round-robin' || s.kind === 'open') {
      const order = s.kind === 'open' && s.threads?.length ? s.threads : this.order;
      const i = order.indexOf(rec.thread);
      if (i >= 0) this.state = { ...this.state, rr: i };
    }
  }

  private firstRunnable(runnable: ThreadId[]): ThreadId | undefined {
    return this.order.find((t) => runnable.includes(t)) ?? runnable[0];
  }

  private sliceFinished(slice: ScheduleSlice): boolean {
    const u = slice.until;
    if (!u) return this.state.taken >= 1;
    if ('steps' in u) return this.state.taken >= u.steps;
    if ('point' in u) return this.state.hits >= (u.occurrence ?? 1);
    return false;
  }

  private sliceDoneAfter(slice: ScheduleSlice, rec: StepRecord): boolean {
    const u = slice.until;
    if (!u || 'steps' in u || 'point' in u) return this.sliceFinished(slice);
    if ('opDone' in u) return rec.stoppedAt === 'op-done' || rec.stack.length === 0;
    // done: the thread has no more work
    return !this.engine.runnableThreads().includes(rec.thread) && this.threadDone(rec.thread);
  }

  private threadDone(thread: ThreadId): boolean {
    return this.engine.view().threads.find((t) => t.id === thread)?.done ?? true;
  }
}

/** "kvm_zap_obsolete_pages:yield" matches a stoppedAt of the same text, or the same point after the function. */
export function pointMatches(stoppedAt: string, point: string): boolean {
  if (stoppedAt === point) return true;
  const i = stoppedAt.indexOf(':');
  return i >= 0 && stoppedAt.slice(i + 1) === point;
}
