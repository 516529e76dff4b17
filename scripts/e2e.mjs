#!/usr/bin/env node
// Tier 3 (end-to-end in a real VS Code extension host) and tier 4 (UI checks through the browser).
//
//   node scripts/e2e.mjs [options]
//     --mocha-only | --ui-only        run one phase (default: both)
//     --extension <dir>               extension under test for the mocha phase (default: the repo)
//     --suite-dir <dir>               folder of *.e2e.js (default: out/test/e2e/suite)
//     --workspace <dir>               folder to open (default: demo/, or test/e2e/fixtures/ws)
//     --vsix <file>                   .vsix the UI phase installs (default: dist/kvm-mmu-lab.vsix)
//     --grep <regexp>                 only mocha tests whose full title matches
//     --summary <file>                write {host, vscodeVersion, e2e, ui, metrics} as JSON
//     --quiet                         less output (only the summary lines)
//   env KVM_E2E_HOST=code-server|electron forces the host of the mocha phase (default: auto).
//
// Mocha phase: compiled test/e2e/index.js runs inside the extension host with the extension loaded from its
// development path. Host: @vscode/test-electron when it can download VS Code (and a display exists),
// otherwise code-server (npm) + Debian chromium + playwright-core. The UI phase always uses code-server:
// it installs the packaged .vsix with `code-server --install-extension` and drives the workbench.
// Exit status 0 only when every test and check passed. Stdout ends with `e2e: …` / `ui: …` lines.
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve, basename } from 'node:path';
import { format } from 'node:util';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import {
  ROOT, CACHE, cleanup, installCleanupHandlers, ensureHost, hostVersions, makeServerDirs, startCodeServer,
  launchChromium, workbenchUrl, remoteUri, demoWorkspace, codeServerCli, makeTempDir, stopGroup,
} from '../test/harness/vscode-host.mjs';
import * as ui from '../test/harness/ui.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const flag = (name) => argv.includes(name);
const quiet = flag('--quiet');
const say = (...a) => { if (!quiet) console.log(...a); };

const extensionPath = resolve(opt('--extension', ROOT));
const suiteDir = opt('--suite-dir') ? resolve(opt('--suite-dir')) : undefined;
const workspace = resolve(opt('--workspace', demoWorkspace()));
const vsix = resolve(opt('--vsix', join(ROOT, 'dist/kvm-mmu-lab.vsix')));
const testsPath = join(ROOT, 'out/test/e2e/index.js');
const shotsDir = join(ROOT, 'e2e-shots');
const logDir = join(shotsDir, 'logs');
const runMocha = !flag('--ui-only');
const runUi = !flag('--mocha-only');

installCleanupHandlers();
const summary = { host: null, vscodeVersion: null, codeServerVersion: null, e2e: { passed: 0, failed: 0, tests: [] }, ui: { passed: 0, failed: 0, checks: [] }, metrics: {} };

function noisy(line) {
  return /AgentHost|No signed-in session|open-vsx\.org|ENOTFOUND|mobile\.events\.data|Failed to load resource|\[Extension Host\] (?:debugger|Started)|DeprecationWarning|vscode-textmate|chat|copilot/i.test(line);
}

// ------------------------------------------------------------------------------------------------
// Host selection for the mocha phase
// ------------------------------------------------------------------------------------------------
async function tryElectron() {
  if (process.env.KVM_E2E_HOST === 'code-server') return { ok: false, reason: 'KVM_E2E_HOST=code-server' };
  let te;
  try { te = await import('@vscode/test-electron'); } catch (e) { return { ok: false, reason: `@vscode/test-electron not installed (${e.message})` }; }
  let exe;
  try {
    exe = await te.downloadAndUnzipVSCode({ cachePath: join(CACHE, 'vscode-test'), version: 'stable', timeout: 20_000, reporter: { report() {}, error() {} } });
  } catch (e) {
    return { ok: false, reason: `@vscode/test-electron could not download VS Code: ${String(e.message || e).split('\n')[0]}` };
  }
  if (!process.env.DISPLAY && process.platform === 'linux') {
    const xvfb = spawnSync('sh', ['-c', 'command -v Xvfb'], { encoding: 'utf8' }).stdout.trim();
    if (!xvfb) return { ok: false, reason: 'desktop VS Code downloaded but there is no DISPLAY and no Xvfb' };
  }
  return { ok: true, te, exe };
}

async function mochaViaElectron({ te, exe }, resultFile) {
  const version = spawnSync(exe, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] || 'unknown';
  summary.host = '@vscode/test-electron (desktop VS Code)';
  summary.vscodeVersion = version;
  say(`e2e host: @vscode/test-electron, VS Code ${version} (${exe})`);
  const dir = makeTempDir('kvm-electron-');
  let xvfb;
  const env = { KVM_E2E_RESULT_FILE: resultFile, KVM_E2E_HOST: 'electron', ...(suiteDir ? { KVM_E2E_SUITE_DIR: suiteDir } : {}), ...(process.env.KVM_E2E_GREP ? { KVM_E2E_GREP: process.env.KVM_E2E_GREP } : {}) };
  if (!process.env.DISPLAY && process.platform === 'linux') {
    const { spawn } = await import('node:child_process');
    xvfb = spawn('Xvfb', [':97', '-screen', '0', '1400x900x24'], { detached: true, stdio: 'ignore' });
    process.env.DISPLAY = ':97';
  }
  try {
    return await te.runTests({
      vscodeExecutablePath: exe, extensionDevelopmentPath: extensionPath, extensionTestsPath: testsPath,
      extensionTestsEnv: env,
      launchArgs: [workspace, '--user-data-dir', join(dir, 'ud'), '--extensions-dir', join(dir, 'ext'), '--disable-workspace-trust', '--skip-welcome'],
    });
  } catch (e) {
    return typeof e === 'number' ? e : 1;
  } finally {
    if (xvfb) stopGroup(xvfb.pid);
  }
}

async function mochaViaCodeServer(host, reason, resultFile) {
  const v = hostVersions(host);
  summary.host = 'code-server (npm) + chromium (playwright-core)';
  summary.vscodeVersion = v.vscode;
  summary.codeServerVersion = v.codeServer;
  say(`e2e host: code-server ${v.codeServer} (VS Code ${v.vscode}) in headless chromium — ${reason}`);
  const dirs = makeServerDirs('e2e');
  const logLines = [];
  const server = await startCodeServer(host, dirs, { smokeDriver: true, log: (l) => logLines.push(`[server] ${l}`) });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    let resolveExit;
    const exited = new Promise((r) => { resolveExit = r; });
    await page.exposeFunction('codeAutomationExit', (code) => { resolveExit(code); });
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const line = format(...(Array.isArray(args) ? args : [args]));
      logLines.push(`[${type}] ${line}`);
      if (!quiet && !noisy(line)) for (const l of line.split('\n')) if (l.trim()) console.log(`  │ ${l}`);
    });
    const env = { KVM_E2E_RESULT_FILE: resultFile, KVM_E2E_HOST: 'code-server', ...(suiteDir ? { KVM_E2E_SUITE_DIR: suiteDir } : {}), ...(process.env.KVM_E2E_GREP ? { KVM_E2E_GREP: process.env.KVM_E2E_GREP } : {}) };
    const url = workbenchUrl(server.baseUrl, workspace, [
      ['extensionDevelopmentPath', remoteUri(server.port, extensionPath)],
      ['extensionTestsPath', remoteUri(server.port, testsPath)],
      ['extensionEnvironment', JSON.stringify(env)],
    ]);
    await page.goto(url);
    const timeoutMs = Number(process.env.KVM_E2E_TIMEOUT_MS || 240_000);
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), timeoutMs))]);
    if (code === 'timeout') {
      await page.screenshot({ path: join(shotsDir, 'e2e-timeout.png') }).catch(() => {});
      console.log(`e2e: no result from the extension host within ${timeoutMs / 1000} s (see e2e-shots/e2e-timeout.png)`);
      return 1;
    }
    return code;
  } finally {
    writeFileSync(join(logDir, `mocha-${basename(extensionPath)}.log`), logLines.join('\n'));
    await browser.close().catch(() => {});
    server.stop();
  }
}

async function mochaPhase(hostPromise) {
  if (!existsSync(testsPath)) {
    summary.e2e.failed++;
    summary.e2e.tests.push({ title: 'e2e runner compiled', state: 'failed', error: `${testsPath} missing: run tsc -p tsconfig.test.json` });
    return;
  }
  const resultFile = join(makeTempDir('kvm-e2e-result-'), 'result.json');
  const electron = await tryElectron();
  const t0 = Date.now();
  const code = electron.ok ? await mochaViaElectron(electron, resultFile) : await mochaViaCodeServer(await hostPromise(), electron.reason, resultFile);
  let result;
  try { result = JSON.parse(readFileSync(resultFile, 'utf8')); } catch { result = null; }
  if (!result) {
    summary.e2e.failed++;
    summary.e2e.tests.push({ title: 'extension host produced a result file', state: 'failed', error: `exit code ${code}` });
  } else {
    summary.e2e.passed += result.passed;
    summary.e2e.failed += result.failed;
    summary.e2e.tests.push(...result.tests);
    Object.assign(summary.metrics, result.metrics);
    if (result.vscodeVersion) summary.vscodeVersion = result.vscodeVersion;
    say(`e2e: extension host reported vscode.version=${result.vscodeVersion}, node ${result.nodeVersion}, host=${result.host}`);
    if (code !== 0 && result.failed === 0) {
      summary.e2e.failed++;
      summary.e2e.tests.push({ title: 'extension host exit code', state: 'failed', error: `codeAutomationExit(${code}) with no failed test` });
    }
  }
  for (const t of summary.e2e.tests) {
    say(`  ${t.state === 'passed' ? '✓' : '✗'} ${t.title}${t.durationMs !== undefined ? ` (${t.durationMs} ms)` : ''}`);
    if (t.state !== 'passed' && t.error) say(t.error.split('\n').slice(0, 8).map((l) => `      ${l}`).join('\n'));
  }
  summary.e2e.ms = Date.now() - t0;
  say(`e2e: mocha phase took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

// ------------------------------------------------------------------------------------------------
// UI phase: the packaged .vsix installed into code-server, then every step of test/e2e/ui/*.mjs
// ------------------------------------------------------------------------------------------------
function record(name, ok, ms, error) {
  if (ok) summary.ui.passed++; else summary.ui.failed++;
  summary.ui.checks.push({ name, state: ok ? 'passed' : 'failed', ms, ...(error ? { error } : {}) });
  say(`  ${ok ? '✓' : '✗'} ${name} (${ms} ms)${error ? `\n      ${error.split('\n').slice(0, 6).join('\n      ')}` : ''}`);
}

async function uiPhase(hostPromise) {
  const host = await hostPromise();
  const v = hostVersions(host);
  summary.codeServerVersion = v.codeServer;
  summary.vscodeVersion ||= v.vscode;
  if (!summary.host) summary.host = 'code-server (npm) + chromium (playwright-core)';
  say(`ui host: code-server ${v.codeServer} (VS Code ${v.vscode}) in headless chromium, workspace ${workspace}`);
  const t0 = Date.now();
  const dirs = makeServerDirs('ui');

  // 1. The artifact users install: `code-server --install-extension dist/kvm-mmu-lab.vsix`.
  let t = Date.now();
  if (!existsSync(vsix)) {
    record('vsix installs into VS Code (--install-extension)', false, 0, `${vsix} missing: run npm run package`);
    return;
  }
  const inst = codeServerCli(host, dirs, ['--install-extension', vsix]);
  const list = codeServerCli(host, dirs, ['--list-extensions', '--show-versions']);
  const installedOk = inst.status === 0 && /successfully installed/i.test(inst.stdout + inst.stderr) && /kvm-mmu-lab\.kvm-mmu-lab@/.test(list.stdout);
  record(`vsix installs into VS Code (${basename(vsix)} → ${list.stdout.trim().split('\n').find((l) => l.includes('kvm-mmu-lab')) || 'not listed'})`, installedOk, Date.now() - t,
    installedOk ? undefined : (inst.stdout + inst.stderr + list.stdout).trim());
  if (!installedOk) return;

  // 2. A throw-away copy of the workspace (the checks may write into it: launch.json, a broken scenario),
  //    folder name kept (the explorer shows DEMO), with test/e2e/fixtures/ui-workspace/ copied over it.
  const uiWorkspace = join(makeTempDir('kvm-ui-ws-'), basename(workspace));
  cpSync(workspace, uiWorkspace, { recursive: true });
  const overlay = join(ROOT, 'test/e2e/fixtures/ui-workspace');
  if (existsSync(overlay)) cpSync(overlay, uiWorkspace, { recursive: true });
  say(`ui workspace: copy of ${workspace} at ${uiWorkspace}`);

  // 3. A normal (non-development) window on that workspace, driven through chromium.
  const server = await startCodeServer(host, dirs, { smokeDriver: false });
  const browser = await launchChromium();
  const logLines = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('console', (m) => logLines.push(`[${m.type()}] ${m.text()}`));
    const ctx = { page, baseUrl: server.baseUrl, workspace: uiWorkspace, sourceWorkspace: workspace, root: ROOT, shotsDir, ui, state: {} };
    await page.goto(workbenchUrl(server.baseUrl, uiWorkspace));
    const steps = [];
    const uiDir = join(ROOT, 'test/e2e/ui');
    for (const f of readdirSync(uiDir).filter((n) => n.endsWith('.mjs')).sort()) {
      const mod = await import(pathToFileURL(join(uiDir, f)).href);
      for (const s of mod.steps || []) steps.push({ ...s, file: f });
    }
    let n = 0;
    for (const step of steps) {
      n++;
      const shot = join(shotsDir, `${String(n).padStart(2, '0')}-${step.name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase()}.png`);
      t = Date.now();
      const skipped = step.skip && step.skip(ctx);
      if (skipped) {
        summary.ui.checks.push({ name: step.name, state: 'skipped', reason: String(skipped) });
        say(`  - ${step.name}: skipped (${skipped})`);
        continue;
      }
      try {
        await Promise.race([
          step.run(ctx),
          new Promise((_, rej) => setTimeout(() => rej(new Error(`timed out after ${(step.timeoutMs || 60_000) / 1000} s`)), step.timeoutMs || 60_000)),
        ]);
        await page.waitForTimeout(500); // let toasts and hovers finish animating
        await page.screenshot({ path: shot });
        record(`${step.name} [${basename(shot)}]`, true, Date.now() - t);
      } catch (e) {
        await page.screenshot({ path: shot.replace(/\.png$/, '-FAILED.png') }).catch(() => {});
        record(`${step.name} [${basename(shot).replace(/\.png$/, '-FAILED.png')}]`, false, Date.now() - t, String(e && e.message || e));
      }
    }
  } finally {
    writeFileSync(join(logDir, 'ui-console.log'), logLines.join('\n'));
    await browser.close().catch(() => {});
    server.stop();
  }
  summary.ui.ms = Date.now() - t0;
  say(`ui: phase took ${((Date.now() - t0) / 1000).toFixed(1)} s, screenshots in ${shotsDir}`);
}

// ------------------------------------------------------------------------------------------------
let exitCode = 0;
try {
  // Fresh UI screenshots; e2e-shots/panel/ belongs to the browser tier (test/browser/run.mjs), which runs first.
  if (runUi && existsSync(shotsDir)) {
    for (const n of readdirSync(shotsDir)) if (n !== 'panel') rmSync(join(shotsDir, n), { recursive: true, force: true });
  }
  mkdirSync(logDir, { recursive: true });
  let host;
  const hostPromise = async () => (host ||= ensureHost({ quiet }));
  if (runMocha) await mochaPhase(hostPromise);
  if (runUi) await uiPhase(hostPromise);
} catch (e) {
  console.log(`e2e launcher error: ${e && e.stack || e}`);
  (runMocha ? summary.e2e : summary.ui).failed++;
  exitCode = 1;
} finally {
  cleanup();
}
if (opt('--summary')) writeFileSync(resolve(opt('--summary')), JSON.stringify(summary, null, 2));
say(`host: ${summary.host}; VS Code ${summary.vscodeVersion}${summary.codeServerVersion ? ` (code-server ${summary.codeServerVersion})` : ''}`);
if (Object.keys(summary.metrics).length) say(`metrics: ${JSON.stringify(summary.metrics)}`);
if (runMocha) console.log(`e2e: ${summary.e2e.passed} passed, ${summary.e2e.failed} failed`);
if (runUi) console.log(`ui: ${summary.ui.passed} passed, ${summary.ui.failed} failed`);
if (summary.e2e.failed || summary.ui.failed) exitCode = 1;
process.exit(exitCode);
