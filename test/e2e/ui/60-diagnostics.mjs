// Diagnostics of a broken scenario: test/e2e/fixtures/ui-workspace/scenarios/zz-broken.kvmmmu.yaml (copied
// into the UI tier's temporary workspace, never into demo/) uses an unknown step. Opening it must put an
// error squiggle under the step and the message into the Problems panel.
const FILE = 'zz-broken.kvmmmu.yaml';
const MESSAGE = "unknown step 'teleport_page'";

export const steps = [
  {
    name: 'broken scenario shows its error squiggle and the Problems panel entry',
    timeoutMs: 120_000,
    async run({ page, ui }) {
      await ui.hideNotifications(page);
      await ui.quickOpen(page, FILE, 'zz-broken');
      await page.locator('.editor-instance .squiggly-error').first().waitFor({ state: 'attached', timeout: 45_000 });
      // Problems panel: Ctrl+Shift+M, or the view command when the key is taken.
      const panel = page.locator('.markers-panel');
      await page.keyboard.press('Control+Shift+M');
      try { await panel.first().waitFor({ state: 'visible', timeout: 10_000 }); }
      catch { await ui.runCommand(page, 'View: Focus Problems'); await panel.first().waitFor({ state: 'visible', timeout: 30_000 }); }
      const row = panel.locator('.monaco-list-row', { hasText: MESSAGE }).first();
      await row.waitFor({ state: 'visible', timeout: 30_000 });
      const text = (await row.innerText()).replace(/\s+/g, ' ');
      if (!/kvm-mmu-lab/.test(text)) throw new Error(`problem row lacks its source kvm-mmu-lab: ${text}`);
      // The squiggled word carries the same message on hover.
      const hover = await ui.hoverWord(page, 'teleport_page', 20_000, /unknown step/);
      if (!hover.includes(MESSAGE)) throw new Error(`hover over the squiggle lacks the message: ${JSON.stringify(hover.slice(0, 300))}`);
    },
  },
  {
    name: 'close the Problems panel',
    // no screenshot worth keeping, but the step keeps the next checks' editor area clear
    timeoutMs: 60_000,
    async run({ page, ui }) {
      await page.keyboard.press('Escape');
      await ui.hideBottomPanel(page);
      await page.locator('.markers-panel').first().waitFor({ state: 'hidden', timeout: 20_000 });
    },
  },
];
