// Runs inside the real VS Code extension host (extensionTestsPath → run()).
// Discovers every compiled `*.e2e.js` under out/test/e2e/suite (recursively), runs them with mocha (TDD
// interface: suite/test/suiteSetup), and writes a JSON result file whose path arrives through
// `extensionEnvironment` as KVM_E2E_RESULT_FILE. KVM_E2E_GREP narrows the run (used by `npm run bench`).
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import Mocha = require('mocha');
import { metrics } from './metrics';

export interface E2eResult {
  host: string;
  vscodeVersion: string;
  nodeVersion: string;
  passed: number;
  failed: number;
  tests: Array<{ title: string; state: 'passed' | 'failed'; durationMs?: number; error?: string }>;
  metrics: Record<string, number>;
}

function collect(dir: string, out: string[] = []): string[] {
  if (!fs.existsSync(dir)) return out;
  for (const name of fs.readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (fs.statSync(full).isDirectory()) collect(full, out);
    else if (name.endsWith('.e2e.js')) out.push(full);
  }
  return out;
}

export function run(): Promise<void> {
  const grep = process.env.KVM_E2E_GREP;
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 30_000, reporter: 'spec', ...(grep ? { grep } : {}) });
  // KVM_E2E_SUITE_DIR: another folder of *.e2e.js (the harness self-test's broken fixture uses it).
  const suiteDir = process.env.KVM_E2E_SUITE_DIR || path.join(__dirname, 'suite');
  const files = collect(suiteDir);
  for (const f of files) mocha.addFile(f);

  const result: E2eResult = {
    host: process.env.KVM_E2E_HOST || 'unknown',
    vscodeVersion: vscode.version,
    nodeVersion: process.version,
    passed: 0,
    failed: 0,
    tests: [],
    metrics,
  };
  const write = (): void => {
    const file = process.env.KVM_E2E_RESULT_FILE;
    if (file) fs.writeFileSync(file, JSON.stringify(result, null, 2));
  };
  if (files.length === 0) {
    result.failed++;
    result.tests.push({ title: 'e2e runner', state: 'failed', error: `no *.e2e.js under ${suiteDir}` });
    write();
    return Promise.reject(new Error(`no *.e2e.js under ${suiteDir}`));
  }
  console.log(`[e2e] extension host: vscode ${vscode.version}, node ${process.version}, host ${result.host}`);

  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        write();
        if (failures > 0) reject(new Error(`${failures} e2e test(s) failed`));
        else resolve();
      });
      runner.on('pass', (t) => {
        result.passed++;
        result.tests.push({ title: t.fullTitle(), state: 'passed', durationMs: t.duration });
      });
      runner.on('fail', (t, err: Error) => {
        result.failed++;
        result.tests.push({ title: t.fullTitle(), state: 'failed', error: String(err && (err.stack || err.message || err)) });
      });
    } catch (err) {
      result.failed++;
      result.tests.push({ title: 'e2e runner', state: 'failed', error: String(err) });
      write();
      reject(err);
    }
  });
}
