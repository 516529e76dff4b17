// Hover over a kernel symbol in mmu.c.
// HOOK: once the extension registers a hover provider (dist/extension.js calls registerHoverProvider), this check requires a hover that names the symbol. Before that, it only
// checks that the symbol is on screen and records that no hover provider exists yet.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const SYMBOLS = ['kvm_zap_obsolete_pages', 'kvm_mmu_zap_all_fast', 'kvm_mmu_page_fault', 'kvm_mmu_commit_zap_page'];

function hasHoverProvider(root) {
  // What ships decides: the production bundle that the .vsix carries (property names survive minifying).
  try { return readFileSync(join(root, 'dist/extension.js'), 'utf8').includes('registerHoverProvider'); } catch { return false; }
}

export const steps = [
  {
    name: 'hover a kernel symbol in mmu.c',
    async run({ page, ui, root, state, workspace }) {
      await ui.hideNotifications(page);
      if (!(await page.title()).startsWith('mmu.c ')) await ui.quickOpen(page, 'mmu.c');
      // Reveal the first definition of a known symbol, then hover it.
      const lines = readFileSync(join(workspace, 'arch/x86/kvm/mmu/mmu.c'), 'utf8').split('\n');
      let symbol, line = -1;
      for (const s of SYMBOLS) {
        line = lines.findIndex((l) => new RegExp(`^\\w.*\\b${s}\\(`).test(l));
        if (line >= 0) { symbol = s; break; }
      }
      if (!symbol) throw new Error(`none of ${SYMBOLS.join(', ')} is defined in mmu.c`);
      await ui.gotoLine(page, line + 1);
      await ui.tokenLocator(page, symbol).waitFor({ state: 'visible', timeout: 20_000 });
      const expectHover = hasHoverProvider(root);
      const text = await ui.hoverWord(page, symbol, expectHover ? 20_000 : 3_000);
      state.hover = { symbol, text };
      if (expectHover) {
        if (!text.includes(symbol)) throw new Error(`hover over ${symbol} did not name it: ${JSON.stringify(text.slice(0, 200))}`);
      } else {
        console.log(`      (no hover provider in dist/extension.js yet; hover text was ${JSON.stringify(text.slice(0, 80))})`);
      }
    },
  },
];
