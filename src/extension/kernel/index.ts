/**
 * VS Code side of the kernel symbol index: finds the kernel tree (a workspace folder with
 * arch/x86/kvm, or `kvmMmuLab.kernelTree`), indexes it off the critical path (cooperative slices of
 * at most ~20 ms, so no single task blocks the extension host for long), re-indexes a file when it
 * changes, and lists the engine names it could not resolve in an output channel.
 *
 * The pure index lives in src/kernel; this file only wires it to VS Code.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EraId, Frame } from '../../engine/api';
import { indexKernelTree, indexTreeFile, INDEXED_FILES, isKernelTree, findKernelTree, KernelIndex } from '../../kernel/kernel-index';
import { engineFiles, engineNames, namesForEra } from '../../kernel/engine-names';
import { Slicer } from '../../kernel/parser';
import type { KernelSymbol, Resolution } from '../../kernel/types';
import { isEraId } from '../../kernel/version';

const SLICE_MS = 20;
const DEBOUNCE_MS = 300;

export interface KernelIndexService extends vscode.Disposable {
  /** The current index, or undefined while none is built / no tree was found. */
  readonly index: KernelIndex | undefined;
  /** Same as `index`, as a function (what the debugger's deps expect). */
  current(): KernelIndex | undefined;
  /** Settles when the running (or last) full indexing finishes. */
  readonly ready: Promise<KernelIndex | undefined>;
  /** Fires after a full index or a per-file re-index. */
  readonly onDidChange: vscode.Event<KernelIndex | undefined>;
  /** Engine names not found in the tree (with reasons), as last computed. */
  readonly unresolved: readonly Resolution[];
  /** Definition of an engine name (rename-aware) as a location in the tree. */
  definition(name: string, kind?: 'function' | 'macro' | 'field' | 'request' | 'stat'): vscode.Location | undefined;
  /** Location of a trace frame (definition, or the line of "calls X"). */
  frameLocation(frame: Frame): vscode.Location | undefined;
  /** The kernel symbol under a position of a document in the tree. */
  symbolAt(uri: vscode.Uri, position: vscode.Position): KernelSymbol | undefined;
  /** Re-discover the tree and index it again. */
  reindex(): Promise<KernelIndex | undefined>;
  showOutput(): void;
}

class Service implements KernelIndexService {
  private current_: KernelIndex | undefined;
  private unresolved_: Resolution[] = [];
  private readonly emitter = new vscode.EventEmitter<KernelIndex | undefined>();
  readonly onDidChange = this.emitter.event;
  private readonly output = vscode.window.createOutputChannel('KVM MMU Lab: Kernel Index');
  private watcher: vscode.FileSystemWatcher | undefined;
  private makefileWatcher: vscode.FileSystemWatcher | undefined;
  private readonly pending = new Map<string, ReturnType<typeof setTimeout>>();
  private generation = 0;
  private disposed = false;
  ready: Promise<KernelIndex | undefined> = Promise.resolve(undefined);

  constructor(private readonly context: vscode.ExtensionContext) {}

  get index(): KernelIndex | undefined {
    return this.current_;
  }
  current(): KernelIndex | undefined {
    return this.current_;
  }
  get unresolved(): readonly Resolution[] {
    return this.unresolved_;
  }

  showOutput(): void {
    this.output.show(true);
  }

  private treeFromSettings(): { root: string | undefined; era: EraId | undefined } {
    const cfg = vscode.workspace.getConfiguration('kvmMmuLab');
    const setting = cfg.get<string>('kernelTree')?.trim() || undefined;
    const eraSetting = cfg.get<string>('era')?.trim();
    const era = eraSetting && isEraId(eraSetting) ? eraSetting : undefined;
    if (eraSetting && !era && eraSetting !== 'auto') this.output.appendLine(`kvmMmuLab.era: unknown era '${eraSetting}', using the Makefile version`);
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    const candidates = [...folders];
    // the bundled demo tree as a last resort (the extension's own folder)
    const bundledDemo = path.join(this.context.extensionPath, 'demo');
    let root = findKernelTree(candidates, setting);
    if (!root && !setting && isKernelTree(bundledDemo)) root = bundledDemo;
    if (setting && !isKernelTree(path.isAbsolute(setting) ? setting : path.join(folders[0] ?? '', setting))) {
      this.output.appendLine(`kvmMmuLab.kernelTree: '${setting}' is not a kernel tree (no arch/x86/kvm); searching the workspace instead`);
    }
    return { root, era };
  }

  reindex(): Promise<KernelIndex | undefined> {
    const gen = ++this.generation;
    this.ready = this.run(gen);
    return this.ready;
  }

  private async run(gen: number): Promise<KernelIndex | undefined> {
    const { root, era } = this.treeFromSettings();
    this.watch(root);
    if (!root) {
      this.current_ = undefined;
      this.unresolved_ = [];
      this.output.appendLine('No kernel tree found (open a folder with arch/x86/kvm or set kvmMmuLab.kernelTree).');
      this.emitter.fire(undefined);
      return undefined;
    }
    const started = Date.now();
    const slicer = new Slicer(SLICE_MS);
    try {
      const index = await indexKernelTree(root, {
        era,
        sliceMs: SLICE_MS,
        slicer,
        extraFiles: engineFiles(engineNames()),
        onProgress: () => this.disposed || gen !== this.generation,
      });
      if (this.disposed || gen !== this.generation) return this.current_;
      this.current_ = index;
      this.report(Date.now() - started, slicer.maxSliceMs);
      this.emitter.fire(index);
      return index;
    } catch (e) {
      this.output.appendLine(`Indexing ${root} failed: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }

  private computeUnresolved(index: KernelIndex): Resolution[] {
    return index.resolveAll(namesForEra(engineNames(), index.era)).unresolved;
  }

  private report(ms: number, maxSliceMs: number): void {
    const index = this.current_;
    if (!index) return;
    this.unresolved_ = this.computeUnresolved(index);
    const out = this.output;
    out.clear();
    out.appendLine(`Kernel tree: ${index.root}`);
    out.appendLine(`Version: ${index.version?.text ?? 'unknown'}   era: ${index.era} (${index.eraSource})`);
    out.appendLine(`Indexed in ${ms} ms (longest blocking slice ${Math.round(maxSliceMs)} ms):`);
    for (const f of index.files) {
      out.appendLine(`  ${f.file}: ${f.skipped ?? `${f.lines} lines, ${f.symbols.length} symbols${f.recovered ? `, ${f.recovered} recovered` : ''}`}`);
    }
    const names = namesForEra(engineNames(), index.era);
    out.appendLine(`Engine names resolved: ${names.length - this.unresolved_.length}/${names.length}`);
    if (this.unresolved_.length) {
      out.appendLine('Unresolved engine names:');
      for (const u of this.unresolved_) out.appendLine(`  ${u.name}: ${u.reason ?? 'not-found'}${u.detail ? ` (${u.detail})` : ''}`);
    }
  }

  private watch(root: string | undefined): void {
    this.watcher?.dispose();
    this.makefileWatcher?.dispose();
    this.watcher = undefined;
    this.makefileWatcher = undefined;
    if (!root) return;
    const files = [...new Set([...INDEXED_FILES, ...engineFiles(engineNames())])];
    const pattern = new vscode.RelativePattern(vscode.Uri.file(root), `{${files.join(',')}}`);
    const w = vscode.workspace.createFileSystemWatcher(pattern);
    const onFile = (uri: vscode.Uri): void => this.schedule(root, uri);
    w.onDidChange(onFile);
    w.onDidCreate(onFile);
    w.onDidDelete(onFile);
    this.watcher = w;
    // the top Makefile decides the era: a change there means a full re-index
    const mk = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root), 'Makefile'));
    mk.onDidChange(() => void this.reindex());
    this.makefileWatcher = mk;
  }

  /** Debounced, cooperative re-index of one changed file. */
  private schedule(root: string, uri: vscode.Uri): void {
    const rel = path.relative(root, uri.fsPath).split(path.sep).join('/');
    const old = this.pending.get(rel);
    if (old) clearTimeout(old);
    this.pending.set(
      rel,
      setTimeout(() => {
        this.pending.delete(rel);
        void this.reindexFile(root, rel);
      }, DEBOUNCE_MS),
    );
  }

  private async reindexFile(root: string, rel: string): Promise<void> {
    const index = this.current_;
    if (!index || index.root !== root || this.disposed) return;
    const gen = this.generation;
    const fi = await indexTreeFile(root, rel, { sliceMs: SLICE_MS }, new Slicer(SLICE_MS));
    if (this.disposed || gen !== this.generation || this.current_ !== index) return;
    if (fi.skipped?.startsWith('skipped: cannot read')) index.removeFile(rel);
    else index.updateFile(fi);
    this.unresolved_ = this.computeUnresolved(index);
    this.output.appendLine(`Re-indexed ${rel}: ${fi.skipped ?? `${fi.symbols.length} symbols`}; unresolved engine names: ${this.unresolved_.length}${this.unresolved_.length ? ` (${this.unresolved_.map((u) => u.name).join(', ')})` : ''}`);
    this.emitter.fire(index);
  }

  private location(index: KernelIndex, file: string, line: number, column: number): vscode.Location {
    return new vscode.Location(vscode.Uri.file(path.join(index.root, file)), new vscode.Position(Math.max(0, line - 1), Math.max(0, column - 1)));
  }

  definition(name: string, kind?: 'function' | 'macro' | 'field' | 'request' | 'stat'): vscode.Location | undefined {
    const index = this.current_;
    const sym = index?.definition(name, kind);
    return index && sym ? this.location(index, sym.file, sym.line, sym.column) : undefined;
  }

  frameLocation(frame: Frame): vscode.Location | undefined {
    const index = this.current_;
    const loc = index?.resolveFrame(frame);
    return index && loc ? this.location(index, loc.file, loc.line, loc.column) : undefined;
  }

  symbolAt(uri: vscode.Uri, position: vscode.Position): KernelSymbol | undefined {
    const index = this.current_;
    if (!index) return undefined;
    const rel = path.relative(index.root, uri.fsPath).split(path.sep).join('/');
    if (rel.startsWith('..')) return undefined;
    return index.symbolAt(rel, position.line + 1, position.character + 1);
  }

  dispose(): void {
    this.disposed = true;
    this.generation++;
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
    this.watcher?.dispose();
    this.makefileWatcher?.dispose();
    this.emitter.dispose();
    this.output.dispose();
  }
}

/**
 * Starts the kernel index service: indexes in the background right away (activation is not delayed),
 * re-indexes on file changes, on `kvmMmuLab.kernelTree` / `kvmMmuLab.era` changes and when workspace
 * folders change.
 */
export function registerKernelIndex(context: vscode.ExtensionContext): KernelIndexService {
  const service = new Service(context);
  context.subscriptions.push(service);
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('kvmMmuLab.kernelTree') || e.affectsConfiguration('kvmMmuLab.era')) void service.reindex();
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void service.reindex()),
  );
  // start after activation returns: the first slice runs on a later tick
  setImmediate(() => void service.reindex());
  return service;
}
