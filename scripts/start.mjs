#!/usr/bin/env node
// `npm start`: build, then open a real VS Code with the extension loaded on the demo workspace.
//  - A desktop `code` on PATH (and KVM_START_HOST is not code-server): `code --extensionDevelopmentPath=<repo> demo/`.
//  - Otherwise: the cached code-server (installed on first use by scripts/setup-vscode-host.sh) on
//    127.0.0.1:<port> only (PORT env or a free port), with this repo linked into a fresh extensions
//    folder, so the extension runs exactly from dist/ as built. Prints the URL and keeps running until
//    Ctrl+C; then the whole process group of the server (and the esbuild watcher) is killed.
//    esbuild --watch keeps dist/ current: after an edit, run "Developer: Reload Window" in the browser.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ROOT, CACHE, installCleanupHandlers, ensureHost, hostVersions, makeServerDirs, startCodeServer, workbenchUrl, demoWorkspace,
} from '../test/harness/vscode-host.mjs';

process.chdir(ROOT);
installCleanupHandlers();
const workspace = demoWorkspace();

console.log('start: building (esbuild)…');
const b = spawnSync(process.execPath, ['esbuild.mjs'], { stdio: ['ignore', 'ignore', 'inherit'] });
if (b.status !== 0) process.exit(b.status || 1);

const hasCode = spawnSync('sh', ['-c', 'command -v code'], { encoding: 'utf8' }).stdout.trim();
if (hasCode && process.env.KVM_START_HOST !== 'code-server') {
  console.log(`start: opening desktop VS Code (${hasCode}) on ${workspace} with the extension in development mode`);
  const r = spawnSync(hasCode, ['--extensionDevelopmentPath', ROOT, workspace], { stdio: 'inherit' });
  process.exit(r.status ?? 0);
}

const host = ensureHost();
const v = hostVersions(host);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const dirs = makeServerDirs('start');
// A fresh extensions folder holding only a link to this repo: code-server scans it on first start.
symlinkSync(ROOT, join(dirs.extensions, `${pkg.publisher}.${pkg.name}-${pkg.version}`), 'dir');
// Persist the user's settings and UI state across starts (inside the cache, not the clone or $HOME).
const persistent = join(CACHE, 'start-user-data');
if (!existsSync(persistent)) mkdirSync(join(persistent, 'User'), { recursive: true });
if (!existsSync(join(persistent, 'User', 'settings.json'))) writeFileSync(join(persistent, 'User', 'settings.json'), readFileSync(join(dirs.userData, 'User', 'settings.json')));
dirs.userData = persistent;

const port = process.env.PORT ? Number(process.env.PORT) : undefined;
const server = await startCodeServer(host, dirs, { port, log: process.env.KVM_VERBOSE ? (l) => console.log(`  [code-server] ${l}`) : () => {} });
// esbuild --watch in its own process group, killed with the rest.
const watch = spawn(process.execPath, ['esbuild.mjs', '--watch'], { detached: true, stdio: 'ignore' });
process.on('exit', () => { try { process.kill(-watch.pid, 'SIGTERM'); } catch { /* gone */ } });

const url = workbenchUrl(server.baseUrl, workspace);
console.log(`start: VS Code ${v.vscode} (code-server ${v.codeServer}) with KVM MMU Lab on ${workspace}`);
console.log(`start: listening on 127.0.0.1 only; open ${url}`);
console.log('start: Ctrl+C stops the server (process group) and the esbuild watcher');
server.child.on('exit', (code) => { console.log(`start: code-server exited (${code})`); process.exit(code || 0); });
setInterval(() => {}, 1 << 30);
