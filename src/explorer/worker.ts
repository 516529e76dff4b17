/**
 * Worker-thread entry (bundled to dist/explorer-worker.js). Two modes:
 *  - single search: workerData is an ExploreRequest; the worker posts progress messages and one 'done'
 *    or 'error' (worker-client.ts);
 *  - pool worker of a parallel search: workerData is a PoolWorkerData; the worker runs every PoolRequest
 *    it receives against the shared visited table and answers with progress and one 'done' or 'error'
 *    per request (parallel.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { explore } from './explorer';
import { counterexampleScenario, prepareExploration, replayCounterexample, ScenarioError, type PreparedExploration } from './scenario';
import { SharedVisited } from './shared-visited';
import type { ExploreRequest, PoolMessage, PoolRequest, PoolWorkerData, WorkerExploreOptions, WorkerMessage } from './protocol';

function post(m: WorkerMessage | PoolMessage): void { parentPort?.postMessage(m); }

export function runRequest(req: ExploreRequest, send: (m: WorkerMessage) => void): void {
  const flag = new Int32Array(req.cancel);
  try {
    const prepared = prepareExploration(req.text, req.options);
    const result = explore({
      ...prepared.options,
      progressEveryMs: 150,
      onProgress: (progress) => send({ type: 'progress', progress }),
      isCancelled: () => Atomics.load(flag, 0) !== 0,
    });
    let counterexampleText: string | null = null;
    let replays: boolean | null = null;
    if (result.counterexample) {
      counterexampleText = counterexampleScenario(req.text, prepared, result.counterexample, { sourceFile: req.options.file });
      replays = replayCounterexample(counterexampleText, result.counterexample).replays;
    }
    send({ type: 'done', result, scenario: prepared.scenario.name, counterexampleText, replays });
  } catch (e) {
    send({ type: 'error', message: e instanceof Error ? e.message : String(e), invalidInput: e instanceof ScenarioError });
  }
}

// A pool worker usually runs the same scenario again and again (the bench, repeated searches): keep the
// last preparation; the engine options are copied per search in case the engine keeps references.
let cache: { text: string; options: string; prepared: PreparedExploration } | null = null;

function prepareCached(text: string, options: WorkerExploreOptions): PreparedExploration {
  const o = JSON.stringify(options);
  if (!cache || cache.text !== text || cache.options !== o) cache = { text, options: o, prepared: prepareExploration(text, options) };
  const p = cache.prepared;
  return { ...p, options: { ...p.options, engine: structuredClone(p.options.engine) } };
}

/** One search of a parallel exploration as worker `index` (its choice order and stop tag). */
export function runPoolRequest(req: PoolRequest, index: number, send: (m: PoolMessage) => void): void {
  const control = new Int32Array(req.control);
  const stopTag = index + 1;
  try {
    const prepared = prepareCached(req.text, req.options);
    const result = explore({
      ...prepared.options,
      visited: SharedVisited.attach(req.table),
      stopFlag: new Int32Array(req.control, 4, 1),
      stopTag,
      choiceSeed: index,
      progressEveryMs: req.progressEveryMs,
      onProgress: (progress) => send({ type: 'progress', id: req.id, progress }),
      isCancelled: () => Atomics.load(control, 0) !== 0,
    });
    let counterexampleText: string | null = null;
    let replays: boolean | null = null;
    // only the counterexample the host will report is saved and replayed: the one that stopped the
    // search, or with `all` each worker's first
    if (req.save && result.counterexample && (req.options.all || Atomics.load(control, 1) === stopTag)) {
      counterexampleText = counterexampleScenario(req.text, prepared, result.counterexample, { sourceFile: req.options.file });
      replays = replayCounterexample(counterexampleText, result.counterexample).replays;
    }
    send({ type: 'done', id: req.id, result, scenario: prepared.scenario.name, counterexampleText, replays });
  } catch (e) {
    send({ type: 'error', id: req.id, message: e instanceof Error ? e.message : String(e), invalidInput: e instanceof ScenarioError });
  }
}

if (parentPort && workerData) {
  const data = workerData as ExploreRequest | PoolWorkerData;
  if ('pool' in data && data.pool) {
    const index = data.index;
    parentPort.on('message', (m: PoolRequest) => { if (m && m.type === 'search') runPoolRequest(m, index, post); });
    post({ type: 'ready', index });
  } else runRequest(data as ExploreRequest, post);
}
