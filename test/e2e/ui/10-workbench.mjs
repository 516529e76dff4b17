// UI checks, run in order by scripts/e2e.mjs against code-server with the packaged .vsix installed.
// Each step: { name, run(ctx), skip?(ctx) → false | 'reason', timeoutMs? }. A screenshot is saved in
// e2e-shots/ after every step (pass: NN-name.png, fail: NN-name-FAILED.png). Files run in name order;
// add a file (e.g. 60-explorer.mjs) to add checks. ctx = { page, ui, workspace, root, baseUrl, state }.
import { basename } from 'node:path';

export const steps = [
  {
    name: 'workbench loads the demo workspace',
    async run({ page, ui, workspace }) {
      await ui.waitWorkbench(page);
      const title = await page.locator('.explorer-folders-view, .pane-header').first().innerText().catch(() => '');
      const rows = await page.locator('.explorer-folders-view .monaco-list-row').allInnerTexts();
      if (!rows.some((r) => r.trim() === 'arch')) throw new Error(`explorer of ${basename(workspace)} lacks arch/: ${rows.join(', ')} ${title}`);
    },
  },
  {
    name: 'quick open mmu.c shows the kernel source',
    async run({ page, ui }) {
      await ui.quickOpen(page, 'mmu.c');
      const text = await page.locator('.editor-instance .view-lines').first().innerText();
      if (!/kvm_/.test(text)) throw new Error('mmu.c editor does not show kvm_ code');
    },
  },
  {
    name: 'installed extension runs KVM MMU Lab Show Engine Version',
    async run({ page, ui, state }) {
      await ui.runCommand(page, 'KVM MMU Lab: Show Engine Version');
      state.versionNotification = await ui.expectNotification(page, 'KVM MMU Lab:');
    },
  },
];
