#!/usr/bin/env node
// `npm test`: every tier, one summary.
//   typecheck (tsc --noEmit) → build (esbuild) → unit + dap (node --test via run-unit.mjs) → browser (the
//   panel's webview in headless chromium, test/browser/run.mjs) → package (.vsix) → e2e (mocha suite in a real VS Code extension host) + UI checks (packaged .vsix in code-server,
//   driven through chromium, screenshots in e2e-shots/) → harness self-test (a broken extension must fail).
// Prints one line per tier and ends with exactly `N passed, M failed` (tests and checks of every tier; a
// failed typecheck/build/package step counts as one failure). Exits non-zero on any failure.
//   --skip-e2e   only typecheck, build, unit, package (quick local loop)
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(ROOT);
const skipE2e = process.argv.includes('--skip-e2e');
const tiers = [];
let passed = 0, failed = 0;
const started = Date.now();

/** Run a command, stream its output (indented), return { status, out }. */
function run(cmd, args, { env = {}, show = true } = {}) {
  return new Promise((res) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d) => {
      out += d;
      if (show) process.stdout.write(String(d).replace(/^(?=.)/gm, '    '));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (status) => res({ status, out }));
    child.on('error', (e) => res({ status: 1, out: String(e) }));
  });
}

function tierLine(name, p, f, ms, extra = '') {
  passed += p; failed += f;
  tiers.push({ name, p, f, ms });
  console.log(`[${name}] ${p} passed, ${f} failed (${(ms / 1000).toFixed(1)} s)${extra ? ` — ${extra}` : ''}`);
}
async function step(name, cmd, args, opts) {
  console.log(`\n== ${name}: ${[cmd === process.execPath ? 'node' : cmd, ...args].join(' ')}`);
  const t = Date.now();
  const r = await run(cmd, args, opts);
  if (r.status !== 0 && opts && opts.show === false) process.stdout.write(r.out.replace(/^(?=.)/gm, '    '));
  const ms = Date.now() - t;
  if (r.status === 0) console.log(`[${name}] ok (${(ms / 1000).toFixed(1)} s)`);
  else { failed++; tiers.push({ name, p: 0, f: 1, ms }); console.log(`[${name}] FAILED with status ${r.status} (${(ms / 1000).toFixed(1)} s)`); }
  return r;
}
const node = process.execPath;

// 1. Types, 2. bundles.
await step('typecheck', node, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit']);
await step('build', node, ['esbuild.mjs'], { show: false });

// 3. Unit and debug-adapter tests (compiles tests + e2e suites into out/ too).
console.log('\n== unit: node scripts/run-unit.mjs');
{
  const t = Date.now();
  const r = await run(node, ['scripts/run-unit.mjs'], { env: { KVM_UNIT_TSC_NONFATAL: '1' } });
  const num = (k) => Number((r.out.match(new RegExp(`^\\S*\\s*${k} (\\d+)\\s*$`, 'm')) || [])[1] || 0);
  let p = num('pass'), f = num('fail') + num('cancelled');
  if (r.status !== 0 && f === 0) f = 1; // runner crashed or nothing matched
  tierLine('unit', p, f, Date.now() - t);
}

// 3b. The panel's webview in headless chromium (test/browser/run.mjs; screenshots in e2e-shots/panel/).
console.log('\n== browser: node test/browser/run.mjs');
{
  const t = Date.now();
  const r = await run(node, ['test/browser/run.mjs']);
  const m = r.out.match(/^browser: (\d+) passed, (\d+) failed\s*$/m);
  let p = m ? Number(m[1]) : 0, f = m ? Number(m[2]) : 0;
  if (r.status !== 0 && f === 0) f = 1; // crashed before its summary, or exited non-zero anyway
  tierLine('browser', p, f, Date.now() - t);
}

// 4. The .vsix users install (production bundles).
rmSync(join(ROOT, 'dist/kvm-mmu-lab.vsix'), { force: true }); // never test a stale artifact
const pkg = await step('package', 'npm', ['run', '--silent', 'package'], { show: false });
if (pkg.status === 0) {
  const vsix = join(ROOT, 'dist/kvm-mmu-lab.vsix');
  const ext = join(ROOT, 'dist/extension.js');
  console.log(`    ${(pkg.out.match(/Packaged:.*$/m) || ['packaged'])[0].trim()}; dist/extension.js (production) ${statSync(ext).size} bytes; vsix ${existsSync(vsix) ? statSync(vsix).size : '?'} bytes`);
}

if (!skipE2e) {
  // 5. e2e mocha suite in a real VS Code host + UI checks of the installed .vsix.
  console.log('\n== e2e + ui: node scripts/e2e.mjs');
  const tmp = mkdtempSync(join(tmpdir(), 'kvm-test-all-'));
  const summaryFile = join(tmp, 'e2e.json');
  const t = Date.now();
  const r = await run(node, ['scripts/e2e.mjs', '--summary', summaryFile]);
  let s = null;
  try { s = JSON.parse(readFileSync(summaryFile, 'utf8')); } catch { /* below */ }
  const ms = Date.now() - t;
  if (!s) tierLine('e2e', 0, 1, ms, `launcher status ${r.status}, no summary`);
  else {
    const host = `${s.host}, VS Code ${s.vscodeVersion}`;
    tierLine('e2e', s.e2e.passed, s.e2e.failed, s.e2e.ms ?? ms, host);
    const skipped = s.ui.checks.filter((c) => c.state === 'skipped');
    tierLine('ui', s.ui.passed, s.ui.failed, s.ui.ms ?? 0, `${s.ui.checks.filter((c) => /\.png/.test(c.name)).length} screenshots in e2e-shots/${skipped.length ? `; skipped: ${skipped.map((c) => `${c.name} (${c.reason})`).join('; ')}` : ''}`);
    if (r.status !== 0 && !s.e2e.failed && !s.ui.failed) tierLine('e2e-launcher', 0, 1, 0, `status ${r.status}`);
  }
  rmSync(tmp, { recursive: true, force: true });

  // 6. The harness itself: a deliberately broken extension must fail the e2e tier.
  console.log('\n== harness: node test/harness/selftest.mjs');
  const th = Date.now();
  const h = await run(node, ['test/harness/selftest.mjs']);
  const m = h.out.match(/^harness: (\d+) passed, (\d+) failed\s*$/m);
  tierLine('harness', m ? Number(m[1]) : 0, m ? Number(m[2]) : 1, Date.now() - th);
}

console.log(`\nnpm test took ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
