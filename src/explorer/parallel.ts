/**
 * Parallel exploration: N worker threads run the explorer's DFS from the root, each with its own choice
 * order, against one SharedVisited table (see explorer.ts's header). ExplorerPool starts the workers
 * once and runs many searches (no thread start-up per search); exploreParallel() is a one-shot pool.
 *
 * Merged result: distinctStates = entries in the shared table; statesExplored, replaySteps and the cut,
 * prune, deadlock and path counters are summed over the workers; exhaustive only if every worker was;
 * the counterexample is the one of the worker that stopped the search (the first to set the stop flag),
 * with `all` the first reported, and the lists are merged (duplicates dropped).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Counterexample, ExploreProgress, ExploreResult } from './explorer';
import type { PoolMessage, PoolRequest, PoolWorkerData, WorkerExploreOptions } from './protocol';
import { DEFAULT_CAPACITY, SharedVisited } from './shared-visited';

export interface ParallelExploreOptions extends WorkerExploreOptions {
  /** Visited-table capacity in states [2^20]. */
  capacity?: number;
  onProgress?: (p: ExploreProgress) => void;
  /** Milliseconds between forwarded progress reports [150]. */
  progressEveryMs?: number;
  /** Aborting cancels the search (the result says stoppedBecause: 'cancelled'). */
  signal?: AbortSignal;
  /** Save the reported counterexample as a scenario and replay it, in the worker [true]. */
  save?: boolean;
}

export interface ParallelOutcome {
  result: ExploreResult;
  scenario: string;
  /** The reported counterexample saved as a scenario with its schedule pinned, and whether it replays. */
  counterexampleText: string | null;
  replays: boolean | null;
  workers: number;
}

/** An error reported by the workers; invalidInput: the scenario (or options) are invalid. */
export class ParallelExploreError extends Error {
  constructor(message: string, readonly invalidInput: boolean) { super(message); }
}

/**
 * The worker entry next to this module: dist/explorer-worker.js beside the bundles (cli.js, extension.js),
 * worker.js beside the tsc output (out/src/explorer/parallel.js).
 */
export function defaultWorkerFile(): string {
  const candidates = [path.join(__dirname, 'explorer-worker.js'), path.join(__dirname, 'worker.js'), path.join(__dirname, '..', 'dist', 'explorer-worker.js')];
  const found = candidates.find((f) => fs.existsSync(f));
  if (!found) throw new Error(`explorer: no worker entry found (looked for ${candidates.join(', ')})`);
  return found;
}

/** `auto` → os.availableParallelism(); otherwise a positive integer. */
export function workerCount(v: number | 'auto'): number {
  if (v === 'auto') return Math.max(1, os.availableParallelism());
  if (!Number.isInteger(v) || v < 1 || v > 64) throw new Error(`explorer: workers must be an integer in 1..64 or 'auto' (got ${v})`);
  return v;
}

interface Job {
  id: number;
  table: SharedVisited;
  control: Int32Array;
  options: ParallelExploreOptions;
  t0: number;
  results: Array<Extract<PoolMessage, { type: 'done' }> | undefined>;
  errors: Array<Extract<PoolMessage, { type: 'error' }>>;
  answered: number;
  /** Worker indexes in the order their counterexamples arrived. */
  cxOrder: number[];
  progress: Array<ExploreProgress | undefined>;
  lastProgress: number;
  resolve(o: ParallelOutcome): void;
  reject(e: Error): void;
  cleanup(): void;
}

export class ExplorerPool {
  private readonly workers: Worker[] = [];
  private live = 0;
  private job: Job | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private failure: Error | null = null;
  private readonly exited: Array<Promise<void>> = [];
  private static threads = 0;
  /** Pool threads of this process that have not exited yet (all pools). */
  static get liveThreads(): number { return ExplorerPool.threads; }
  private closing = false;
  /** Kept between searches (reset() is a new generation: no clearing, pages stay mapped). */
  private table: SharedVisited | null = null;

  private constructor(readonly size: number, readonly workerFile: string) {}

  /** Starts `workers` threads and resolves once every one is ready (thread start-up happens here). */
  static async start(workers: number | 'auto' = 'auto', workerFile = defaultWorkerFile()): Promise<ExplorerPool> {
    const pool = new ExplorerPool(workerCount(workers), workerFile);
    try {
      await pool.spawn();
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** False once a worker crashed or close() was called. */
  get usable(): boolean { return !this.failure && !this.closing; }

  /** Threads that have not exited yet. */
  get liveWorkers(): number { return this.live; }

  private spawn(): Promise<void> {
    const ready: Array<Promise<void>> = [];
    for (let i = 0; i < this.size; i++) {
      const data: PoolWorkerData = { pool: true, index: i };
      const w = new Worker(this.workerFile, { workerData: data });
      this.live++;
      ExplorerPool.threads++;
      this.workers.push(w);
      ready.push(new Promise<void>((resolve, reject) => {
        const onMsg = (m: PoolMessage): void => { if (m.type === 'ready') { w.off('message', onMsg); resolve(); } };
        w.on('message', onMsg);
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`explorer worker ${i} exited with code ${code} while starting`)));
      }));
      this.exited.push(new Promise<void>((resolve) => w.once('exit', () => { this.live--; ExplorerPool.threads--; resolve(); })));
      w.on('message', (m: PoolMessage) => this.onMessage(i, m));
      w.on('error', (e) => this.fail(new Error(`explorer worker ${i} failed: ${e instanceof Error ? e.message : String(e)}`)));
      w.on('exit', (code) => { if (!this.closing) this.fail(new Error(`explorer worker ${i} exited unexpectedly (code ${code})`)); });
    }
    return Promise.all(ready).then(() => undefined);
  }

  /** A crashed worker breaks the pool: the running search fails, every thread is terminated. */
  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    const job = this.job;
    this.job = null;
    if (job) { job.cleanup(); job.reject(e); }
    void this.close();
  }

  /** Runs one search (searches queue up: one at a time). */
  run(text: string, options: ParallelExploreOptions = {}): Promise<ParallelOutcome> {
    const p = this.queue.then(() => this.runNow(text, options));
    this.queue = p.catch(() => undefined);
    return p;
  }

  private runNow(text: string, options: ParallelExploreOptions): Promise<ParallelOutcome> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('explorer pool is closed'));
    const capacity = options.capacity ?? DEFAULT_CAPACITY;
    let table = this.table;
    if (table && table.capacity === capacity) table.reset();
    else table = this.table = SharedVisited.create(capacity);
    const controlBuf = new SharedArrayBuffer(8);
    const control = new Int32Array(controlBuf);
    return new Promise<ParallelOutcome>((resolve, reject) => {
      const onAbort = (): void => { Atomics.store(control, 0, 1); };
      if (options.signal?.aborted) onAbort();
      options.signal?.addEventListener('abort', onAbort);
      const job: Job = {
        id: this.nextId++, table, control, options, t0: performance.now(), results: new Array(this.size).fill(undefined), errors: [], answered: 0,
        cxOrder: [], progress: new Array(this.size).fill(undefined), lastProgress: 0, resolve, reject,
        cleanup: () => options.signal?.removeEventListener('abort', onAbort),
      };
      this.job = job;
      const { capacity: _c, onProgress: _p, progressEveryMs: _e, signal: _s, save, ...wire } = options;
      const req: PoolRequest = { type: 'search', id: job.id, text, options: wire, table: table.buffer, control: controlBuf, save: save !== false, progressEveryMs: Math.min(options.progressEveryMs ?? 150, 150) };
      for (const w of this.workers) w.postMessage(req);
    });
  }

  private onMessage(i: number, m: PoolMessage): void {
    const job = this.job;
    if (!job || m.type === 'ready' || m.id !== job.id) return;
    if (m.type === 'progress') {
      job.progress[i] = m.progress;
      const now = performance.now();
      if (job.options.onProgress && now - job.lastProgress >= (job.options.progressEveryMs ?? 150)) {
        job.lastProgress = now;
        job.options.onProgress(this.sumProgress(job, now));
      }
      return;
    }
    job.answered++;
    if (m.type === 'error') {
      job.errors.push(m);
      // the others have nothing to finish: stop them
      Atomics.store(job.control, 0, 1);
    } else {
      job.results[i] = m;
      if (m.result.counterexample) job.cxOrder.push(i);
    }
    if (job.answered < this.size) return;
    this.job = null;
    job.cleanup();
    if (job.errors.length) {
      const e = job.errors[0]!;
      job.reject(new ParallelExploreError(e.message, e.invalidInput));
      return;
    }
    job.resolve(this.merge(job));
  }

  private sumProgress(job: Job, now: number): ExploreProgress {
    const ps = job.progress.filter((p): p is ExploreProgress => !!p);
    const seconds = (now - job.t0) / 1000;
    const distinct = job.table.size;
    return {
      statesExplored: ps.reduce((a, p) => a + p.statesExplored, 0),
      distinctStates: distinct,
      depth: Math.max(0, ...ps.map((p) => p.depth)),
      maxDepthReached: Math.max(0, ...ps.map((p) => p.maxDepthReached)),
      seconds,
      statesPerSecond: seconds > 0 ? distinct / seconds : 0,
      counterexamples: ps.reduce((a, p) => a + p.counterexamples, 0),
    };
  }

  private merge(job: Job): ParallelOutcome {
    const done = job.results as Array<Extract<PoolMessage, { type: 'done' }>>;
    const rs = done.map((d) => d.result);
    const seconds = (performance.now() - job.t0) / 1000;
    const sum = (f: (r: ExploreResult) => number): number => rs.reduce((a, r) => a + f(r), 0);
    const winner = Atomics.load(job.control, 1) - 1;
    const primary = winner >= 0 && done[winner]?.result.counterexample ? winner : job.cxOrder[0];
    const all = !!job.options.all;
    let counterexamples: Counterexample[] = [];
    if (primary !== undefined) {
      if (!all) counterexamples = [done[primary]!.result.counterexample!];
      else {
        const seen = new Set<string>();
        for (const i of [primary, ...job.cxOrder.filter((x) => x !== primary)]) {
          for (const cx of done[i]!.result.counterexamples) {
            const k = cx.choices.join('\u0000');
            if (seen.has(k) || counterexamples.length >= 100) continue;
            seen.add(k);
            counterexamples.push(cx);
          }
        }
      }
    }
    const reasons = rs.map((r) => r.stoppedBecause);
    const stoppedBecause: ExploreResult['stoppedBecause'] =
      primary !== undefined && !all ? 'counterexample'
        : reasons.includes('cancelled') ? 'cancelled'
          : reasons.includes('table-full') ? 'table-full'
            : reasons.includes('time-limit') ? 'time-limit' : undefined;
    const result: ExploreResult = {
      verdict: primary !== undefined ? 'violation' : 'nothing-found',
      statesExplored: sum((r) => r.statesExplored),
      distinctStates: job.table.size,
      replaySteps: sum((r) => r.replaySteps),
      seconds,
      exhaustive: !stoppedBecause && rs.every((r) => r.exhaustive),
      stoppedBecause,
      maxDepthReached: Math.max(...rs.map((r) => r.maxDepthReached)),
      cutByDepth: sum((r) => r.cutByDepth),
      cutByPreemptions: sum((r) => r.cutByPreemptions),
      sleepSetPruned: sum((r) => r.sleepSetPruned),
      deadlocks: sum((r) => r.deadlocks),
      completedPaths: sum((r) => r.completedPaths),
      bounds: rs[0]!.bounds,
      counterexample: counterexamples[0] ?? null,
      counterexamples,
    };
    if (!stoppedBecause) delete result.stoppedBecause;
    const p = primary !== undefined ? done[primary]! : done[0]!;
    return { result, scenario: p.scenario, counterexampleText: primary !== undefined ? p.counterexampleText : null, replays: primary !== undefined ? p.replays : null, workers: this.size };
  }

  /** Terminates every thread (a running search fails) and resolves when all have exited. */
  async close(): Promise<void> {
    this.closing = true;
    const job = this.job;
    this.job = null;
    if (job) { job.cleanup(); job.reject(this.failure ?? new Error('explorer pool closed during a search')); }
    await Promise.all(this.workers.map((w) => w.terminate().catch(() => undefined)));
    await Promise.all(this.exited);
  }
}

/** One parallel search with its own pool (thread start-up included); the threads are gone when it settles. */
export async function exploreParallel(text: string, options: ParallelExploreOptions = {}, workers: number | 'auto' = 'auto', workerFile?: string): Promise<ParallelOutcome> {
  const pool = await ExplorerPool.start(workers, workerFile);
  try {
    return await pool.run(text, options);
  } finally {
    await pool.close();
  }
}
