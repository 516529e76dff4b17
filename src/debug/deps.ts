/**
 * What the debug adapter needs from the rest of the project, and nothing more. The adapter never
 * imports the engine implementation, the scenario parser or the kernel index directly: whoever
 * creates a session passes these capabilities in (the extension wires the real ones, the DAP tests
 * wire fixtures). Every function may answer synchronously or with a promise.
 */
import type { BugId, EraId, Engine, Frame, Schedule, StepRecord, ThreadId, ThreadSpec } from '../engine/api';

/** A place in a file the user can open. Lines are 1-based. */
export interface SourceLocation {
  path: string;
  line: number;
}

/** A scenario ready to run: a fresh engine at step 0 and the schedule to drive it with. */
export interface LoadedScenario {
  name: string;
  engine: Engine;
  schedule: Schedule;
  /** Where op `opIndex` of `thread` is written in the scenario file (for the bottom "scenario" frame). */
  stepLocation(thread: ThreadId, opIndex: number): SourceLocation | undefined;
  /** The scenario's threads and ops (optional: used for op names of threads that have not run yet). */
  threads?: ThreadSpec[];
  /**
   * Optional: take the next atomic step by the schedule (the scenario runner's own driver); undefined
   * when the schedule is over. Called only when the engine is at the newest step. Without it the
   * adapter follows `schedule` with its own cursor.
   */
  nextStep?(): StepRecord | undefined;
  /** Optional: why the schedule stopped early (deadlock, a slice that cannot run), if it did. */
  scheduleError?(): string | undefined;
}

export interface ScenarioError {
  line: number;
  col: number;
  message: string;
}

export type LoadResult = LoadedScenario | { errors: ScenarioError[] };

export interface ScenarioOverrides {
  era?: EraId;
  bug?: BugId;
  /** A named variant of the scenario (its `variants:` block: bug/era overrides). */
  variant?: string;
}

/** A simulated kernel function that covers a source line. */
export interface FunctionAtLine {
  /** Kernel function name, e.g. "kvm_tdp_mmu_map". */
  fn: string;
  /** First line of the function (where a breakpoint inside it is moved to). */
  line: number;
  /** Set when the line is a call site inside `fn`: the function called there. */
  callee?: string;
  /** Other names of `fn` in other eras (the engine uses its era's name). */
  aliases?: string[];
}

type MaybePromise<T> = T | Promise<T>;

export interface DebugDeps {
  loadScenario(path: string, overrides: ScenarioOverrides): MaybePromise<LoadResult>;
  /** Where a simulated frame is in the user's tree (or the demo tree); its `point` may pick a call-site line. */
  resolveFrame(frame: Frame): MaybePromise<SourceLocation | undefined>;
  /** Simulated functions whose body contains `line` of the C file at `path`, innermost first. */
  functionsAtLine(path: string, line: number): MaybePromise<FunctionAtLine[]>;
  /** Optional: whether the engine simulates a kernel function (function breakpoints are verified with it). */
  isSimulated?(fn: string): boolean;
}

export function isLoadError(result: LoadResult): result is { errors: ScenarioError[] } {
  return (result as { errors?: unknown }).errors !== undefined;
}
