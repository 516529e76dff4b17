// Open the KVM MMU Lab panel (webview). HOOK: skipped until package.json contributes a command whose
// id mentions "panel" (e.g. kvmMmuLab.openPanel); then it runs that command and expects a rendered webview.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function panelCommand(root) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return (pkg.contributes?.commands ?? []).find((c) => /panel/i.test(c.command));
}

export const steps = [
  {
    name: 'open the KVM MMU Lab panel',
    skip: ({ root }) => (panelCommand(root) ? false : 'no panel command contributed yet'),
    timeoutMs: 90_000,
    async run({ page, ui, root }) {
      await ui.hideNotifications(page);
      const cmd = panelCommand(root);
      await ui.runCommand(page, `${cmd.category ? `${cmd.category}: ` : ''}${cmd.title}`);
      await page.locator('.webview.ready, iframe.webview').first().waitFor({ state: 'attached', timeout: 60_000 });
      const deadline = Date.now() + 60_000;
      for (;;) {
        for (const f of ui.webviewFrames(page)) {
          const body = await f.locator('body').innerText().catch(() => '');
          if (body.trim().length > 0) return;
        }
        if (Date.now() > deadline) throw new Error('the panel webview rendered no text');
        await page.waitForTimeout(500);
      }
    },
  },
];
