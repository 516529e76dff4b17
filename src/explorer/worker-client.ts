/**
 * Starts an exploration in a worker thread (no vscode here). The caller gets progress callbacks, a
 * cancel function and a promise of the outcome; the worker is terminated when it settles.
 */
import { Worker } from 'node:worker_threads';
import type { ExploreProgress, ExploreResult } from './explorer';
import type { ExploreRequest, WorkerExploreOptions, WorkerMessage } from './protocol';

export interface ExploreOutcome {
  result: ExploreResult;
  scenario: string;
  counterexampleText: string | null;
  replays: boolean | null;
}

export interface ExploreJob {
  promise: Promise<ExploreOutcome>;
  cancel(): void;
}

export function startExploreWorker(workerFile: string, text: string, options: WorkerExploreOptions, onProgress?: (p: ExploreProgress) => void): ExploreJob {
  const cancel = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancel);
  const req: ExploreRequest = { text, options, cancel };
  const worker = new Worker(workerFile, { workerData: req });
  let settled = false;
  const promise = new Promise<ExploreOutcome>((resolve, reject) => {
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') onProgress?.(m.progress);
      else if (m.type === 'done') { settled = true; resolve({ result: m.result, scenario: m.scenario, counterexampleText: m.counterexampleText, replays: m.replays }); void worker.terminate(); }
      else { settled = true; reject(new Error(m.message)); void worker.terminate(); }
    });
    worker.on('error', (e) => { if (!settled) { settled = true; reject(e); } });
    worker.on('exit', (code) => { if (!settled) { settled = true; reject(new Error(`explorer worker exited with code ${code}`)); } });
  });
  return { promise, cancel: () => { Atomics.store(flag, 0, 1); } };
}
