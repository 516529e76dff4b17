/** Public entry point of the MMU engine. */
export * from './api';
export { PROFILES, BUGS } from './profiles';
export type { EraProfile, BugInfo } from './profiles';
export { INVARIANTS } from './invariants';
export type { InvariantInfo } from './invariants';
export { KERNEL_SYMBOLS, kernelSymbol, symbolExists } from './kernel-names';
export type { KernelSymbol, SymbolKind } from './kernel-names';
export { runSchedule } from './engine';
export type { EngineTuning, FullEngineOptions, EngineInternals, RunResult } from './engine';
import type { EngineOptions } from './api';
import { EngineImpl, EngineInternals, EngineTuning } from './engine';

/** Create an engine for a scenario. Extra tuning knobs (trace/audit/history) are optional. */
export function createEngine(options: EngineOptions & EngineTuning): EngineInternals {
  return new EngineImpl(options);
}
