/**
 * Loads the engine (src/engine/index.ts) lazily so that the scenario editor features work even when the
 * engine cannot be loaded. Returns a factory or a reason.
 */
import type { Engine, EngineOptions } from '../engine/api';
import { addKnownInvariants, registerInvariantDocs, type InvariantDoc } from './vocabulary';
import type { EngineFactory } from './runner';

interface EngineModule {
  createEngine(options: EngineOptions): Engine;
  INVARIANTS?: unknown;
  BUGS?: unknown;
}

let cached: { factory?: EngineFactory; error?: string } | undefined;

export function loadEngine(): { factory?: EngineFactory; error?: string } {
  if (cached) return cached;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('../engine/index') as EngineModule;
    if (typeof mod.createEngine !== 'function') throw new Error('src/engine/index does not export createEngine');
    registerInvariants(mod.INVARIANTS);
    cached = { factory: (o) => mod.createEngine(o) };
  } catch (e) {
    cached = { error: `the MMU engine is not available: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
  }
  return cached;
}

function registerInvariants(inv: unknown): void {
  if (Array.isArray(inv)) {
    const docs: InvariantDoc[] = [];
    for (const x of inv) {
      if (x && typeof x === 'object' && typeof (x as InvariantDoc).id === 'string') {
        const d = x as { id: string; title?: unknown; explanation?: unknown; eras?: unknown };
        docs.push({ id: d.id, title: String(d.title ?? ''), explanation: String(d.explanation ?? ''), eras: Array.isArray(d.eras) ? (d.eras as InvariantDoc['eras']) : undefined });
      }
    }
    registerInvariantDocs(docs);
  }
  const ids: string[] = [];
  if (Array.isArray(inv)) for (const x of inv) ids.push(typeof x === 'string' ? x : typeof x === 'object' && x && 'id' in x ? String((x as { id: unknown }).id) : '');
  else if (inv && typeof inv === 'object') ids.push(...Object.keys(inv));
  addKnownInvariants(ids.filter((x) => /^[A-Z]{2}-\d+$/.test(x)));
}
