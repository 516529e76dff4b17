import type * as vscode from 'vscode';
import type { ScenarioService } from './scenario/index';

/**
 * Placeholder seam for the interleaving explorer: it is wired in once its room lands.
 * Kept as a separate file so activation does not depend on it.
 */
export function registerExplorerIfPresent(_context: vscode.ExtensionContext, _scenarios: ScenarioService, _log: vscode.OutputChannel): void {
  /* replaced when src/extension/explorer exists */
}
