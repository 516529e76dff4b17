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
