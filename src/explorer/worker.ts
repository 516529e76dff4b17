/**
 * Worker-thread entry (bundled to dist/explorer-worker.js): runs one exploration off the extension host.
 * workerData is an ExploreRequest; the worker posts progress messages and one 'done' or 'error'.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { explore } from './explorer';
import { counterexampleScenario, prepareExploration, replayCounterexample, ScenarioError } from './scenario';
import type { ExploreRequest, WorkerMessage } from './protocol';

function post(m: WorkerMessage): void { parentPort?.postMessage(m); }

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

if (parentPort && workerData) runRequest(workerData as ExploreRequest, post);
