// Host-agnostic checks of the extension's commands in the real extension host.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { EXTENSION_ID } from './00-activation.e2e';

suite('commands', () => {
  suiteSetup(async () => {
    await vscode.extensions.getExtension(EXTENSION_ID)?.activate();
  });

  test('every contributed command is registered after activation', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const contributed = ((ext.packageJSON.contributes?.commands ?? []) as Array<{ command: string }>).map((c) => c.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !registered.has(c));
    assert.deepStrictEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });

  test('KVM MMU Lab: Show Engine Version returns the engine name and version', async () => {
    const text = await vscode.commands.executeCommand<string>('kvmMmuLab.showVersion');
    assert.strictEqual(typeof text, 'string');
    assert.match(text, /\d+\.\d+/);
  });
});
