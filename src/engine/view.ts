/** Plain-data views of the engine state, and the canonical form used by stateHash(). */
import type { RmapHeadView, ShadowPageView, SpteView, StateView, ThreadId, ThreadKind, Frame } from './api';
import type { Kvm } from './kvm';
import { TextSink, walkCanonical } from './canonical';
import { PFN_FIRST, Sp, isPresent, sptePfn, SP_PFN_BASE, SPTE_A, SPTE_D, SPTE_PS, SPTE_W, SPTE_MMIO } from './state';

const hex = (n: number) => '0x' + n.toString(16);
const LIFE = ['live', 'invalid-list', 'freed'] as const;

export function spteView(kvm: Kvm, sp: Sp, i: number, v: number): SpteView {
  const leaf = kvm.isLeaf(sp, v);
  const pfn = sptePfn(v);
  return {
    index: i, value: hex(v), present: isPresent(v), writable: Math.floor(v / SPTE_W) % 2 === 1, accessed: Math.floor(v / SPTE_A) % 2 === 1,
    dirty: Math.floor(v / SPTE_D) % 2 === 1, huge: sp.level > 1 && Math.floor(v / SPTE_PS) % 2 === 1, mmio: v >= SPTE_MMIO, leaf,
    ...(leaf ? { pfn } : { child: pfn - SP_PFN_BASE }),
  };
}

export function spView(kvm: Kvm, sp: Sp): ShadowPageView {
  const sptes: SpteView[] = [];
  if (sp.spt) for (let i = 0; i < 512; i++) { const v = sp.spt[i]; if (v !== 0) sptes.push(spteView(kvm, sp, i, v)); }
  return {
    id: sp.id, gfn: sp.gfn, role: kvm.decodeRole(sp.role), roleWord: hex(sp.role), level: sp.level, tdp: sp.tdp,
    unsync: sp.unsync, unsyncChildren: sp.unsyncChildren, unsyncChildBitmap: [...sp.unsyncBitmap], rootCount: sp.rootCount,
    mmuValidGen: sp.gen, obsolete: kvm.isObsolete(sp), invalid: sp.invalid, lifetime: LIFE[sp.life],
    parentPtes: sp.tdp ? (sp.parentPtes ? [hex(sp.parentPtes)] : []) : kvm.listEntries(sp.parentPtes).map(hex),
    sptes, onActiveList: sp.onActive, inHash: sp.inHash,
  };
}

export function buildView(kvm: Kvm, step: number, threads: Array<{ id: ThreadId; kind: ThreadKind; opIndex: number; done: boolean; stack: Frame[]; blockedOn?: string }>): StateView {
  const s = kvm.raw;
  const holders: Array<{ thread: ThreadId; mode: 'write' | 'read' | 'spin' }> = [];
  if (s.lock.writer) holders.push({ thread: s.lock.writer, mode: s.lock.writerMode ?? 'write' });
  for (const r of s.lock.readers) holders.push({ thread: r, mode: 'read' });
  const ids = [...s.sps.keys()].sort((a, b) => a - b);
  return {
    era: kvm.p.id, mmu: kvm.cfg.mmu, bug: kvm.bug, step,
    vm: {
      mmu_valid_gen: s.gen, active_mmu_pages: kvm.activeList(), zapped_obsolete_pages: [...s.zappedObsolete], tdp_mmu_roots: [...s.tdpRoots],
      n_used_mmu_pages: s.nUsed, n_max_mmu_pages: s.nMax, mmu_invalidate_seq: s.seq, mmu_invalidate_in_progress: s.inProgress,
      mmu_invalidate_range: s.rangeStart >= 0 ? [s.rangeStart, s.rangeEnd] : null, indirect_shadow_pages: s.indirectShadowPages,
      mmu_lock: { type: kvm.p.lock, holders }, stats: { ...s.stats },
      names: { ...kvm.p.fieldNames, zap_all_fast: kvm.N('zap_all_fast'), get_page: kvm.N('get_page') },
    },
    vcpus: s.vcpus.map((v) => ({
      id: v.id, root: v.root >= 0 ? `sp#${v.root}` : null, prevRoots: v.prev.map((p) => (p.hpa >= 0 ? `sp#${p.hpa}` : null)),
      guestMode: v.guestMode, inGuest: v.inGuest, requests: [...v.requests],
      tlb: v.tlb.map((e) => ({ tag: `sp#${e.tag}`, gfn: e.key, pfn: e.pfn, writable: e.w, stale: kvm.isStale(e) })),
      cr3: v.cr3, modeBits: { ...v.modeBits },
    })),
    shadowPages: ids.map((id) => spView(kvm, s.sps.get(id)!)),
    memslots: s.memslots.map((m) => {
      const rmaps: RmapHeadView[] = [];
      m.rmap.forEach((a, li) => {
        if (!a) return;
        const shift = 2 ** (9 * li);
        for (let k = 0; k < a.length; k++) {
          const head = a[k];
          if (head === 0) continue;
          const gfn = (Math.floor(m.baseGfn / shift) + k) * shift;
          rmaps.push({ slot: m.id, level: li + 1, gfn, head: hex(head) + (head % 2 === 1 ? ' (pte_list_desc|1)' : ''), sptes: kvm.listEntries(head).map(hex), descs: kvm.descChain(head).map((d) => d.map(hex)) });
        }
      });
      const lpageDisallow: Array<{ level: number; index: number; count: number }> = [];
      m.lpage.forEach((a, li) => { for (let k = 0; k < a.length; k++) if (a[k]) lpageDisallow.push({ level: li + 2, index: k, count: a[k] }); });
      return { id: m.id, baseGfn: m.baseGfn, npages: m.npages, hva: m.hva, flags: m.flags, rmaps, lpageDisallow };
    }),
    host: {
      ptes: hostPtes(kvm).map(([h, e]) => ({ hva: h * 4096, pfn: Math.floor(e / 4), young: e % 2 === 1, dirty: e % 4 >= 2 })),
      pages: Array.from({ length: s.host.nextPfn - PFN_FIRST }, (_, k) => ({ pfn: k + PFN_FIRST, refcount: s.host.ref[k], state: (['in-use', 'free', 'swapped', 'reused'] as const)[s.host.state[k]] })),
    },
    threads,
  };
}

/** Canonical text of the VM state (see canonical.ts): what stateHash() hashes, minus the threads. */
export function canonicalState(kvm: Kvm): string {
  const sink = new TextSink();
  walkCanonical(kvm, sink);
  return sink.text();
}

/** Present host PTEs as [hva page, encoded pte], sorted by hva. */
export function hostPtes(kvm: Kvm): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const r of kvm.raw.host.regions) for (let k = 0; k < r.n; k++) if (r.pte[k] !== 0) out.push([r.base + k, r.pte[k]]);
  return out.sort((a, b) => a[0] - b[0]);
}
