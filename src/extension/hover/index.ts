/**
 * VS Code hover provider for kernel C files and scenario files. A thin wrapper around the pure pipeline in
 * src/knowledge/hover.ts; every optional source comes from `HoverDeps`, filled in by other rooms.
 */
import * as vscode from 'vscode';
import { hoverFor, wordAt, HOVER_COMMANDS, type LiveValues } from '../../knowledge/hover';

export type { LiveValues, FunctionEntryCount } from '../../knowledge/hover';
export { buildLiveValues } from '../../knowledge/hover';

/** Optional sources; each may be absent (the hover then simply omits that part). */
export interface HoverDeps {
  /** Kernel version detected for the tree that contains `uri` (e.g. "6.19", "5.17-rc5"), if known. */
  treeVersion?: (uri: vscode.Uri) => string | undefined;
  /** Live values of the scenario being stepped, if one is active. */
  live?: () => LiveValues | undefined;
  /** Where `name` is defined in the workspace's kernel tree, if known (enables the "Open definition" link). */
  definition?: (name: string) => { uri: vscode.Uri; line: number } | undefined;
}

export const SCENARIO_LANGUAGE_ID = 'kvmmmu-scenario';

/** Documents the provider answers for: C sources/headers of a kernel tree, and scenario files. */
export const HOVER_SELECTOR: vscode.DocumentSelector = [
  { language: 'c' },
  { language: 'cpp', pattern: '**/*.h' },
  { scheme: 'file', pattern: '**/*.{c,h}' },
  { scheme: 'untitled', language: 'c' },
  { language: SCENARIO_LANGUAGE_ID },
  { pattern: '**/*.kvmmmu.yaml' },
];

function isScenario(doc: vscode.TextDocument): boolean {
  return doc.languageId === SCENARIO_LANGUAGE_ID || doc.fileName.endsWith('.kvmmmu.yaml');
}

export class KvmHoverProvider implements vscode.HoverProvider {
  constructor(private readonly deps: HoverDeps = {}) {}

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const line = document.lineAt(position.line).text;
    const w = wordAt(line, position.character);
    if (!w) return undefined;
    const { deps } = this;
    const treeVersion = safe(() => deps.treeVersion?.(document.uri));
    const live = safe(() => deps.live?.());
    const definition = deps.definition;
    const result = hoverFor(w.word, {
      ...(treeVersion ? { treeVersion } : {}),
      ...(live ? { live } : {}),
      ...(definition ? { hasDefinition: (n: string) => safe(() => definition(n)) !== undefined } : {}),
      scenario: isScenario(document),
    });
    if (!result) return undefined;
    const md = new vscode.MarkdownString(result.markdown);
    md.isTrusted = { enabledCommands: [...HOVER_COMMANDS] };
    md.supportHtml = false;
    return new vscode.Hover(md, new vscode.Range(position.line, w.start, position.line, w.end));
  }
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** Register the hover provider; the returned disposable unregisters it. */
export function registerHoverProvider(context: vscode.ExtensionContext, deps: HoverDeps): vscode.Disposable {
  const disposable = vscode.languages.registerHoverProvider(HOVER_SELECTOR, new KvmHoverProvider(deps));
  context.subscriptions.push(disposable);
  return disposable;
}

/**
 * Helper for the lead: what `kvmMmuLab.openDefinition` with `{name}` should do, using the same deps.
 * Returns true when a definition was found and shown.
 */
export async function openDefinition(deps: HoverDeps, arg: { name?: string } | undefined): Promise<boolean> {
  const name = arg?.name;
  const loc = name ? safe(() => deps.definition?.(name)) : undefined;
  if (!loc) return false;
  const doc = await vscode.workspace.openTextDocument(loc.uri);
  const pos = new vscode.Position(Math.max(0, loc.line), 0);
  await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos) });
  return true;
}
