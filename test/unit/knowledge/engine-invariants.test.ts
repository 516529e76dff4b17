// Both invariant catalogues (knowledge base and engine) must agree on the IDs once the engine exports INVARIANTS.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { INVARIANTS } from '../../../src/knowledge/index';

// The engine may export INVARIANTS from its index or from its invariants module; use the first that does.
const engineDir = path.resolve(__dirname, '..', '..', '..', 'src', 'engine');
const candidates = ['index.js', 'invariants.js'].map((f) => path.join(engineDir, f)).filter((f) => fs.existsSync(f));

test('knowledge and engine invariant catalogues agree on the IDs', (t) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = candidates.map((f) => require(f) as { INVARIANTS?: unknown }).find((m) => m.INVARIANTS);
  if (!mod) {
    t.skip('the engine does not export INVARIANTS yet (src/engine/index.ts or src/engine/invariants.ts)');
    return;
  }
  const raw = mod.INVARIANTS as unknown;
  const ids = (Array.isArray(raw) ? raw : Object.values(raw as Record<string, unknown>)).map((x) =>
    typeof x === 'string' ? x : (x as { id: string }).id,
  );
  const engineIds = new Set(Array.isArray(raw) || ids.every(Boolean) ? ids : Object.keys(raw as object));
  assert.deepEqual([...engineIds].sort(), INVARIANTS.map((i) => i.id).sort());
});
