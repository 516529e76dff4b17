import * as vscode from 'vscode';
import { ENGINE_NAME, ENGINE_VERSION } from '../engine/version';
import { registerKernelIndex, type KernelIndexService } from './kernel/index';
import { registerScenarioFeatures } from './scenario/index';
import { registerDebugger } from './debug/index';
import { registerPanel } from './panel/index';
import { registerHoverProvider, openDefinition, type HoverDeps } from './hover/index';
import { registerExplorer } from './explorer/index';
import { LiveRunHub } from './live';

/** What activate() hands back: the measured activation time and the services, for tests and other extensions. */
export interface KvmMmuLabApi {
  activationMs: number;
  kernel: KernelIndexService;
}

/**
 * Activation entry point, the composition root: every room registers itself through
 * `context.subscriptions`, and the cross-room wiring (which session feeds the panel and the hovers)
 * happens here and nowhere else.
 */
export function activate(context: vscode.ExtensionContext): KvmMmuLabApi {
  // activationMs (activate() start -> ready) is read back by the e2e tier and `npm run bench`.
  const started = performance.now();
  const log = vscode.window.createOutputChannel('KVM MMU Lab');
  context.subscriptions.push(log);

  context.subscriptions.push(
    vscode.commands.registerCommand('kvmMmuLab.showVersion', () => {
      const text = `${ENGINE_NAME} ${ENGINE_VERSION}`;
      void vscode.window.showInformationMessage(`KVM MMU Lab: ${text}`);
      return text;
    }),
  );

  const kernel = registerKernelIndex(context);
  const scenarios = registerScenarioFeatures(context);
  const debuggerApi = registerDebugger(context, {
    kernelIndex: () => kernel.current(),
  });
  const hub = new LiveRunHub(scenarios, debuggerApi, kernel);
  context.subscriptions.push(hub);
  context.subscriptions.push(registerPanel(context, hub));

  const hoverDeps: HoverDeps = {
    treeVersion: (uri) => {
      const index = kernel.current();
      if (!index?.version || !uri.fsPath.startsWith(index.root)) return undefined;
      return index.version.text;
    },
    live: () => hub.liveValues(),
    definition: (name) => {
      const location = kernel.definition(name);
      return location ? { uri: location.uri, line: location.range.start.line } : undefined;
    },
  };
  registerHoverProvider(context, hoverDeps);
  context.subscriptions.push(
    vscode.commands.registerCommand('kvmMmuLab.openDefinition', async (arg: { name?: string } | undefined) => {
      const shown = await openDefinition(hoverDeps, arg);
      if (!shown) void vscode.window.showWarningMessage(`KVM MMU Lab: no definition of ${arg?.name ?? '(nothing)'} in the kernel tree.`);
      return shown;
    }),
  );

  registerExplorer(context, { log });

  return { activationMs: performance.now() - started, kernel };
}

export function deactivate(): void {
  /* every resource is owned by context.subscriptions */
}
