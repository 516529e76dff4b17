#!/usr/bin/env node
// `npm run bench`: readable figures; `npm run bench -- --json`: exactly one JSON object on stdout.
//
// Built-in figures:
//   extensionBundleBytes  size of dist/extension.js built with --production
//   cliBundleBytes        size of dist/cli.js (production)
//   vsixBytes             size of the packaged .vsix (only when dist/kvm-mmu-lab.vsix is fresh)
//   activationMs          activate() start → ready, measured by the extension inside the real VS Code host
//   activationWallMs      ext.activate() as the e2e test sees it (includes loading the bundle)
// Bench modules: every bench/*.ts is compiled by tsc (tsconfig.test.json) to out/bench/*.js; each exports
// `async function run(): Promise<Record<string, number | string | object>>`, whose keys are merged in.
//   --no-host      skip the real-VS-Code activation measurement (~15 s)
//   --only <sub>   only bench modules whose file name contains <sub>
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(ROOT);
const argv = process.argv.slice(2);
const json = argv.includes('--json');
const noHost = argv.includes('--no-host');
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
// In --json mode stdout carries only the JSON: everything else (ours, modules', children's) goes to stderr.
const log = (...a) => console.error(...a);
const realLog = console.log;
if (json) console.log = console.error;
const sub = (cmd, args, env = {}) => spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });

const result = {};
const errors = {};

// 1. Production bundles.
let r = sub(process.execPath, ['esbuild.mjs', '--production']);
if (r.status !== 0) { log(r.stdout + r.stderr); errors.build = `esbuild --production failed (${r.status})`; }
else {
  result.extensionBundleBytes = statSync('dist/extension.js').size;
  if (existsSync('dist/cli.js')) result.cliBundleBytes = statSync('dist/cli.js').size;
  if (existsSync('dist/webview.js')) result.webviewBundleBytes = statSync('dist/webview.js').size;
}

// 2. Compile tests + bench modules (type errors elsewhere do not stop emit).
const t0 = Date.now();
r = sub(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.test.json']);
if (r.status !== 0) log(`bench: tsc reported errors (status ${r.status}); using what it emitted`);
log(`bench: compiled in ${Date.now() - t0} ms`);

// 3. activationMs in the real VS Code host (the e2e activation suite records it).
if (!noHost) {
  const tmp = mkdtempSync(join(tmpdir(), 'kvm-bench-'));
  const file = join(tmp, 's.json');
  const t = Date.now();
  r = sub(process.execPath, ['scripts/e2e.mjs', '--mocha-only', '--quiet', '--summary', file], { KVM_E2E_GREP: '^activation' });
  try {
    const s = JSON.parse(readFileSync(file, 'utf8'));
    Object.assign(result, s.metrics);
    result.activationHost = `${s.host}, VS Code ${s.vscodeVersion}`;
    if (s.e2e.failed) errors.activation = 'activation e2e test failed';
  } catch {
    errors.activation = `e2e launcher produced no summary (status ${r.status}): ${(r.stdout + r.stderr).slice(-400)}`;
  }
  rmSync(tmp, { recursive: true, force: true });
  log(`bench: activation measured in the real host in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}

// 4. Bench modules.
const benchDir = join(ROOT, 'out/bench');
const mods = existsSync(benchDir) ? readdirSync(benchDir).filter((n) => n.endsWith('.js') && (!only || n.includes(only))).sort() : [];
for (const name of mods) {
  // Only modules whose source still exists (out/ may hold stale output of a deleted bench file).
  if (!existsSync(join(ROOT, 'bench', name.replace(/\.js$/, '.ts')))) continue;
  const t = Date.now();
  try {
    const mod = await import(pathToFileURL(join(benchDir, name)).href);
    const run = mod.run || (mod.default && mod.default.run);
    if (typeof run !== 'function') { errors[name] = 'no exported run()'; continue; }
    const out = await run();
    Object.assign(result, out);
    log(`bench: ${name} in ${Date.now() - t} ms`);
  } catch (e) {
    errors[name] = String(e && e.stack || e).split('\n').slice(0, 3).join(' | ');
    log(`bench: ${name} failed: ${errors[name]}`);
  }
}
if (Object.keys(errors).length) result.errors = errors;

if (json) {
  realLog(JSON.stringify(result));
} else {
  const fmt = (k, v) => {
    if (typeof v === 'number' && /Bytes$/.test(k)) return `${v.toLocaleString('en')} B (${(v / 1024).toFixed(1)} KiB)`;
    if (typeof v === 'number' && /Ms$/.test(k)) return `${v} ms`;
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  };
  const w = Math.max(...Object.keys(result).map((k) => k.length));
  console.log('KVM MMU Lab benchmarks');
  for (const [k, v] of Object.entries(result)) console.log(`  ${k.padEnd(w)}  ${fmt(k, v)}`);
}
process.exit(errors.build ? 1 : 0);
