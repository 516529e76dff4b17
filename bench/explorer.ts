/**
 * Interleaving-explorer benchmark. `run()` returns the figures; it prints nothing.
 *
 * Every sequential figure is measured in a fresh worker thread of its own, as the product runs an
 * exploration (src/explorer/worker-client.ts starts one worker per search, and the CLI one process):
 * measured side by side in one isolate, each case ran on code the JIT had specialised for the cases
 * before it, 25-30% slower than the same search in any real session.
 *
 * For each seed race (demo/scenarios/explore/*.kvmmmu.yaml):
 *  - the buggy form: secondsToCounterexample = median wall time of 5 searches until the first violation,
 *    after 0.4 s of warm-up searches;
 *  - the fix (--bug none): distinctStatesPerSec = steady-state throughput of the exhaustive search: after
 *    warm-up searches until the rate is steady (warmUpUntilSteady), the search repeated until at least
 *    0.5 s have been spent, total distinct states / total seconds
 *    (the bundled searches are small, 70-800 states, so one run is a few milliseconds); statesExplored,
 *    distinctStates, seconds (one run) and exhaustive alongside.
 * Parallel (src/explorer/parallel.ts, workers = os.availableParallelism(), printed as `workers`): each
 * figure on a pool of its own, started for it (as the product's one-shot pool per search; start-up,
 * printed as `poolStartMs` for the first, is in no figure), warmed up the same ways:
 *  - distinctStatesPerSecParallel: the steady state, each search timed on the host from dispatch to the
 *    merged result (messages, per-worker set-up and merging included), over at least 0.5 s;
 *  - secondsToCounterexampleParallel: median host wall time of 5 searches until the first violation
 *    (the counterexample is not saved or replayed, as in the sequential figure).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { explore } from '../src/explorer/explorer';
import { ExplorerPool } from '../src/explorer/parallel';
import { prepareExploration } from '../src/explorer/scenario';

const CASES: Record<string, string> = {
  'yield-before-free-request': 'fast-zap-yield-open.kvmmmu.yaml',
  'gup-no-seq-retry': 'gup-race-open.kvmmmu.yaml',
  'notifier-skips-invalid-roots': 'notifier-invalid-roots-open.kvmmmu.yaml',
  'hash-walk-zaps-saved-next': 'hash-walk-open.kvmmmu.yaml',
};

function findRoot(): string {
  let d = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(d, 'demo', 'scenarios', 'explore'))) return d;
    d = path.dirname(d);
  }
  return process.cwd();
}

/** Races explored only in their fixed form (no bundled bug variant for them). */
const FIX_ONLY: Record<string, string> = {
  'async-zap-worker (fix only)': 'async-zap-worker-open.kvmmmu.yaml',
};

/**
 * Runs `search` for 0.4 s of wall time before anything is measured: a handful of runs left the first
 * case measured with half-compiled code (a 3x lower rate than the same case later in the process).
 */
function warmUp(search: () => unknown): void {
  const until = performance.now() + 400;
  do search(); while (performance.now() < until);
}

/**
 * The throughput warm-up: searches until the rate of two consecutive 0.25 s windows agrees within 10%
 * (at most 3 s). A fixed 0.4 s was not always enough: V8 kept tiering code up for longer in a fresh
 * thread (below for the parallel pool, where it is worst).
 */
async function warmUpUntilSteady(search: () => number | Promise<number>): Promise<void> {
  const stop = performance.now() + 3000;
  let previous = 0;
  while (performance.now() < stop) {
    const t = performance.now();
    let distinct = 0;
    while (performance.now() - t < 250) distinct += await search();
    const rate = distinct / (performance.now() - t);
    if (previous > 0 && Math.abs(rate - previous) <= 0.1 * previous) return;
    previous = rate;
  }
}

async function steadyRate(text: string): Promise<{ rate: number; fixed: ReturnType<typeof explore> }> {
  let distinct = 0, seconds = 0, fixed: ReturnType<typeof explore> | undefined;
  await warmUpUntilSteady(() => explore(prepareExploration(text, { bug: 'none' }).options).distinctStates);
  while (seconds < 0.5) {
    fixed = explore(prepareExploration(text, { bug: 'none' }).options);
    distinct += fixed.distinctStates;
    seconds += fixed.seconds;
  }
  return { rate: Math.round(distinct / seconds), fixed: fixed! };
}

function medianSecondsToCounterexample(text: string): { seconds: number | null; id: string | null } {
  warmUp(() => explore(prepareExploration(text, {}).options));
  const runs = Array.from({ length: 5 }, () => explore(prepareExploration(text, {}).options));
  const found = runs.filter((r) => r.counterexample);
  if (found.length < runs.length) return { seconds: null, id: null };
  const s = runs.map((r) => r.seconds).sort((a, b) => a - b)[2]!;
  return { seconds: Math.round(s * 10000) / 10000, id: runs[0]!.counterexample!.violation.id };
}

/** Runs `measure` on a pool started for it alone, closed afterwards. */
async function onFreshPool<T>(workers: number, measure: (pool: ExplorerPool) => Promise<T>): Promise<T> {
  const pool = await ExplorerPool.start(workers);
  try { return await measure(pool); } finally { await pool.close(); }
}

/**
 * The pool is warmed up like one thread (warmUpUntilSteady). It needs it more: each worker runs only
 * part of every search and tiers its code up later; after a fixed 0.4 s, async-zap measured 45k
 * states/s on one run and 147k after 0.7 s. Counterexample searches stop early, so their warm-up is
 * the fixed 0.4 s.
 */
async function steadyRateParallel(pool: ExplorerPool, text: string): Promise<number> {
  await warmUpUntilSteady(async () => (await pool.run(text, { bug: 'none' })).result.distinctStates);
  let distinct = 0, seconds = 0;
  while (seconds < 0.5) {
    const t = performance.now();
    const r = await pool.run(text, { bug: 'none' });
    seconds += (performance.now() - t) / 1000;
    if (!r.result.exhaustive) throw new Error('parallel search not exhaustive');
    distinct += r.result.distinctStates;
  }
  return Math.round(distinct / seconds);
}

async function medianSecondsToCounterexampleParallel(pool: ExplorerPool, text: string): Promise<{ seconds: number | null; id: string | null }> {
  const until = performance.now() + 400;
  do await pool.run(text, { save: false }); while (performance.now() < until);
  const runs: Array<{ s: number; id: string | null }> = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const r = await pool.run(text, { save: false });
    runs.push({ s: (performance.now() - t) / 1000, id: r.result.counterexample?.violation.id ?? null });
  }
  if (runs.some((r) => !r.id)) return { seconds: null, id: null };
  const s = runs.map((r) => r.s).sort((a, b) => a - b)[2]!;
  return { seconds: Math.round(s * 10000) / 10000, id: runs[0]!.id };
}

type Measure = { kind: 'rate'; text: string } | { kind: 'counterexample'; text: string };
type Measured = { rate: number; fixed: ReturnType<typeof explore> } | { seconds: number | null; id: string | null };

/** Runs one sequential measurement in a fresh worker thread (this file, entered below). */
function inFreshWorker(m: { kind: 'rate'; text: string }): Promise<{ rate: number; fixed: ReturnType<typeof explore> }>;
function inFreshWorker(m: { kind: 'counterexample'; text: string }): Promise<{ seconds: number | null; id: string | null }>;
function inFreshWorker(m: Measure): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const w = new Worker(__filename, { workerData: { benchExplorer: m } });
    w.once('message', (r: Measured) => { resolve(r); void w.terminate(); });
    w.once('error', reject);
    w.once('exit', (code) => { if (code !== 0) reject(new Error(`bench worker exited with code ${code}`)); });
  });
}

if (!isMainThread && (workerData as { benchExplorer?: Measure } | null)?.benchExplorer) {
  const m = (workerData as { benchExplorer: Measure }).benchExplorer;
  void (m.kind === 'rate' ? steadyRate(m.text) : Promise.resolve(medianSecondsToCounterexample(m.text))).then((r) => parentPort!.postMessage(r));
}

export async function run(): Promise<Record<string, unknown>> {
  const dir = path.join(findRoot(), 'demo', 'scenarios', 'explore');
  const workers = Math.max(1, os.availableParallelism());
  const t0 = performance.now();
  const first = await ExplorerPool.start(workers);
  const out: Record<string, unknown> = { workers, poolStartMs: Math.round(performance.now() - t0) };
  await first.close();
  await runCases(dir, workers, out);
  return { explorer: out };
}

async function runCases(dir: string, workers: number, out: Record<string, unknown>): Promise<void> {
  for (const [bug, file] of Object.entries(CASES)) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    const cx = await inFreshWorker({ kind: 'counterexample', text });
    const { rate, fixed } = await inFreshWorker({ kind: 'rate', text });
    const pcx = await onFreshPool(workers, (pool) => medianSecondsToCounterexampleParallel(pool, text));
    out[bug] = {
      distinctStatesPerSec: rate,
      distinctStatesPerSecParallel: await onFreshPool(workers, (pool) => steadyRateParallel(pool, text)),
      secondsToCounterexample: cx.seconds,
      secondsToCounterexampleParallel: pcx.seconds,
      counterexample: cx.id,
      counterexampleParallel: pcx.id,
      fix: { verdict: fixed.verdict, statesExplored: fixed.statesExplored, distinctStates: fixed.distinctStates, seconds: Math.round(fixed.seconds * 10000) / 10000, exhaustive: fixed.exhaustive },
    };
  }
  for (const [name, file] of Object.entries(FIX_ONLY)) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    const { rate, fixed } = await inFreshWorker({ kind: 'rate', text });
    out[name] = {
      distinctStatesPerSec: rate,
      distinctStatesPerSecParallel: await onFreshPool(workers, (pool) => steadyRateParallel(pool, text)),
      fix: { verdict: fixed.verdict, statesExplored: fixed.statesExplored, distinctStates: fixed.distinctStates, seconds: Math.round(fixed.seconds * 10000) / 10000, exhaustive: fixed.exhaustive },
    };
  }
}
