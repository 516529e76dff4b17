import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { buildSchema } from '../../../src/scenario/schema';
import { repoRoot } from './helpers';

const schemaFile = path.join(repoRoot(), 'schemas', 'kvmmmu-scenario.schema.json');

test('schemas/kvmmmu-scenario.schema.json is up to date with buildSchema()', () => {
  const onDisk = JSON.parse(fs.readFileSync(schemaFile, 'utf8'));
  assert.deepEqual(onDisk, buildSchema(), 'regenerate with: node out-scenario/src/scenario/write-schema.js (see docs/scenario-format.md)');
});

test('the schema compiles with ajv and accepts every bundled scenario', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(buildSchema());
  const dir = path.join(repoRoot(), 'demo', 'scenarios');
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.kvmmmu.yaml')) : [];
  for (const f of files) {
    const data = parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    const ok = validate(data);
    assert.ok(ok, `${f}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
  }
});

test('the schema rejects an unknown step and a missing vm', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(buildSchema());
  assert.equal(validate({ scenario: 'x', threads: { vcpu0: ['enter_guest'] } }), false);
  assert.equal(validate({ scenario: 'x', vm: { era: '5.18', mmu: 'tdp', memslots: [{ id: 0, baseGfn: 0, npages: 1, hva: 0 }] }, threads: { vcpu0: [{ pagefault: { gfn: 1 } }] } }), false);
  assert.equal(validate({ scenario: 'x', vm: { era: '5.18', mmu: 'tdp', memslots: [{ id: 0, baseGfn: 0, npages: 1, hva: 0 }] }, threads: { vcpu0: [{ page_fault: { gfn: 0 } }, 'enter_guest'] } }), true);
});

test('grammar and snippets are generated from the vocabulary and cover every step', async () => {
  const { GENERATED } = await import('../../../src/scenario/write-schema');
  const { STEPS } = await import('../../../src/scenario/vocabulary');
  for (const [rel, build] of GENERATED) {
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(repoRoot(), rel), 'utf8')), build(), `${rel} is stale: regenerate with node out-scenario/src/scenario/write-schema.js .`);
  }
  const snippets = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'snippets', 'kvmmmu-scenario.json'), 'utf8'));
  for (const s of STEPS) assert.ok(snippets[`step ${s.name}`], `no snippet for ${s.name}`);
  const grammar = fs.readFileSync(path.join(repoRoot(), 'syntaxes', 'kvmmmu-scenario.tmLanguage.json'), 'utf8');
  for (const s of STEPS) assert.ok(grammar.includes(s.name), `grammar misses ${s.name}`);
});
