/**
 * Editor integration for scenarios: diagnostics, completion, Test Explorer, stepping commands and the
 * status bar. `registerScenarioFeatures()` returns the ScenarioService through which the panel, the
 * debugger and hovers reach the active session.
 */
import * as vscode from 'vscode';
import type { BugId, Engine, EraId, StateView, StepRecord } from '../../engine/api';
import { parseScenario } from '../../scenario/parser';
import { ScenarioSession, runScenarioAll, type RunResult, type RunOptions, type ExpectationResult } from '../../scenario/runner';
import { loadEngine } from '../../scenario/engine-loader';
import type { Scenario } from '../../scenario/types';
import { registerDiagnostics, isScenarioDocument, toVsRange } from './diagnostics';
import { registerCompletion, registerHover } from './completion';

export interface ActiveScenario {
  uri: vscode.Uri;
  scenario: Scenario;
  session: ScenarioSession;
  /** The current engine (replaced on reset). */
  readonly engine: Engine;
  view(): StateView;
  readonly history: readonly StepRecord[];
  readonly position: number;
}

export interface ScenarioStepEvent {
  active: ActiveScenario;
  /** The step just taken (undefined after step back, reset, goto or a run). */
  record?: StepRecord;
  position: number;
}

export interface ScenarioService {
  /** The session the stepping commands drive, if any. */
  readonly active: ActiveScenario | undefined;
  readonly onDidChangeActive: vscode.Event<ActiveScenario | undefined>;
  readonly onDidStep: vscode.Event<ScenarioStepEvent>;
  /** Open (or reopen) a session on a scenario file. */
  open(uri: vscode.Uri, options?: RunOptions): Promise<ActiveScenario | undefined>;
  step(): StepRecord | undefined;
  stepBack(): boolean;
  runToViolation(): StepRecord | undefined;
  reset(): void;
  goto(index: number): void;
  /** Run one file through the Test Explorer (results appear there) and return its runs. */
  runFile(uri: vscode.Uri): Promise<RunResult[]>;
  /** Run every discovered scenario through the Test Explorer's run profile. */
  runAll(): Promise<Map<string, RunResult[]>>;
  /** Scenario files in the workspace and the bundled library. */
  listScenarioFiles(): Promise<vscode.Uri[]>;
  lastResults(uri: vscode.Uri): RunResult[] | undefined;
  readonly testController: vscode.TestController;
}

const CONTROLLER_ID = 'kvmMmuLab.scenarios';

export function registerScenarioFeatures(context: vscode.ExtensionContext): ScenarioService {
  registerDiagnostics(context);
  registerCompletion(context);
  registerHover(context);
  const service = new ScenarioServiceImpl(context);
  context.subscriptions.push(service);
  return service;
}

class ScenarioServiceImpl implements ScenarioService, vscode.Disposable {
  readonly testController: vscode.TestController;
  private readonly activeEmitter = new vscode.EventEmitter<ActiveScenario | undefined>();
  private readonly stepEmitter = new vscode.EventEmitter<ScenarioStepEvent>();
  readonly onDidChangeActive = this.activeEmitter.event;
  readonly onDidStep = this.stepEmitter.event;
  private current: ActiveScenario | undefined;
  private readonly status: vscode.StatusBarItem;
  private readonly results = new Map<string, RunResult[]>();
  private readonly output: vscode.OutputChannel;
  private readonly currentLine: vscode.TextEditorDecorationType;
  private readonly disposables: vscode.Disposable[] = [];
  private discovered = false;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.testController = vscode.tests.createTestController(CONTROLLER_ID, 'KVM MMU scenarios');
    this.testController.resolveHandler = async (item) => {
      if (!item) await this.discover();
      else await this.refreshFileItem(item);
    };
    this.testController.refreshHandler = async () => {
      await this.discover(true);
    };
    this.testController.createRunProfile('Run scenario', vscode.TestRunProfileKind.Run, async (req, token) => {
      await this.runRequest(req, token);
    }, true);
    this.status = vscode.window.createStatusBarItem('kvmMmuLab.scenario', vscode.StatusBarAlignment.Left, 50);
    this.status.name = 'KVM MMU scenario';
    this.status.command = 'kvmMmuLab.step';
    this.output = vscode.window.createOutputChannel('KVM MMU Lab scenarios');
    this.currentLine = vscode.window.createTextEditorDecorationType({
      isWholeLine: true,
      backgroundColor: new vscode.ThemeColor('editor.stackFrameHighlightBackground'),
      overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.infoForeground'),
    });
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.kvmmmu.yaml');
    watcher.onDidCreate((u) => void this.fileItem(u));
    watcher.onDidChange((u) => {
      const item = this.testController.items.get(u.toString());
      if (item) void this.refreshFileItem(item);
    });
    watcher.onDidDelete((u) => this.testController.items.delete(u.toString()));
    this.disposables.push(
      this.testController,
      this.status,
      this.output,
      this.currentLine,
      watcher,
      this.activeEmitter,
      this.stepEmitter,
      vscode.commands.registerCommand('kvmMmuLab.runScenario', (uri?: vscode.Uri) => this.cmdRun(uri)),
      vscode.commands.registerCommand('kvmMmuLab.step', () => this.withSession((s) => s && this.step())),
      vscode.commands.registerCommand('kvmMmuLab.stepBack', () => this.withSession((s) => s && this.stepBack())),
      vscode.commands.registerCommand('kvmMmuLab.runToViolation', () => this.withSession((s) => s && this.runToViolation())),
      vscode.commands.registerCommand('kvmMmuLab.reset', () => this.withSession((s) => s && this.reset())),
      vscode.commands.registerCommand('kvmMmuLab.gotoStep', async (index?: number) => {
        const s = await this.ensureSession();
        if (!s) return undefined;
        let n = typeof index === 'number' ? index : undefined;
        if (n === undefined) {
          const v = await vscode.window.showInputBox({ prompt: `Go to step (0..${s.history.length || s.position})`, validateInput: (x) => (/^\d+$/.test(x) ? undefined : 'a step number') });
          if (v === undefined) return undefined;
          n = Number(v);
        }
        this.goto(n);
        return this.current?.position;
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.updateDecorations()),
    );
    // discovery runs after activation (and on resolveHandler / first run) so activation stays cheap in
    // large kernel workspaces
    const timer = setTimeout(() => void this.discover(), 1500);
    this.disposables.push({ dispose: () => clearTimeout(timer) });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  get active(): ActiveScenario | undefined {
    return this.current;
  }

  // ---------------------------------------------------------------------------------------------
  // discovery and test items
  // ---------------------------------------------------------------------------------------------

  private libraryDir(): vscode.Uri {
    return vscode.Uri.joinPath(this.context.extensionUri, 'demo', 'scenarios');
  }

  async listScenarioFiles(): Promise<vscode.Uri[]> {
    const found = new Map<string, vscode.Uri>();
    try {
      for (const u of await vscode.workspace.findFiles('**/*.kvmmmu.yaml', '**/node_modules/**', 2000)) found.set(u.fsPath, u);
    } catch {
      /* no workspace */
    }
    try {
      for (const [name, type] of await vscode.workspace.fs.readDirectory(this.libraryDir())) {
        if (type === vscode.FileType.File && name.endsWith('.kvmmmu.yaml')) {
          const u = vscode.Uri.joinPath(this.libraryDir(), name);
          if (!found.has(u.fsPath)) found.set(u.fsPath, u);
        }
      }
    } catch {
      /* library not shipped */
    }
    return [...found.values()].sort((a, b) => a.fsPath.localeCompare(b.fsPath));
  }

  private async discover(force = false): Promise<void> {
    if (this.discovered && !force) return;
    this.discovered = true;
    const files = await this.listScenarioFiles();
    const keep = new Set(files.map((f) => f.toString()));
    this.testController.items.forEach((item) => {
      if (!keep.has(item.id)) this.testController.items.delete(item.id);
    });
    await Promise.all(files.map((f) => this.fileItem(f)));
  }

  private async fileItem(uri: vscode.Uri): Promise<vscode.TestItem> {
    let item = this.testController.items.get(uri.toString());
    if (!item) {
      const inLibrary = uri.fsPath.startsWith(this.libraryDir().fsPath);
      item = this.testController.createTestItem(uri.toString(), uri.path.split('/').pop()!.replace(/\.kvmmmu\.yaml$/, ''), uri);
      item.description = inLibrary ? 'bundled library' : vscode.workspace.asRelativePath(uri);
      this.testController.items.add(item);
    }
    await this.refreshFileItem(item);
    return item;
  }

  private async readScenario(uri: vscode.Uri, options: RunOptions = {}): Promise<{ scenario?: Scenario; error?: string; text?: string }> {
    let text: string;
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    try {
      text = open ? open.getText() : new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(uri));
    } catch (e) {
      return { error: `cannot read ${uri.fsPath}: ${e instanceof Error ? e.message : String(e)}` };
    }
    const r = parseScenario(text, { file: uri.fsPath, era: options.era, bug: options.bug });
    if (!r.scenario) {
      const first = r.diagnostics.find((d) => d.severity === 'error');
      return { error: first ? `line ${first.range.start.line + 1}: ${first.message}` : 'invalid scenario', text };
    }
    return { scenario: r.scenario, text };
  }

  /** (Re)build the expectation children of a file item from its parsed expectations. */
  private async refreshFileItem(item: vscode.TestItem): Promise<void> {
    if (!item.uri) return;
    const { scenario, error } = await this.readScenario(item.uri);
    if (!scenario) {
      item.error = error;
      item.children.replace([]);
      return;
    }
    item.error = undefined;
    item.label = scenario.name;
    item.range = toVsRange(scenario.ranges.scenario);
    const runs: Array<{ key: string; label: string; expect: Scenario['expect']; range: vscode.Range }> = [
      { key: 'base', label: scenario.config.bug ? `bug ${scenario.config.bug}` : 'base', expect: scenario.expect, range: toVsRange(scenario.ranges.scenario) },
      ...scenario.variants.map((v) => ({ key: `variant:${v.name}`, label: `variant ${v.name}${v.bug ? ` (bug ${v.bug})` : ''}`, expect: v.expect, range: toVsRange(v.range) })),
    ];
    const single = runs.length === 1;
    const makeKids = (parentId: string, expect: Scenario['expect']): vscode.TestItem[] =>
      staticExpectations(expect).map((e) => {
        const k = this.testController.createTestItem(`${parentId}#${e.id}`, e.label, item.uri);
        k.range = toVsRange(e.range);
        return k;
      });
    if (single) {
      item.children.replace(makeKids(item.id, runs[0]!.expect));
      return;
    }
    item.children.replace(
      runs.map((run) => {
        const runItem = this.testController.createTestItem(`${item.id}#${run.key}`, run.label, item.uri);
        runItem.range = run.range;
        runItem.children.replace(makeKids(runItem.id, run.expect));
        return runItem;
      }),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // running
  // ---------------------------------------------------------------------------------------------

  private async runRequest(request: vscode.TestRunRequest, token?: vscode.CancellationToken): Promise<Map<string, RunResult[]>> {
    await this.discover();
    const run = this.testController.createTestRun(request, 'KVM MMU scenarios', false);
    const out = new Map<string, RunResult[]>();
    const files = new Set<vscode.TestItem>();
    const add = (item: vscode.TestItem): void => {
      let top = item;
      while (top.parent) top = top.parent;
      files.add(top);
    };
    if (request.include) request.include.forEach(add);
    else this.testController.items.forEach(add);
    try {
      for (const file of files) {
        if (token?.isCancellationRequested) break;
        if (request.exclude?.includes(file)) continue;
        const results = await this.runFileItem(file, run);
        if (results && file.uri) out.set(file.uri.toString(), results);
      }
    } finally {
      run.end();
    }
    return out;
  }

  private async runFileItem(file: vscode.TestItem, run: vscode.TestRun): Promise<RunResult[] | undefined> {
    if (!file.uri) return undefined;
    await this.refreshFileItem(file);
    const started = Date.now();
    const mark = (item: vscode.TestItem): void => {
      run.enqueued(item);
      run.started(item);
      item.children.forEach(mark);
    };
    mark(file);
    const { scenario, error } = await this.readScenario(file.uri);
    const engine = loadEngine();
    if (!scenario || !engine.factory) {
      const msg = new vscode.TestMessage(error ?? engine.error ?? 'cannot run');
      msg.location = new vscode.Location(file.uri, file.range ?? new vscode.Range(0, 0, 0, 0));
      const fail = (item: vscode.TestItem): void => {
        run.errored(item, msg);
        item.children.forEach(fail);
      };
      fail(file);
      return undefined;
    }
    let results: RunResult[];
    try {
      results = runScenarioAll(scenario, engine.factory);
    } catch (e) {
      run.errored(file, new vscode.TestMessage(e instanceof Error ? e.message : String(e)));
      return undefined;
    }
    this.results.set(file.uri.toString(), results);
    const single = results.length === 1;
    for (const r of results) {
      const runItem = single ? file : file.children.get(`${file.id}#${r.variant ? `variant:${r.variant}` : 'base'}`) ?? file;
      const prefix = single ? file.id : runItem.id;
      for (const e of r.expectations) {
        let item = runItem.children.get(`${prefix}#${e.id}`);
        if (!item) {
          item = this.testController.createTestItem(`${prefix}#${e.id}`, e.label, file.uri);
          item.range = toVsRange(e.range);
          runItem.children.add(item);
          run.started(item);
        }
        if (e.passed) run.passed(item);
        else run.failed(item, await this.message(file.uri, e, r));
      }
      if (!single) {
        if (r.verdict === 'pass') run.passed(runItem, 0);
        else run.failed(runItem, this.scenarioMessage(file.uri, r, runItem.range));
      }
      this.output.appendLine(`${r.verdict === 'pass' ? 'PASS' : 'FAIL'} ${file.uri.fsPath}${r.variant ? ` [${r.variant}]` : ''}: ${r.steps} steps, violations ${[...new Set(r.violations.map((v) => v.id))].join(', ') || 'none'}`);
      for (const f of r.failedExpectations) this.output.appendLine(`    - ${f}`);
    }
    const allPass = results.every((r) => r.verdict === 'pass');
    if (allPass) run.passed(file, Date.now() - started);
    else {
      const failedRun = results.find((r) => r.verdict === 'fail')!;
      run.failed(file, this.scenarioMessage(file.uri, failedRun, file.range), Date.now() - started);
    }
    return results;
  }

  private readonly kernelLocations = new Map<string, vscode.Location | null>();

  /** Where a kernel function is defined in an open kernel tree (first definition line), if any. */
  async kernelLocation(fn: string, file: string): Promise<vscode.Location | undefined> {
    const key = `${file}#${fn}`;
    if (this.kernelLocations.has(key)) return this.kernelLocations.get(key) ?? undefined;
    let found: vscode.Location | undefined;
    const name = fn.replace(/^FNAME\((\w+)\)$/, '$1');
    const def = new RegExp(`^(?:[A-Za-z_][\\w\\s\\*()]*\\s|\\*?)(?:FNAME\\()?${name.replace(/[^\w]/g, '')}\\)?\\s*\\(`);
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const candidate = vscode.Uri.joinPath(folder.uri, file);
      try {
        const text = new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(candidate));
        const lines = text.split('\n');
        const line = lines.findIndex((l) => def.test(l) && !l.trimEnd().endsWith(';'));
        found = new vscode.Location(candidate, new vscode.Position(Math.max(0, line), 0));
        break;
      } catch {
        /* not in this folder */
      }
    }
    this.kernelLocations.set(key, found ?? null);
    return found;
  }

  private async message(uri: vscode.Uri, e: ExpectationResult, r: RunResult): Promise<vscode.TestMessage> {
    const md = new vscode.MarkdownString(`${escapeMd(e.label)}: ${escapeMd(e.message ?? 'failed')}`);
    if (e.kernelFunction) {
      const loc = await this.kernelLocation(e.kernelFunction.fn, e.kernelFunction.file);
      const fileLink = loc ? `[${escapeMd(e.kernelFunction.file)}:${loc.range.start.line + 1}](${loc.uri.with({ fragment: `L${loc.range.start.line + 1}` }).toString()})` : escapeMd(e.kernelFunction.file);
      md.appendMarkdown(`\n\nKernel function: ${kernelLink(e.kernelFunction.fn)} (${fileLink})`);
    }
    md.appendMarkdown(`\n\nera ${r.era}${r.bug ? `, bug ${escapeMd(r.bug)}` : ''}, ${r.steps} steps`);
    md.isTrusted = { enabledCommands: ['workbench.action.quickOpen'] };
    const m = new vscode.TestMessage(md);
    m.location = new vscode.Location(uri, toVsRange(e.range));
    return m;
  }

  private scenarioMessage(uri: vscode.Uri, r: RunResult, range: vscode.Range | undefined): vscode.TestMessage {
    const m = new vscode.TestMessage(`${r.variant ? `[${r.variant}] ` : ''}${r.failedExpectations.join('\n')}`);
    m.location = new vscode.Location(uri, range ?? new vscode.Range(0, 0, 0, 0));
    return m;
  }

  async runFile(uri: vscode.Uri): Promise<RunResult[]> {
    const item = await this.fileItem(uri);
    const res = await this.runRequest(new vscode.TestRunRequest([item]));
    return res.get(uri.toString()) ?? [];
  }

  async runAll(): Promise<Map<string, RunResult[]>> {
    await this.discover(true);
    return this.runRequest(new vscode.TestRunRequest());
  }

  lastResults(uri: vscode.Uri): RunResult[] | undefined {
    return this.results.get(uri.toString());
  }

  private async cmdRun(uri?: vscode.Uri): Promise<RunResult[] | undefined> {
    const target = uri ?? this.activeScenarioUri();
    if (!target) {
      void vscode.window.showWarningMessage('KVM MMU Lab: open a *.kvmmmu.yaml scenario first.');
      return undefined;
    }
    const results = await this.runFile(target);
    const pass = results.length > 0 && results.every((r) => r.verdict === 'pass');
    void vscode.window.setStatusBarMessage(`KVM MMU scenario ${pass ? 'passed' : 'failed'}`, 4000);
    await this.open(target);
    this.current?.session.runToEnd();
    this.afterMove(undefined);
    return results;
  }

  // ---------------------------------------------------------------------------------------------
  // sessions (stepping)
  // ---------------------------------------------------------------------------------------------

  private activeScenarioUri(): vscode.Uri | undefined {
    const ed = vscode.window.activeTextEditor;
    if (ed && isScenarioDocument(ed.document)) return ed.document.uri;
    return this.current?.uri;
  }

  async open(uri: vscode.Uri, options: RunOptions = {}): Promise<ActiveScenario | undefined> {
    const { scenario, error } = await this.readScenario(uri, options);
    const engine = loadEngine();
    if (!scenario || !engine.factory) {
      void vscode.window.showErrorMessage(`KVM MMU Lab: ${error ?? engine.error}`);
      return undefined;
    }
    const session = new ScenarioSession(scenario, engine.factory, options);
    this.current = {
      uri,
      scenario,
      session,
      get engine() {
        return session.engine;
      },
      view: () => session.engine.view(),
      get history() {
        return session.engine.history;
      },
      get position() {
        return session.engine.position;
      },
    };
    this.activeEmitter.fire(this.current);
    this.afterMove(undefined);
    return this.current;
  }

  private async ensureSession(): Promise<ActiveScenario | undefined> {
    const uri = this.activeScenarioUri();
    if (this.current && (!uri || uri.toString() === this.current.uri.toString())) return this.current;
    if (!uri) {
      void vscode.window.showWarningMessage('KVM MMU Lab: open a *.kvmmmu.yaml scenario first.');
      return undefined;
    }
    return this.open(uri);
  }

  private async withSession<T>(f: (s: ActiveScenario | undefined) => T): Promise<T> {
    return f(await this.ensureSession());
  }

  step(): StepRecord | undefined {
    if (!this.current) return undefined;
    const rec = this.current.session.step();
    if (!rec && this.current.session.driver.error) void vscode.window.showWarningMessage(`KVM MMU Lab: ${this.current.session.driver.error}`);
    this.afterMove(rec);
    return rec;
  }

  stepBack(): boolean {
    if (!this.current) return false;
    const ok = this.current.session.stepBack();
    this.afterMove(undefined);
    return ok;
  }

  runToViolation(): StepRecord | undefined {
    if (!this.current) return undefined;
    const rec = this.current.session.runToViolation();
    if (rec) void vscode.window.setStatusBarMessage(`KVM MMU Lab: ${rec.violations.map((v) => v.id).join(', ')} at step ${rec.index}`, 5000);
    else void vscode.window.setStatusBarMessage('KVM MMU Lab: no further violation', 4000);
    this.afterMove(rec);
    return rec;
  }

  reset(): void {
    if (!this.current) return;
    this.current.session.reset();
    this.afterMove(undefined);
  }

  goto(index: number): void {
    if (!this.current) return;
    this.current.session.goto(Math.max(0, Math.floor(index)));
    this.afterMove(undefined);
  }

  private afterMove(record: StepRecord | undefined): void {
    const cur = this.current;
    if (!cur) {
      this.status.hide();
      return;
    }
    const pos = cur.position;
    const done = cur.session.finished;
    const vio = safeCount(() => cur.engine.violations().length);
    this.status.text = `$(debug-step-over) ${cur.scenario.name} · step ${pos}${done ? ' (end)' : ''} · ${cur.session.config.era}${vio ? ` · $(warning) ${vio}` : ''}`;
    this.status.tooltip = `KVM MMU scenario ${cur.scenario.name}\nera ${cur.session.config.era}, mmu ${cur.session.config.mmu}${cur.session.config.bug ? `, bug ${cur.session.config.bug}` : ''}\nclick: step`;
    this.status.show();
    this.updateDecorations();
    this.stepEmitter.fire({ active: cur, record, position: pos });
  }

  private updateDecorations(): void {
    const cur = this.current;
    for (const ed of vscode.window.visibleTextEditors) {
      if (!cur || ed.document.uri.toString() !== cur.uri.toString()) continue;
      const last = cur.history[cur.position - 1];
      const thread = last ? cur.scenario.threads.find((t) => t.id === last.thread) : undefined;
      const r = thread?.opRanges[last!.opIndex];
      ed.setDecorations(this.currentLine, r ? [toVsRange(r)] : []);
    }
  }
}

/** The expectation items known before running (ids match the runner's ExpectationResult ids). */
function staticExpectations(expect: Scenario['expect']): Array<{ id: string; label: string; range: import('../../scenario/types').Range }> {
  const out: Array<{ id: string; label: string; range: import('../../scenario/types').Range }> = [];
  const range = expect.violationsRange ?? expect.range;
  if (expect.violations) {
    if (expect.violations.length === 0) out.push({ id: 'violations:none', label: 'no invariant violations', range });
    else {
      for (const id of expect.violations) out.push({ id: `violations:${id}`, label: `violation ${id} appears`, range });
      if (!expect.allowExtra) out.push({ id: 'violations:only', label: `no violations other than ${expect.violations.join(', ')}`, range });
    }
  }
  for (const id of expect.absent ?? []) out.push({ id: `absent:${id}`, label: `violation ${id} does not appear`, range });
  expect.at.forEach((b, i) => {
    const where = b.point.kind === 'end' ? 'end' : b.point.kind === 'label' ? b.point.label : b.point.kind === 'slice' ? `slice ${b.point.index}` : `step ${b.point.index}`;
    for (const a of b.assertions) out.push({ id: `at:${i}:${a.path}`, label: `after ${where}: ${a.path}`, range: a.range });
  });
  return out;
}

function kernelLink(fn: string): string {
  const args = encodeURIComponent(JSON.stringify([`#${fn}`]));
  return `[${escapeMd(fn)}](command:workbench.action.quickOpen?${args})`;
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}

function safeCount(f: () => number): number {
  try {
    return f();
  } catch {
    return 0;
  }
}

export type { RunResult, BugId, EraId };
