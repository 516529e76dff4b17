// The whole bundled library through the runner: every verdict must be pass (buggy variants expect their
// violations, fixes expect none), every file is documented, and runs are deterministic.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseScenario } from '../../../src/scenario/parser';
import { runScenarioAll } from '../../../src/scenario/runner';
import { loadEngine } from '../../../src/scenario/engine-loader';
import { repoRoot } from './helpers';

const dir = path.join(repoRoot(), 'demo', 'scenarios');
const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.kvmmmu.yaml')).sort() : [];

test('the library has at least 16 documented scenarios', () => {
  loadEngine();
  assert.ok(files.length >= 16, `only ${files.length} scenarios`);
  for (const f of files) {
    const r = parseScenario(fs.readFileSync(path.join(dir, f), 'utf8'), { file: f });
    assert.deepEqual(r.diagnostics.filter((d) => d.severity !== 'info').map((d) => `${f}:${d.range.start.line + 1}: ${d.message}`), []);
    assert.ok(r.scenario, f);
    assert.ok(r.scenario.header.length > 80, `${f}: header comment too short`);
    assert.match(r.scenario.header, /kernel functions/i, `${f}: header must name the kernel functions`);
  }
});

test('every bundled scenario passes with its expectations', () => {
  const engine = loadEngine();
  assert.ok(engine.factory, engine.error);
  const failures: string[] = [];
  for (const f of files) {
    const r = parseScenario(fs.readFileSync(path.join(dir, f), 'utf8'), { file: f });
    assert.ok(r.scenario, f);
    for (const run of runScenarioAll(r.scenario, engine.factory)) {
      if (run.verdict !== 'pass') failures.push(`${f}${run.variant ? ` [${run.variant}]` : ''}: ${run.failedExpectations.join('; ')}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('buggy variants show violations and runs are deterministic', () => {
  const engine = loadEngine();
  assert.ok(engine.factory, engine.error);
  let buggyRuns = 0;
  for (const f of files) {
    const r = parseScenario(fs.readFileSync(path.join(dir, f), 'utf8'), { file: f });
    const a = runScenarioAll(r.scenario!, engine.factory);
    const b = runScenarioAll(r.scenario!, engine.factory);
    assert.deepEqual(a.map((x) => x.traceHash), b.map((x) => x.traceHash), `${f}: trace hash differs between runs`);
    for (const run of a) {
      const expected = run.variant ? r.scenario!.variants.find((v) => v.name === run.variant)!.expect.violations : r.scenario!.expect.violations;
      if (expected && expected.length) {
        buggyRuns++;
        assert.ok(run.violations.length > 0, `${f} ${run.variant ?? ''}`);
      }
    }
  }
  assert.ok(buggyRuns >= 7, `only ${buggyRuns} runs expect violations`);
});
