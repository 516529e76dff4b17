#!/usr/bin/env node
// Harness self-test: a deliberately broken extension must make the e2e tier (and therefore `npm test`) fail.
// Runs the real launcher (scripts/e2e.mjs --mocha-only) in a real VS Code host against
// test/harness/broken-ext, whose command throws, and asserts: non-zero exit status, exactly 1 passed and
// 1 failed test reported back from the extension host, the failure names the thrown error, and the last
// line is the plain `e2e: 1 passed, 1 failed` summary. Prints `harness: N passed, M failed`.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = mkdtempSync(join(tmpdir(), 'kvm-harness-'));
const summaryFile = join(tmp, 'summary.json');
const t0 = Date.now();
const r = spawnSync(process.execPath, [join(ROOT, 'scripts/e2e.mjs'), '--mocha-only', '--quiet',
  '--extension', join(ROOT, 'test/harness/broken-ext'),
  '--suite-dir', join(ROOT, 'test/harness/broken-ext/suite'),
  '--workspace', join(ROOT, 'test/e2e/fixtures/ws'),
  '--summary', summaryFile], { encoding: 'utf8', env: { ...process.env, KVM_E2E_TIMEOUT_MS: '180000' } });
let summary = null;
try { summary = JSON.parse(readFileSync(summaryFile, 'utf8')); } catch { /* checked below */ }
rmSync(tmp, { recursive: true, force: true });

const checks = [
  ['launcher exits non-zero for a broken extension', r.status !== 0 && r.status !== null, `status ${r.status}`],
  ['launcher wrote a summary', !!summary, 'no summary JSON'],
  ['extension host reported 1 passed, 1 failed', summary && summary.e2e.passed === 1 && summary.e2e.failed === 1, summary && JSON.stringify({ passed: summary.e2e.passed, failed: summary.e2e.failed })],
  ['the failure carries the thrown error', summary && summary.e2e.tests.some((t) => t.state === 'failed' && /deliberate failure/.test(t.error || '')), 'error text not found'],
  ['last line is the plain summary', (r.stdout || '').trim().split('\n').pop() === 'e2e: 1 passed, 1 failed', JSON.stringify((r.stdout || '').trim().split('\n').pop())],
];
let passed = 0, failed = 0;
for (const [name, ok, why] of checks) {
  if (ok) passed++; else failed++;
  console.log(`  ${ok ? '✓' : '✗'} ${name}${ok ? '' : ` — ${why}`}`);
}
if (failed) console.log((r.stdout || '') + (r.stderr || ''));
console.log(`harness self-test took ${((Date.now() - t0) / 1000).toFixed(1)} s (host: ${summary && summary.host}, VS Code ${summary && summary.vscodeVersion})`);
console.log(`harness: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
