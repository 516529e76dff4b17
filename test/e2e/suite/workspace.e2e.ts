// The e2e run opens the demo workspace (or test/e2e/fixtures/ws before demo/ lands).
import * as assert from 'assert';
import * as vscode from 'vscode';

suite('workspace', () => {
  test('the demo workspace is open and mmu.c opens as C', async () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.strictEqual(folders.length, 1, 'expected one workspace folder');
    const uri = vscode.Uri.joinPath(folders[0].uri, 'arch/x86/kvm/mmu/mmu.c');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    assert.ok(doc.getText().includes('kvm_'), 'mmu.c does not look like KVM MMU code');
  });
});
