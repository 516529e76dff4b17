// Scenarios in the real extension host: every bundled scenario runs through the Test Explorer's run
// profile (kvmMmuLab.runScenario -> TestRunRequest) and passes; a broken scenario gets diagnostics on the
// right line; the stepping commands drive a session.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { EXTENSION_ID } from './00-activation.e2e';

interface RunResultLike { scenario: string; variant?: string; verdict: 'pass' | 'fail'; failedExpectations: string[]; steps: number }

async function libraryFiles(): Promise<vscode.Uri[]> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
  const dir = vscode.Uri.joinPath(ext.extensionUri, 'demo', 'scenarios');
  const entries = await vscode.workspace.fs.readDirectory(dir);
  return entries.filter(([n]) => n.endsWith('.kvmmmu.yaml')).map(([n]) => vscode.Uri.joinPath(dir, n)).sort((a, b) => a.path.localeCompare(b.path));
}

async function waitFor<T>(probe: () => T | undefined, ms = 10000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

suite('scenarios', () => {
  suiteSetup(async () => {
    await vscode.extensions.getExtension(EXTENSION_ID)?.activate();
  });

  test('the bundled library has at least 16 scenarios and each passes through the Test Explorer run profile', async function () {
    this.timeout(120000);
    const files = await libraryFiles();
    assert.ok(files.length >= 16, `only ${files.length} bundled scenarios`);
    const failures: string[] = [];
    for (const uri of files) {
      const results = await vscode.commands.executeCommand<RunResultLike[]>('kvmMmuLab.runScenario', uri);
      assert.ok(Array.isArray(results) && results.length > 0, `no results for ${uri.path}`);
      for (const r of results) if (r.verdict !== 'pass') failures.push(`${uri.path.split('/').pop()}${r.variant ? ` [${r.variant}]` : ''}: ${r.failedExpectations.join('; ')}`);
    }
    assert.deepStrictEqual(failures, []);
  });

  test('a broken scenario gets diagnostics at the right line, with a fix', async function () {
    this.timeout(20000);
    const content = [
      '# broken on purpose',
      'scenario: broken',
      'vm: { era: "5.18", mmu: tdp, vcpus: 1, memslots: [{ id: 0, baseGfn: 0x0, npages: 64, hva: 0x7f0000000000 }] }',
      'threads:',
      '  vcpu0: [ { pagefault: { gfn: 0x10 } }, enter_guest ]',
      'expect: { violations: [] }',
      '',
    ].join('\n');
    const doc = await vscode.workspace.openTextDocument({ language: 'kvmmmu-scenario', content });
    await vscode.window.showTextDocument(doc);
    const diags = await waitFor(() => {
      const d = vscode.languages.getDiagnostics(doc.uri).filter((x) => x.source === 'kvm-mmu-lab');
      return d.length ? d : undefined;
    });
    const d = diags.find((x) => /unknown step 'pagefault'/.test(x.message));
    assert.ok(d, `diagnostics: ${diags.map((x) => x.message).join(' | ')}`);
    assert.strictEqual(d.range.start.line, 4);
    assert.strictEqual(d.range.start.character, content.split('\n')[4]!.indexOf('pagefault'));
    assert.match(d.message, /did you mean 'page_fault'\?/);
    assert.strictEqual(d.severity, vscode.DiagnosticSeverity.Error);
    // fixing the text clears the diagnostic (debounced)
    const ed = vscode.window.activeTextEditor!;
    await ed.edit((b) => b.replace(d.range, 'page_fault'));
    await waitFor(() => (vscode.languages.getDiagnostics(doc.uri).some((x) => /pagefault/.test(x.message)) ? undefined : true));
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('step, step back, go to step and reset drive a session on the active scenario', async function () {
    this.timeout(30000);
    const files = await libraryFiles();
    const doc = await vscode.workspace.openTextDocument(files[0]!);
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('kvmMmuLab.reset');
    const r1 = await vscode.commands.executeCommand<{ index: number } | undefined>('kvmMmuLab.step');
    const r2 = await vscode.commands.executeCommand<{ index: number } | undefined>('kvmMmuLab.step');
    assert.strictEqual(r1?.index, 0);
    assert.strictEqual(r2?.index, 1);
    assert.strictEqual(await vscode.commands.executeCommand<boolean>('kvmMmuLab.stepBack'), true);
    assert.strictEqual(await vscode.commands.executeCommand<number>('kvmMmuLab.gotoStep', 2), 2);
    await vscode.commands.executeCommand('kvmMmuLab.runToViolation');
    await vscode.commands.executeCommand('kvmMmuLab.reset');
    assert.strictEqual(await vscode.commands.executeCommand<number>('kvmMmuLab.gotoStep', 0), 0);
  });
});
