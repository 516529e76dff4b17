/** Engine identity, shared by the CLI and the extension (the engine imports nothing from `vscode`). */
export const ENGINE_NAME = 'kvm-mmu-lab-engine';
export const ENGINE_VERSION = '0.1.0';
