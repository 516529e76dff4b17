// The kvm-mmu-lab debugger: a breakpoint inside kvm_tdp_mmu_map in tdp_mmu.c, then "Debug: Start
// Debugging" with the launch configuration of test/e2e/fixtures/ui-workspace/.vscode/launch.json (the
// bundled TDP fast-zap scenario, stopOnEntry false). The session must stop at the breakpoint: the Call Stack
// shows kvm_tdp_mmu_map (kernel frames of a simulated thread), the Variables view shows scopes, the editor
// marks the stopped line. Then the session is stopped.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const FILE = 'arch/x86/kvm/mmu/tdp_mmu.c';
const FN = 'kvm_tdp_mmu_map';

function breakpointLine(workspace) {
  const lines = readFileSync(join(workspace, FILE), 'utf8').split('\n');
  const start = lines.findIndex((l) => new RegExp(`^\\w.*\\b${FN}\\(`).test(l));
  if (start < 0) throw new Error(`${FN} is not defined in ${FILE}`);
  const body = lines.findIndex((l, i) => i > start && /^\s+int ret = /.test(l));
  return (body > start && body < start + 12 ? body : start + 2) + 1;
}

export const steps = [
  {
    name: 'debugger stops at a breakpoint in kvm_tdp_mmu_map (call stack and variables)',
    timeoutMs: 180_000,
    async run({ page, ui, workspace, state }) {
      await ui.hideNotifications(page);
      await ui.quickOpen(page, 'tdp_mmu.c');
      const line = breakpointLine(workspace);
      await ui.gotoLine(page, line);
      await ui.runCommand(page, 'Debug: Toggle Breakpoint');
      await page.locator('.editor-instance .codicon-debug-breakpoint').first().waitFor({ state: 'attached', timeout: 20_000 });
      await ui.runCommand(page, 'Debug: Start Debugging');
      // Stopped: the stopped thread (vcpu0) is on the call stack, the editor marks the top frame's line.
      const thread = page.locator('.debug-call-stack .monaco-list-row:has(.thread)', { hasText: /vcpu0/i }).first();
      await thread.waitFor({ state: 'visible', timeout: 90_000 });
      await page.locator('.debug-toolbar').first().waitFor({ state: 'visible', timeout: 30_000 });
      await page.locator('.editor-instance .debug-top-stack-frame, .editor-instance .debug-top-stack-frame-line').first().waitFor({ state: 'attached', timeout: 30_000 });
      // Its kernel frames: kvm_tdp_mmu_map in tdp_mmu.c on top (expand the thread when VS Code left it collapsed).
      const frame = page.locator('.debug-call-stack .monaco-list-row:has(.stack-frame)', { hasText: FN }).first();
      try { await frame.waitFor({ state: 'visible', timeout: 5_000 }); }
      catch {
        await thread.locator('.monaco-tl-twistie').first().click();
        await frame.waitFor({ state: 'visible', timeout: 30_000 });
      }
      const frames = (await page.locator('.debug-call-stack .monaco-list-row:has(.stack-frame)').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
      state.debugFrames = frames;
      console.log(`      call stack: ${frames.join(' | ')}`);
      if (!/tdp_mmu\.c/.test(frames.find((f) => f.includes(FN)) || '')) throw new Error(`the ${FN} frame is not in tdp_mmu.c: ${JSON.stringify(frames)}`);
      if (frames.length < 2) throw new Error(`expected the kernel call chain under ${FN}, got ${JSON.stringify(frames)}`);
      // Variables: the scopes of the top frame; open its arguments.
      const scope = page.locator('.debug-variables .monaco-list-row', { hasText: /Arguments/ }).first();
      await scope.waitFor({ state: 'visible', timeout: 30_000 });
      if ((await scope.getAttribute('aria-expanded')) !== 'true') await scope.click();
      const rows = page.locator('.debug-variables .monaco-list-row');
      await page.waitForFunction(() => document.querySelectorAll('.debug-variables .monaco-list-row').length > 6, null, { timeout: 30_000 });
      state.debugVariables = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    },
  },
  {
    name: 'stop the debug session',
    timeoutMs: 60_000,
    async run({ page, ui }) {
      await ui.runCommand(page, 'Debug: Stop');
      await page.locator('.debug-toolbar').first().waitFor({ state: 'hidden', timeout: 30_000 });
    },
  },
];
