// Suite for the broken fixture, run by the project's real e2e runner (out/test/e2e/index.js).
// One test passes (the harness sees passes), one fails because the command throws.
const assert = require('assert');
const vscode = require('vscode');

suite('broken fixture', () => {
  test('fixture extension is loaded from its development path', () => {
    assert.ok(vscode.extensions.getExtension('kvm-mmu-lab-harness.broken-fixture'));
  });
  test('broken command runs without throwing', async () => {
    await vscode.commands.executeCommand('brokenFixture.explode');
  });
});
