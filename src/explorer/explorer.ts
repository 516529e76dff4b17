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
 *
 * Parallel mode (parallel.ts): the visited table is behind the VisitedStore interface. By default it is
 * an in-process open-addressing table (MapVisited); several workers can instead share one SharedVisited (a hash table in a
 * SharedArrayBuffer, shared-visited.ts) whose visit() makes the whole decision below atomically per key.
 * Each worker runs this same DFS from the root with its own choiceSeed (a different order of the
 * choices), so the workers diverge and split the work through the table: a state one worker has
 * claimed is dominated for the others. It stays sound because each worker finishes the subtree of
 * every state it inserted (or the search is not exhaustive). Sleep sets are bitmasks of thread
 * numbers (threadNo, at most 31 threads) so that they fit in the shared table.
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
  /** Visited-state store [a fresh MapVisited]; a SharedVisited shares it between parallel workers. */
  visited?: VisitedStore;
  /**
   * Shared stop flag (element 0 of an Int32Array over a SharedArrayBuffer), polled every step: nonzero
   * stops the search ('stopped'). Without `all`, a counterexample stores stopTag [1] there when it is 0.
   */
  stopFlag?: Int32Array;
  stopTag?: number;
  /** Order of the choices: 0 [default] the sequential order; others permute it so that workers diverge. */
  choiceSeed?: number;
}

/** visit() outcomes besides a restrict mask (>= 0: the transitions asleep before and awake now). */
export const VISIT_FRESH = -1;
export const VISIT_EXPLORE = -2;
export const VISIT_FULL = -3;

/**
 * The visited states and what the DFS keeps per state: the preemptions p and depth d of the last visit
 * explored in full, and the sleep set (bitmask of thread numbers). visit() is the whole decision for one arrival at a state:
 *  - unseen: insert {p, d, sleep}; VISIT_FRESH;
 *  - seen and dominated (p >= p', d >= d'): intersect the stored sleep set; return the transitions that
 *    were asleep then and are awake now (a mask, 0 = nothing new);
 *  - seen, not dominated: store this visit's p/d, intersect the sleep set; VISIT_EXPLORE.
 * VISIT_FULL: no room for a new state. forget(key) undoes a fresh insert (a state whose audit failed is
 * never counted as visited, as before).
 */
export interface VisitedStore {
  visit(key: number, p: number, d: number, sleep: number): number;
  forget(key: number): void;
  readonly size: number;
}

const TWO32 = 4294967296;
/** Words per entry of MapVisited's table: state (0 empty, 1 used, 2 forgotten), key low, key high, p, d, sleep. */
const W = 6;

/**
 * The in-process store (one worker): open addressing with linear probing over one Int32Array, grown
 * when half full. A Map of per-state objects cost an allocation and a heap-number key per new state.
 */
export class MapVisited implements VisitedStore {
  // small to start with: many searches visit a few hundred states, and zeroing a big table cost more
  private w = new Int32Array(W * 256);
  private mask = 255;
  private count = 0;
  /** Used and forgotten slots (a probe stops only at an empty one). */
  private filled = 0;
  get size(): number { return this.count; }

  /** The slot holding `key`, or -1 - (the slot where it would go). */
  private find(lo: number, hi: number): number {
    const w = this.w;
    let i = lo & this.mask, free = -1;
    for (;;) {
      const o = i * W, st = w[o]!;
      if (st === 0) return -1 - (free >= 0 ? free : i);
      if (st === 1) { if (w[o + 1] === lo && w[o + 2] === hi) return i; } else if (free < 0) free = i;
      i = (i + 1) & this.mask;
    }
  }

  visit(key: number, p: number, d: number, sleep: number): number {
    const lo = key | 0, hi = Math.floor(key / TWO32) | 0;
    const i = this.find(lo, hi);
    const w = this.w;
    if (i < 0) {
      const slot = -1 - i, o = slot * W;
      if (w[o] === 0) this.filled++;
      w[o] = 1; w[o + 1] = lo; w[o + 2] = hi; w[o + 3] = p; w[o + 4] = d; w[o + 5] = sleep;
      this.count++;
      if (this.filled * 2 > this.mask) this.grow();
      return VISIT_FRESH;
    }
    const o = i * W;
    if (p >= w[o + 3]! && d >= w[o + 4]!) {
      const restrict = (w[o + 5]! & ~sleep) >>> 0;
      w[o + 5] &= sleep;
      return restrict;
    }
    // keep this visit's budgets: the per-coordinate minimum of two incomparable visits (fewer
    // preemptions in one, less depth in the other) is a budget no visit explored with
    w[o + 3] = p; w[o + 4] = d; w[o + 5] &= sleep;
    return VISIT_EXPLORE;
  }

  forget(key: number): void {
    const i = this.find(key | 0, Math.floor(key / TWO32) | 0);
    if (i >= 0) { this.w[i * W] = 2; this.count--; }
  }

  private grow(): void {
    const old = this.w, slots = (this.mask + 1) * 2;
    this.w = new Int32Array(W * slots);
    this.mask = slots - 1;
    this.filled = 0;
    for (let o = 0; o < old.length; o += W) {
      if (old[o] !== 1) continue;
      const slot = -1 - this.find(old[o + 1]!, old[o + 2]!), n = slot * W;
      for (let k = 0; k < W; k++) this.w[n + k] = old[o + k]!;
      this.filled++;
    }
  }
}

/** The most threads a sleep-set bitmask holds. */
export const MAX_THREADS = 31;

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
  /** 'stopped': another worker of a parallel search found a counterexample; 'table-full': the visited table has no room. */
  stoppedBecause?: 'counterexample' | 'cancelled' | 'time-limit' | 'stopped' | 'table-full';
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

interface SleepEntry { thread: ThreadId; bit: number; fp: Footprint }

interface Node {
  depth: number;
  /** The choices at this node (the engine state at a node is the same whenever it is rebuilt). */
  enabled: ThreadId[];
  todo: ThreadId[];
  /** todo[next] is the next choice to take. */
  next: number;
  sleep: SleepEntry[];
  /** The threads of `sleep` as a bitmask. */
  sleepMask: number;
  done: SleepEntry[];
  last: ThreadId | null;
  lastMidOp: boolean;
  preemptions: number;
}

const mix32 = (x: number): number => {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
};

/**
 * A worker's order of the choices at a node. Seed 0 keeps the sequential order; seed 1 reverses it; other
 * seeds rotate it by a hash of (seed, depth). When the last thread is mid-operation, continuing it is
 * the one choice that costs no preemption, so it stays first (reaching states with few preemptions first
 * avoids re-exploring them later); only the rest is permuted.
 */
function permuteChoices(ordered: ThreadId[], keepFirst: boolean, seed: number, depth: number): ThreadId[] {
  const from = keepFirst ? 1 : 0;
  const len = ordered.length - from;
  if (len < 2) return ordered;
  const rest = ordered.slice(from);
  let perm: ThreadId[];
  if (seed === 1) perm = rest.reverse();
  else {
    const r = mix32(Math.imul(seed, 0x9e3779b1) ^ depth) % len;
    perm = r ? [...rest.slice(r), ...rest.slice(0, r)] : rest;
  }
  return keepFirst ? [ordered[0]!, ...perm] : perm;
}

const DEFAULT_MAX_DEPTH = 500;

export function explore(options: ExploreOptions): ExploreResult {
  const t0 = performance.now();
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxP = options.maxPreemptions ?? Infinity;
  const por = options.por !== false;
  const free = options.threads ? new Set(options.threads) : null;
  const checks = options.checks ?? [];
  // snapshotEvery 1: a quiescent snapshot wherever possible keeps replays short (measured against 2,
  // 4, 16 and 64 on the bundled scenarios: no interval was reliably faster); the trace hash is unused.
  // trace 'explore': no trace events, only the access masks and per-thread frames the search reads.
  // The whole-state audit runs once per distinct state (auditState() below), not after every step: a
  // revisited state was audited at its first visit.
  const auditStates = (options.audit ?? 'full') === 'full';
  const engine = options.create({ ...options.engine, trace: 'explore', audit: 'events', history: true, snapshotEvery: 1, traceHash: false });
  // the threads that are choices in their own right: the scenario's, plus (unless helpers: 'last')
  // those the engine adds itself
  const own = new Set(options.helpers === 'last' ? options.engine.threads.map((t) => t.id) : engine.view().threads.map((t) => t.id));

  const visited: VisitedStore = options.visited ?? new MapVisited();
  const stopFlag = options.stopFlag;
  const seed = options.choiceSeed ?? 0;
  const threadNo = new Map<ThreadId, number>(engine.view().threads.map((x, i) => [x.id, i + 1]));
  if (threadNo.size > MAX_THREADS) throw new Error(`explorer: at most ${MAX_THREADS} threads (sleep sets are ${MAX_THREADS}-bit masks); this scenario has ${threadNo.size}`);
  /** A thread's bit in sleep-set masks. */
  const bitOf = (t: ThreadId): number => {
    const no = threadNo.get(t);
    if (no === undefined) throw new Error(`explorer: thread ${t} appeared after the start`);
    return 1 << (no - 1);
  };
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

  const allOwn = engine.view().threads.every((t) => own.has(t.id));
  /** Choices at the current engine state given the previous step. */
  const choicesAfter = (last: ThreadId | null, lastMidOp: boolean): ThreadId[] => {
    const enabled = engine.enabledChoices();
    // a non-free thread in the middle of an op keeps the CPU
    if (last !== null && lastMidOp && free && own.has(last) && !free.has(last) && enabled.includes(last)) return [last];
    if (allOwn) return enabled;
    const ownEnabled = enabled.filter((t) => own.has(t));
    return ownEnabled.length ? ownEnabled : enabled;
  };

  const pathCost = (n: Node, c: ThreadId, enabled: readonly ThreadId[]): number =>
    n.last !== null && n.lastMidOp && c !== n.last && enabled.includes(n.last) ? 1 : 0;

  const makeTodo = (n: Node, enabled: ThreadId[], restrictTo = -1): ThreadId[] => {
    const todo: ThreadId[] = [];
    // prefer continuing the current thread (fewest preemptions first), then declaration order
    const at = n.last !== null ? enabled.indexOf(n.last) : -1;
    const cont = at >= 0;
    let ordered = at > 0 ? [n.last!, ...enabled.slice(0, at), ...enabled.slice(at + 1)] : enabled;
    if (seed) ordered = permuteChoices(ordered, cont && n.lastMidOp, seed, n.depth);
    for (const c of ordered) {
      const bit = bitOf(c);
      if ((restrictTo & bit) === 0) continue;
      if ((n.sleepMask & bit) !== 0) { result.sleepSetPruned++; continue; }
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
    if (!options.all) {
      result.stoppedBecause = 'counterexample';
      if (stopFlag) Atomics.compareExchange(stopFlag, 0, 0, options.stopTag ?? 1);
      return true;
    }
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
  // every worker explores the root, whoever inserted it
  const rootVisit = visited.visit(keyOf(null, false), 0, 0, 0);
  const root: Node = { depth: 0, enabled: rootEnabled, todo: [], next: 0, sleep: [], sleepMask: 0, done: [], last: null, lastMidOp: false, preemptions: 0 };
  root.todo = makeTodo(root, rootEnabled);
  if (!rootEnabled.length && !engine.isDone()) result.deadlocks++;
  const stack: Node[] = [root];
  let stop = false;
  if (rootVisit === VISIT_FULL) { result.stoppedBecause = 'table-full'; stop = true; }
  let counter = 0;

  while (stack.length && !stop) {
    const n = stack[stack.length - 1]!;
    if (n.next === n.todo.length) { stack.pop(); continue; }
    const t = n.todo[n.next++]!;
    if (stopFlag && Atomics.load(stopFlag, 0) !== 0) { result.stoppedBecause = 'stopped'; break; }
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
    const preemptions = n.preemptions + pathCost(n, t, n.enabled);
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
    const tBit = bitOf(t);

    if (rec.violations.length) {
      n.done.push({ thread: t, bit: tBit, fp });
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
      if (cx) { n.done.push({ thread: t, bit: tBit, fp }); if (record(cx)) stop = true; continue; }
    }

    const childSleep: SleepEntry[] = [];
    let sleepMask = 0;
    if (por) {
      for (const s of n.sleep) if (s.thread !== t && independent(s.fp, fp)) { childSleep.push(s); sleepMask |= s.bit; }
      for (const s of n.done) if (s.thread !== t && independent(s.fp, fp)) { childSleep.push(s); sleepMask |= s.bit; }
    }
    n.done.push({ thread: t, bit: tBit, fp });

    const key = keyOf(t, midOp);
    // without a preemption bound, preemptions do not limit what a visit can reach: compare depths only
    const v = visited.visit(key, Number.isFinite(maxP) ? preemptions : 0, depth, sleepMask);
    if (v === VISIT_FULL) { result.stoppedBecause = 'table-full'; break; }
    if (v === VISIT_FRESH && auditStates) {
      const found = engine.auditState();
      if (found.length) {
        // a violating state does not count as visited
        visited.forget(key);
        if (record(cxFromViolation(found[0]!, preemptions))) stop = true;
        continue;
      }
    }
    // v >= 0: dominated; only transitions that were asleep at the earlier visit and are awake now are new
    if (v === 0) continue;
    const restrict = v > 0 ? v : -1;

    if (engine.isDone()) {
      result.completedPaths++;
      const cx = runChecks(endChecks, rec, preemptions);
      if (cx && record(cx)) stop = true;
      continue;
    }
    const enabled = choicesAfter(t, midOp);
    const child: Node = { depth, enabled, todo: [], next: 0, sleep: childSleep, sleepMask, done: [], last: t, lastMidOp: midOp, preemptions };
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
