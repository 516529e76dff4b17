// Browser tests of the panel: bundles the webview and the suite with esbuild into out-browser/, then runs the
// suite in headless Debian Chromium (/usr/bin/chromium). Prints "browser: N passed, M failed"; non-zero on failure.
//   node test/browser/run.mjs [name-substring ...]
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'out-browser');
if (!existsSync('/usr/bin/chromium')) {
  console.error('browser: /usr/bin/chromium is missing');
  console.log('browser: 0 passed, 1 failed');
  process.exit(1);
}
const common = { bundle: true, sourcemap: 'inline', logLevel: 'warning', absWorkingDir: root };
await esbuild.build({ ...common, entryPoints: [join(root, 'webview/main.ts')], outfile: join(out, 'webview.js'), platform: 'browser', format: 'esm', target: 'es2022' });
await esbuild.build({ ...common, entryPoints: [join(root, 'test/browser/suite.ts')], outfile: join(out, 'test', 'suite.cjs'), platform: 'node', format: 'cjs', target: 'node20', external: ['playwright-core'] });
const r = spawnSync(process.execPath, ['--enable-source-maps', join(out, 'test', 'suite.cjs'), ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
