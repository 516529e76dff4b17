// Both invariant catalogues (knowledge base and engine) must agree on the IDs once the engine exports INVARIANTS.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { INVARIANTS } from '../../../src/knowledge/index';

const engineIndex = path.resolve(__dirname, '..', '..', '..', 'src', 'engine', 'index.js');

test('knowledge and engine invariant catalogues agree on the IDs', (t) => {
  if (!fs.existsSync(engineIndex)) {
    t.skip('src/engine/index.ts does not exist yet (no engine INVARIANTS export to compare with)');
    return;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(engineIndex) as { INVARIANTS?: unknown };
  if (!mod.INVARIANTS) {
    t.skip('src/engine/index.ts does not export INVARIANTS yet');
    return;
  }
  const raw = mod.INVARIANTS as unknown;
  const ids = (Array.isArray(raw) ? raw : Object.values(raw as Record<string, unknown>)).map((x) =>
    typeof x === 'string' ? x : (x as { id: string }).id,
  );
  const engineIds = new Set(Array.isArray(raw) || ids.every(Boolean) ? ids : Object.keys(raw as object));
  assert.deepEqual([...engineIds].sort(), INVARIANTS.map((i) => i.id).sort());
});
