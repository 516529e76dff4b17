/**
 * VS Code side of the `kvm-mmu-lab` debugger: the inline adapter, launch configurations, the current-line
 * highlight, CodeLenses over simulated kernel functions and "Show Simulator State Here".
 * The adapter itself (src/debug) never imports vscode; this file only wires it in.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { StateView, StepRecord, Violation } from '../../engine/api';
import type { KernelIndex } from '../../kernel/kernel-index';
import type { DebugDeps, FunctionAtLine } from '../../debug/deps';
import { FallbackResolver } from '../../debug/fallback-resolver';
import { indexResolvers } from '../../debug/kernel-resolver';
import { createScenarioLoader } from '../../debug/scenario-loader';
import { engineSimulatedFunctions } from '../../debug/simulated';
import { DEBUG_TYPE, KvmMmuDebugSession, POSITION_EVENT, type PositionInfo } from '../../debug/session';

export { DEBUG_TYPE };
export const SHOW_STATE_COMMAND = 'kvmMmuLab.showSimulatorStateHere';
export const GOTO_FUNCTION_STEP_COMMAND = 'kvmMmuLab.debug.gotoFunctionStep';
const PANEL_COMMAND = 'kvmMmuLab.showPanel';

/** What the lead can pass in; everything has a default. */
export interface ExtensionDebugDeps extends Partial<DebugDeps> {
  /** The kernel index of the user's tree, when built (breakpoints and frames then use tree-sitter). */
  kernelIndex?: () => KernelIndex | undefined;
  /** Kernel tree roots for the regex fallback (default: the index root, workspace folders, the bundled demo tree). */
  treeRoots?: () => string[];
  /** Functions the engine simulates (CodeLenses then also show "not entered" for them). */
  isSimulated?: (fn: string) => boolean;
}

export interface FunctionEntry {
  count: number;
  lastStep: number;
}

/** Live data of the active kvm-mmu-lab session, refreshed after every stop (for hovers and the panel). */
export interface DebugLive {
  session: vscode.DebugSession;
  position: PositionInfo;
  /** Engine state after the current atomic step. */
  state: StateView;
  /** Function entries up to the current position (the shape of the hover's LiveValues.functionEntries). */
  functionEntries: Record<string, FunctionEntry>;
  /** Function entries over the whole run (CodeLenses: "entered N times in this run"). */
  runEntries: Record<string, FunctionEntry>;
  /** Steps taken by the engine (0 = initial state), as in the hover's LiveValues; `position.step` is the history index. */
  step: number;
  /** Display name of the scenario (its `scenario:` name). */
  scenario?: string;
  /** The current atomic step (undefined at the entry). */
  record?: StepRecord;
  /** Violations reported up to and including the current step. */
  violations: Violation[];
}

export interface DebuggerApi {
  readonly onDidChangeLive: vscode.Event<DebugLive | undefined>;
  live(): DebugLive | undefined;
  /**
   * Jump the active session to engine position `position` (steps taken, 0 = initial state), the
   * convention of `live().step` and the panel. With `fn`, stop where the step entering that position
   * enters `fn`.
   */
  gotoStep(position: number, fn?: string): Promise<boolean>;
  /** Jump to the atomic step with history index `index` (StepRecord.index; -1 = entry). */
  gotoStepIndex(index: number, fn?: string): Promise<boolean>;
}

export function registerDebugger(context: vscode.ExtensionContext, deps: ExtensionDebugDeps = {}): DebuggerApi {
  const demoTree = path.join(context.extensionPath, 'demo');
  const roots = (): string[] => {
    const out: string[] = [];
    const idx = deps.kernelIndex?.();
    if (idx) out.push(idx.root);
    for (const r of deps.treeRoots?.() ?? workspaceKernelTrees()) out.push(r);
    out.push(demoTree);
    return [...new Set(out)];
  };
  const isSimulated = deps.isSimulated ?? engineSimulatedFunctions();
  const fallback = new FallbackResolver(roots, isSimulated);
  const resolvers = indexResolvers(deps.kernelIndex ?? (() => undefined), fallback, isSimulated);
  const adapterDeps: DebugDeps = {
    loadScenario: deps.loadScenario ?? createScenarioLoader(),
    resolveFrame: deps.resolveFrame ?? resolvers.resolveFrame,
    functionsAtLine: deps.functionsAtLine ?? resolvers.functionsAtLine,
    ...(isSimulated ? { isSimulated } : {}),
  };

  // --- adapter and configurations -----------------------------------------------------------
  context.subscriptions.push(
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, {
      createDebugAdapterDescriptor: () =>
        new vscode.DebugAdapterInlineImplementation(new KvmMmuDebugSession(adapterDeps) as unknown as vscode.DebugAdapter),
    }),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new ScenarioConfigurationProvider(), vscode.DebugConfigurationProviderTriggerKind.Initial),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new DynamicScenarioConfigurations(), vscode.DebugConfigurationProviderTriggerKind.Dynamic),
  );

  // --- following the active session -----------------------------------------------------------
  const changed = new vscode.EventEmitter<DebugLive | undefined>();
  let live: DebugLive | undefined;
  const highlight = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('editor.stackFrameHighlightBackground'),
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.infoForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Full,
    after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 2em' },
  });
  const lenses = new SimulatedFunctionLenses(() => live, adapterDeps, fallback, isSimulated);

  const decorate = (): void => {
    for (const editor of vscode.window.visibleTextEditors) {
      const loc = live?.position.location;
      if (!live || !loc || path.resolve(editor.document.uri.fsPath) !== path.resolve(loc.path)) {
        editor.setDecorations(highlight, []);
        continue;
      }
      const line = Math.max(0, Math.min(editor.document.lineCount - 1, loc.line - 1));
      editor.setDecorations(highlight, [
        {
          range: new vscode.Range(line, 0, line, 0),
          renderOptions: { after: { contentText: `◀ ${live.position.thread} · step ${live.position.step}${live.position.fn ? ` · ${live.position.fn}` : ''}` } },
          hoverMessage: new vscode.MarkdownString(`KVM MMU Lab: simulator position (step ${live.position.step}, ${live.position.kind})`),
        },
      ]);
    }
  };

  const refresh = async (session: vscode.DebugSession, position: PositionInfo): Promise<void> => {
    try {
      const [state, soFar, run] = await Promise.all([
        session.customRequest('state') as Promise<{ view: StateView; record?: StepRecord; violations?: Violation[]; scenario?: string }>,
        session.customRequest('functionEntries') as Promise<{ entries: Record<string, FunctionEntry> }>,
        session.customRequest('functionEntries', { all: true }) as Promise<{ entries: Record<string, FunctionEntry> }>,
      ]);
      live = {
        session,
        position,
        state: state.view,
        functionEntries: soFar.entries,
        runEntries: run.entries,
        step: state.view.step,
        ...(state.record ? { record: state.record } : {}),
        violations: state.violations ?? [],
        scenario: state.scenario ?? path.basename(String(session.configuration.scenario ?? '')),
      };
    } catch {
      live = undefined;
    }
    decorate();
    lenses.refresh();
    changed.fire(live);
  };

  context.subscriptions.push(
    highlight,
    changed,
    vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => {
      if (e.session.type === DEBUG_TYPE && e.event === POSITION_EVENT) void refresh(e.session, e.body as PositionInfo);
    }),
    vscode.debug.onDidTerminateDebugSession((s) => {
      if (live?.session.id === s.id) {
        live = undefined;
        decorate();
        lenses.refresh();
        changed.fire(undefined);
      }
    }),
    vscode.window.onDidChangeVisibleTextEditors(() => decorate()),
    vscode.languages.registerCodeLensProvider([{ language: 'c' }, { scheme: 'file', pattern: '**/*.{c,h}' }], lenses),
    vscode.commands.registerCommand(GOTO_FUNCTION_STEP_COMMAND, async (index: number, fn?: string) => {
      await api.gotoStepIndex(index, fn);
    }),
    vscode.commands.registerCommand(SHOW_STATE_COMMAND, () => showStateHere(adapterDeps, fallback, api)),
  );

  const activeSession = (): vscode.DebugSession | undefined => {
    const s = vscode.debug.activeDebugSession;
    return s?.type === DEBUG_TYPE ? s : live?.session;
  };

  const api: DebuggerApi = {
    onDidChangeLive: changed.event,
    live: () => live,
    gotoStep(position: number, fn?: string): Promise<boolean> {
      return api.gotoStepIndex(position - 1, fn);
    },
    async gotoStepIndex(index: number, fn?: string): Promise<boolean> {
      const session = activeSession();
      if (!session) return false;
      try {
        await session.customRequest('gotoStep', fn ? { step: index, fn } : { step: index });
        return true;
      } catch (e) {
        void vscode.window.showWarningMessage(`KVM MMU Lab: ${e instanceof Error ? e.message : String(e)}`);
        return false;
      }
    },
  };
  return api;
}

/** Workspace folders that are kernel trees (have arch/x86/kvm), or their direct sub-folders that are. */
function workspaceKernelTrees(): string[] {
  const isTree = (d: string): boolean => {
    try {
      return fs.statSync(path.join(d, 'arch', 'x86', 'kvm')).isDirectory();
    } catch {
      return false;
    }
  };
  const out: string[] = [];
  for (const f of vscode.workspace.workspaceFolders ?? []) {
    const dir = f.uri.fsPath;
    if (isTree(dir)) {
      out.push(dir);
      continue;
    }
    try {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules' && isTree(path.join(dir, e.name))) out.push(path.join(dir, e.name));
      }
    } catch {
      /* unreadable folder */
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Launch configurations

const isScenarioFile = (p: string | undefined): boolean => !!p && /\.kvmmmu\.ya?ml$/i.test(p);

class ScenarioConfigurationProvider implements vscode.DebugConfigurationProvider {
  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    return [{ type: DEBUG_TYPE, request: 'launch', name: 'Debug KVM MMU scenario', scenario: '${file}', stopOnEntry: true }];
  }

  resolveDebugConfiguration(_folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration | undefined {
    // the scenario in the active editor, else one in another visible editor (e.g. F5 from a kernel C file beside it)
    const doc = [vscode.window.activeTextEditor, ...vscode.window.visibleTextEditors]
      .map((e) => e?.document)
      .find((d) => d && (d.languageId === 'kvmmmu-scenario' || isScenarioFile(d.fileName)));
    if (!config.type && !config.request && !config.name && doc) {
      return { type: DEBUG_TYPE, request: 'launch', name: `Debug ${path.basename(doc.fileName)}`, scenario: doc.fileName, stopOnEntry: true };
    }
    if (!config.scenario) {
      if (doc) config.scenario = doc.fileName;
      else {
        void vscode.window.showInformationMessage('KVM MMU Lab: open a *.kvmmmu.yaml scenario (or set "scenario" in the launch configuration) to debug it.');
        return undefined;
      }
    }
    config.type ??= DEBUG_TYPE;
    config.request ??= 'launch';
    config.name ??= `Debug ${path.basename(String(config.scenario))}`;
    return config;
  }

  /** "${file}" may have named a kernel C file: use the visible scenario instead, or say what is wrong. */
  resolveDebugConfigurationWithSubstitutedVariables(_folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration | undefined {
    const scenario = String(config.scenario ?? '');
    if (isScenarioFile(scenario)) return config;
    const visible = vscode.window.visibleTextEditors.map((e) => e.document.fileName).find(isScenarioFile);
    if (visible) return { ...config, scenario: visible };
    void vscode.window.showErrorMessage(`KVM MMU Lab: "${scenario}" is not a *.kvmmmu.yaml scenario.`);
    return undefined;
  }
}

class DynamicScenarioConfigurations implements vscode.DebugConfigurationProvider {
  async provideDebugConfigurations(folder: vscode.WorkspaceFolder | undefined): Promise<vscode.DebugConfiguration[]> {
    const pattern = folder ? new vscode.RelativePattern(folder, '**/*.kvmmmu.yaml') : '**/*.kvmmmu.yaml';
    const files = await vscode.workspace.findFiles(pattern, '**/node_modules/**', 50);
    return files
      .sort((a, b) => a.fsPath.localeCompare(b.fsPath))
      .map((uri) => ({ type: DEBUG_TYPE, request: 'launch', name: `Debug ${vscode.workspace.asRelativePath(uri)}`, scenario: uri.fsPath, stopOnEntry: true }));
  }
}

// ---------------------------------------------------------------------------------------------
// CodeLenses: "entered N times in this run — go to last step"

class SimulatedFunctionLenses implements vscode.CodeLensProvider {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.emitter.event;

  constructor(
    private readonly live: () => DebugLive | undefined,
    private readonly deps: DebugDeps,
    private readonly fallback: FallbackResolver,
    private readonly isSimulated?: (fn: string) => boolean,
  ) {}

  refresh(): void {
    this.emitter.fire();
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const live = this.live();
    if (!live) return [];
    const out: vscode.CodeLens[] = [];
    const fns = this.fallback.functionsIn(document.uri.fsPath);
    for (const f of fns) {
      // ask the real resolver for the function's names (index aliases), the fallback knows the layout
      let names = [f.name];
      try {
        const hit: FunctionAtLine | undefined = (await this.deps.functionsAtLine(document.uri.fsPath, f.line))[0];
        if (hit) names = [hit.fn, ...(hit.aliases ?? []), f.name];
      } catch {
        /* fallback names only */
      }
      const entry = names.map((n) => live.runEntries[n]).find(Boolean);
      const range = new vscode.Range(f.line - 1, 0, f.line - 1, 0);
      if (entry) {
        out.push(
          new vscode.CodeLens(range, {
            title: `entered ${entry.count} time${entry.count === 1 ? '' : 's'} in this run — go to last step (${entry.lastStep})`,
            command: GOTO_FUNCTION_STEP_COMMAND,
            arguments: [entry.lastStep, names.find((n) => live.runEntries[n]) ?? f.name],
          }),
        );
      } else if (this.isSimulated?.(f.name)) {
        out.push(new vscode.CodeLens(range, { title: 'simulated · not entered in this run', command: '' }));
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// "Show Simulator State Here"

async function showStateHere(deps: DebugDeps, fallback: FallbackResolver, api: DebuggerApi): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return;
  const file = editor.document.uri.fsPath;
  const line = editor.selection.active.line + 1;
  let names: string[] = [];
  try {
    const hit = (await deps.functionsAtLine(file, line))[0];
    if (hit) names = [hit.fn, ...(hit.aliases ?? [])];
  } catch {
    /* use the fallback below */
  }
  if (!names.length) {
    const f = fallback.functionsIn(file).find((x) => line >= x.line && line <= x.end);
    if (f) names = [f.name];
  }
  if (!names.length) {
    void vscode.window.showInformationMessage('KVM MMU Lab: the cursor is not inside a simulated kernel function.');
    return;
  }
  const commands = await vscode.commands.getCommands(true);
  if (commands.includes(PANEL_COMMAND)) await vscode.commands.executeCommand(PANEL_COMMAND);
  const session = vscode.debug.activeDebugSession?.type === DEBUG_TYPE ? vscode.debug.activeDebugSession : api.live()?.session;
  if (!session) {
    void vscode.window.showInformationMessage(`KVM MMU Lab: start debugging a scenario (debug type "${DEBUG_TYPE}") to see the simulator state in ${names[0]}.`);
    return;
  }
  const { entries } = (await session.customRequest('functionEntries', { all: true })) as { entries: Record<string, FunctionEntry> };
  const name = names.find((n) => entries[n]);
  if (!name) {
    void vscode.window.showInformationMessage(`KVM MMU Lab: ${names[0]} is not entered in this run.`);
    return;
  }
  await api.gotoStepIndex(entries[name]!.lastStep, name);
}
