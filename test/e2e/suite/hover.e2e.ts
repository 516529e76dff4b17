// Hover explanations in the real extension host, on the demo tree's mmu.c.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { EXTENSION_ID } from './00-activation.e2e';

function hoverText(hovers: vscode.Hover[]): string {
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
    .join('\n');
}

suite('hover', () => {
  let doc: vscode.TextDocument;

  suiteSetup(async () => {
    await vscode.extensions.getExtension(EXTENSION_ID)?.activate();
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.ok(folders.length > 0, 'no workspace folder open');
    const uri = vscode.Uri.joinPath(folders[0]!.uri, 'arch/x86/kvm/mmu/mmu.c');
    doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
  });

  async function hoverOn(symbol: string, occurrence: RegExp = new RegExp(`\\b${symbol}\\b`)): Promise<string> {
    const text = doc.getText();
    const m = occurrence.exec(text);
    assert.ok(m, `${symbol} does not occur in the demo mmu.c`);
    const pos = doc.positionAt(m.index + m[0].indexOf(symbol) + 2);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, pos);
    return hoverText(hovers ?? []);
  }

  test('a function: kvm_mmu_zap_all_fast', async () => {
    const text = await hoverOn('kvm_mmu_zap_all_fast');
    assert.match(text, /kvm_mmu_zap_all_fast/);
    assert.match(text, /Protected by:/);
    assert.match(text, /FZ-1/);
    assert.match(text, /mmu_valid_gen/);
  });

  test('a field: mmu_valid_gen', async () => {
    const text = await hoverOn('mmu_valid_gen');
    assert.match(text, /per-VM MMU field|struct kvm_mmu_page field/);
    assert.match(text, /obsolete/);
    assert.match(text, /FZ-5/);
  });

  test('a request: KVM_REQ_MMU_FREE_OBSOLETE_ROOTS', async () => {
    const text = await hoverOn('KVM_REQ_MMU_FREE_OBSOLETE_ROOTS');
    assert.match(text, /vCPU request/);
    assert.match(text, /RT-6/);
  });
});
