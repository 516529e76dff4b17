/**
 * The interleaving explorer: a stateful depth-first search over the schedules of a scenario whose
 * schedule is open.
 *
 *  - One engine, stepped forward with step(); backtracking uses goto(depth) (the engine restores its
 *    nearest snapshot and replays the recorded choices). Generator-based engine threads cannot be
 *    cloned, so every backtrack costs a replay of the prefix; this is the dominant cost.
 *  - Visited states are recognised by the engine's canonical state key (engine.stateKey(): a number,
 *    ids renumbered, thread positions included) plus the thread that is mid-operation (it matters for
 *    preemption counting). The engine checks only events while stepping; the whole-state audit runs
 *    once, at the first visit of each state (a revisited state was audited then).
 *  - Partial-order reduction: sleep sets over step footprints (see footprint.ts), made sound for a
 *    stateful search by storing the sleep set with each visited state and re-exploring the transitions
 *    that were asleep at the earlier visit but are awake now.
 *  - Bounds: maxDepth (steps) and maxPreemptions (switching away from a thread that is still runnable in
 *    the middle of an operation; op boundaries are free switch points). The search is exhaustive when
 *    neither bound cut a branch (and it was not stopped early).
 *  - Threads outside `threads` (when the open schedule lists some) run their operations without
 *    preemption. Threads the engine adds itself (e.g. the 5.18/6.1 tdp_mmu_zap_wq worker) are ordinary
 *    choices under the same bounds (a schedule may name them, so a path pins them as slices too);
 *    `helpers: 'last'` restores the older policy (a helper runs only when no scenario thread can).
 */
import type { EngineOptions, StepRecord, ThreadId, Violation, StateView } from '../engine/api';
import type { EngineInternals, EngineTuning } from '../engine/engine';
import { EMPTY_FOOTPRINT, footprintOf, independent, type Footprint } from './footprint';

export type EngineCreator = (options: EngineOptions & EngineTuning) => EngineInternals;

/** An expectation checked on the explored paths (from the scenario's `expect`). */
export interface PathCheck {
  /** When to check: after the op (thread, opIndex) completes, after `step` steps, or at the end. */
  when: { kind: 'op'; thread: ThreadId; opIndex: number } | { kind: 'step'; index: number } | { kind: 'end' };
  /** Returns a failure message or undefined. */
  check(view: StateView, violations: readonly Violation[]): string | undefined;
  describe: string;
}

export interface ExploreOptions {
  engine: EngineOptions;
  create: EngineCreator;
  /** Threads free to interleave at every preemption point (default: all). */
  threads?: ThreadId[];
  maxDepth?: number;
  maxPreemptions?: number;
  /** Collect every counterexample instead of stopping at the first. */
  all?: boolean;
  /** Partial-order reduction (sleep sets over footprints) [true]. */
  por?: boolean;
  /** Expectations checked on the paths. */
  checks?: PathCheck[];
  /** Engine audit level ['full']. */
  audit?: 'full' | 'events';
  /** Stop after this many seconds (the search is then not exhaustive). */
  timeLimitSeconds?: number;
  /** Called about every progressEveryMs with the running figures. */
  onProgress?: (p: ExploreProgress) => void;
  progressEveryMs?: number;
  /** Polled regularly; true cancels the search. */
  isCancelled?: () => boolean;
  /** Keep at most this many counterexamples with --all [100]. */
  maxCounterexamples?: number;
  /**
   * Threads the engine adds itself (the tdp_mmu_zap_wq worker): 'interleave' [default] makes them
   * ordinary choices; 'last' runs them only when no scenario thread can run (fewer interleavings).
   */
  helpers?: 'interleave' | 'last';
}

export interface ExploreProgress {
  statesExplored: number;
  distinctStates: number;
  depth: number;
  maxDepthReached: number;
  seconds: number;
  statesPerSecond: number;
  counterexamples: number;
}

export interface CounterexampleViolation {
  id: string;
  message: string;
  step: number;
  thread: ThreadId;
  function: string | null;
  file?: string;
  objects?: string[];
}

export interface Counterexample {
  /** 'violation': an invariant violation; 'expectation': a failed expectation; 'error': the engine threw. */
  kind: 'violation' | 'expectation' | 'error';
  /** Thread per step, from the initial state. */
  choices: ThreadId[];
  violation: CounterexampleViolation;
  /** All violation ids seen on the path. */
  violationIds: string[];
  preemptions: number;
}

export interface ExploreResult {
  verdict: 'violation' | 'nothing-found';
  statesExplored: number;
  distinctStates: number;
  /** Steps executed only to rebuild a state after backtracking. */
  replaySteps: number;
  seconds: number;
  exhaustive: boolean;
  stoppedBecause?: 'counterexample' | 'cancelled' | 'time-limit';
  maxDepthReached: number;
  cutByDepth: number;
  cutByPreemptions: number;
  sleepSetPruned: number;
  deadlocks: number;
  completedPaths: number;
  bounds: { maxDepth: number; maxPreemptions: number | null; threads: ThreadId[] | null; por: boolean };
  counterexample: Counterexample | null;
  counterexamples: Counterexample[];
}

interface SleepEntry { thread: ThreadId; fp: Footprint }

interface Node {
  depth: number;
  todo: ThreadId[];
  sleep: SleepEntry[];
  done: SleepEntry[];
  last: ThreadId | null;
  lastMidOp: boolean;
  preemptions: number;
}

interface Seen { p: number; d: number; sleep: Set<ThreadId> }

const DEFAULT_MAX_DEPTH = 500;

export function explore(options: ExploreOptions): ExploreResult {
  const t0 = performance.now();
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxP = options.maxPreemptions ?? Infinity;
  const por = options.por !== false;
  const free = options.threads ? new Set(options.threads) : null;
  const checks = options.checks ?? [];
  // snapshotEvery 1: a quiescent snapshot wherever possible keeps replays short (measured against 2,
  // 4, 16 and 64 on the bundled scenarios: no interval was reliably faster); the trace hash is unused
  // The whole-state audit runs once per distinct state (auditState() below), not after every step: a
  // revisited state was audited at its first visit.
  const auditStates = (options.audit ?? 'full') === 'full';
  const engine = options.create({ ...options.engine, trace: 'full', audit: 'events', history: true, snapshotEvery: 1, traceHash: false });
  // the threads that are choices in their own right: the scenario's, plus (unless helpers: 'last')
  // those the engine adds itself
  const own = new Set(options.helpers === 'last' ? options.engine.threads.map((t) => t.id) : engine.view().threads.map((t) => t.id));

  const visited = new Map<number, Seen>();
  const threadNo = new Map<ThreadId, number>(engine.view().threads.map((x, i) => [x.id, i + 1]));
  /** Visited-state key: the canonical state, plus the thread that is mid-operation (it matters for preemption counting). */
  const keyOf = (last: ThreadId | null, midOp: boolean): number => engine.stateKey(midOp && last !== null ? threadNo.get(last)! : 0);
  const result: ExploreResult = {
    verdict: 'nothing-found', statesExplored: 0, distinctStates: 0, replaySteps: 0, seconds: 0, exhaustive: false,
    maxDepthReached: 0, cutByDepth: 0, cutByPreemptions: 0, sleepSetPruned: 0, deadlocks: 0, completedPaths: 0,
    bounds: { maxDepth, maxPreemptions: Number.isFinite(maxP) ? maxP : null, threads: options.threads ?? null, por },
    counterexample: null, counterexamples: [],
  };
  const maxCx = options.maxCounterexamples ?? 100;
  const progressEvery = options.progressEveryMs ?? 200;
  let lastProgress = t0;
  const timeLimitMs = options.timeLimitSeconds !== undefined ? options.timeLimitSeconds * 1000 : Infinity;

  const emitProgress = (depth: number): void => {
    const now = performance.now();
    const seconds = (now - t0) / 1000;
    options.onProgress?.({
      statesExplored: result.statesExplored, distinctStates: visited.size, depth, maxDepthReached: result.maxDepthReached,
      seconds, statesPerSecond: seconds > 0 ? visited.size / seconds : 0, counterexamples: result.counterexamples.length,
    });
  };

  /** Choices at the current engine state given the previous step. */
  const choicesAfter = (last: ThreadId | null, lastMidOp: boolean): ThreadId[] => {
    const enabled = engine.enabledChoices();
    // a non-free thread in the middle of an op keeps the CPU
    if (last !== null && lastMidOp && free && own.has(last) && !free.has(last) && enabled.includes(last)) return [last];
    const ownEnabled = enabled.filter((t) => own.has(t));
    return ownEnabled.length ? ownEnabled : enabled;
  };

  const pathCost = (n: Node, c: ThreadId, enabled: readonly ThreadId[]): number =>
    n.last !== null && n.lastMidOp && c !== n.last && enabled.includes(n.last) ? 1 : 0;

  const makeTodo = (n: Node, enabled: ThreadId[], restrictTo?: Set<ThreadId>): ThreadId[] => {
    const todo: ThreadId[] = [];
    // prefer continuing the current thread (fewest preemptions first), then declaration order
    const ordered = n.last !== null && enabled.includes(n.last) ? [n.last, ...enabled.filter((t) => t !== n.last)] : enabled;
    for (const c of ordered) {
      if (restrictTo && !restrictTo.has(c)) continue;
      if (n.sleep.some((s) => s.thread === c)) { result.sleepSetPruned++; continue; }
      if (n.preemptions + pathCost(n, c, enabled) > maxP) { result.cutByPreemptions++; continue; }
      todo.push(c);
    }
    return todo;
  };

  const labelChecks = checks.filter((c) => c.when.kind === 'op');
  const stepChecks = checks.filter((c) => c.when.kind === 'step');
  const endChecks = checks.filter((c) => c.when.kind === 'end');

  const record = (cx: Counterexample): boolean => {
    if (result.counterexamples.length < maxCx) result.counterexamples.push(cx);
    result.counterexample ??= cx;
    result.verdict = 'violation';
    if (!options.all) { result.stoppedBecause = 'counterexample'; return true; }
    return false;
  };

  const cxFromViolation = (v: Violation, preemptions: number): Counterexample => ({
    kind: 'violation', choices: engine.choices(), preemptions,
    violation: { id: v.id, message: v.message, step: v.step, thread: v.thread, function: v.frame?.fn ?? null, file: v.frame?.file, objects: v.objects },
    violationIds: [...new Set(engine.violations().map((x) => x.id))],
  });

  const runChecks = (list: PathCheck[], rec: StepRecord | null, preemptions: number): Counterexample | undefined => {
    if (!list.length) return undefined;
    const view = engine.view();
    const vs = engine.violations();
    for (const c of list) {
      const msg = c.check(view, vs);
      if (msg !== undefined) {
        return {
          kind: 'expectation', choices: engine.choices(), preemptions,
          violation: { id: 'expectation', message: `${c.describe}: ${msg}`, step: engine.position, thread: rec?.thread ?? '', function: rec?.stack[rec.stack.length - 1]?.fn ?? null },
          violationIds: [...new Set(vs.map((x) => x.id))],
        };
      }
    }
    return undefined;
  };

  // root
  const rootEnabled = choicesAfter(null, false);
  visited.set(keyOf(null, false), { p: 0, d: 0, sleep: new Set() });
  const root: Node = { depth: 0, todo: [], sleep: [], done: [], last: null, lastMidOp: false, preemptions: 0 };
  root.todo = makeTodo(root, rootEnabled);
  if (!rootEnabled.length && !engine.isDone()) result.deadlocks++;
  const stack: Node[] = [root];
  let stop = false;
  let counter = 0;

  while (stack.length && !stop) {
    const n = stack[stack.length - 1]!;
    const t = n.todo.shift();
    if (t === undefined) { stack.pop(); continue; }
    if ((++counter & 63) === 0) {
      const now = performance.now();
      if (options.isCancelled?.()) { result.stoppedBecause = 'cancelled'; break; }
      if (now - t0 > timeLimitMs) { result.stoppedBecause = 'time-limit'; break; }
      if (now - lastProgress >= progressEvery) { lastProgress = now; emitProgress(n.depth); }
    }
    if (engine.position !== n.depth) {
      result.replaySteps += n.depth - 0;
      engine.goto(n.depth);
    }
    const enabledHere = choicesAfter(n.last, n.lastMidOp);
    const preemptions = n.preemptions + pathCost(n, t, enabledHere);
    let rec: StepRecord;
    try {
      rec = engine.step(t);
    } catch (e) {
      result.statesExplored++;
      const cx: Counterexample = {
        kind: 'error', choices: [...engine.choices(), t], preemptions,
        violation: { id: 'engine-error', message: e instanceof Error ? e.message : String(e), step: n.depth + 1, thread: t, function: null },
        violationIds: [],
      };
      if (record(cx)) stop = true;
      // the engine may be in an inconsistent state: rebuild it at this node
      engine.goto(0);
      continue;
    }
    result.statesExplored++;
    const depth = n.depth + 1;
    if (depth > result.maxDepthReached) result.maxDepthReached = depth;
    const fp = por ? footprintOf(rec) : EMPTY_FOOTPRINT;

    if (rec.violations.length) {
      n.done.push({ thread: t, fp });
      if (record(cxFromViolation(rec.violations[0]!, preemptions))) stop = true;
      continue;
    }
    const midOp = rec.stoppedAt !== 'op-done';
    // expectations tied to this point of the path
    if (labelChecks.length && !midOp || stepChecks.length) {
      const due = [
        ...(!midOp ? labelChecks.filter((c) => c.when.kind === 'op' && c.when.thread === t && c.when.opIndex === rec.opIndex) : []),
        ...stepChecks.filter((c) => c.when.kind === 'step' && c.when.index === depth),
      ];
      const cx = runChecks(due, rec, preemptions);
      if (cx) { n.done.push({ thread: t, fp }); if (record(cx)) stop = true; continue; }
    }

    const childSleep: SleepEntry[] = [];
    if (por) {
      for (const s of n.sleep) if (s.thread !== t && independent(s.fp, fp)) childSleep.push(s);
      for (const s of n.done) if (s.thread !== t && independent(s.fp, fp)) childSleep.push(s);
    }
    n.done.push({ thread: t, fp });

    const key = keyOf(t, midOp);
    const seen = visited.get(key);
    if (!seen && auditStates) {
      const found = engine.auditState();
      if (found.length) {
        if (record(cxFromViolation(found[0]!, preemptions))) stop = true;
        continue;
      }
    }
    let restrict: Set<ThreadId> | undefined;
    const sleepSet = new Set(childSleep.map((s) => s.thread));
    if (seen) {
      const dominated = preemptions >= seen.p && depth >= seen.d;
      if (dominated) {
        // only transitions that were asleep at the earlier visit and are awake now are new
        restrict = new Set([...seen.sleep].filter((x) => !sleepSet.has(x)));
        seen.sleep = new Set([...seen.sleep].filter((x) => sleepSet.has(x)));
        if (restrict.size === 0) continue;
      } else {
        seen.p = Math.min(seen.p, preemptions);
        seen.d = Math.min(seen.d, depth);
        seen.sleep = new Set([...seen.sleep].filter((x) => sleepSet.has(x)));
      }
    } else {
      visited.set(key, { p: preemptions, d: depth, sleep: sleepSet });
    }

    if (engine.isDone()) {
      result.completedPaths++;
      const cx = runChecks(endChecks, rec, preemptions);
      if (cx && record(cx)) stop = true;
      continue;
    }
    const child: Node = { depth, todo: [], sleep: childSleep, done: [], last: t, lastMidOp: midOp, preemptions };
    const enabled = choicesAfter(t, midOp);
    if (!enabled.length) { result.deadlocks++; continue; }
    if (depth >= maxDepth) { result.cutByDepth++; continue; }
    child.todo = makeTodo(child, enabled, restrict);
    if (child.todo.length) stack.push(child);
  }

  result.distinctStates = visited.size;
  result.seconds = (performance.now() - t0) / 1000;
  result.exhaustive = !result.stoppedBecause && result.cutByDepth === 0 && result.cutByPreemptions === 0;
  emitProgress(0);
  return result;
}
