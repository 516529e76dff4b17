// The MMU State panel (webview view kvmMmuLab.panel in the KVM MMU Lab activity-bar container) follows the
// scenario stepped in 30-live-hover.mjs: "KVM MMU Lab: Show MMU State Panel", then the panel's header must
// show the same step as the status bar, the generation, and the roots / generations / events sections must
// hold the current step's state; one more Step must move the panel to the next step. Screenshots in the
// dark theme (Dark Modern; this host's first window starts light) and, after "Preferences: Color Theme" → Light Modern, in the light theme (the theme is
// switched back to Dark Modern afterwards).
import { SCENARIO, SCENARIO_FILE, stepOnce } from './30-live-hover.mjs';

async function panelFrame(page, ui) {
  return ui.webviewFrameWith(page, '.panel-header', 60_000);
}

/** Wait until the panel header says `Step <n>`; returns the panel's text per part. */
async function panelAt(page, ui, n) {
  const f = await panelFrame(page, ui);
  await f.locator('.panel-header .step strong', { hasText: new RegExp(`^Step ${n}$`) }).waitFor({ state: 'visible', timeout: 45_000 });
  const text = async (sel) => (await f.locator(sel).first().innerText().catch(() => '')).replace(/\s+/g, ' ').trim();
  return {
    frame: f,
    header: await text('.panel-header'),
    roots: await text('#sec-roots'),
    generations: await text('#sec-generations'),
    events: await text('#sec-events'),
  };
}

function expectPanel(p, n) {
  const fail = (what) => { throw new Error(`panel at step ${n}: ${what}\n header: ${p.header.slice(0, 200)}\n roots: ${p.roots.slice(0, 200)}\n events: ${p.events.slice(0, 200)}`); };
  if (!p.header.includes(SCENARIO)) fail(`header does not name the scenario ${SCENARIO}`);
  if (!/\bgen \d+\b/.test(p.header)) fail('header shows no generation (gen N)');
  if (!/5\.18 · tdp/.test(p.header)) fail('header does not show the era and MMU (5.18 · tdp)');
  if (!/vcpu0/.test(p.roots) || !/\broot\b/.test(p.roots)) fail('roots section does not show vcpu0 and its root');
  if (!/mmu_valid_gen/.test(p.generations)) fail('generations section does not show mmu_valid_gen');
  const desc = p.header.match(/(\w+): (\w+) → /);
  if (!desc) fail('header does not describe the step (thread: op → stop)');
  if (!p.events.includes(desc[1])) fail(`events section does not show the step's thread ${desc[1]}`);
}

export const steps = [
  {
    name: 'panel shows roots, generation and events of the current step (dark theme)',
    timeoutMs: 180_000,
    async run({ page, ui, state }) {
      if (!state.step) throw new Error('no scenario is being stepped (30-live-hover failed)');
      await ui.hideNotifications(page);
      // code-server 4.139's first window follows the browser's (light) colour scheme: pick Dark Modern.
      const dark = await page.evaluate(() => document.querySelector('.monaco-workbench')?.classList.contains('vs-dark'));
      if (!dark) await ui.setColorTheme(page, 'Dark Modern', /^\s*(Default )?Dark Modern\s*$/, 'vs-dark');
      await ui.runCommand(page, 'KVM MMU Lab: Show MMU State Panel');
      const before = await panelAt(page, ui, state.step);
      expectPanel(before, state.step);
      // Step from the scenario editor; the panel must follow to the next step.
      await ui.quickOpen(page, SCENARIO_FILE, '2022-fast-zap-yield');
      await stepOnce(page, ui, state.step + 1);
      state.step += 1;
      const after = await panelAt(page, ui, state.step);
      expectPanel(after, state.step);
      if (after.header === before.header && after.events === before.events) throw new Error('the panel did not change after a step');
      state.panelHeader = after.header;
      await page.mouse.move(1395, 450); // off tabs and breadcrumbs: no stray tooltip in the screenshot
    },
  },
  {
    name: 'panel in the light theme (Light Modern)',
    timeoutMs: 120_000,
    async run({ page, ui, state }) {
      if (!state.step) throw new Error('no scenario is being stepped (30-live-hover failed)');
      await ui.setColorTheme(page, 'Light Modern', /^\s*(Default )?Light Modern\s*$/, 'vs');
      const p = await panelAt(page, ui, state.step);
      expectPanel(p, state.step);
      // The webview follows the theme: its body carries VS Code's light theme class.
      await p.frame.waitForFunction(() => document.body.classList.contains('vscode-light'), null, { timeout: 30_000 });
      await page.mouse.move(1395, 450);
    },
  },
  {
    name: 'back to the dark theme (Dark Modern) for the next checks',
    timeoutMs: 90_000,
    async run({ page, ui }) {
      await ui.setColorTheme(page, 'Dark Modern', /^\s*(Default )?Dark Modern\s*$/, 'vs-dark');
      const f = await ui.webviewFrameWith(page, '.panel-header', 30_000);
      await f.waitForFunction(() => document.body.classList.contains('vscode-dark'), null, { timeout: 30_000 });
    },
  },
];
