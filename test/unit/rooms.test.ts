// The rooms rule: pure code (engine, scenario, kernel index, knowledge, cli, shared) never imports `vscode`.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const PURE_ROOMS = ['src/engine', 'src/scenario', 'src/kernel', 'src/knowledge', 'src/cli', 'src/shared', 'src/explorer', 'src/debug'];

function* tsFiles(dir: string): Generator<string> {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* tsFiles(full);
    else if (entry.name.endsWith('.ts')) yield full;
  }
}

const VSCODE_IMPORT = /(?:from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)|import\s+['"]vscode['"])/;

test('pure rooms never import vscode', () => {
  const offenders: string[] = [];
  for (const room of PURE_ROOMS) {
    for (const file of tsFiles(path.join(repoRoot, room))) {
      if (VSCODE_IMPORT.test(fs.readFileSync(file, 'utf8'))) offenders.push(path.relative(repoRoot, file));
    }
  }
  assert.deepEqual(offenders, []);
});

test('the rule detects an offending import', () => {
  assert.ok(VSCODE_IMPORT.test("import * as vscode from 'vscode';"));
  assert.ok(VSCODE_IMPORT.test("const v = require('vscode');"));
  assert.ok(!VSCODE_IMPORT.test("import { x } from './vscode-like';"));
});
