import * as vscode from 'vscode';
import { parseScenario } from '../../scenario/parser';
import { loadEngine } from '../../scenario/engine-loader';
import type { Diagnostic, Range } from '../../scenario/types';

export const LANGUAGE_ID = 'kvmmmu-scenario';

export function isScenarioDocument(doc: vscode.TextDocument): boolean {
  return doc.languageId === LANGUAGE_ID || doc.uri.path.endsWith('.kvmmmu.yaml');
}

export function toVsRange(r: Range): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, Math.max(r.end.character, r.end.line === r.start.line ? r.start.character + 1 : r.end.character));
}

export function toVsDiagnostic(d: Diagnostic): vscode.Diagnostic {
  const sev = d.severity === 'error' ? vscode.DiagnosticSeverity.Error : d.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information;
  const out = new vscode.Diagnostic(toVsRange(d.range), d.message, sev);
  out.source = 'kvm-mmu-lab';
  out.code = d.code;
  return out;
}

/** Diagnostics on open/change of scenario documents, debounced per document. */
export function registerDiagnostics(context: vscode.ExtensionContext, delayMs = 250): vscode.DiagnosticCollection {
  const collection = vscode.languages.createDiagnosticCollection(LANGUAGE_ID);
  const timers = new Map<string, NodeJS.Timeout>();
  const refresh = (doc: vscode.TextDocument): void => {
    if (!isScenarioDocument(doc)) return;
    loadEngine(); // once: the engine's invariant catalogue sharpens the checks
    const r = parseScenario(doc.getText(), { file: doc.uri.fsPath });
    collection.set(doc.uri, r.diagnostics.map(toVsDiagnostic));
  };
  const schedule = (doc: vscode.TextDocument, delay: number): void => {
    if (!isScenarioDocument(doc)) return;
    const key = doc.uri.toString();
    const old = timers.get(key);
    if (old) clearTimeout(old);
    timers.set(key, setTimeout(() => {
      timers.delete(key);
      refresh(doc);
    }, delay));
  };
  context.subscriptions.push(
    collection,
    vscode.workspace.onDidOpenTextDocument((d) => schedule(d, 0)),
    vscode.workspace.onDidChangeTextDocument((e) => schedule(e.document, delayMs)),
    vscode.workspace.onDidCloseTextDocument((d) => {
      collection.delete(d.uri);
      const t = timers.get(d.uri.toString());
      if (t) clearTimeout(t);
    }),
    { dispose: () => timers.forEach((t) => clearTimeout(t)) },
  );
  for (const d of vscode.workspace.textDocuments) schedule(d, 0);
  return collection;
}
