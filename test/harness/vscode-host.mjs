// Shared plumbing for everything that runs the real VS Code host: the e2e launcher (scripts/e2e.mjs),
// `npm start` (scripts/start.mjs) and the activation benchmark (scripts/bench.mjs).
//  - ensureHost(): runs scripts/setup-vscode-host.sh (idempotent, cached under ~/.cache/kvm-mmu-lab)
//  - startCodeServer(): code-server on 127.0.0.1:<free port>, own process group, XDG/TMPDIR isolated
//  - launchChromium(): headless Debian chromium through playwright-core, XDG/TMPDIR isolated
//  - Every started process is recorded and killed by process group in cleanup().
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CACHE = process.env.KVM_MMU_LAB_CACHE || join(process.env.XDG_CACHE_HOME || join(process.env.HOME || tmpdir(), '.cache'), 'kvm-mmu-lab');

const groups = new Set();
const tempDirs = new Set();

/** Kill every process group we started and remove our temp dirs. Safe to call twice. */
export function cleanup() {
  for (const pgid of groups) {
    try { process.kill(-pgid, 'SIGTERM'); } catch { /* already gone */ }
  }
  if (groups.size) {
    // Give them a moment, then make sure.
    const until = Date.now() + 1500;
    while (Date.now() < until && [...groups].some(alive)) spawnSync('sleep', ['0.1']);
    for (const pgid of groups) {
      try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
  groups.clear();
  if (!process.env.KVM_KEEP_TMP) for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}
function alive(pgid) {
  try { process.kill(-pgid, 0); return true; } catch { return false; }
}
let hooked = false;
/** Clean up on exit and on Ctrl+C / SIGTERM (exit code 130 / 143). */
export function installCleanupHandlers() {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanup);
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    process.on(sig, () => { cleanup(); process.exit(code); });
  }
}

export function makeTempDir(prefix = 'kvm-mmu-lab-') {
  const d = mkdtempSync(join(process.env.KVM_TMP_ROOT || tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

/** A private environment: nothing lands in $HOME/.config, ~/.local/share or /tmp. */
export function isolatedEnv(dir, extra = {}) {
  for (const sub of ['xdg-config', 'xdg-data', 'xdg-cache', 'run', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
  return {
    ...process.env,
    XDG_CONFIG_HOME: join(dir, 'xdg-config'),
    XDG_DATA_HOME: join(dir, 'xdg-data'),
    XDG_CACHE_HOME: join(dir, 'xdg-cache'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
    TMPDIR: join(dir, 'tmp'),
    NODE_COMPILE_CACHE: join(dir, 'tmp', 'node-compile-cache'),
    ...extra,
  };
}

/** Install (first run) or locate (later runs) Node 24, code-server and chromium. */
export function ensureHost({ quiet = false } = {}) {
  const t0 = Date.now();
  const r = spawnSync('bash', [join(ROOT, 'scripts/setup-vscode-host.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', quiet ? 'pipe' : 'inherit'],
    env: { ...process.env, KVM_MMU_LAB_CACHE: CACHE },
  });
  if (r.status !== 0) {
    if (quiet) process.stderr.write(r.stderr || '');
    throw new Error(`setup-vscode-host.sh failed (status ${r.status})`);
  }
  const info = Object.fromEntries(r.stdout.trim().split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  info.setupMs = Date.now() - t0;
  return info;
}

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** `code-server --version` → { codeServer, vscode } (e.g. 4.139.1 / 1.139.1). */
export function hostVersions(host) {
  const dir = makeTempDir('kvm-cs-version-');
  const r = spawnSync(host.NODE24, [host.CODE_SERVER_ENTRY, '--version'], { encoding: 'utf8', env: isolatedEnv(dir) });
  const m = /(\d+\.\d+\.\d+)\s+\S+\s+with Code\s+(\d+\.\d+\.\d+)/.exec(r.stdout || '');
  return m ? { codeServer: m[1], vscode: m[2] } : { codeServer: 'unknown', vscode: 'unknown' };
}

/** Run a code-server CLI action (e.g. --install-extension) in the given isolated dirs. */
export function codeServerCli(host, dirs, args) {
  return spawnSync(host.NODE24, [host.CODE_SERVER_ENTRY, '--config', join(dirs.base, 'config.yaml'),
    '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions, ...args],
  { encoding: 'utf8', env: isolatedEnv(dirs.base) });
}

/** Fresh per-run dirs for one code-server: user data (with quiet settings), extensions, XDG. */
export function makeServerDirs(label = 'cs') {
  const base = makeTempDir(`kvm-${label}-`);
  const dirs = { base, userData: join(base, 'user-data'), extensions: join(base, 'extensions') };
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  mkdirSync(dirs.extensions, { recursive: true });
  writeFileSync(join(base, 'config.yaml'), 'auth: none\ncert: false\n');
  writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'chat.disableAIFeatures': true,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.commandCenter.enabled': false,
    'git.enabled': false,
    'editor.hover.delay': 150,
    'window.commandCenter': false,
  }, null, 2));
  return dirs;
}

/**
 * Start code-server on 127.0.0.1:<free port> in its own process group.
 * opts.smokeDriver: enable-smoke-test-driver (needed for the URL payload that carries
 * extensionDevelopmentPath/extensionTestsPath; it hides notification toasts).
 */
export async function startCodeServer(host, dirs, { smokeDriver = false, port, log = () => {} } = {}) {
  port = port || (await freePort());
  const args = [host.CODE_SERVER_ENTRY,
    '--config', join(dirs.base, 'config.yaml'), '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--disable-getting-started-override', '--ignore-last-opened',
    '--reconnection-grace-time', '5'];
  if (smokeDriver) args.push('--vscode-option', 'enable-smoke-test-driver');
  const child = spawn(host.NODE24, args, { env: isolatedEnv(dirs.base), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  groups.add(child.pid);
  let output = '';
  const onData = (d) => { output += d; for (const l of String(d).split('\n')) if (l.trim()) log(l); };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const deadline = Date.now() + 60_000;
  while (!/HTTP server listening/.test(output)) {
    if (child.exitCode !== null) throw new Error(`code-server exited early (${child.exitCode}):\n${output}`);
    if (Date.now() > deadline) throw new Error(`code-server did not start within 60 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  return { child, port, baseUrl, pgid: child.pid, output: () => output, stop: () => stopGroup(child.pid) };
}

export function stopGroup(pgid) {
  try { process.kill(-pgid, 'SIGTERM'); } catch { /* gone */ }
  const until = Date.now() + 1500;
  while (Date.now() < until && alive(pgid)) spawnSync('sleep', ['0.1']);
  try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ }
  groups.delete(pgid);
}

/** Headless Debian chromium via playwright-core, with its own XDG/TMPDIR and user-data-dir. */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  const dir = makeTempDir('kvm-chromium-');
  const browser = await chromium.launch({
    executablePath: process.env.KVM_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    env: isolatedEnv(dir),
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  // playwright keeps its temporary profile in os.tmpdir() and removes it on close().
  // playwright spawns chromium without its own group: close() (and our exit handler) end it.
  process.on('exit', () => { try { browser.close(); } catch { /* ignore */ } });
  return browser;
}

/** The workbench URL; payload entries become VS Code environment options (smoke driver only). */
export function workbenchUrl(baseUrl, folder, payload) {
  let url = `${baseUrl}/?folder=${encodeURIComponent(folder)}`;
  if (payload && payload.length) url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return url;
}
export function remoteUri(port, absPath) {
  return `vscode-remote://127.0.0.1:${port}${absPath}`;
}

/** The workspace the e2e and `npm start` open: demo/ when its kernel tree exists, else a fixture. */
export function demoWorkspace() {
  if (existsSync(join(ROOT, 'demo/arch/x86/kvm/mmu/mmu.c'))) return join(ROOT, 'demo');
  return join(ROOT, 'test/e2e/fixtures/ws');
}
