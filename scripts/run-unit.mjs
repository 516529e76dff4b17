// Tier 1 (pure unit tests) and tier 2 (debug-adapter tests): compile with tsc into an out dir, then run
// node's built-in test runner over every *.test.js so one summary covers them all.
//   node scripts/run-unit.mjs [substring ...]   run only test files whose path contains a substring
//   KVM_OUT=out-mine node scripts/run-unit.mjs  compile into another folder (parallel work trees)
// Type errors do not stop the tests from running (tsc still emits), but they fail the run.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const outDir = process.env.KVM_OUT || 'out';
const tsc = spawnSync(
  process.execPath,
  ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.test.json', '--outDir', outDir, '--tsBuildInfoFile', join(outDir, '.tsbuildinfo')],
  { stdio: 'inherit' },
);
if (tsc.status !== 0) console.error(`run-unit: tsc reported errors (status ${tsc.status}); running the tests anyway`);

function collect(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) collect(full, out);
    else if (name.endsWith('.test.js')) out.push(full);
  }
  return out;
}
const filter = process.argv.slice(2);
let files = [...collect(join(outDir, 'test/unit')), ...collect(join(outDir, 'test/dap'))];
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('run-unit: no test files matched');
  process.exit(1);
}
const run = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
// KVM_UNIT_TSC_NONFATAL=1 (set by scripts/test-all.mjs, whose typecheck step owns type errors): only test results count.
process.exit(run.status !== 0 ? run.status ?? 1 : tsc.status !== 0 && !process.env.KVM_UNIT_TSC_NONFATAL ? 1 : 0);
