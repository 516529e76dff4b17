// Hovers over kernel symbols in the demo tree's mmu.c: a function, a per-VM field and a vCPU request. Each
// step reveals a line that uses the symbol, hovers it and requires the knowledge base's explanation (the
// entry's kind and the start of its summary, read from the compiled src/knowledge when present) inside
// `.monaco-hover`. One screenshot per symbol.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const FILE = 'arch/x86/kvm/mmu/mmu.c';

/** The knowledge base's expected hover (tsc output in out/, compiled by the unit tier), or undefined. */
export function expectedHover(root, word) {
  try {
    const { hoverFor } = createRequire(import.meta.url)(join(root, 'out/src/knowledge/hover.js'));
    const r = hoverFor(word, {});
    if (!r) return undefined;
    const paras = r.markdown.split('\n\n');
    // paragraph 2 is the summary; drop markdown markup and keep a prefix that is plain in the rendering
    const summary = (paras[1] || '').replace(/[`*_]/g, '').split(/[:;(]/)[0].slice(0, 60).trim();
    const kind = (paras[0].split(' — ')[1] || '').split(' · ')[0].trim();
    return { summary, kind };
  } catch {
    return undefined;
  }
}

/** 1-based line of the first line of `file` matching `re`. */
export function lineOf(workspace, file, re) {
  const i = readFileSync(join(workspace, file), 'utf8').split('\n').findIndex((l) => re.test(l));
  if (i < 0) throw new Error(`${file}: no line matches ${re}`);
  return i + 1;
}

const norm = (s) => s.replace(/\s+/g, ' ');

function hoverStep(name, word, lineRe, kindRe) {
  return {
    name,
    timeoutMs: 90_000,
    async run({ page, ui, root, state, workspace }) {
      await ui.hideNotifications(page);
      if (!(await page.title()).startsWith('mmu.c ')) await ui.quickOpen(page, 'mmu.c');
      await ui.gotoLine(page, lineOf(workspace, FILE, lineRe));
      const exp = expectedHover(root, word);
      const until = new RegExp(exp ? exp.summary.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : 'Protected by');
      const text = await ui.hoverWord(page, word, 30_000, until);
      (state.hovers ||= {})[word] = text;
      if (!text) throw new Error(`no hover over ${word}`);
      const t = norm(text);
      if (!t.includes(word)) throw new Error(`hover over ${word} does not name it: ${JSON.stringify(t.slice(0, 200))}`);
      if (!kindRe.test(t)) throw new Error(`hover over ${word} lacks its kind ${kindRe}: ${JSON.stringify(t.slice(0, 200))}`);
      if (exp && !t.includes(exp.summary)) throw new Error(`hover over ${word} lacks the explanation ${JSON.stringify(exp.summary)}: ${JSON.stringify(t.slice(0, 300))}`);
      if (!/Protected by:/.test(t)) throw new Error(`hover over ${word} lacks "Protected by:": ${JSON.stringify(t.slice(0, 300))}`);
    },
  };
}

export const steps = [
  hoverStep('hover a function kvm_mmu_zap_all_fast in mmu.c', 'kvm_mmu_zap_all_fast', /^static void kvm_mmu_zap_all_fast\(/, /— function/),
  hoverStep('hover a field mmu_valid_gen in mmu.c', 'mmu_valid_gen', /kvm->arch\.mmu_valid_gen = kvm->arch\.mmu_valid_gen \?/, /— per-VM MMU field/),
  hoverStep('hover a request KVM_REQ_MMU_FREE_OBSOLETE_ROOTS in mmu.c', 'KVM_REQ_MMU_FREE_OBSOLETE_ROOTS', /kvm_make_all_cpus_request\(kvm, KVM_REQ_MMU_FREE_OBSOLETE_ROOTS\)/, /— vCPU request/),
];
