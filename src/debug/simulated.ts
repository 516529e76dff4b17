/**
 * Which kernel functions the engine simulates, from the engine's own catalogue (KERNEL_SYMBOLS via
 * `kernelSymbol`), loaded lazily like the scenario room's engine loader. Undefined while the engine
 * cannot be loaded (then every C function counts as simulated).
 */
interface EngineCatalogue {
  kernelSymbol?: (name: string) => { kind: string } | undefined;
}

let cached: ((fn: string) => boolean) | undefined | null = null;

export function engineSimulatedFunctions(): ((fn: string) => boolean) | undefined {
  if (cached !== null) return cached;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('../engine/index') as EngineCatalogue;
    const lookup = mod.kernelSymbol;
    cached = typeof lookup === 'function' ? (fn: string) => ['function', 'macro'].includes(lookup(fn)?.kind ?? '') : undefined;
  } catch {
    cached = undefined;
  }
  return cached;
}
