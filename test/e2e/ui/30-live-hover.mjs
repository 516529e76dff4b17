// A scenario running: open the bundled TDP scenario (fast zap, era 5.18), run "KVM MMU Lab: Step" from the
// command palette a few times (the status bar follows the step), then hover mmu_valid_gen in mmu.c again:
// the hover's live section must name the scenario and the step and show kvm->arch.mmu_valid_gen's value.
import { lineOf } from './20-hover.mjs';

export const SCENARIO_FILE = '2022-fast-zap-yield-before-request.kvmmmu.yaml';
export const SCENARIO = 'fast-zap-yield-before-request';
const STEPS = 8;

/** Run "KVM MMU Lab: Step" once and wait until the status bar shows the next step. */
export async function stepOnce(page, ui, expected) {
  await ui.runCommand(page, 'KVM MMU Lab: Step');
  await ui.waitStatusBar(page, new RegExp(`${SCENARIO} · step ${expected}\\b`), 45_000);
}

export const steps = [
  {
    name: 'step the TDP fast-zap scenario from the command palette',
    timeoutMs: 240_000,
    async run({ page, ui, state }) {
      await ui.hideNotifications(page);
      await ui.quickOpen(page, SCENARIO_FILE, '2022-fast-zap-yield');
      for (let i = 1; i <= STEPS; i++) await stepOnce(page, ui, i);
      state.step = STEPS;
    },
  },
  {
    name: 'hover mmu_valid_gen shows the live value of the running scenario',
    timeoutMs: 120_000,
    async run({ page, ui, state, workspace }) {
      if (!state.step) throw new Error('no scenario is being stepped (previous check failed)');
      await ui.quickOpen(page, 'mmu.c');
      await ui.gotoLine(page, lineOf(workspace, 'arch/x86/kvm/mmu/mmu.c', /kvm->arch\.mmu_valid_gen = kvm->arch\.mmu_valid_gen \?/));
      const text = (await ui.hoverWord(page, 'mmu_valid_gen', 30_000, /Live/)).replace(/\s+/g, ' ');
      state.liveHover = text;
      const title = `Live — ${SCENARIO} (step ${state.step})`;
      if (!text.includes(title)) throw new Error(`hover lacks its live section "${title}": ${JSON.stringify(text.slice(-400))}`);
      if (!/kvm->arch\.mmu_valid_gen = \d+/.test(text)) throw new Error(`live section lacks kvm->arch.mmu_valid_gen's value: ${JSON.stringify(text.slice(-400))}`);
      // leave the hover on screen, scrolled to its live section, for the screenshot
      await ui.scrollHoverToEnd(page);
      await page.locator('.monaco-hover:not(.hidden)', { hasText: title }).first().waitFor({ state: 'visible', timeout: 10_000 });
    },
  },
];
