// Fuzz: thousands of mutated and random files through the parser/validator (and completion). Every one
// must end in diagnostics or a valid scenario: no exception, no internal error, ranges inside the text.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseScenario } from '../../../src/scenario/parser';
import { complete } from '../../../src/scenario/completion';
import { STEP_NAMES, INVARIANT_IDS, ERAS, BUG_IDS } from '../../../src/scenario/vocabulary';
import { MINIMAL, repoRoot } from './helpers';

function seeds(): string[] {
  const dir = path.join(repoRoot(), 'demo', 'scenarios');
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.kvmmmu.yaml')).sort() : [];
  return [MINIMAL, ...files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))];
}

const TOKENS = [...STEP_NAMES, ...INVARIANT_IDS, ...ERAS, ...BUG_IDS, ':', '- ', '[', ']', '{', '}', ',', '"', "'", '#', '&a', '*a', '!!str', '0x', '-1', '1e999', 'null', '~', '\t', '\n', '  ', 'vcpu0', 'ioctl', 'until', 'after', 'assert', 'gfn', 'hva', '|', '>', '? ', '---', '...', '%YAML 1.2', '<<: *a'];

function check(text: string): void {
  const r = parseScenario(text);
  const lines = text.split(/\r\n|\r|\n/).length;
  assert.ok(Array.isArray(r.diagnostics));
  for (const d of r.diagnostics) {
    assert.notEqual(d.code, 'internal', `internal error: ${d.message}\n--- input ---\n${text}`);
    assert.ok(d.range.start.line >= 0 && d.range.start.line <= lines, `bad range ${JSON.stringify(d.range)}`);
    assert.ok(d.message.length > 0);
  }
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (r.scenario) assert.equal(errors.length, 0, 'a scenario is returned only without errors');
  else assert.ok(errors.length > 0, `no scenario and no error for:\n${text}`);
}

const mutation = (seedCount: number) =>
  fc.record({
    seed: fc.nat({ max: seedCount - 1 }),
    edits: fc.array(
      fc.record({
        kind: fc.constantFrom('delete', 'insert', 'replace', 'swapLines', 'dupLine', 'token'),
        at: fc.nat(),
        len: fc.nat({ max: 12 }),
        text: fc.string({ maxLength: 8 }),
        token: fc.constantFrom(...TOKENS),
      }),
      { minLength: 1, maxLength: 6 },
    ),
  });

function apply(text: string, edits: Array<{ kind: string; at: number; len: number; text: string; token: string }>): string {
  let t = text;
  for (const e of edits) {
    const at = t.length ? e.at % (t.length + 1) : 0;
    switch (e.kind) {
      case 'delete':
        t = t.slice(0, at) + t.slice(at + e.len);
        break;
      case 'insert':
        t = t.slice(0, at) + e.text + t.slice(at);
        break;
      case 'replace':
        t = t.slice(0, at) + e.text + t.slice(at + e.len);
        break;
      case 'token':
        t = t.slice(0, at) + e.token + t.slice(at + Math.min(e.len, 3));
        break;
      case 'swapLines': {
        const ls = t.split('\n');
        const a = e.at % ls.length;
        const b = (e.at + e.len + 1) % ls.length;
        [ls[a], ls[b]] = [ls[b]!, ls[a]!];
        t = ls.join('\n');
        break;
      }
      case 'dupLine': {
        const ls = t.split('\n');
        const a = e.at % ls.length;
        ls.splice(a, 0, ls[a]!);
        t = ls.join('\n');
        break;
      }
    }
  }
  return t;
}

test('fuzz: mutated seed files end in diagnostics or a valid scenario', () => {
  const s = seeds();
  fc.assert(
    fc.property(mutation(s.length), ({ seed, edits }) => {
      const text = apply(s[seed]!, edits);
      check(text);
      const lines = text.split('\n');
      const line = edits[0]!.at % lines.length;
      complete(text, line, edits[0]!.len % ((lines[line]?.length ?? 0) + 1));
    }),
    { numRuns: 2500, seed: 42 },
  );
});

test('fuzz: random YAML values and structures', () => {
  const leaf = fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom(...TOKENS));
  const tree = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('scenario', 'vm', 'threads', 'schedule', 'expect', 'era', 'mmu', 'memslots', 'vcpu0', 'page_fault', 'gfn', 'wait', 'at', 'assert', 'after', 'violations', 'variants', 'thread', 'until')), tie('node'), { maxKeys: 5 })),
  })).node;
  fc.assert(
    fc.property(tree, (value) => {
      let text: string;
      try {
        text = stringify(value);
      } catch {
        return;
      }
      check(text);
    }),
    { numRuns: 1500, seed: 7 },
  );
});

test('fuzz: arbitrary strings', () => {
  fc.assert(fc.property(fc.string({ maxLength: 200, unit: 'binary' }), (text) => check(text)), { numRuns: 1000, seed: 3 });
});

test('fuzz: structure-aware scenario skeletons with random values', () => {
  const val = fc.oneof(fc.integer({ min: -5, max: 0x2000 }), fc.constantFrom('0x10', 'x', '', 'null', 'true'), fc.boolean());
  fc.assert(
    fc.property(fc.constantFrom(...STEP_NAMES), val, val, fc.constantFrom(...ERAS), fc.constantFrom('tdp', 'shadow', 'nested', 'direct-shadow', 'bogus'), (step, a, b, era, mmu) => {
      const text = `scenario: s\nvm: { era: "${era}", mmu: ${mmu}, vcpus: 2, memslots: [{ id: 0, baseGfn: 0, npages: 64, hva: 0x7f0000000000 }] }\nthreads:\n  vcpu0: [ { ${step}: { gfn: ${JSON.stringify(a)}, hva: ${JSON.stringify(b)} } } ]\n  ioctl: [ { ${step}: ${JSON.stringify(a)} } ]\nexpect: { violations: [] }\n`;
      check(text);
    }),
    { numRuns: 800, seed: 11 },
  );
});

test('fuzz: mutated scenarios that validate also run to a verdict (the runner never throws)', async () => {
  const { loadEngine } = await import('../../../src/scenario/engine-loader');
  const { runScenario } = await import('../../../src/scenario/runner');
  const engine = loadEngine();
  assert.ok(engine.factory, engine.error);
  const s = seeds();
  let ran = 0;
  fc.assert(
    fc.property(mutation(s.length), ({ seed, edits }) => {
      const r = parseScenario(apply(s[seed]!, edits.slice(0, 2)));
      if (!r.scenario) return;
      ran++;
      const result = runScenario(r.scenario, engine.factory!, { maxSteps: 2000 });
      assert.ok(result.verdict === 'pass' || result.verdict === 'fail');
    }),
    { numRuns: 300, seed: 5 },
  );
  assert.ok(ran > 20, `only ${ran} mutants validated`);
});
