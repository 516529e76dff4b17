import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkCommand } from '../../../src/cli/check-command';
import { runCommand } from '../../../src/cli/run-command';
import { MINIMAL } from './helpers';

function io() {
  const o = { out: '', err: '' };
  return { o, io: { out: (t: string) => (o.out += t), err: (t: string) => (o.err += t) } };
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kvmmmu-cli-'));
const good = path.join(tmp, 'good.kvmmmu.yaml');
const bad = path.join(tmp, 'bad.kvmmmu.yaml');
fs.writeFileSync(good, MINIMAL);
fs.writeFileSync(bad, MINIMAL.replace('page_fault', 'pagefault'));

test('check: valid file exits 0; invalid prints file:line:col and exits 2', async () => {
  const a = io();
  assert.equal(await checkCommand([good], a.io), 0);
  assert.equal(a.o.out, '');
  const b = io();
  assert.equal(await checkCommand([good, bad], b.io), 2);
  assert.equal(b.o.out.trim(), `${bad}:5:14: unknown step 'pagefault'; did you mean 'page_fault'?`);
});

test('check/run usage errors exit 2', async () => {
  assert.equal(await checkCommand([], io().io), 2);
  assert.equal(await runCommand([], io().io), 2);
  assert.equal(await runCommand([good, '--profile', '9.9'], io().io), 2);
  assert.equal(await runCommand([good, '--bug', 'nope'], io().io), 2);
  assert.equal(await runCommand([good, '--frobnicate'], io().io), 2);
  assert.equal(await runCommand([path.join(tmp, 'missing.kvmmmu.yaml')], io().io), 2);
});

test('run: invalid input exits 2 and reports diagnostics', async () => {
  const a = io();
  assert.equal(await runCommand([bad, '--json'], a.io), 2);
  const j = JSON.parse(a.o.out);
  assert.equal(j.verdict, 'fail');
  assert.match(j.diagnostics[0], /did you mean 'page_fault'/);
});

test('run --json: one object per file, an array for several', async () => {
  const a = io();
  const code = await runCommand([good, '--json'], a.io);
  assert.ok(code === 0 || code === 1, a.o.err);
  const j = JSON.parse(a.o.out);
  assert.equal(j.file, good);
  assert.equal(j.scenario, 'minimal');
  assert.ok(['pass', 'fail'].includes(j.verdict));
  assert.ok(Array.isArray(j.violations) && Array.isArray(j.failedExpectations));
  assert.equal(typeof j.steps, 'number');
  assert.equal(typeof j.traceHash, 'string');
  const b = io();
  await runCommand([good, good, '--json', '--profile', '6.19'], b.io);
  const arr = JSON.parse(b.o.out);
  assert.ok(Array.isArray(arr) && arr.length === 2);
  assert.equal(arr[0].era, '6.19');
});

test('run: a failing expectation exits 1', async () => {
  const failing = path.join(tmp, 'failing.kvmmmu.yaml');
  fs.writeFileSync(failing, MINIMAL.replace('violations: []', 'violations: [RT-6]'));
  const a = io();
  assert.equal(await runCommand([failing], a.io), 1);
  assert.match(a.o.out, /^FAIL /);
  assert.match(a.o.out, /RT-6 never appeared/);
});
