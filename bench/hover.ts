// Hover budget: p95 of the pure hover pipeline (word at position on a 10,000-line C file + lookup + markdown
// rendering, with live values), index warm. Prints nothing; returns { hoverP95Ms }.
import { hoverFor, wordAt, buildLiveValues } from '../src/knowledge/hover';
import { ALL_ENTRIES } from '../src/knowledge/index';
import type { StateView } from '../src/engine/api';

function generateFile(lines: number): { text: string; lineStarts: number[] } {
  const names = ALL_ENTRIES.map((e) => e.name).filter((n) => !n.startsWith('FNAME'));
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const n = names[i % names.length]!;
    switch (i % 5) {
      case 0: out.push(`static void helper_${i}(struct kvm *kvm, struct kvm_mmu_page *sp)`); break;
      case 1: out.push(`\tif (${n}(kvm, sp) && sp->role.invalid) /* x */`); break;
      case 2: out.push(`\t\tkvm->arch.${n} = local_${i} + 0x${(i * 7).toString(16)};`); break;
      case 3: out.push(`\tFNAME(page_fault)(vcpu, fault); ${n};`); break;
      default: out.push('}');
    }
  }
  const text = out.join('\n');
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  return { text, lineStarts };
}

function liveState(): StateView {
  const shadowPages = Array.from({ length: 200 }, (_, i) => ({
    id: i, gfn: i, role: {}, roleWord: '0x0', level: 1, tdp: false, unsync: i % 7 === 0, unsyncChildren: 0, unsyncChildBitmap: [],
    rootCount: i % 50 === 0 ? 1 : 0, mmuValidGen: i % 2, obsolete: i % 2 === 0, invalid: false, lifetime: 'live' as const, parentPtes: [], sptes: [], onActiveList: true, inHash: true,
  }));
  return {
    era: '6.19', mmu: 'shadow', step: 100,
    vm: { mmu_valid_gen: 1, active_mmu_pages: shadowPages.map((p) => p.id), zapped_obsolete_pages: [], tdp_mmu_roots: [], n_used_mmu_pages: 200, n_max_mmu_pages: 400,
      mmu_invalidate_seq: 4, mmu_invalidate_in_progress: 0, mmu_invalidate_range: null, indirect_shadow_pages: 100, mmu_lock: { type: 'rwlock', holders: [] }, stats: {}, names: {} },
    vcpus: [0, 1, 2, 3].map((id) => ({ id, root: null, prevRoots: [null, null, null], guestMode: false, inGuest: false, requests: [], tlb: [], modeBits: {} })),
    shadowPages, memslots: [], host: { ptes: [], pages: [] }, threads: [],
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const { text, lineStarts } = generateFile(10_000);
  const live = buildLiveValues(liveState(), []);
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const sample = () => {
    const line = rnd(lineStarts.length);
    const start = lineStarts[line]!;
    const end = line + 1 < lineStarts.length ? lineStarts[line + 1]! - 1 : text.length;
    return start + rnd(Math.max(1, end - start));
  };
  // warm-up (index and JIT)
  for (let i = 0; i < 300; i++) {
    const w = wordAt(text, sample());
    if (w) hoverFor(w.word, { treeVersion: '6.19', live });
  }
  const times: number[] = [];
  let hits = 0;
  for (let i = 0; i < 2000; i++) {
    const off = sample();
    const t0 = process.hrtime.bigint();
    const w = wordAt(text, off);
    const h = w ? hoverFor(w.word, { treeVersion: '6.19', live, hasDefinition: () => true }) : undefined;
    const t1 = process.hrtime.bigint();
    if (h) hits++;
    times.push(Number(t1 - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const p = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { hoverP95Ms: Number(p(0.95).toFixed(3)), hoverP50Ms: Number(p(0.5).toFixed(3)), hoverSamples: times.length, hoverHits: hits };
}
