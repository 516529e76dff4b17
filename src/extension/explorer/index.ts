/**
 * VS Code side of the interleaving explorer: the `kvmMmuLab.explore` command runs the search in a worker
 * thread (dist/explorer-worker.js) behind a cancellable progress notification, saves the counterexample as
 * a scenario with the schedule pinned and opens it (with "Debug" and "Show Panel" actions).
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { CounterexampleViolation, ExploreProgress, ExploreResult } from '../../explorer/explorer';
import type { WorkerExploreOptions } from '../../explorer/protocol';
import { startExploreWorker } from '../../explorer/worker-client';

export interface ExplorerDeps {
  log?: vscode.OutputChannel;
  /** Override the worker bundle (tests). Default: <extension>/dist/explorer-worker.js. */
  workerFile?: string;
}

/** Arguments of `kvmMmuLab.explore` besides the file: explorer options plus UI switches. */
export interface ExploreCommandOptions extends Omit<WorkerExploreOptions, 'file'> {
  /** Open the counterexample document (default true). */
  open?: boolean;
  /** Ask nothing (no "Debug"/"Show Panel" message); for tests. */
  quiet?: boolean;
}

/** What the command resolves to (also used by the e2e test). */
export interface ExploreCommandResult {
  file: string;
  verdict: ExploreResult['verdict'] | 'cancelled';
  statesExplored: number;
  distinctStates: number;
  seconds: number;
  exhaustive: boolean;
  progressReports: number;
  lastProgress?: ExploreProgress;
  counterexample: null | { violation: CounterexampleViolation; uri: string; replays: boolean | null };
}

export function registerExplorer(context: vscode.ExtensionContext, deps: ExplorerDeps = {}): vscode.Disposable {
  const workerFile = deps.workerFile ?? path.join(context.extensionPath, 'dist', 'explorer-worker.js');
  const disposable = vscode.commands.registerCommand('kvmMmuLab.explore', async (arg?: vscode.Uri, options: ExploreCommandOptions = {}) => {
    const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
    if (!uri || !uri.path.endsWith('.kvmmmu.yaml')) {
      void vscode.window.showWarningMessage('KVM MMU Lab: open a *.kvmmmu.yaml scenario to explore its interleavings.');
      return undefined;
    }
    return exploreUri(uri, options, workerFile, context, deps.log);
  });
  context.subscriptions.push(disposable);
  return disposable;
}

async function exploreUri(uri: vscode.Uri, options: ExploreCommandOptions, workerFile: string, context: vscode.ExtensionContext, log?: vscode.OutputChannel): Promise<ExploreCommandResult | undefined> {
  const doc = await vscode.workspace.openTextDocument(uri);
  const text = doc.getText();
  const name = path.basename(uri.fsPath || uri.path);
  const { open = true, quiet = false, ...explore } = options;
  let progressReports = 0;
  let lastProgress: ExploreProgress | undefined;
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Exploring ${name}`, cancellable: true },
    async (progress, token) => {
      const job = startExploreWorker(workerFile, text, { ...explore, file: uri.fsPath || uri.path }, (p) => {
        progressReports++;
        lastProgress = p;
        progress.report({ message: `${p.distinctStates.toLocaleString()} states (${p.statesExplored.toLocaleString()} explored), depth ${p.depth}/${p.maxDepthReached}, ${Math.round(p.statesPerSecond).toLocaleString()} states/s` });
      });
      const sub = token.onCancellationRequested(() => job.cancel());
      try {
        return await job.promise;
      } finally {
        sub.dispose();
      }
    },
  ).then((o) => o, (e: unknown) => {
    const msg = e instanceof Error ? e.message : String(e);
    log?.appendLine(`explore ${name}: ${msg}`);
    void vscode.window.showErrorMessage(`KVM MMU Lab: cannot explore ${name}: ${msg}`);
    return undefined;
  });
  if (!outcome) return undefined;
  const r = outcome.result;
  const cancelled = r.stoppedBecause === 'cancelled';
  const summary = `${r.statesExplored.toLocaleString()} states explored, ${r.distinctStates.toLocaleString()} distinct, ${r.seconds.toFixed(2)} s`;
  log?.appendLine(`explore ${name}: ${r.verdict}${cancelled ? ' (cancelled)' : ''}; ${summary}; exhaustive: ${r.exhaustive}`);
  const result: ExploreCommandResult = {
    file: uri.toString(), verdict: cancelled && !r.counterexample ? 'cancelled' : r.verdict, statesExplored: r.statesExplored, distinctStates: r.distinctStates,
    seconds: r.seconds, exhaustive: r.exhaustive, progressReports, lastProgress, counterexample: null,
  };
  if (r.counterexample && outcome.counterexampleText) {
    const target = await counterexampleUri(context, outcome.scenario);
    await vscode.workspace.fs.writeFile(target, Buffer.from(outcome.counterexampleText, 'utf8'));
    result.counterexample = { violation: r.counterexample.violation, uri: target.toString(), replays: outcome.replays };
    if (open) await vscode.window.showTextDocument(target, { preview: false });
    const v = r.counterexample.violation;
    if (!quiet) {
      void vscode.window.showWarningMessage(`KVM MMU Lab: ${v.id} found in ${name} after ${summary}: ${v.message}`, 'Debug', 'Show Panel').then(async (choice) => {
        if (choice === 'Debug') await vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(target), { type: 'kvm-mmu-lab', request: 'launch', name: `Counterexample: ${v.id}`, scenario: target.fsPath });
        else if (choice === 'Show Panel') {
          await vscode.commands.executeCommand('kvmMmuLab.runScenario', target);
          await vscode.commands.executeCommand('kvmMmuLab.showPanel');
        }
      });
    }
  } else if (!quiet) {
    const how = cancelled ? 'cancelled' : r.exhaustive ? 'exhaustive' : `not exhaustive (${r.cutByDepth} branches cut by depth, ${r.cutByPreemptions} by preemptions${r.stoppedBecause ? `, ${r.stoppedBecause}` : ''})`;
    void vscode.window.showInformationMessage(`KVM MMU Lab: nothing found in ${name} within the bounds; ${summary}; search ${how}.`);
  }
  return result;
}

/** <workspace>/.kvm-mmu-lab/counterexamples/NAME-counterexample.kvmmmu.yaml, or the extension's global storage. */
async function counterexampleUri(context: vscode.ExtensionContext, scenario: string): Promise<vscode.Uri> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const base = folder ? vscode.Uri.joinPath(folder.uri, '.kvm-mmu-lab', 'counterexamples') : vscode.Uri.joinPath(context.globalStorageUri, 'counterexamples');
  await vscode.workspace.fs.createDirectory(base);
  return vscode.Uri.joinPath(base, `${scenario}-counterexample.kvmmmu.yaml`);
}
