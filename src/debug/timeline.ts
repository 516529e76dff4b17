/**
 * The debugger's view of a run: the atomic steps taken so far (kept even after the engine is rewound,
 * so going forward again replays them) and the stop positions inside each step.
 *
 * A position is (atomic step index, event index inside that step's `events`). Stop positions are the
 * step's call / point / return events plus one "end" position per step (event index = events.length)
 * where the thread sits at its preemption point. Step -1 is the entry, before any step.
 */
import type { Engine, Frame, StepRecord, ThreadId } from '../engine/api';

export interface Position {
  step: number;
  event: number;
}

/** 'effect' stops exist only for data breakpoints: stepping and other breakpoints never land on them. */
export type StopKind = 'entry' | 'call' | 'point' | 'return' | 'effect' | 'end';

export interface Stop extends Position {
  kind: StopKind;
  thread: ThreadId;
  /** call: the entered frame; return: the returning frame; point: the frame at the point. */
  frame?: Frame;
  /** The thread's simulated kernel stack at this stop, outermost first. */
  stack: Frame[];
  /** Call depth at the stop (stack length): the unit of step in / over / out. */
  level: number;
}

export const ENTRY: Position = { step: -1, event: 0 };

export function comparePos(a: Position, b: Position): number {
  return a.step !== b.step ? a.step - b.step : a.event - b.event;
}

export class Timeline {
  readonly records: StepRecord[] = [];
  private readonly stopCache = new Map<number, { all: Stop[]; motion: Stop[] }>();
  /** Set once the schedule has no more work: the number of steps in the whole run. */
  endStep: number | undefined;

  constructor(
    readonly engine: Engine,
    /**
     * Takes the next atomic step by the scenario's schedule, or answers undefined when the schedule is
     * over. Only ever called at the frontier (the engine has taken exactly `records.length` steps), so
     * a schedule driver that keeps its own state stays in step with the engine.
     */
    private readonly frontierStep: () => StepRecord | undefined,
    private readonly maxSteps = 20000,
  ) {}

  /** Bring the engine to the state after `n` steps, stepping forward by replaying recorded steps. */
  sync(n: number): void {
    const e = this.engine;
    if (e.position > n) {
      if (e.position - n === 1) e.stepBack();
      else e.goto(n);
    }
    while (e.position < n) {
      const rec = this.records[e.position];
      if (!rec) throw new Error(`no recorded step ${e.position}`);
      e.step(rec.thread);
    }
  }

  /** Make sure step `s` exists (running the schedule forward); false when the run ends before it. */
  ensure(s: number): boolean {
    while (this.records.length <= s) {
      if (this.endStep !== undefined) return false;
      const n = this.records.length;
      if (n >= this.maxSteps) {
        this.endStep = n;
        return false;
      }
      this.sync(n);
      const rec = this.frontierStep();
      if (!rec) {
        this.endStep = n;
        return false;
      }
      // a snapshot: the record must not change when the engine moves on (it may reuse arrays)
      this.records.push(structuredClone(rec));
    }
    return true;
  }

  /** The stack of `thread` at the end of its last step before step `s`. */
  stackBefore(s: number, thread: ThreadId): Frame[] {
    for (let k = s - 1; k >= 0; k--) {
      const r = this.records[k]!;
      if (r.thread === thread) return r.stack.map((f) => ({ ...f }));
    }
    return [];
  }

  /** The stops of step `s`; with `withEffects`, also one stop after each state effect (for data breakpoints). */
  stopsOf(s: number, withEffects = false): Stop[] {
    const cached = this.stopCache.get(s) ?? this.computeStops(s);
    return withEffects ? cached.all : cached.motion;
  }

  private computeStops(s: number): { all: Stop[]; motion: Stop[] } {
    const rec = this.records[s];
    if (!rec) return { all: [], motion: [] };
    const stops: Stop[] = [];
    let stack = this.stackBefore(s, rec.thread);
    const snap = (kind: StopKind, event: number, frame?: Frame): void => {
      stops.push({ step: s, event, kind, thread: rec.thread, frame, stack: stack.map((f) => ({ ...f })), level: stack.length });
    };
    rec.events.forEach((ev, i) => {
      if (ev.kind === 'call') {
        const top = stack[stack.length - 1];
        // the caller now sits at the call site
        if (top) stack[stack.length - 1] = { ...top, point: `calls ${ev.frame.fn}` };
        stack.push({ ...ev.frame });
        snap('call', i, ev.frame);
      } else if (ev.kind === 'point') {
        const at = lastIndexOfFn(stack, ev.frame.fn);
        if (at >= 0) {
          stack = stack.slice(0, at + 1);
          stack[at] = { ...stack[at]!, ...ev.frame, args: ev.frame.args ?? stack[at]!.args };
        } else stack.push({ ...ev.frame });
        snap('point', i, ev.frame);
      } else if (ev.kind === 'return') {
        const at = lastIndexOfFn(stack, ev.frame.fn);
        stack = stack.slice(0, at >= 0 ? at : Math.max(0, stack.length - 1));
        snap('return', i, ev.frame);
      } else if (ev.kind === 'effect') {
        snap('effect', i, stack[stack.length - 1]);
      }
    });
    stack = rec.stack.map((f) => ({ ...f }));
    snap('end', rec.events.length, stack[stack.length - 1]);
    const entry = { all: stops, motion: stops.filter((x) => x.kind !== 'effect') };
    this.stopCache.set(s, entry);
    return entry;
  }

  entryStop(thread: ThreadId): Stop {
    return { ...ENTRY, kind: 'entry', thread, stack: [], level: 0 };
  }

  stopAt(pos: Position, entryThread: ThreadId): Stop | undefined {
    if (pos.step < 0) return this.entryStop(entryThread);
    if (!this.ensure(pos.step)) return undefined;
    return this.stopsOf(pos.step, true).find((st) => st.event === pos.event);
  }

  /** The first stop after `pos` that satisfies `pred`, running the schedule forward as needed. */
  findNext(pos: Position, pred: (st: Stop) => boolean, withEffects = false, beforeStep = Infinity): Stop | undefined {
    for (let s = Math.max(0, pos.step); s < beforeStep && this.ensure(s); s++) {
      for (const st of this.stopsOf(s, withEffects)) {
        if (comparePos(st, pos) > 0 && pred(st)) return st;
      }
    }
    return undefined;
  }

  /** The last stop before `pos` that satisfies `pred` (never runs the schedule). */
  findPrev(pos: Position, pred: (st: Stop) => boolean, withEffects = false): Stop | undefined {
    for (let s = Math.min(pos.step, this.records.length - 1); s >= 0; s--) {
      const stops = this.stopsOf(s, withEffects);
      for (let i = stops.length - 1; i >= 0; i--) {
        const st = stops[i]!;
        if (comparePos(st, pos) < 0 && pred(st)) return st;
      }
    }
    return undefined;
  }

  /** The final stop of the run (running it to the end). */
  lastStop(): Stop | undefined {
    while (this.ensure(this.records.length)) {
      /* run to the end */
    }
    const s = this.records.length - 1;
    if (s < 0) return undefined;
    const stops = this.stopsOf(s);
    return stops[stops.length - 1];
  }
}

function lastIndexOfFn(stack: Frame[], fn: string): number {
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i]!.fn === fn) return i;
  return -1;
}
