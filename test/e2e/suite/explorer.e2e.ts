// The interleaving explorer in the real extension host: `kvmMmuLab.explore` on an open-schedule scenario
// runs in a worker thread behind a progress notification, reports progress, saves the counterexample with
// its schedule pinned and opens it in an editor.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { EXTENSION_ID } from './00-activation.e2e';

interface ExploreCommandResultLike {
  verdict: string;
  statesExplored: number;
  distinctStates: number;
  exhaustive: boolean;
  progressReports: number;
  counterexample: null | { violation: { id: string }; uri: string; replays: boolean | null };
}

suite('explorer', () => {
  const written: vscode.Uri[] = [];

  suiteSetup(async () => {
    await vscode.extensions.getExtension(EXTENSION_ID)?.activate();
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const uri of written) {
      try { await vscode.workspace.fs.delete(uri); } catch { /* already gone */ }
      // remove .kvm-mmu-lab/counterexamples and .kvm-mmu-lab when the test left them empty
      const dir = vscode.Uri.joinPath(uri, '..');
      for (const d of [dir, vscode.Uri.joinPath(dir, '..')]) {
        try {
          if ((await vscode.workspace.fs.readDirectory(d)).length === 0) await vscode.workspace.fs.delete(d);
        } catch { /* not empty or gone */ }
      }
    }
  });

  function scenario(name: string): vscode.Uri {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    return vscode.Uri.joinPath(ext.extensionUri, 'demo', 'scenarios', 'explore', name);
  }

  test('kvmMmuLab.explore finds the get_user_pages race, shows progress and opens the counterexample', async function () {
    this.timeout(60000);
    const registered = await vscode.commands.getCommands(true);
    assert.ok(registered.includes('kvmMmuLab.explore'), 'kvmMmuLab.explore is not registered: wire registerExplorer() (src/extension/explorer) into activate()');
    const source = scenario('gup-race-open.kvmmmu.yaml');
    await vscode.window.showTextDocument(source);
    const r = await vscode.commands.executeCommand<ExploreCommandResultLike>('kvmMmuLab.explore', source, { quiet: true });
    assert.ok(r, 'the command returned nothing');
    assert.strictEqual(r.verdict, 'violation');
    assert.ok(r.progressReports >= 1, 'no progress was reported');
    assert.ok(r.statesExplored > 0 && r.distinctStates > 0);
    assert.ok(r.counterexample, 'no counterexample');
    assert.strictEqual(r.counterexample.violation.id, 'MN-1');
    assert.strictEqual(r.counterexample.replays, true);
    const cx = vscode.Uri.parse(r.counterexample.uri);
    written.push(cx);
    const editor = vscode.window.activeTextEditor;
    assert.ok(editor, 'no editor is open');
    assert.strictEqual(editor.document.uri.toString(), cx.toString(), 'the counterexample document is not the active editor');
    const text = editor.document.getText();
    assert.match(text, /^schedule:\n {2}- \{ thread: vcpu0, until: \d+ \}/m);
    assert.match(text, /violations: \[MN-1\]/);
  });

  test('kvmMmuLab.explore on the fix reports an exhaustive search with nothing found', async function () {
    this.timeout(60000);
    const r = await vscode.commands.executeCommand<ExploreCommandResultLike>('kvmMmuLab.explore', scenario('gup-race-open.kvmmmu.yaml'), { quiet: true, bug: 'none' });
    assert.ok(r, 'the command returned nothing');
    assert.strictEqual(r.verdict, 'nothing-found');
    assert.strictEqual(r.exhaustive, true);
    assert.strictEqual(r.counterexample, null);
  });
});
