/**
 * Invariant catalogue and the auditor.
 *
 * Two kinds of checks:
 *  - event checks live at the point in kvm.ts where the bad thing happens (a freed page reached
 *    through the hash, a lock dropped inside the RT-3 window, an SPTE installed for a pfn the host no
 *    longer maps, ...). They are cheap and always on unless audit is 'off'.
 *  - state checks (this file) walk the whole state after a step that changed something. They are on
 *    by default ('full') and can be switched off for throughput benchmarks.
 */
import type { EraId } from './api';
import type { Kvm } from './kvm';
import { PFN_FIRST, LIFE_LIVE, LIFE_FREED, isPresent, sptePfn, sptepIndex, sptepOf, sptepSp, SP_PFN_BASE, type Sp, type Vcpu } from './state';
import { rmapHeads } from './canonical';

export interface InvariantInfo {
  id: string;
  title: string;
  /** S = shadow MMU, T = TDP MMU, G = generic notifier layer. */
  scope: Array<'S' | 'T' | 'G'>;
  eras: EraId[];
  /** One line, in our own words. */
  explanation: string;
  /** How the engine checks it: 'state' after each step, 'event' where it happens, 'none' documented only. */
  check: 'state' | 'event' | 'state+event' | 'none';
}

const ALL: EraId[] = ['2.6.27', '2.6.34', '2.6.35', '3.10', '3.11', '5.15', '5.17', '5.18', '6.1', '6.19'];
const FAST: EraId[] = ['3.11', '5.15', '5.17', '5.18', '6.1', '6.19'];
const TDP: EraId[] = ['5.15', '5.17', '5.18', '6.1', '6.19'];
const UNSYNC: EraId[] = ALL.filter((e) => e !== '2.6.27');
const inv = (id: string, title: string, scope: InvariantInfo['scope'], eras: EraId[], check: InvariantInfo['check'], explanation: string): InvariantInfo => ({ id, title, scope, eras, check, explanation });

export const INVARIANTS: InvariantInfo[] = [
  inv('RT-1', 'never load an invalid or obsolete root', ['S', 'T'], ALL, 'event', 'A vCPU may only start using a root whose page is valid and of the current generation.'),
  inv('RT-2', 'roots are freed only at refcount zero', ['S', 'T'], ALL, 'state+event', 'root_count/tdp_mmu_root_count equals the references held; a referenced root page is never freed.'),
  inv('RT-3', 'invalidate and request in one locked section', ['S', 'T'], FAST, 'event', 'Between bumping the generation (or invalidating TDP roots) and posting the reload/free-obsolete request, mmu_lock must not be dropped.'),
  inv('RT-4', 'request after the invalid bit', ['S', 'T'], ALL, 'event', 'The reload/free-obsolete request is posted only once role.invalid (or the TDP roots\' invalid mark) is set.'),
  inv('RT-5', 'notifier unmaps reach invalid roots', ['T'], TDP, 'event', 'An MMU-notifier unmap must also zap SPTEs that sit in invalidated-but-not-yet-freed TDP roots.'),
  inv('RT-6', 'free every obsolete root', ['S', 'T'], ['5.18', '6.1', '6.19'], 'event', 'Servicing KVM_REQ_MMU_FREE_OBSOLETE_ROOTS leaves no obsolete root in the current slot or any prev_roots slot.'),
  inv('RT-7', 'read-lock yield-safe walks see valid roots only', ['T'], TDP, 'event', 'Only the invalidated-root zapper may yield while walking roots under the read lock; other read-lock walkers visit valid roots without yielding.'),
  inv('RT-8', 'root load flushes the current TLB context', ['S', 'T'], ALL, 'event', 'kvm_mmu_load ends with a flush of the current context, so entries tagged with a recycled root are never used.'),
  inv('FZ-1', 'no guest entry with an obsolete root', ['S', 'T'], FAST, 'event', 'After mmu_valid_gen changes, no vCPU enters the guest on a root of the old generation.'),
  inv('FZ-2', 'new pages carry the current generation', ['S'], FAST, 'event', 'Pages created after the bump are stamped with the new mmu_valid_gen and lookups skip obsolete pages.'),
  inv('FZ-3', 'obsolete pages zapped oldest first', ['S'], FAST, 'event', 'kvm_zap_obsolete_pages walks active_mmu_pages from the tail and stops at the first current page; when it returns no obsolete, not-invalid page is left.'),
  inv('FZ-4', 'free only after the commit flush', ['S'], FAST, 'event', 'Pages prepared by the fast zap are freed only by the commit that follows one remote TLB flush.'),
  inv('FZ-5', 'one old generation at a time', ['S'], ['5.15', '5.17', '5.18', '6.1', '6.19'], 'state', 'With the u8 toggle, every live page is of the current or the one previous generation.'),
  inv('FZ-6', 'invalidated TDP roots zapped before return', ['T'], TDP.filter((e) => e !== '5.15'), 'event', 'The fast zap waits for (or performs) the zap of invalidated TDP roots before returning. (Not held in 5.15: without is_page_fault_stale a racing fault could refill an invalidated root.)'),
  inv('US-1', 'only level-1 indirect pages are unsync', ['S'], UNSYNC, 'state', 'unsync is set only on 4K pages that shadow a guest page table.'),
  inv('US-2', 'unsync bitmap matches the children', ['S'], UNSYNC, 'state', 'A child that is unsync or has unsync children has its bit set in the parent; unsync_children counts the bits (stale bits allowed).'),
  inv('US-3', 'unsync pages reachable from a root', ['S'], UNSYNC, 'state', 'Every linked unsync page has a path of set unsync_child_bitmap bits up to a page with no parents, so a root sync finds it.'),
  inv('US-4', 'unsync before writable', ['S'], ALL, 'state+event', 'A writable leaf SPTE for a gfn is installed only after every live shadow page of that gfn is marked unsync (a level-1 page); an upper-level shadow forbids the writable mapping. After every step, no writable leaf maps a gfn that a live, valid shadow page shadows unless that page is an unsync level-1 page, so syncing a page must write-protect its gfn again. (2.6.27 never unsyncs: there the mapping must stay read-only.)'),
  inv('US-5', 'zap unsync descendants first', ['S'], UNSYNC, 'event', 'Zapping a page first zaps its unsync descendants: a zap never leaves a page it unlinked parentless (and not a root) with an unsync page still below it.'),
  inv('RM-1', 'rmap consistency', ['S'], ALL, 'state+event', 'Every present leaf SPTE of the shadow MMU is in exactly one rmap (gfn, level) and every rmap entry points at such an SPTE.'),
  inv('RM-2', 'rmap head encoding', ['S'], ALL, 'state', 'Head 0 is empty, an even head is the single SPTE pointer, an odd head points at a non-empty pte_list_desc chain.'),
  inv('RM-3', 'parent_ptes consistency', ['S'], ALL, 'state', 'parent_ptes of a page lists exactly the non-leaf SPTEs that point at it.'),
  inv('RM-4', 'rmap shape changes under the write lock', ['S'], ALL, 'event', 'Rmaps change shape only while mmu_lock is held for write (or the spinlock).'),
  inv('LP-1', 'disallow_lpage accounting', ['S'], ALL, 'state', 'Each huge frame counts its misalignment pins plus the write-protecting shadow pages inside it; no huge SPTE where the count is non-zero.'),
  inv('HS-1', 'hash membership until free', ['S'], ALL, 'state+event', 'A shadow page stays in mmu_page_hash from allocation until it is freed, and a freed page is never reached.'),
  inv('AL-1', 'active list order and content', ['S'], ALL, 'state', 'active_mmu_pages holds the accounted pages newest first; zapped pages leave it for an invalid list.'),
  inv('IT-1', 'safe iteration', ['S'], ALL, 'event', 'A walk that saved its next node must not let its body free that node; restart when collateral zaps happen.'),
  inv('ZC-1', 'zap counts are exact', ['S'], ALL, 'event', 'The count a zap routine reports equals the pages it really zapped.'),
  inv('ZC-2', 'n_used_mmu_pages is exact', ['S'], ALL, 'state', 'n_used_mmu_pages equals the number of allocated, accounted, not yet freed shadow pages.'),
  inv('FR-1', 'no reference to freed page tables', ['S', 'T'], ALL, 'state', 'No SPTE, root slot or list points at a freed page; freeing follows a flush.'),
  inv('TL-1', 'flush before unlock', ['S', 'T'], ALL.filter((e) => e !== '2.6.27'), 'event', 'After zapping or write-protecting SPTEs of a loaded root, remote TLBs are flushed before mmu_lock is dropped; a stale TLB entry is never used. (2.6.27 zapped without a per-page flush and is not held to it.)'),
  inv('TL-2', 'root load flushes', ['S', 'T'], ALL, 'event', 'A root loaded into a vCPU (kvm_mmu_load or the fast_pgd_switch hit) is followed by a current- or all-context TLB flush before that vCPU next enters the guest.'),
  inv('MN-1', 'no stale install', ['G', 'S', 'T'], ALL, 'event', 'An SPTE is installed only for the pfn the host still maps, i.e. the fault saw no invalidation since its sequence snapshot.'),
  inv('MN-2', 'begin before zap, sequence before count', ['G'], ALL, 'state', 'in_progress is raised before zapping and the sequence is bumped before in_progress drops; in_progress is never negative.'),
  inv('MN-3', 'flush before the notifier returns', ['G'], ALL, 'event', 'If an invalidation zapped SPTEs, TLBs are flushed before it returns (checked with TL-1).'),
  inv('MN-4', 'complete coverage', ['G', 'S', 'T'], ALL, 'state+event', 'After an invalidation no SPTE maps the range, and no SPTE maps a page the host has freed.'),
  inv('MN-5', 'rmap consistency for notifiers', ['S'], ALL, 'state', 'Same as RM-1: gfn-based notifiers find every mapping through the rmaps.'),
  inv('MN-6', 'range recorded with in_progress', ['G'], ['6.19'], 'state', 'While an invalidation is in progress, a range has been recorded (range-aware eras).'),
  inv('AG-1', 'aging changes only the Accessed bit', ['S', 'T'], ALL, 'event', 'An SPTE write made by aging clears the Accessed bit and nothing else: pfn and permission bits stay. (The model has no access-tracking transform.)'),
  inv('AG-2', 'lockless readers never see freed tables', ['S', 'T'], ['6.19'], 'event', 'A lockless aging walk (TDP roots under RCU, rmap chains) never reaches a freed page table: no SPTE or rmap entry it follows leads to freed memory.'),
  inv('AG-3', 'rmap chains change under mmu_lock and the rmap lock', ['S'], ALL, 'event', 'rmap chains change only with mmu_lock held for write, and from 6.15 (the 6.19 profile) also with the head\'s bit lock (kvm_rmap_lock) held, because lockless aging reads them.'),
  inv('AG-4', 'clear_young consults both MMUs', ['S', 'T'], ['5.15', '5.17', '5.18', '6.1', '6.19'], 'event', 'A page a shadow-MMU SPTE has recently used must not be reported old: aging must consult the shadow MMU too.'),
  inv('AG-5', 'aging walks valid roots only (6.15+)', ['T'], ['6.19'], 'event', 'Lockless aging, a non-unmapping walk, visits valid TDP roots only. (5.15-6.1 aged every root, invalid ones included, and are not held to it.)'),
  inv('LK-1', 'lock nesting', ['S', 'T'], TDP, 'event', 'The leaf spinlocks tdp_mmu_pages_lock (tdp_mmu_roots insert/remove) and mmu_unsync_pages_lock (marking pages unsync) are taken only while mmu_lock is held. (The slots_lock rules are not modelled.)'),
];

/** Invariant ids that apply to an era. */
export function invariantsFor(era: EraId): Set<string> {
  return new Set(INVARIANTS.filter((i) => i.eras.includes(era)).map((i) => i.id));
}

const NO_ENTRIES: number[] = [];

/** The two lists hold the same entries, counted with multiplicity (sorts both in place when longer than one). */
function sameEntries(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  if (a.length === 0) return true;
  if (a.length === 1) return a[0] === b[0];
  a.sort((x, y) => x - y); b.sort((x, y) => x - y);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class Auditor {
  constructor(private kvm: Kvm, private full: boolean) {}

  /** State violations reported by the previous audit: a condition is reported once, when it appears. */
  private prev = new Set<string>();
  private cur = new Set<string>();

  /** The conditions already reported, so that a restored snapshot reports exactly what the original run did. */
  saveState(): string[] { return [...this.prev]; }
  loadState(keys: readonly string[]): void { this.prev = new Set(keys); this.cur = new Set(); }

  afterStep(changed: boolean): void {
    if (!this.full || !changed) return;
    this.cur = new Set();
    this.checkState();
    this.prev = this.cur;
  }

  /**
   * The whole-state audit on demand, whatever the audit level (see EngineInternals.auditState): every
   * condition that holds now is reported, including those an earlier audit already reported.
   */
  auditNow(): void {
    this.prev = new Set();
    this.cur = new Set();
    this.checkState();
    this.prev = this.cur;
  }

  private readonly lpageScratch: number[] = [];
  /** Working maps of checkState, cleared and reused: the explorer audits every new state. */
  private readonly scratch = { inRmap: new Map<number, number>(), guarded: new Map<number, number>(), reach: new Map<number, boolean>(), refs: new Map<number, number>() };

  private v(id: string, msg: string, objects: string[]): void {
    const key = id + '|' + msg;
    this.cur.add(key);
    if (!this.prev.has(key)) this.kvm.violate(id, msg, objects);
  }

  checkState(): void {
    const kvm = this.kvm, s = kvm.raw;
    const shadow: Sp[] = [];
    for (const sp of s.sps.values()) if (!sp.tdp) shadow.push(sp);
    // RM-1 / MN-5 / RM-2: rmap <-> leaf SPTE bijection and head encoding
    const inRmap = this.scratch.inRmap; inRmap.clear();
    for (const m of s.memslots) {
      const heads = rmapHeads(m);
      for (let j = 0; j < heads.length; j += 2) {
        {
          const li = heads[j]!, k = heads[j + 1]!;
          const head = m.rmap[li]![k]!;
          if (head % 2 === 1) {
            const chain = kvm.descChain(head);
            if (!chain.length || chain.some((d) => d.length === 0 || d.length > kvm.p.pteListExt)) this.v('RM-2', `malformed pte_list_desc chain in rmap slot ${m.id} level ${li + 1} index ${k}`, [`slot ${m.id}`]);
          }
          for (const sptep of kvm.listEntries(head)) {
            inRmap.set(sptep, (inRmap.get(sptep) ?? 0) + 1);
            const sp = s.sps.get(sptepSp(sptep));
            const val = sp ? kvm.getSpte(sp, sptepIndex(sptep)) : 0;
            if (!sp || !isPresent(val) || !kvm.isLeaf(sp, val)) this.v('RM-1', `rmap entry ${'0x' + sptep.toString(16)} does not point at a present leaf SPTE`, [`slot ${m.id}`, `sp#${sptepSp(sptep)}`]);
            else if (sp.level !== li + 1) this.v('RM-1', `rmap entry of sp#${sp.id} is on level ${li + 1}`, [`sp#${sp.id}`]);
          }
        }
      }
    }
    const childRefs = new Map<number, number[]>();
    for (const sp of shadow) {
      if (sp.unsync && (sp.level !== 1 || sp.direct)) this.v('US-1', `sp#${sp.id} is unsync at level ${sp.level}`, [`sp#${sp.id}`]);
      if (sp.unsyncChildren !== sp.unsyncBitmap.length) this.v('US-2', `sp#${sp.id} unsync_children ${sp.unsyncChildren} != bitmap popcount ${sp.unsyncBitmap.length}`, [`sp#${sp.id}`]);
      if (!sp.spt) continue;
      const present = sp.presentIdx;
      for (let j = 0; j < present.length; j++) {
        const i = present[j]!;
        const val = sp.spt[i]!;
        if (kvm.isLeaf(sp, val)) {
          const n = inRmap.get(sptepOf(sp.id, i)) ?? 0;
          if (n !== 1) this.v('RM-1', `leaf SPTE sp#${sp.id}[${i}] appears ${n} times in rmaps`, [`sp#${sp.id}`]);
        } else {
          const cid = sptePfn(val) - SP_PFN_BASE;
          const child = s.sps.get(cid);
          if (!child) { this.v('FR-1', `sp#${sp.id}[${i}] points at freed page sp#${cid}`, [`sp#${sp.id}`, `sp#${cid}`]); continue; }
          let l = childRefs.get(cid); if (!l) childRefs.set(cid, l = []); l.push(sptepOf(sp.id, i));
          if ((child.unsync || child.unsyncChildren > 0) && !sp.unsyncBitmap.includes(i)) this.v('US-2', `sp#${sp.id} bit ${i} clear but child sp#${cid} needs sync`, [`sp#${sp.id}`, `sp#${cid}`]);
        }
      }
    }
    // US-4 (state form): once a step is over, a gfn that a live, valid, indirect shadow page shadows
    // is mapped writable only if every such page is an unsync level-1 page. This holds only because
    // mmu_sync_children write-protects a page's gfn again before the page becomes sync.
    const guarded = this.scratch.guarded; guarded.clear();
    for (const sp of shadow) {
      if (sp.direct || sp.nested || sp.invalid || sp.life !== LIFE_LIVE || kvm.isObsolete(sp)) continue;
      if ((sp.level > 1 || !sp.unsync) && !guarded.has(sp.gfn)) guarded.set(sp.gfn, sp.id);
    }
    for (const [gfn, spId] of guarded) {
      const slot = kvm.slotOfGfn(gfn);
      if (!slot) continue;
      const guard = s.sps.get(spId)!;
      for (let level = 1; level <= 3; level++) {
        const a = slot.rmap[level - 1];
        if (!a) continue;
        for (const sptep of kvm.listEntries(a[kvm.rmapIndex(slot, gfn, level)])) {
          const leaf = s.sps.get(sptepSp(sptep));
          if (!leaf || kvm.getSpte(leaf, sptepIndex(sptep)) % 4 !== 3) continue;
          this.v('US-4', `gfn 0x${gfn.toString(16)} is mapped writable by sp#${leaf.id}[${sptepIndex(sptep)}] while sp#${spId} (level ${guard.level}) shadows it ${guard.level > 1 ? 'as an upper-level table' : 'and is not unsync'}`, [`sp#${leaf.id}`, `sp#${spId}`, `gfn 0x${gfn.toString(16)}`]);
        }
      }
    }
    // US-3: a linked unsync page reaches a parentless page through set bits
    const reach = this.scratch.reach; reach.clear();
    const up = (id: number, depth: number): boolean => {
      const known = reach.get(id);
      if (known !== undefined) return known;
      const sp = s.sps.get(id);
      if (!sp || depth > 8) return false;
      const parents = kvm.listEntries(sp.parentPtes);
      let ok = parents.length === 0;
      for (const p of parents) {
        const par = s.sps.get(sptepSp(p));
        if (par && par.unsyncBitmap.includes(sptepIndex(p)) && up(par.id, depth + 1)) { ok = true; break; }
      }
      reach.set(id, ok);
      return ok;
    };
    for (const sp of shadow) if (sp.unsync && sp.parentPtes !== 0 && !up(sp.id, 0)) this.v('US-3', `unsync sp#${sp.id} is not reachable from a root through unsync bits`, [`sp#${sp.id}`]);
    // RM-3 parent_ptes
    for (const sp of shadow) {
      if (!sameEntries(childRefs.get(sp.id) ?? NO_ENTRIES, kvm.listEntries(sp.parentPtes))) this.v('RM-3', `parent_ptes of sp#${sp.id} do not match the SPTEs pointing at it`, [`sp#${sp.id}`]);
    }
    // ZC-2 n_used_mmu_pages
    let accounted = 0;
    for (const sp of shadow) if (kvm.p.prepareCommit ? sp.life === LIFE_LIVE : sp.life !== LIFE_FREED) accounted++;
    if (s.nUsed !== accounted) this.v('ZC-2', `n_used_mmu_pages is ${s.nUsed} but ${accounted} shadow pages are accounted`, ['kvm->arch.n_used_mmu_pages']);
    // HS-1 hash membership
    let inHash = 0;
    for (const [b, ids] of s.hash) for (const id of ids) {
      const sp = s.sps.get(id);
      if (!sp) this.v('HS-1', `mmu_page_hash[${b}] holds freed sp#${id}`, [`sp#${id}`]);
      else { inHash++; if (kvm.hashBucket(sp.gfn) !== b) this.v('HS-1', `sp#${id} in wrong bucket`, [`sp#${id}`]); }
    }
    if (inHash !== shadow.length) this.v('HS-1', `${shadow.length} shadow pages but ${inHash} in mmu_page_hash`, ['mmu_page_hash']);
    // AL-1 active list
    const act = kvm.activeList();
    let last = Infinity;
    for (const id of act) {
      const sp = s.sps.get(id);
      if (!sp || sp.life !== LIFE_LIVE) { this.v('AL-1', `active_mmu_pages holds sp#${id} which is not live`, [`sp#${id}`]); continue; }
      if (sp.invalid) continue;
      if (id > last) this.v('AL-1', `active_mmu_pages not ordered newest first at sp#${id}`, [`sp#${id}`]);
      last = id;
    }
    for (const sp of shadow) if (sp.life === LIFE_LIVE && !sp.invalid && !sp.onActive) this.v('AL-1', `live sp#${sp.id} missing from active_mmu_pages`, [`sp#${sp.id}`]);
    // LP-1 lpage_info
    for (const m of s.memslots) {
      for (let level = 2; level <= 3; level++) {
        const a = m.lpage[level - 2]!;
        // a plain array: allocating a typed array per audit costs more than the rest of this check
        const want = this.lpageScratch;
        want.length = 0;
        for (let k = 0; k < a.length; k++) want.push(0);
        const shift = level === 2 ? 512 : 262144;
        if (m.baseGfn % shift !== 0) want[0] += 1;
        if ((m.baseGfn + m.npages) % shift !== 0) want[want.length - 1] += 1;
        for (const sp of shadow) {
          if (sp.direct || sp.nested || sp.invalid || sp.gfn < m.baseGfn || sp.gfn >= m.baseGfn + m.npages) continue;
          want[kvm.rmapIndex(m, sp.gfn, level)]++;
        }
        for (let k = 0; k < a.length; k++) if (a[k] !== want[k]) { this.v('LP-1', `disallow_lpage of slot ${m.id} level ${level} frame ${k} is ${a[k]}, expected ${want[k]}`, [`slot ${m.id}`]); break; }
      }
    }
    // RT-2 / FR-1: vCPU root references
    const refs = this.scratch.refs; refs.clear();
    const countRef = (vc: Vcpu, id: number): void => {
      if (id < 0) return;
      if (!s.sps.has(id)) { this.v('FR-1', `vcpu${vc.id} references freed root sp#${id}`, [`vcpu${vc.id}`, `sp#${id}`]); return; }
      refs.set(id, (refs.get(id) ?? 0) + 1);
    };
    for (const vc of s.vcpus) {
      countRef(vc, vc.root);
      countRef(vc, vc.l2Root);
      for (const p of vc.prev) countRef(vc, p.hpa);
    }
    for (const sp of s.sps.values()) {
      const n = refs.get(sp.id) ?? 0;
      if (!sp.tdp && sp.rootCount !== n) this.v('RT-2', `sp#${sp.id} root_count ${sp.rootCount} but ${n} vCPU references`, [`sp#${sp.id}`]);
      if (sp.tdp && sp.level === 4 && sp.rootId === sp.id && sp.rootCount < n) this.v('RT-2', `TDP root sp#${sp.id} tdp_mmu_root_count ${sp.rootCount} < ${n} vCPU references`, [`sp#${sp.id}`]);
    }
    // FZ-5: u8 generation
    if (kvm.p.fastZap === 'gen-u8') for (const sp of shadow) if (sp.gen !== 0 && sp.gen !== 1) this.v('FZ-5', `sp#${sp.id} has generation ${sp.gen}`, [`sp#${sp.id}`]);
    // MN-2 / MN-6
    if (s.inProgress < 0) this.v('MN-2', `${kvm.p.fieldNames.mmu_invalidate_in_progress} is negative`, ['kvm']);
    if (kvm.v >= 6.19 && s.inProgress > 0 && s.rangeStart < 0 && !s.lock.writer) this.v('MN-6', 'invalidation in progress without a recorded range', ['kvm']);
    // MN-4: nothing maps a page the host freed
    const h = s.host;
    for (let k = 0; k < h.nextPfn - PFN_FIRST; k++) {
      if (h.state[k] !== 0 && h.maps[k] > 0) this.v('MN-4', `pfn 0x${(k + PFN_FIRST).toString(16)} is ${['in-use', 'free', 'swapped', 'reused'][h.state[k]]} but still mapped by ${h.maps[k]} SPTE(s)`, [`pfn 0x${(k + PFN_FIRST).toString(16)}`]);
    }
  }
}
