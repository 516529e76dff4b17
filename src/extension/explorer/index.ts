/**
 * VS Code side of the interleaving explorer: the `kvmMmuLab.explore` command runs the search in a worker
 * thread (dist/explorer-worker.js) behind a cancellable progress notification, saves the counterexample as
 * a scenario with the schedule pinned and opens it (with "Debug" and "Show Panel" actions).
 * With `kvmMmuLab.explorer.workers` other than 1 the search runs on a pool of worker threads sharing one
 * visited table (src/explorer/parallel.ts); the pool is kept for the next search and closed on deactivate.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { CounterexampleViolation, ExploreProgress, ExploreResult } from '../../explorer/explorer';
import type { WorkerExploreOptions } from '../../explorer/protocol';
import { startExploreWorker, type ExploreJob } from '../../explorer/worker-client';
import { ExplorerPool, workerCount } from '../../explorer/parallel';

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
  /** Worker threads (overrides the kvmMmuLab.explorer.workers setting; 0 = one per core). */
  workers?: number;
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
  /** Worker threads that searched (1: the single-worker search). */
  workers: number;
  counterexample: null | { violation: CounterexampleViolation; uri: string; replays: boolean | null };
}

/** One pool, started at the first parallel search and kept for the next ones (thread start-up once). */
class PoolHolder implements vscode.Disposable {
  private pool: Promise<ExplorerPool> | null = null;
  private size = 0;
  constructor(private readonly workerFile: string) {}
  async get(size: number): Promise<ExplorerPool> {
    if (this.pool && this.size === size) {
      const p = await this.pool.catch(() => null);
      if (p && p.usable) return p;
    }
    this.dispose();
    this.size = size;
    this.pool = ExplorerPool.start(size, this.workerFile);
    return this.pool;
  }
  dispose(): void {
    const p = this.pool;
    this.pool = null;
    if (p) void p.then((x) => x.close(), () => undefined);
  }
}

export function registerExplorer(context: vscode.ExtensionContext, deps: ExplorerDeps = {}): vscode.Disposable {
  const workerFile = deps.workerFile ?? path.join(context.extensionPath, 'dist', 'explorer-worker.js');
  const pools = new PoolHolder(workerFile);
  context.subscriptions.push(pools);
  const disposable = vscode.commands.registerCommand('kvmMmuLab.explore', async (arg?: vscode.Uri, options: ExploreCommandOptions = {}) => {
    const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
    if (!uri || !uri.path.endsWith('.kvmmmu.yaml')) {
      void vscode.window.showWarningMessage('KVM MMU Lab: open a *.kvmmmu.yaml scenario to explore its interleavings.');
      return undefined;
    }
    return exploreUri(uri, options, workerFile, pools, context, deps.log);
  });
  context.subscriptions.push(disposable);
  return disposable;
}

async function exploreUri(uri: vscode.Uri, options: ExploreCommandOptions, workerFile: string, pools: PoolHolder, context: vscode.ExtensionContext, log?: vscode.OutputChannel): Promise<ExploreCommandResult | undefined> {
  const doc = await vscode.workspace.openTextDocument(uri);
  const text = doc.getText();
  const name = path.basename(uri.fsPath || uri.path);
  const { open = true, quiet = false, workers: requested, ...explore } = options;
  const setting = requested ?? vscode.workspace.getConfiguration('kvmMmuLab.explorer').get<number>('workers', 1);
  let workers = 1;
  try {
    workers = workerCount(setting === 0 ? 'auto' : setting);
  } catch (e) {
    void vscode.window.showWarningMessage(`KVM MMU Lab: kvmMmuLab.explorer.workers: ${e instanceof Error ? e.message : String(e)}; using 1`);
  }
  let progressReports = 0;
  let lastProgress: ExploreProgress | undefined;
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Exploring ${name}`, cancellable: true },
    async (progress, token) => {
      const onProgress = (p: ExploreProgress): void => {
        progressReports++;
        lastProgress = p;
        progress.report({ message: `${p.distinctStates.toLocaleString()} states (${p.statesExplored.toLocaleString()} explored), depth ${p.depth}/${p.maxDepthReached}, ${Math.round(p.statesPerSecond).toLocaleString()} states/s${workers > 1 ? `, ${workers} workers` : ''}` });
      };
      const file = uri.fsPath || uri.path;
      let job: ExploreJob;
      if (workers > 1) {
        const ac = new AbortController();
        job = { promise: pools.get(workers).then((pool) => pool.run(text, { ...explore, file, onProgress, signal: ac.signal })), cancel: () => ac.abort() };
      } else job = startExploreWorker(workerFile, text, { ...explore, file }, onProgress);
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
  log?.appendLine(`explore ${name}: ${r.verdict}${cancelled ? ' (cancelled)' : ''}; ${summary}${workers > 1 ? ` with ${workers} workers` : ''}; exhaustive: ${r.exhaustive}`);
  const result: ExploreCommandResult = {
    file: uri.toString(), verdict: cancelled && !r.counterexample ? 'cancelled' : r.verdict, statesExplored: r.statesExplored, distinctStates: r.distinctStates,
    seconds: r.seconds, exhaustive: r.exhaustive, progressReports, lastProgress, workers, counterexample: null,
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
