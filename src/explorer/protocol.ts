/** Messages between the extension host and the explorer worker thread. */
import type { ExploreProgress, ExploreResult } from './explorer';
import type { ScenarioExploreOptions } from './scenario';

export type WorkerExploreOptions = Omit<ScenarioExploreOptions, 'onProgress' | 'isCancelled'>;

export interface ExploreRequest {
  text: string;
  options: WorkerExploreOptions;
  /** Int32Array(1) over a SharedArrayBuffer: the host stores 1 to cancel. */
  cancel: SharedArrayBuffer;
}

export type WorkerMessage =
  | { type: 'progress'; progress: ExploreProgress }
  | { type: 'done'; result: ExploreResult; scenario: string; counterexampleText: string | null; replays: boolean | null }
  | { type: 'error'; message: string; invalidInput: boolean };

/** workerData of a pool worker (parallel.ts): it waits for PoolRequest messages. */
export interface PoolWorkerData { pool: true; index: number }

/** One search of a parallel exploration, posted to every pool worker. */
export interface PoolRequest {
  type: 'search';
  id: number;
  text: string;
  options: WorkerExploreOptions;
  /** The SharedVisited buffer. */
  table: SharedArrayBuffer;
  /** Int32Array(2): [0] the host stores 1 to cancel; [1] the stop flag (index + 1 of the worker that found a counterexample). */
  control: SharedArrayBuffer;
  /** Save and replay the counterexample this worker reports. */
  save: boolean;
  progressEveryMs: number;
}

export type PoolMessage =
  | { type: 'ready'; index: number }
  | { type: 'progress'; id: number; progress: ExploreProgress }
  | { type: 'done'; id: number; result: ExploreResult; scenario: string; counterexampleText: string | null; replays: boolean | null }
  | { type: 'error'; id: number; message: string; invalidInput: boolean };
