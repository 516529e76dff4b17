// The MMU state panel in the real extension host: the view container and view are contributed, the commands open
// the view and the editor panel without error.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { EXTENSION_ID } from './00-activation.e2e';

suite('panel', () => {
  suiteSetup(async () => {
    await vscode.extensions.getExtension(EXTENSION_ID)?.activate();
  });

  test('the view container and webview view are contributed', () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON;
    const containers = (pkg.contributes?.viewsContainers?.activitybar ?? []) as Array<{ id: string }>;
    assert.ok(containers.some((c) => c.id === 'kvmMmuLab'));
    const views = (pkg.contributes?.views?.kvmMmuLab ?? []) as Array<{ id: string; type?: string }>;
    assert.ok(views.some((v) => v.id === 'kvmMmuLab.panel' && v.type === 'webview'));
  });

  test('kvmMmuLab.showPanel opens the view without error', async () => {
    const result = await vscode.commands.executeCommand('kvmMmuLab.showPanel');
    assert.equal(result, true);
  });

  test('kvmMmuLab.openPanelInEditor opens an editor panel without error', async () => {
    const result = await vscode.commands.executeCommand('kvmMmuLab.openPanelInEditor');
    assert.equal(result, true);
    // let the webview load, then close it again
    await new Promise((r) => setTimeout(r, 500));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});
