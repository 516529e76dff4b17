import * as vscode from 'vscode';
import { ENGINE_NAME, ENGINE_VERSION } from '../engine/version';

/** Activation entry point: registers everything through one disposable owner. */
export function activate(context: vscode.ExtensionContext): { activationMs: number } {
  // activationMs (activate() start -> ready) is read back by the e2e tier and `npm run bench`.
  const started = performance.now();
  context.subscriptions.push(
    vscode.commands.registerCommand('kvmMmuLab.showVersion', () => {
      const text = `${ENGINE_NAME} ${ENGINE_VERSION}`;
      void vscode.window.showInformationMessage(`KVM MMU Lab: ${text}`);
      return text;
    }),
  );
  return { activationMs: performance.now() - started };
}

export function deactivate(): void {
  /* every resource is owned by context.subscriptions */
}
