/**
 * The MMU model: state plus one generator per kernel function that can reach a preemption point.
 * Generators yield `Pt` records at preemption points; the engine (engine.ts) decides which thread
 * resumes next. Plain helpers (no preemption inside) are ordinary methods.
 */
import type { BugId, Effect, Frame, LockMode, MemslotConfig, Op, RequestName, ThreadId, TraceEvent, VmConfig, Violation } from './api';
import type { EraProfile } from './profiles';
import { eraNum } from './profiles';
import { kernelSymbol, symbolExists, symbolFile } from './kernel-names';
import { ACC, TrackedVm, vmFieldAccess } from './access';

/** enter() key -> function and file, per era profile and bug variant (see Kvm.resolved). */
const RESOLVED = new Map<string, Map<string, { fn: string; file: string }>>();

/** Placeholder frame for functions that do not exist in the era (never reported). */
export const HIDDEN: Frame = { fn: '', file: '' };
import { invariantsFor } from './invariants';
import {
  DESC_BASE, GuestPte, HostRegion, PFN_FIRST, LIFE_FREED, LIFE_INVALID_LIST, LIFE_LIVE, SPTE_A, SPTE_D, SPTE_P, SPTE_PS, SPTE_U, SPTE_W, SP_PFN_BASE, SPT_HOLDERS, SPT_LENGTH, withIndex,
  Sp, Slot, Vcpu, VmState, isPresent, makeSpte, sptePfn, sptepIndex, sptepOf, sptepSp, writeVersion, setHostEntry, levelSpan, sptLeafTerm, type ArrayPool,
} from './state';

/** A preemption point. `acquire`: the thread waits for mmu_lock in that mode before it resumes. */
export interface Pt { point: string; acquire?: LockMode; wait?: () => boolean }

export interface ThreadCtx {
  id: ThreadId;
  kind: string;
  vcpu: number;
  stack: Frame[];
  /** mmu_lock mode held by this thread, if any. */
  held: LockMode | null;
}

export type Gen<T = void> = Generator<Pt, T, void>;

const BATCH_ZAP_PAGES = 10;
const KVM_MIN_FREE_MMU_PAGES = 5;
const hex = (n: number) => '0x' + n.toString(16);
const NO_INDICES: readonly number[] = [];

/**
 * trace: record trace events (calls, points, effects). frames: 'args' per-call frames with arguments
 * (full trace), 'plain' per-call frames without arguments (the explorer: per-thread stacks matter for
 * the state key, arguments do not), 'shared' one frame per function (counting mode).
 */
export interface KvmOptions { trace: boolean; auditEvents: boolean; frames?: 'args' | 'plain' | 'shared' }

/**
 * Test-only fault injection. Each switch breaks one rule on purpose so a unit test can prove that
 * the matching invariant check fires. Nothing in the engine, the profiles or the public API sets
 * these; they are reachable only through `EngineInternals.kvm` in tests.
 */
export interface TestFaults {
  /** US-4: install the writable leaf first and mark the shadowed table unsync afterwards. */
  unsyncAfterWritable?: boolean;
  /** US-5: zap a page without zapping its unsync descendants first. */
  skipUnsyncChildrenZap?: boolean;
  /** TL-2: load a root without the kvm_mmu_load flush of the current context. */
  skipRootLoadFlush?: boolean;
  /** AG-1: the aging write clears the writable bit together with the Accessed bit. */
  agingClearsWritable?: boolean;
  /** AG-5: 6.19 aging visits invalid TDP roots too. */
  agingVisitsInvalidRoots?: boolean;
  /** AG-3: change rmap chains without the 6.15+ rmap bit lock. */
  skipRmapLock?: boolean;
  /** US-4 (state): mmu_sync_children syncs pages without write-protecting their gfns again. */
  skipSyncWriteProtect?: boolean;
}

export class Kvm {
  /** The VM state behind accessors that record which categories each step reads and writes (access.ts). */
  readonly s: TrackedVm;
  readonly p: EraProfile;
  readonly v: number;
  readonly bug: BugId | undefined;
  readonly cfg: VmConfig;
  /** Record trace events now (full tracing); false while counting or replaying quietly. */
  tr: boolean;
  /**
   * Counting mode (trace 'count'): frames are shared per function, so stacks are cheap but not
   * per-thread objects. Full-trace engines keep per-call frames even while replaying quietly.
   */
  readonly shareFrames: boolean;
  /** Frames carry their arguments (for the debugger's variables); off in counting and explore modes. */
  readonly frameArgs: boolean;
  auditEvents: boolean;
  events: TraceEvent[] = [];
  nEff = 0;
  violations: Violation[] = [];
  step = 0;
  cur: ThreadCtx | null = null;
  /** Lock-held ops of every finished critical section (bench support). */
  critLog: Array<{ thread: string; ops: number }> | null = null;
  /** Test-only fault injection (see TestFaults); always null outside tests. */
  testFaults: TestFaults | null = null;
  /**
   * Recycled typed arrays (the engine's pool of discarded snapshot states): a new page table taken
   * from here costs a fill instead of an allocation. Null: allocate.
   */
  arrays: ArrayPool | null = null;

  private zeroed(n: number): Float64Array { return this.arrays ? this.arrays.zeroF64(n) : new Float64Array(n); }
  /** A private copy of a shared table (copy-on-write), from the pool when there is one. */
  private copied(a: Float64Array): Float64Array { return this.arrays ? this.arrays.copy(a) : a.slice(); }
  /**
   * A freed page lets go of its table; the pool takes it back when no other copy of the state holds it
   * (no model code keeps a table across a preemption point: it is always read through sp.spt).
   */
  private dropTable(sp: Sp): void {
    const a = sp.spt;
    sp.spt = null; sp.presentIdx = NO_INDICES; sp.nonLeafIdx = NO_INDICES;
    if (a !== null && --a[SPT_HOLDERS]! === 0) this.arrays?.recycle(a);
  }
  /** 6.15+ rmap bit lock: held only inside one rmap add/remove (never across a preemption point). */
  private rmapLockHeld = false;

  constructor(cfg: VmConfig, p: EraProfile, opts: KvmOptions) {
    this.cfg = cfg;
    this.p = p;
    this.v = eraNum(p.id);
    this.bug = cfg.bug;
    this.tr = opts.trace;
    const frames = opts.frames ?? (opts.trace ? 'args' : 'shared');
    this.shareFrames = frames === 'shared';
    this.frameArgs = frames === 'args';
    this.auditEvents = opts.auditEvents;
    this.tdpOn = p.tdpMmu && (cfg.mmu === 'tdp' || cfg.mmu === 'nested');
    this.s = new TrackedVm(this.initialState(cfg));
  }
  /** The plain state (for snapshots, hashing and views: no access recording). */
  get raw(): VmState { return this.s.t; }
  set raw(v: VmState) { this.s.t = v; }
  /** The VM runs the TDP MMU (tdp_mmu=1 and a TDP or nested configuration). */
  readonly tdpOn: boolean;

  private initialState(cfg: VmConfig): VmState {
    const total = cfg.memslots.reduce((a, m) => a + m.npages, 0);
    const s: VmState = {
      gen: 0, sps: new Map(), nextSpId: 1, activeHead: -1, activeTail: -1,
      hash: new Map(), hashBuckets: cfg.hashBuckets ?? 4096, zappedObsolete: [], tdpRoots: [],
      nUsed: 0, nMax: cfg.maxMmuPages ?? Math.max(64, Math.floor((total * 20) / 1000)),
      seq: 0, inProgress: 0, rangeStart: -1, rangeEnd: -1, indirectShadowPages: 0,
      lock: { writer: null, writerMode: null, readers: [] },
      stats: { mmu_shadow_zapped: 0, mmu_pte_write: 0, mmu_pde_zapped: 0, mmu_flooded: 0, mmu_recycled: 0, mmu_cache_miss: 0, mmu_unsync: 0, remote_tlb_flush: 0, pf_fixed: 0 },
      memslots: [], descs: new Map(), nextDescId: 1,
      host: { regions: [], ref: new Int32Array(64), state: new Uint8Array(64), maps: new Int32Array(64), mapped: 0, nextPfn: PFN_FIRST },
      vcpus: [], guestPt: new Map(), workQueue: [], shadowRootAllocated: false,
      rt3Window: null, srcuReaders: 0, flushPending: false, nxHugePages: false, lockOps: 0, destroyed: false,
    };
    for (const m of cfg.memslots) { s.memslots.push(this.makeSlot(m)); this.addRegion(s, m); }
    for (let i = 0; i < cfg.vcpus; i++) {
      const mb: Record<string, boolean> = { cr0_wp: true, cr4_pae: true, cr4_pge: false, efer_nx: true, cr4_smep: false, cr4_smap: false, ...(cfg.guestModeBits ?? {}) };
      s.vcpus.push({
        id: i, root: -1, rootPgd: 0, prev: Array.from({ length: this.p.prevRoots }, () => ({ hpa: -1, pgd: 0 })), l2Root: -1,
        requests: [], inGuest: false, guestMode: false, tlb: [], cr3: cfg.guestCr3?.[i] ?? cfg.guestCr3?.[0] ?? 0, modeBits: mb, loadFlushPending: false,
      });
    }
    const guestPt = new Map<number, { level: number; entries: Map<number, GuestPte> }>();
    for (const g of cfg.guestPageTables ?? []) {
      const entries = new Map<number, GuestPte>();
      for (const e of g.entries) entries.set(e.index, { gfn: e.gfn, present: e.present ?? true, writable: e.writable ?? true, user: e.user ?? true, huge: e.huge ?? false });
      guestPt.set(g.gfn, { level: g.level, entries });
    }
    s.guestPt = guestPt;
    return s;
  }

  private makeSlot(m: MemslotConfig): Slot {
    const lp: Int32Array[] = [];
    for (const level of [2, 3]) {
      const shift = 9 * (level - 1);
      const n = (Math.floor((m.baseGfn + m.npages - 1) / 2 ** shift) - Math.floor(m.baseGfn / 2 ** shift)) + 1;
      const a = new Int32Array(n);
      // misaligned head/tail frames can never be mapped huge (permanent pins)
      if (m.baseGfn % 2 ** shift !== 0) a[0] += 1;
      if ((m.baseGfn + m.npages) % 2 ** shift !== 0) a[n - 1] += 1;
      lp.push(a);
    }
    return { id: m.id, baseGfn: m.baseGfn, npages: m.npages, hva: m.hva, flags: m.flags ? [...m.flags] : undefined, rmap: [null, null, null], lpage: lp, invalid: false, rver: 0 };
  }

  // ----------------------------------------------------------------------------------------------
  // Trace plumbing
  // ----------------------------------------------------------------------------------------------
  N(key: string): string { return this.p.names[key] ?? key; }

  private files = new Map<string, string>();
  private frameCache = new Map<string, Frame>();
  /** Most recently entered frame (reported with state violations found after the stack unwound). */
  lastFrame: Frame | null = null;
  private lockPts = new Map<string, Pt>();
  private pt2Cache = new Map<string, Map<string, Pt>>();
  /** Interned point `${fn}:${suffix}` without building the string on every call. */
  pt2(fn: string, suffix: string): Pt {
    let m = this.pt2Cache.get(fn);
    if (!m) { m = new Map(); this.pt2Cache.set(fn, m); }
    let p = m.get(suffix);
    if (!p) { p = { point: fn + ':' + suffix }; m.set(suffix, p); }
    return p;
  }
  private ptCache = new Map<string, Pt>();
  /** Interned preemption point record (no allocation on hot paths). */
  pt(point: string, acquire?: LockMode): Pt {
    const key = acquire ? point + '#' + acquire : point;
    let p = this.ptCache.get(key);
    if (!p) { p = acquire ? { point, acquire } : { point }; this.ptCache.set(key, p); }
    return p;
  }
  /** Function name and file of each enter() key in this era, resolved once per key. */
  private resolvedCache: Map<string, { fn: string; file: string }> | null = null;
  /**
   * The resolutions of this era and bug variant, shared by every Kvm of the process (an explorer
   * creates an engine per search, and small searches spent a tenth of their time resolving again).
   */
  private get resolved(): Map<string, { fn: string; file: string }> {
    if (this.resolvedCache === null) {
      const id = this.p.id + '|' + (this.bug ?? '');
      let m = RESOLVED.get(id);
      if (!m) { m = new Map(); RESOLVED.set(id, m); }
      this.resolvedCache = m;
    }
    return this.resolvedCache;
  }
  private resolve(key: string): { fn: string; file: string } {
    const fn = this.p.names[key] ?? key;
    let file = this.files.get(fn);
    if (file === undefined) {
      // a bug variant may run code from another era: show its frames with that era's file
      file = symbolExists(fn, this.p.id) || !kernelSymbol(fn) ? symbolFile(fn, this.p.id)
        : this.bug === 'slow-zap-all' && fn === 'kvm_mmu_zap_all' ? symbolFile(fn, '3.10') : '';
      this.files.set(fn, file);
    }
    return { fn, file };
  }

  enter(t: ThreadCtx, key: string, args?: Record<string, string | number | boolean>): void {
    if (this.shareFrames) {
      const cf = this.frameCache.get(key);
      if (cf) { t.stack.push(cf); return; }
    }
    let where = this.resolved.get(key);
    if (where === undefined) { where = this.resolve(key); this.resolved.set(key, where); }
    const fn = where.fn, file = where.file;
    if (file === '') {
      // the function does not exist in this era (its work was inline there): keep the stack
      // balanced with a hidden frame that is never reported
      if (this.shareFrames) this.frameCache.set(key, HIDDEN);
      t.stack.push(HIDDEN);
      return;
    }
    if (this.shareFrames) {
      // counting mode: frames are shared per function (no per-call allocation)
      const f: Frame = { fn, file };
      this.lastFrame = f;
      this.frameCache.set(key, f);
      t.stack.push(f);
      return;
    }
    const f: Frame = { fn, file };
    this.lastFrame = f;
    if (args) f.args = args;
    t.stack.push(f);
    if (this.tr) this.events.push({ kind: 'call', thread: t.id, depth: t.stack.length - 1, frame: { ...f } });
  }

  leave(t: ThreadCtx): void {
    const f = t.stack.pop();
    if (f === HIDDEN) return;
    if (this.tr && f) this.events.push({ kind: 'return', thread: t.id, depth: t.stack.length, frame: f });
  }

  point(t: ThreadCtx, point: string): void {
    const f = this.top(t);
    if (f) f.point = point;
    if (this.tr && f) this.events.push({ kind: 'point', thread: t.id, depth: t.stack.length - 1, frame: { ...f } });
  }

  /** Innermost reported frame. */
  top(t: ThreadCtx): Frame | undefined {
    for (let i = t.stack.length - 1; i >= 0; i--) if (t.stack[i] !== HIDDEN) return t.stack[i];
    return undefined;
  }

  fx(e: Effect): void {
    const t = this.cur;
    this.events.push({ kind: 'effect', thread: t ? t.id : '-', depth: t ? t.stack.length : 0, effect: e });
  }

  /**
   * An effect that is not traced: counted, and its category added to the step's writes, as the
   * engine does from a traced effect's kind (access.ts effectAccess), so that footprints are the same
   * with and without trace events.
   */
  quiet(acc: number): void { this.nEff++; this.s.wr |= acc; }

  note(text: string): void { if (this.tr) this.fx({ kind: 'note', text }); else this.nEff++; }

  private applies: Set<string> | null = null;
  violate(id: string, message: string, objects: string[]): void {
    if (!this.auditEvents) return;
    if (!this.applies) this.applies = invariantsFor(this.p.id);
    if (!this.applies.has(id)) return;
    const t = this.cur;
    const tf = (t ? this.top(t) : undefined) ?? this.lastFrame ?? undefined;
    const f = tf ? { ...tf } : undefined;
    this.violations.push({ id, message, step: this.step, thread: t ? t.id : '-', frame: f, objects });
  }

  stat(name: string, delta = 1): void {
    const old = this.s.stats[name] ?? 0;
    this.s.stats[name] = old + delta;
    if (this.tr) this.fx({ kind: 'stat', stat: name, old, new: old + delta }); else this.nEff++;
  }

  /** A "calls X" point when X exists in the era (the call site the kernel index resolves). */
  callsPoint(t: ThreadCtx, key: string): void {
    const fn = this.N(key);
    this.point(t, symbolExists(fn, this.p.id) ? 'calls ' + fn : 'requests on every vCPU');
  }

  /** n_used_mmu_pages; 2.6 kept n_free_mmu_pages (= n_alloc_mmu_pages - used) instead. */
  usedField(old: number, nw: number): void {
    if (this.v < 3) this.vmField('n_free_mmu_pages', this.s.nMax - old, this.s.nMax - nw);
    else this.vmField('n_used_mmu_pages', old, nw);
  }

  vmField(field: string, old: unknown, nw: unknown): void { if (this.tr) this.fx({ kind: 'vm-field', field, old, new: nw }); else this.quiet(vmFieldAccess(field)); }
  spField(sp: Sp, field: string, old: unknown, nw: unknown): void { if (this.tr) this.fx({ kind: 'sp-field', sp: sp.id, field, old, new: nw }); else this.quiet(ACC.SPS); }

  // ----------------------------------------------------------------------------------------------
  // Locking
  // ----------------------------------------------------------------------------------------------
  lockMode(want: 'read' | 'write'): LockMode { return this.p.lock === 'spinlock' ? 'spin' : want; }

  canGrant(mode: LockMode): boolean {
    const l = this.s.lock;
    if (mode === 'read') return l.writer === null;
    return l.writer === null && l.readers.length === 0;
  }

  grant(t: ThreadCtx, mode: LockMode): void {
    const l = this.s.lock;
    if (mode === 'read') l.readers.push(t.id); else { l.writer = t.id; l.writerMode = mode; }
    t.held = mode;
    this.s.lockOps = 0;
    if (this.tr) this.fx({ kind: 'lock', lock: 'mmu_lock', action: 'acquire', mode, thread: t.id }); else this.quiet(ACC.LOCK);
  }

  /** Acquire mmu_lock: a preemption point; the thread is not runnable until the lock is free. */
  *lock(t: ThreadCtx, want: 'read' | 'write'): Gen {
    const mode = this.lockMode(want);
    const f = this.top(t);
    const fn = f ? f.fn : 'lock';
    let p = this.lockPts.get(fn);
    if (!p || p.acquire !== mode) { p = { point: fn + ':mmu_lock', acquire: mode }; this.lockPts.set(fn, p); }
    yield p;
  }

  unlock(t: ThreadCtx): void {
    const l = this.s.lock;
    const mode = t.held;
    if (!mode) return;
    this.onRelease(t);
    if (mode === 'read') l.readers.splice(l.readers.indexOf(t.id), 1); else { l.writer = null; l.writerMode = null; }
    t.held = null;
    if (this.critLog) this.critLog.push({ thread: t.id, ops: this.s.lockOps });
    if (this.tr) this.fx({ kind: 'lock', lock: 'mmu_lock', action: 'release', mode, thread: t.id }); else this.quiet(ACC.LOCK);
  }

  /** cond_resched_lock / cond_resched_rwlock_write: drop the lock, let others run, retake it. */
  *condResched(t: ThreadCtx, point: string): Gen {
    const mode = t.held!;
    // RT-7: only the invalidated-root zapper may yield under the read lock while walking roots
    if (mode === 'read' && this.top(t)?.fn !== 'kvm_tdp_mmu_zap_invalidated_roots') this.violate('RT-7', `yield under mmu_lock read in ${this.top(t)?.fn}`, [`thread ${t.id}`]);
    this.point(t, 'before yield');
    this.unlock(t);
    yield { point: (this.top(t)?.fn ?? '?') + ':' + point, acquire: mode };
  }

  /**
   * A leaf spinlock (tdp_mmu_pages_lock, mmu_unsync_pages_lock) around `body`. LK-1 (event): the
   * thread must already hold mmu_lock, in any mode.
   */
  leafLock<T>(t: ThreadCtx, lock: 'tdp_mmu_pages_lock' | 'mmu_unsync_pages_lock', body: () => T): T {
    if (this.auditEvents && !t.held) this.violate('LK-1', `${lock} taken by ${t.id} without holding mmu_lock`, [lock, 'mmu_lock', `thread ${t.id}`]);
    if (this.tr) this.fx({ kind: 'lock', lock, action: 'acquire', mode: 'spin', thread: t.id }); else this.quiet(ACC.LOCK);
    const r = body();
    if (this.tr) this.fx({ kind: 'lock', lock, action: 'release', mode: 'spin', thread: t.id }); else this.quiet(ACC.LOCK);
    return r;
  }

  /** Checks made whenever mmu_lock is dropped (RT-3 window, TL-1 pending flush). */
  private onRelease(t: ThreadCtx): void {
    if (!this.auditEvents) return;
    if (this.s.rt3Window) this.violate('RT-3', `mmu_lock dropped while ${this.s.rt3Window} and the request is not posted yet`, ['mmu_lock', `thread ${t.id}`]);
    if (this.s.flushPending && this.staleTlbVcpus().length) this.violate('TL-1', 'mmu_lock released after zapping SPTEs of a loaded root without a remote TLB flush', this.staleTlbVcpus().map((v) => `vcpu${v}.tlb`));
  }

  // ----------------------------------------------------------------------------------------------
  // SPTE storage
  // ----------------------------------------------------------------------------------------------
  getSpte(sp: Sp, i: number): number { return sp.spt === null ? 0 : sp.spt[i]; }

  isLeaf(sp: Sp, v: number): boolean { return sp.level === 1 || (v % 256) >= SPTE_PS; }

  setSpte(sp: Sp, i: number, nv: number): void {
    if (sp.spt === null) { sp.spt = this.zeroed(SPT_LENGTH); sp.spt[SPT_HOLDERS] = 1; }
    else if (sp.spt[SPT_HOLDERS]! > 1) {
      // another copy of the state holds this table too: write a private copy
      sp.spt[SPT_HOLDERS]!--;
      sp.spt = this.copied(sp.spt);
      sp.spt[SPT_HOLDERS] = 1;
    }
    const old = sp.spt[i];
    sp.spt[i] = nv;
    // keep the canonical hash's and the auditor's view of the table current (state.ts: lh1/lh2, presentIdx, nonLeafIdx)
    const oldLeaf = old !== 0 && this.isLeaf(sp, old), newLeaf = nv !== 0 && this.isLeaf(sp, nv);
    if (oldLeaf) { sp.lh1 ^= sptLeafTerm(1, i, old); sp.lh2 ^= sptLeafTerm(2, i, old); }
    if (newLeaf) { sp.lh1 ^= sptLeafTerm(1, i, nv); sp.lh2 ^= sptLeafTerm(2, i, nv); }
    const oldNonLeaf = old !== 0 && !oldLeaf, newNonLeaf = nv !== 0 && !newLeaf;
    if (oldNonLeaf !== newNonLeaf) sp.nonLeafIdx = withIndex(sp.nonLeafIdx, i, newNonLeaf);
    const oldP = isPresent(old), newP = isPresent(nv);
    if (oldP !== newP) sp.presentIdx = withIndex(sp.presentIdx, i, newP);
    if (oldP && !newP) sp.nPresent--; else if (!oldP && newP) sp.nPresent++;
    if (oldP && this.isLeaf(sp, old)) this.pfnDec(sptePfn(old));
    if (newP && this.isLeaf(sp, nv)) this.pfnInc(sptePfn(nv));
    if (oldP && (!newP || ((old % 4) === 3 && (nv % 4) !== 3))) this.s.flushPending = true;
    if (sp.life === LIFE_FREED) this.violate('HS-1', `SPTE write into freed shadow page sp#${sp.id}`, [`sp#${sp.id}`]);
    this.s.lockOps++;
    if (this.tr) this.fx({ kind: 'spte-write', sp: sp.id, index: i, old: hex(old), new: hex(nv) }); else this.quiet(ACC.SPS);
  }

  // The per-pfn mapping counts and lpage counters are bookkeeping without trace effects of their own,
  // so their writers mark the access category directly (see access.ts).
  private pfnInc(pfn: number): void {
    this.s.wr |= ACC.HOST;
    const h = this.s.host, k = pfn - PFN_FIRST;
    if (k < 0 || k >= h.maps.length) return;
    if (h.maps[k]++ === 0) h.mapped++;
  }
  private pfnDec(pfn: number): void {
    this.s.wr |= ACC.HOST;
    const h = this.s.host, k = pfn - PFN_FIRST;
    if (k < 0 || k >= h.maps.length) return;
    if (--h.maps[k] === 0) h.mapped--;
  }
  pfnMapCount(pfn: number): number { const k = pfn - PFN_FIRST; return k >= 0 && k < this.s.host.maps.length ? this.s.host.maps[k] : 0; }

  spOf(id: number): Sp | undefined { return this.s.sps.get(id); }

  childOf(v: number): Sp | undefined { return this.s.sps.get(sptePfn(v) - SP_PFN_BASE); }

  // ----------------------------------------------------------------------------------------------
  // pte_list (rmap and parent_ptes) with the kernel's head-word encoding
  // ----------------------------------------------------------------------------------------------
  listEntries(head: number): number[] {
    if (head === 0) return [];
    if (head % 2 === 0) return [head];
    const out: number[] = [];
    let id = (head - 1 - DESC_BASE) / 128;
    while (id > 0) {
      const d = this.s.descs.get(id)!;
      out.push(...d.sptes);
      id = d.more;
    }
    return out;
  }

  descChain(head: number): number[][] {
    if (head === 0 || head % 2 === 0) return [];
    const out: number[][] = [];
    let id = (head - 1 - DESC_BASE) / 128;
    while (id > 0) { const d = this.s.descs.get(id)!; out.push([...d.sptes]); id = d.more; }
    return out;
  }

  private newDesc(sptes: number[], more: number): number {
    const id = this.s.nextDescId++;
    this.s.descs.set(id, { sptes, more });
    return id;
  }

  /** pte_list_add: returns [new head, count after insertion]. */
  pteListAdd(head: number, sptep: number): [number, number] {
    if (head === 0) return [sptep, 1];
    if (head % 2 === 0) return [DESC_BASE + this.newDesc([head, sptep], 0) * 128 + 1, 2];
    const ext = this.p.pteListExt;
    const first = (head - 1 - DESC_BASE) / 128;
    if (this.v >= 5.15) {
      // new entries go to the head descriptor; a full head gets a new head in front of it
      const d = this.s.descs.get(first)!;
      if (d.sptes.length < ext) { d.sptes.push(sptep); return [head, this.listCount(head)]; }
      return [DESC_BASE + this.newDesc([sptep], first) * 128 + 1, this.listCount(head) + 1];
    }
    // older layout: walk to the last descriptor, fill front to back
    let id = first, n = 0;
    for (;;) {
      const d = this.s.descs.get(id)!;
      n += d.sptes.length;
      if (d.more === 0) {
        if (d.sptes.length < ext) d.sptes.push(sptep); else d.more = this.newDesc([sptep], 0);
        return [head, n + 1];
      }
      id = d.more;
    }
  }

  listCount(head: number): number { return this.listEntries(head).length; }

  /** pte_list_remove: returns the new head. Reports RM-1 if the entry is absent. */
  pteListRemove(head: number, sptep: number, what: string): number {
    if (head === sptep) return 0;
    if (head === 0 || head % 2 === 0) { this.violate('RM-1', `pte_list_remove: ${hex(sptep)} not in ${what}`, [what, hex(sptep)]); return head; }
    const first = (head - 1 - DESC_BASE) / 128;
    let prev = 0, id = first;
    while (id > 0) {
      const d = this.s.descs.get(id)!;
      const k = d.sptes.indexOf(sptep);
      if (k >= 0) {
        // fill the hole with the last entry of this descriptor (pte_list_desc_remove_entry)
        const last = d.sptes.pop()!;
        if (k < d.sptes.length) d.sptes[k] = last;
        if (d.sptes.length === 0) {
          this.s.descs.delete(id);
          if (prev === 0) return d.more === 0 ? 0 : DESC_BASE + d.more * 128 + 1;
          this.s.descs.get(prev)!.more = d.more;
        }
        return head;
      }
      prev = id; id = d.more;
    }
    this.violate('RM-1', `pte_list_remove: ${hex(sptep)} not in ${what}`, [what, hex(sptep)]);
    return head;
  }

  // ----------------------------------------------------------------------------------------------
  // Memslots, rmaps, lpage_info
  // ----------------------------------------------------------------------------------------------
  slotOfGfn(gfn: number): Slot | undefined {
    for (const m of this.s.memslots) if (gfn >= m.baseGfn && gfn < m.baseGfn + m.npages) return m;
    return undefined;
  }

  rmapIndex(slot: Slot, gfn: number, level: number): number {
    const shift = levelSpan(level);
    return Math.floor(gfn / shift) - Math.floor(slot.baseGfn / shift);
  }

  rmapArray(slot: Slot, level: number): Float64Array {
    let a = slot.rmap[level - 1];
    if (!a) {
      const shift = levelSpan(level);
      const n = Math.floor((slot.baseGfn + slot.npages - 1) / shift) - Math.floor(slot.baseGfn / shift) + 1;
      a = this.zeroed(n);
      slot.rmap[level - 1] = a;
    }
    return a;
  }

  /**
   * RM-4 / AG-3 (event): rmap chains change shape only under mmu_lock held for write (or the
   * spinlock) and, from 6.15 (the 6.19 profile), with the rmap head's bit lock held as well, since
   * lockless aging reads the chains.
   */
  private checkRmapLock(): void {
    const t = this.cur;
    if (!this.auditEvents || !t) return;
    if (t.held !== 'write' && t.held !== 'spin') {
      this.violate('RM-4', `rmap changed by ${t.id} without mmu_lock held for write`, [`thread ${t.id}`]);
      this.violate('AG-3', `rmap chain changed by ${t.id} without mmu_lock held for write`, [`thread ${t.id}`]);
    }
    if (this.p.locklessAging && !this.rmapLockHeld) this.violate('AG-3', `rmap chain changed by ${t.id} without the rmap bit lock (kvm_rmap_lock)`, [`thread ${t.id}`]);
  }

  /** kvm_rmap_lock / kvm_rmap_unlock (6.15+): a bit lock in the rmap head word, held for one change. */
  private rmapLock(on: boolean): void {
    if (!this.p.locklessAging) return;
    if (on && this.testFaults !== null && this.testFaults.skipRmapLock) return;
    this.rmapLockHeld = on;
  }

  rmapAdd(sp: Sp, i: number, gfn: number, level: number): void {
    const slot = this.slotOfGfn(gfn);
    if (!slot) return;
    this.enter(this.cur!, 'rmap_add');
    const a = this.rmapArray(slot, level);
    const idx = this.rmapIndex(slot, gfn, level);
    const sptep = sptepOf(sp.id, i);
    this.rmapLock(true);
    this.checkRmapLock();
    const [nh, count] = this.pteListAdd(a[idx], sptep);
    a[idx] = nh;
    slot.rver = writeVersion();
    this.rmapLock(false);
    this.s.lockOps++;
    if (this.tr) this.fx({ kind: 'rmap-add', slot: slot.id, level, gfn, sptep: hex(sptep), count }); else this.quiet(ACC.SLOTS);
    this.leave(this.cur!);
  }

  rmapRemove(sp: Sp, i: number, gfn: number, level: number): void {
    const slot = this.slotOfGfn(gfn);
    if (!slot) return;
    const a = this.rmapArray(slot, level);
    const idx = this.rmapIndex(slot, gfn, level);
    const sptep = sptepOf(sp.id, i);
    this.rmapLock(true);
    this.checkRmapLock();
    a[idx] = this.pteListRemove(a[idx], sptep, `rmap(slot ${slot.id}, level ${level}, gfn ${hex(gfn)})`);
    slot.rver = writeVersion();
    this.rmapLock(false);
    if (this.tr) this.fx({ kind: 'rmap-remove', slot: slot.id, level, gfn, sptep: hex(sptep), count: this.listCount(a[idx]) }); else this.quiet(ACC.SLOTS);
  }

  /** gfn mapped by SPTE i of a shadow page. */
  spteGfn(sp: Sp, i: number): number {
    if (sp.gfns) { const g = sp.gfns.get(i); if (g !== undefined) return g; }
    return sp.gfn + i * levelSpan(sp.level);
  }

  lpageAdjust(gfn: number, delta: number): void {
    const slot = this.slotOfGfn(gfn);
    if (!slot) return;
    this.s.wr |= ACC.SLOTS;
    for (const level of [2, 3]) {
      const a = slot.lpage[level - 2];
      const idx = this.rmapIndex(slot, gfn, level);
      if (idx >= 0 && idx < a.length) a[idx] += delta;
    }
  }

  // ----------------------------------------------------------------------------------------------
  // Host side
  // ----------------------------------------------------------------------------------------------
  hvaOfGfn(gfn: number): number | undefined {
    const slot = this.slotOfGfn(gfn);
    return slot ? Math.floor(slot.hva / 4096) + (gfn - slot.baseGfn) : undefined;
  }

  gfnsOfHva(hvaPage: number, npages: number): Array<[Slot, number, number]> {
    const out: Array<[Slot, number, number]> = [];
    for (const m of this.s.memslots) {
      const b = Math.floor(m.hva / 4096);
      const lo = Math.max(b, hvaPage), hi = Math.min(b + m.npages, hvaPage + npages);
      if (lo < hi) out.push([m, m.baseGfn + (lo - b), m.baseGfn + (hi - b)]);
    }
    return out;
  }

  addRegion(s: VmState, m: MemslotConfig): void {
    const base = Math.floor(m.hva / 4096);
    if (s.host.regions.some((r) => base >= r.base && base < r.base + r.n)) return;
    s.host.regions.push({ base, n: m.npages, pte: new Float64Array(m.npages), last: new Float64Array(m.npages), zh1: 0, zh2: 0 });
  }

  private regionCache = -1;
  /** Region holding an hva page (a 512-page region is created for stray addresses). */
  regionOf(h: number): HostRegion {
    const regs = this.s.host.regions;
    const c = this.regionCache;
    if (c >= 0 && c < regs.length) { const r = regs[c]; if (h >= r.base && h < r.base + r.n) return r; }
    for (let i = 0; i < regs.length; i++) {
      const r = regs[i];
      if (h >= r.base && h < r.base + r.n) { this.regionCache = i; return r; }
    }
    const base = Math.floor(h / 512) * 512;
    const r: HostRegion = { base, n: 512, pte: new Float64Array(512), last: new Float64Array(512), zh1: 0, zh2: 0 };
    regs.push(r);
    return r;
  }
  region(h: number): { r: HostRegion; k: number } { const r = this.regionOf(h); return { r, k: h - r.base }; }

  hpte(h: number): number { const { r, k } = this.region(h); return r.pte[k]; }
  setHpte(h: number, v: number): void { const { r, k } = this.region(h); setHostEntry(r, k, v, v ? Math.floor(v / 4) : r.last[k]); }
  lastPfn(h: number): number { const { r, k } = this.region(h); return r.last[k]; }

  private growHost(pfn: number): void {
    const h = this.s.host;
    let cap = h.ref.length;
    if (pfn - PFN_FIRST < cap) return;
    while (pfn - PFN_FIRST >= cap) cap *= 2;
    const ref = new Int32Array(cap); ref.set(h.ref); h.ref = ref;
    const st = new Uint8Array(cap); st.set(h.state); h.state = st;
    const maps = new Int32Array(cap); maps.set(h.maps); h.maps = maps;
  }

  pageRef(pfn: number): number { const k = pfn - PFN_FIRST; return k >= 0 && k < this.s.host.ref.length ? this.s.host.ref[k] : 0; }
  pageState(pfn: number): number { const k = pfn - PFN_FIRST; return k >= 0 && k < this.s.host.state.length ? this.s.host.state[k] : 0; }

  refAdjust(pfn: number, delta: number): void {
    const h = this.s.host, k = pfn - PFN_FIRST;
    if (k < 0 || k >= h.ref.length) return;
    const old = h.ref[k];
    h.ref[k] = old + delta;
    if (this.tr) this.fx({ kind: 'host-page', pfn, field: 'refcount', old, new: old + delta }); else this.quiet(ACC.HOST);
  }

  /** get_user_pages: fault the host page in if needed and take a reference. */
  gup(hvaPage: number, write: boolean): number {
    const h = this.s.host;
    const r = this.regionOf(hvaPage), k = hvaPage - r.base;
    let e = r.pte[k];
    if (e === 0) {
      const pfn = h.nextPfn++;
      this.growHost(pfn);
      h.state[pfn - PFN_FIRST] = 0;
      h.ref[pfn - PFN_FIRST] = 1;
      e = pfn * 4 + 1 + (write ? 2 : 0);
      setHostEntry(r, k, e, pfn);
      if (this.tr) { this.fx({ kind: 'host-pte', hva: hvaPage * 4096, old: 'none', new: `pfn ${hex(pfn)}` }); this.fx({ kind: 'host-page', pfn, field: 'refcount', old: 0, new: 1 }); } else { this.quiet(ACC.HOST); this.quiet(ACC.HOST); }
    } else if (write && (e % 4) < 2) setHostEntry(r, k, e + 2, r.last[k]);
    const pfn = Math.floor(e / 4);
    this.refAdjust(pfn, 1);
    return pfn;
  }

  // ----------------------------------------------------------------------------------------------
  // Requests, TLB
  // ----------------------------------------------------------------------------------------------
  requestVcpu(v: Vcpu, r: RequestName): void {
    if (!v.requests.includes(r)) { v.requests.push(r); v.requests.sort(); }
    if (this.tr) this.fx({ kind: 'request-set', vcpu: v.id, request: r }); else this.quiet(ACC.VCPUS);
  }

  clearRequest(v: Vcpu, r: RequestName): boolean {
    const k = v.requests.indexOf(r);
    if (k < 0) return false;
    v.requests.splice(k, 1);
    if (this.tr) this.fx({ kind: 'request-clear', vcpu: v.id, request: r }); else this.quiet(ACC.VCPUS);
    return true;
  }

  /** kvm_make_all_cpus_request: set the bit everywhere; vCPUs in guest mode are kicked out (and,
   *  for the WAIT requests, acknowledge by servicing a TLB flush right away). */
  makeAllCpusRequest(t: ThreadCtx, r: RequestName): void {
    this.enter(t, 'make_all_cpus_request', this.frameArgs ? { req: r } : undefined);
    for (const v of this.s.vcpus) {
      this.requestVcpu(v, r);
      if (v.inGuest) {
        this.s.wr |= ACC.VCPUS; v.inGuest = false;
        this.note(`vcpu${v.id} kicked out of guest mode`);
        if (r === 'KVM_REQ_TLB_FLUSH') { this.clearRequest(v, r); this.tlbFlush(v, 'all'); }
      }
    }
    this.leave(t);
  }

  kvmFlushRemoteTlbs(t: ThreadCtx): void {
    this.enter(t, 'kvm_flush_remote_tlbs');
    this.callsPoint(t, 'make_all_cpus_request');
    this.makeAllCpusRequest(t, 'KVM_REQ_TLB_FLUSH');
    this.stat('remote_tlb_flush');
    this.s.flushPending = false;
    this.leave(t);
  }

  tlbFlush(v: Vcpu, scope: 'all' | 'current' | 'guest' | 'gva', key?: number): void {
    let n = 0;
    if (scope === 'current') { const before = v.tlb.length; v.tlb = v.tlb.filter((e) => e.tag !== this.curTag(v)); n = before - v.tlb.length; }
    else if (scope === 'gva') { const before = v.tlb.length; v.tlb = v.tlb.filter((e) => e.key !== key); n = before - v.tlb.length; }
    else { n = v.tlb.length; v.tlb = []; }
    if (scope === 'current' || scope === 'all') { this.s.wr |= ACC.VCPUS; v.loadFlushPending = false; }
    if (this.tr) this.fx({ kind: 'tlb-flush', vcpu: v.id, scope, entries: n }); else this.quiet(ACC.VCPUS);
  }

  curTag(v: Vcpu): number { return v.guestMode ? v.l2Root : v.root; }

  /** Walk the SPTEs of a root for a key (gfn for direct roots, gva page for shadow roots). */
  translate(rootId: number, key: number): { pfn: number; w: boolean; sp: Sp; i: number } | null {
    let sp = this.s.sps.get(rootId);
    while (sp) {
      const i = Math.floor(key / levelSpan(sp.level)) % 512;
      const v = this.getSpte(sp, i);
      if (!isPresent(v)) return null;
      if (this.isLeaf(sp, v)) return { pfn: sptePfn(v), w: (v % 4) === 3, sp, i };
      sp = this.childOf(v);
    }
    return null;
  }

  isStale(e: { tag: number; key: number; pfn: number; w: boolean }): boolean {
    const tr = this.translate(e.tag, e.key);
    return !tr || tr.pfn !== e.pfn || (e.w && !tr.w);
  }

  staleTlbVcpus(): number[] {
    const out: number[] = [];
    for (const v of this.s.vcpus) {
      if (!v.inGuest) continue;
      const tag = this.curTag(v);
      if (v.tlb.some((e) => e.tag === tag && this.isStale(e))) out.push(v.id);
    }
    return out;
  }

  // ----------------------------------------------------------------------------------------------
  // Shadow pages: role, allocation, lists, hash
  // ----------------------------------------------------------------------------------------------
  roleFields(level: number, direct: boolean, v: Vcpu | undefined, nested: boolean): Record<string, number> {
    const mb = v?.modeBits ?? {};
    const shadow = !direct;
    const r: Record<string, number> = { level, direct: direct ? 1 : 0, metaphysical: direct ? 1 : 0, access: 7, invalid: 0, quadrant: 0 };
    if (shadow) {
      r.cr4_pae = mb.cr4_pae ? 1 : 0; r.gpte_is_8_bytes = r.cr4_pae; r.has_4_byte_gpte = r.cr4_pae ? 0 : 1;
      r.cr0_wp = mb.cr0_wp ? 1 : 0; r.nxe = mb.efer_nx ? 1 : 0; r.efer_nx = r.nxe; r.cr4_pge = mb.cr4_pge ? 1 : 0;
      r.smep_andnot_wp = mb.cr4_smep && !mb.cr0_wp ? 1 : 0; r.smap_andnot_wp = mb.cr4_smap && !mb.cr0_wp ? 1 : 0;
      r.glevels = 4;
    } else { r.has_4_byte_gpte = 0; r.gpte_is_8_bytes = 1; r.cr4_pae = 1; r.efer_nx = 1; r.nxe = 1; r.cr0_wp = 1; }
    if (nested) r.guest_mode = 1;
    return r;
  }

  private readonly roleMemo = new Map<number, number>();

  /** encodeRole(roleFields(...)), memoised on the inputs roleFields reads (it runs on every fault). */
  roleWord(level: number, direct: boolean, v: Vcpu | undefined, nested: boolean): number {
    const mb = v?.modeBits;
    const bits = direct || !mb ? 0
      : (mb.cr4_pae ? 1 : 0) | (mb.cr0_wp ? 2 : 0) | (mb.efer_nx ? 4 : 0) | (mb.cr4_pge ? 8 : 0) | (mb.cr4_smep ? 16 : 0) | (mb.cr4_smap ? 32 : 0);
    const key = (((level * 2 + (direct ? 1 : 0)) * 2 + (nested ? 1 : 0)) * 2 + (v ? 1 : 0)) * 64 + bits;
    let w = this.roleMemo.get(key);
    if (w === undefined) { w = this.encodeRole(this.roleFields(level, direct, v, nested)); this.roleMemo.set(key, w); }
    return w;
  }

  /** roleBits as [name, field modulus, place value] (encodeRole runs on every fault). */
  private roleLayout: Array<[string, number, number]> | null = null;

  encodeRole(f: Record<string, number>): number {
    let layout = this.roleLayout;
    if (!layout) {
      layout = [];
      let shift = 0;
      for (const [name, w] of this.p.roleBits) { layout.push([name, 2 ** w, 2 ** shift]); shift += w; }
      this.roleLayout = layout;
    }
    let word = 0;
    for (let i = 0; i < layout.length; i++) { const l = layout[i]!; word += ((f[l[0]] ?? 0) % l[1]) * l[2]; }
    return word;
  }

  decodeRole(word: number): Record<string, number | boolean> {
    const out: Record<string, number | boolean> = {};
    let shift = 0;
    for (const [name, w] of this.p.roleBits) {
      const val = Math.floor(word / 2 ** shift) % 2 ** w;
      if (!name.startsWith('pad')) out[name] = w === 1 ? val === 1 : val;
      shift += w;
    }
    return out;
  }

  invalidBit(): number {
    let shift = 0;
    for (const [name, w] of this.p.roleBits) { if (name === 'invalid') return 2 ** shift; shift += w; }
    return 0;
  }

  setInvalid(sp: Sp): void {
    if (sp.invalid) return;
    sp.invalid = true;
    const old = sp.role;
    sp.role += this.invalidBit();
    this.spField(sp, 'role.invalid', false, true);
    if (this.tr) this.fx({ kind: 'sp-field', sp: sp.id, field: 'role.word', old: hex(old), new: hex(sp.role) }); else this.quiet(ACC.SPS);
  }

  isObsolete(sp: Sp): boolean {
    if (this.p.fastZap === 'none') return sp.invalid;
    if (sp.tdp && this.v >= 5.17) return sp.invalid;
    if (this.p.fastZap === 'gen-ulong') return sp.gen !== this.s.gen;
    return sp.invalid || sp.gen !== this.s.gen;
  }

  /** kvm_page_table_hashfn: a multiplicative (golden-ratio) hash of the gfn, like hash_64(). */
  hashBucket(gfn: number): number {
    const n = this.s.hashBuckets;
    if (n <= 1) return 0;
    const h = Math.imul(((gfn % 4294967296) ^ Math.floor(gfn / 4294967296)) >>> 0, 0x61c88647) >>> 0;
    const bits = Math.log2(n);
    return Number.isInteger(bits) ? h >>> (32 - bits) : h % n;
  }

  activeAddHead(sp: Sp): void {
    const s = this.s;
    sp.prevA = -1; sp.nextA = s.activeHead;
    if (s.activeHead >= 0) s.sps.get(s.activeHead)!.prevA = sp.id; else s.activeTail = sp.id;
    s.activeHead = sp.id; sp.onActive = true;
  }

  activeRemove(sp: Sp): void {
    if (!sp.onActive) return;
    const s = this.s;
    if (sp.prevA >= 0) s.sps.get(sp.prevA)!.nextA = sp.nextA; else s.activeHead = sp.nextA;
    if (sp.nextA >= 0) s.sps.get(sp.nextA)!.prevA = sp.prevA; else s.activeTail = sp.prevA;
    sp.prevA = sp.nextA = -1; sp.onActive = false;
  }

  activeList(): number[] {
    const out: number[] = [];
    for (let id = this.s.activeHead; id >= 0; id = this.s.sps.get(id)!.nextA) out.push(id);
    return out;
  }

  newSp(gfn: number, level: number, direct: boolean, tdp: boolean, role: number, nested: boolean): Sp {
    const sp: Sp = {
      id: this.s.nextSpId++, gfn, role, level, direct, tdp, nested, spt: null, nPresent: 0, parentPtes: 0,
      unsync: false, unsyncChildren: 0, unsyncBitmap: [], rootCount: 0, gen: this.s.gen, invalid: false, life: LIFE_LIVE,
      onActive: false, prevA: -1, nextA: -1, inHash: false, gfns: null, rootId: -1, scheduledToZap: false, writeFlooding: 0, lh1: 0, lh2: 0, presentIdx: NO_INDICES, nonLeafIdx: NO_INDICES,
    };
    this.s.sps.set(sp.id, sp);
    if (this.tr) this.fx({ kind: 'sp-alloc', sp: sp.id, gfn, role: hex(role), gen: sp.gen, tdp }); else this.quiet(ACC.SPS);
    return sp;
  }

  /** kvm_mmu_get_page / kvm_mmu_get_shadow_page: hash lookup (skipping obsolete pages) or allocation. */
  getPage(t: ThreadCtx, v: Vcpu | undefined, gfn: number, level: number, direct: boolean, nested: boolean): Sp {
    const role = this.roleWord(level, direct, v, nested);
    this.enter(t, 'get_page', this.frameArgs ? { gfn: hex(gfn), level, direct } : undefined);
    const b = this.hashBucket(gfn);
    const bucket = this.s.hash.get(b);
    if (bucket) {
      for (const id of bucket) {
        const sp = this.s.sps.get(id);
        if (!sp) { this.violate('HS-1', `hash bucket ${b} holds freed sp#${id}`, [`sp#${id}`]); continue; }
        if (sp.gfn !== gfn || sp.role !== role || this.isObsolete(sp)) continue;
        if (sp.unsync || sp.unsyncChildren) { if (v) this.requestVcpu(v, 'KVM_REQ_MMU_SYNC'); }
        if (this.p.fastZap !== 'none' && sp.gen !== this.s.gen) this.violate('FZ-2', `lookup returned sp#${sp.id} of an old generation`, [`sp#${sp.id}`]);
        this.leave(t);
        return sp;
      }
    }
    this.stat('mmu_cache_miss');
    this.enter(t, this.v < 6.1 ? 'kvm_mmu_alloc_page' : 'kvm_mmu_alloc_shadow_page');
    const sp = this.newSp(gfn, level, direct, false, role, nested);
    let bk = this.s.hash.get(b);
    if (!bk) { bk = []; this.s.hash.set(b, bk); }
    bk.unshift(sp.id); sp.inHash = true;
    this.activeAddHead(sp);
    this.modUsed(1);
    this.leave(t);
    if (!direct || nested) {
      this.s.indirectShadowPages++;
      if (!nested) this.accountShadowed(t, sp);
    }
    this.leave(t);
    return sp;
  }

  modUsed(d: number): void {
    const old = this.s.nUsed;
    this.s.nUsed += d;
    this.usedField(old, this.s.nUsed);
  }

  /** account_shadowed: write-protect the guest page table gfn and pin huge frames around it. */
  accountShadowed(t: ThreadCtx, sp: Sp): void {
    this.enter(t, 'account_shadowed', this.frameArgs ? { gfn: hex(sp.gfn) } : undefined);
    this.lpageAdjust(sp.gfn, 1);
    this.rmapWriteProtect(t, sp.gfn);
    this.leave(t);
  }

  unaccountShadowed(t: ThreadCtx, sp: Sp): void {
    this.enter(t, 'unaccount_shadowed', this.frameArgs ? { gfn: hex(sp.gfn) } : undefined);
    this.lpageAdjust(sp.gfn, -1);
    this.leave(t);
  }

  /** Clear the writable bit of every SPTE mapping gfn (rmap_write_protect). */
  rmapWriteProtect(t: ThreadCtx, gfn: number): boolean {
    const slot = this.slotOfGfn(gfn);
    if (!slot) return false;
    this.enter(t, 'rmap_write_protect', this.frameArgs ? { gfn: hex(gfn) } : undefined);
    const flush = this.clearWritableRmaps(slot, gfn);
    if (flush) this.kvmFlushRemoteTlbs(t);
    this.leave(t);
    return flush;
  }

  /** Drop W from every writable leaf SPTE that maps gfn, on every rmap level; true if any changed. */
  private clearWritableRmaps(slot: Slot, gfn: number): boolean {
    let changed = false;
    for (let level = 1; level <= 3; level++) {
      const a = slot.rmap[level - 1];
      if (!a) continue;
      for (const sptep of this.listEntries(a[this.rmapIndex(slot, gfn, level)])) {
        const sp = this.s.sps.get(sptepSp(sptep));
        if (!sp) continue;
        const i = sptepIndex(sptep), val = this.getSpte(sp, i);
        if ((val % 4) === 3) { this.setSpte(sp, i, val - SPTE_W); changed = true; }
      }
    }
    return changed;
  }

  /**
   * The write-protect mmu_sync_children applies to each page of a batch before syncing it, so the
   * next guest write to that table traps again. Frames per era: rmap_write_protect (up to 5.17;
   * from 5.15 it forwards to kvm_mmu_slot_gfn_write_protect), kvm_vcpu_write_protect_gfn (5.18+,
   * also through kvm_mmu_slot_gfn_write_protect). No flush here: the caller flushes once per batch.
   */
  syncWriteProtect(t: ThreadCtx, gfn: number): boolean {
    const slot = this.slotOfGfn(gfn);
    if (!slot) return false;
    this.enter(t, this.v < 5.18 ? 'rmap_write_protect' : 'kvm_vcpu_write_protect_gfn', this.frameArgs ? { gfn: hex(gfn) } : undefined);
    this.enter(t, 'kvm_mmu_slot_gfn_write_protect', this.frameArgs ? { gfn: hex(gfn) } : undefined);
    const changed = this.clearWritableRmaps(slot, gfn);
    this.leave(t);
    this.leave(t);
    return changed;
  }

  /** The flush at the end of a sync batch: kvm_mmu_remote_flush_or_zap (5.x+) or a direct flush. */
  syncBatchFlush(t: ThreadCtx): void {
    this.enter(t, 'kvm_mmu_remote_flush_or_zap');
    this.kvmFlushRemoteTlbs(t);
    this.leave(t);
  }

  // ----------------------------------------------------------------------------------------------
  // Linking, unsync bookkeeping
  // ----------------------------------------------------------------------------------------------
  linkShadowPage(t: ThreadCtx, parent: Sp, i: number, child: Sp): void {
    this.enter(t, 'link_shadow_page', this.frameArgs ? { sp: parent.id, index: i, child: child.id } : undefined);
    this.setSpte(parent, i, makeSpte(SP_PFN_BASE + child.id, SPTE_P | SPTE_W | SPTE_U | SPTE_A));
    const sptep = sptepOf(parent.id, i);
    child.parentPtes = this.pteListAdd(child.parentPtes, sptep)[0];
    if (this.tr) this.fx({ kind: 'parent-pte-add', sp: child.id, sptep: hex(sptep) }); else this.quiet(ACC.SPS);
    if (child.unsync || child.unsyncChildren) this.markUnsync(parent, i);
    this.leave(t);
  }

  /** Set bit i of sp's unsync_child_bitmap; propagate upward on 0 -> 1 (mark_unsync). */
  markUnsync(sp: Sp, i: number): void {
    if (sp.unsyncBitmap.includes(i)) return;
    sp.unsyncBitmap.push(i); sp.unsyncBitmap.sort((a, b) => a - b);
    sp.unsyncChildren++;
    this.spField(sp, 'unsync_children', sp.unsyncChildren - 1, sp.unsyncChildren);
    if (sp.unsyncChildren === 1) this.markParentsUnsync(sp);
  }

  markParentsUnsync(sp: Sp): void {
    for (const p of this.listEntries(sp.parentPtes)) {
      const parent = this.s.sps.get(sptepSp(p));
      if (parent) this.markUnsync(parent, sptepIndex(p));
    }
  }

  clearUnsyncChildBit(sp: Sp, i: number): void {
    const k = sp.unsyncBitmap.indexOf(i);
    if (k < 0) return;
    sp.unsyncBitmap.splice(k, 1);
    sp.unsyncChildren--;
    this.spField(sp, 'unsync_children', sp.unsyncChildren + 1, sp.unsyncChildren);
    if (sp.unsyncChildren === 0 && !sp.unsync) {
      for (const p of this.listEntries(sp.parentPtes)) {
        const parent = this.s.sps.get(sptepSp(p));
        if (parent) this.clearUnsyncChildBit(parent, sptepIndex(p));
      }
    }
  }

  /** A page stopped being unsync (synced or zapped): clear its bit in every parent. */
  clearParentsBits(sp: Sp): void {
    if (sp.unsyncChildren) return;
    for (const p of this.listEntries(sp.parentPtes)) {
      const parent = this.s.sps.get(sptepSp(p));
      if (parent) this.clearUnsyncChildBit(parent, sptepIndex(p));
    }
  }

  unsyncPage(t: ThreadCtx, sp: Sp): void {
    this.enter(t, 'unsync_page', this.frameArgs ? { sp: sp.id } : undefined);
    sp.unsync = true;
    this.spField(sp, 'unsync', false, true);
    this.stat('mmu_unsync');
    this.markParentsUnsync(sp);
    this.leave(t);
  }

  unlinkUnsync(t: ThreadCtx, sp: Sp): void {
    if (!sp.unsync) return;
    this.enter(t, 'kvm_unlink_unsync_page', this.frameArgs ? { sp: sp.id } : undefined);
    sp.unsync = false;
    this.spField(sp, 'unsync', true, false);
    this.stat('mmu_unsync', -1);
    this.clearParentsBits(sp);
    this.leave(t);
  }

  /** mmu_need_write_protect / mmu_try_to_unsync_pages: may gfn be mapped writable? */
  needWriteProtect(t: ThreadCtx, gfn: number): boolean {
    const bucket = this.s.hash.get(this.hashBucket(gfn));
    if (!bucket) return false;
    const sps = bucket.map((id) => this.s.sps.get(id)!).filter((sp) => sp && sp.gfn === gfn && !sp.direct && !sp.nested && !sp.invalid);
    if (!sps.length) return false;
    this.enter(t, 'need_write_protect', this.frameArgs ? { gfn: hex(gfn) } : undefined);
    let wp = false;
    if (!this.p.unsync || sps.some((sp) => sp.level > 1)) wp = true;
    else if (this.v >= 5.15) {
      // 5.15.24+ serialises unsync marking with mmu_unsync_pages_lock (TDP-MMU faults hold
      // mmu_lock only for read); it is taken at the first page that needs marking
      if (sps.some((sp) => !sp.unsync)) this.leafLock(t, 'mmu_unsync_pages_lock', () => { for (const sp of sps) if (!sp.unsync) this.unsyncPage(t, sp); });
    } else for (const sp of sps) if (!sp.unsync) this.unsyncPage(t, sp);
    this.leave(t);
    return wp;
  }

  // ----------------------------------------------------------------------------------------------
  // Leaf install / zap
  // ----------------------------------------------------------------------------------------------
  /** mmu_set_spte (shadow) or the TDP leaf write. */
  setLeaf(t: ThreadCtx, sp: Sp, i: number, gfn: number, pfn: number, writable: boolean, dirty: boolean): void {
    const old = this.getSpte(sp, i);
    if (writable && this.auditEvents) this.checkUnsyncBeforeWritable(gfn, sp, i);
    const flags = SPTE_P | SPTE_U | SPTE_A | (writable ? SPTE_W : 0) | (dirty ? SPTE_D : 0);
    const nv = makeSpte(pfn, flags);
    let flush = false;
    if (isPresent(old)) {
      if (sptePfn(old) === pfn) {
        if (old !== nv) this.setSpte(sp, i, nv);
        if ((old % 4) === 3 && !writable) this.kvmFlushRemoteTlbs(t);
        return;
      }
      // the translation changes: drop the old SPTE and flush before the new one is used
      this.zapPte(t, sp, i);
      flush = true;
    }
    if (this.auditEvents) this.checkInstall(gfn, pfn, sp);
    if (!sp.tdp && !sp.direct && !sp.nested) { if (!sp.gfns) sp.gfns = new Map(); sp.gfns.set(i, gfn); }
    else if (sp.nested) { if (!sp.gfns) sp.gfns = new Map(); sp.gfns.set(i, gfn); }
    this.setSpte(sp, i, nv);
    if (!sp.tdp) this.rmapAdd(sp, i, gfn, sp.level);
    if (this.p.pinsPages) this.refAdjust(pfn, 1);
    if (flush) this.kvmFlushRemoteTlbs(t);
  }

  /**
   * US-4 (event): a writable leaf SPTE for gfn may exist only once every live shadow page that
   * shadows gfn as a guest page table is unsync (level 1), i.e. write tracking would otherwise have
   * refused the writable mapping (a higher-level shadow of gfn forbids it outright).
   */
  checkUnsyncBeforeWritable(gfn: number, leafSp: Sp, i: number): void {
    const bucket = this.s.hash.get(this.hashBucket(gfn));
    if (!bucket) return;
    for (const id of bucket) {
      const sp = this.s.sps.get(id);
      if (!sp || sp.gfn !== gfn || sp.direct || sp.nested || sp.invalid || sp.life !== LIFE_LIVE) continue;
      if (sp.level > 1 || !sp.unsync) this.violate('US-4', `writable SPTE sp#${leafSp.id}[${i}] for gfn ${hex(gfn)} while sp#${sp.id} (level ${sp.level}) shadows it ${sp.level > 1 ? 'as an upper-level table' : 'and is not unsync'}`, [`sp#${leafSp.id}`, `sp#${sp.id}`, `gfn ${hex(gfn)}`]);
    }
  }

  /** MN-1 (event): the host must still map pfn at the gfn's hva when KVM installs the SPTE. */
  checkInstall(gfn: number, pfn: number, sp: Sp): void {
    const hva = this.hvaOfGfn(gfn);
    if (hva === undefined) return;
    const e = this.hpte(hva);
    if (e === 0 || Math.floor(e / 4) !== pfn) this.violate('MN-1', `SPTE installed for gfn ${hex(gfn)} -> pfn ${hex(pfn)} but the host no longer maps that pfn at hva ${hex(hva * 4096)}`, [`gfn ${hex(gfn)}`, `pfn ${hex(pfn)}`, `sp#${sp.id}`]);
  }

  /** mmu_page_zap_pte / drop_spte: clear one SPTE and undo its rmap / parent link. */
  zapPte(t: ThreadCtx, sp: Sp, i: number): Sp | null {
    const val = this.getSpte(sp, i);
    if (!isPresent(val)) return null;
    this.s.lockOps++;
    if (this.isLeaf(sp, val)) {
      const gfn = this.spteGfn(sp, i);
      this.setSpte(sp, i, 0);
      if (!sp.tdp) this.rmapRemove(sp, i, gfn, sp.level);
      if (sp.gfns) sp.gfns.delete(i);
      if (this.p.pinsPages) this.refAdjust(sptePfn(val), -1);
      return null;
    }
    const child = this.childOf(val)!;
    this.setSpte(sp, i, 0);
    if (child && !child.tdp) {
      const sptep = sptepOf(sp.id, i);
      child.parentPtes = this.pteListRemove(child.parentPtes, sptep, `parent_ptes of sp#${child.id}`);
      if (this.tr) this.fx({ kind: 'parent-pte-remove', sp: child.id, sptep: hex(sptep) }); else this.quiet(ACC.SPS);
      this.clearUnsyncChildBit(sp, i);
    }
    return child ?? null;
  }

  unlinkChildren(t: ThreadCtx, sp: Sp): void {
    if (!sp.spt || sp.nPresent === 0) return;
    this.enter(t, 'kvm_mmu_page_unlink_children', this.frameArgs ? { sp: sp.id } : undefined);
    for (let i = 0; i < 512 && sp.nPresent > 0; i++) if (sp.spt[i] !== 0) this.zapPte(t, sp, i);
    this.leave(t);
  }

  unlinkParents(t: ThreadCtx, sp: Sp): void {
    if (sp.parentPtes === 0) return;
    this.enter(t, 'kvm_mmu_unlink_parents', this.frameArgs ? { sp: sp.id } : undefined);
    for (const p of this.listEntries(sp.parentPtes)) {
      const parent = this.s.sps.get(sptepSp(p));
      if (!parent) { this.violate('RM-3', `parent pte ${hex(p)} of sp#${sp.id} is in a freed page`, [`sp#${sp.id}`]); continue; }
      this.zapPte(t, parent, sptepIndex(p));
    }
    this.leave(t);
  }

  /** mmu_unsync_walk: the page vector (intermediate pages and unsync leaves) below parent. */
  unsyncWalk(sp: Sp, out: Array<{ sp: Sp; leaf: boolean }>): void {
    for (const i of [...sp.unsyncBitmap]) {
      const child = this.childOf(this.getSpte(sp, i));
      if (!child || !isPresent(this.getSpte(sp, i))) { if (this.p.unsyncWalkClearsStale) this.clearUnsyncChildBit(sp, i); continue; }
      if (child.unsyncChildren) { out.push({ sp: child, leaf: false }); this.unsyncWalk(child, out); }
      // like mmu_pages_add: an unsync page reached through a second parent is listed once
      else if (child.unsync) { if (!out.some((e) => e.sp === child)) out.push({ sp: child, leaf: true }); }
      else if (this.p.unsyncWalkClearsStale) this.clearUnsyncChildBit(sp, i);
    }
  }

  /** mmu_zap_unsync_children: zap every unsync descendant; returns the zapped count. */
  zapUnsyncChildren(t: ThreadCtx, parent: Sp, list: Sp[]): number {
    if (parent.level === 1 || !this.p.unsync || parent.unsyncChildren === 0) return 0;
    this.enter(t, 'mmu_zap_unsync_children', this.frameArgs ? { sp: parent.id } : undefined);
    let zapped = 0, reported = 0;
    for (let guard = 0; guard < 64; guard++) {
      const vec: Array<{ sp: Sp; leaf: boolean }> = [];
      this.unsyncWalk(parent, vec);
      if (!vec.length) break;
      for (const e of vec) {
        if (!e.leaf || e.sp.life !== LIFE_LIVE) continue;
        this.zapPage(t, e.sp, list);
        zapped++;
      }
      // the page vector holds an entry for the parent itself plus every intermediate page
      reported += this.bug === 'unsync-zap-miscount' ? vec.length + 1 : vec.filter((e) => e.leaf).length;
    }
    if (this.auditEvents && reported !== zapped) this.violate('ZC-1', `mmu_zap_unsync_children reports ${reported} zapped pages, ${zapped} were zapped`, [`sp#${parent.id}`]);
    this.leave(t);
    return reported;
  }

  /** Shadow pages linked below sp (non-leaf SPTEs). */
  childPages(sp: Sp): Sp[] {
    const out: Sp[] = [];
    if (!sp.spt || sp.nPresent === 0) return out;
    for (let i = 0; i < 512; i++) {
      const v = sp.spt[i];
      if (!isPresent(v) || this.isLeaf(sp, v)) continue;
      const c = this.childOf(v);
      if (c) out.push(c);
    }
    return out;
  }

  /**
   * US-5 (event): once a zapped page has dropped its links, no page it used to link may be left
   * without parents (and not a root) while an unsync page still hangs below it: nothing could reach
   * that page to sync it, yet it is still pending sync.
   */
  checkNoOrphanedUnsync(zapped: Sp, children: Sp[]): void {
    for (const c of children) {
      if (c.life !== LIFE_LIVE || c.parentPtes !== 0 || c.rootCount > 0) continue;
      const left = this.unsyncBelow(c, 0);
      if (left) this.violate('US-5', `zap of sp#${zapped.id} left unsync sp#${left.id} unreachable (its unsync descendants were not zapped first)`, [`sp#${zapped.id}`, `sp#${left.id}`]);
    }
  }

  /** A live unsync page at or below sp, if any. */
  private unsyncBelow(sp: Sp, depth: number): Sp | null {
    if (sp.unsync && sp.life === LIFE_LIVE) return sp;
    if (depth > 4 || sp.level === 1) return null;
    for (const c of this.childPages(sp)) { const u = this.unsyncBelow(c, depth + 1); if (u) return u; }
    return null;
  }

  /**
   * The core zap. 2.6 eras: kvm_mmu_zap_page (frees non-root pages at once, returns the number of
   * other pages zapped); later: (__)kvm_mmu_prepare_zap_page (moves the page to `list`).
   * Returns { n: count as the era's caller sees it, unstable: collateral zaps happened }.
   */
  zapPage(t: ThreadCtx, sp: Sp, list: Sp[]): { n: number; unstable: boolean } {
    this.enter(t, 'zap_page', this.frameArgs ? { sp: sp.id, gfn: hex(sp.gfn) } : undefined);
    if (sp.life === LIFE_FREED) { this.violate('HS-1', `zap of freed sp#${sp.id}`, [`sp#${sp.id}`]); this.leave(t); return { n: 0, unstable: false }; }
    this.s.lockOps++;
    const wasObsolete = this.isObsolete(sp);
    const skipUnsync = this.testFaults !== null && !!this.testFaults.skipUnsyncChildrenZap;
    const children = sp.tdp || skipUnsync ? 0 : this.zapUnsyncChildren(t, sp, list);
    const linked = this.auditEvents && !sp.tdp && sp.level > 1 && this.p.unsync ? this.childPages(sp) : null;
    this.unlinkChildren(t, sp);
    if (linked) this.checkNoOrphanedUnsync(sp, linked);
    this.unlinkParents(t, sp);
    if (!sp.invalid && (!sp.direct || sp.nested)) {
      this.s.indirectShadowPages--;
      if (!sp.nested) this.unaccountShadowed(t, sp);
    }
    this.unlinkUnsync(t, sp);
    let self = 0;
    const inUse = sp.rootCount > 0;
    if (!inUse) {
      self = 1;
      if (this.p.prepareCommit) {
        this.activeRemove(sp);
        list.push(sp);
        this.spLife(sp, LIFE_INVALID_LIST);
        this.modUsed(-1);
      }
    } else {
      this.activeRemove(sp);
      if (this.p.zappedRootStaysOnActive) this.activeAddHead(sp);
    }
    this.setInvalid(sp);
    this.stat('mmu_shadow_zapped');
    if (inUse && !wasObsolete) {
      if (!sp.invalid) this.violate('RT-4', `free-obsolete request for sp#${sp.id} posted before role.invalid is set`, [`sp#${sp.id}`]);
      this.callsPoint(t, 'make_all_cpus_request');
      if (this.p.reloadRequest === 'KVM_REQ_MMU_RELOAD') { this.enter(t, 'kvm_reload_remote_mmus'); this.makeAllCpusRequest(t, 'KVM_REQ_MMU_RELOAD'); this.leave(t); }
      else this.makeAllCpusRequest(t, 'KVM_REQ_MMU_FREE_OBSOLETE_ROOTS');
    }
    if (!this.p.prepareCommit) {
      if (this.p.zapFlushesPerPage) this.kvmFlushRemoteTlbs(t);
      if (!inUse) this.freePage(t, sp);
      this.leave(t);
      return { n: children, unstable: children > 0 };
    }
    this.leave(t);
    if (this.v < 5.2) return { n: children + self, unstable: children + self > 0 };
    return { n: children + self, unstable: children > 0 };
  }

  spLife(sp: Sp, to: number): void {
    const names = ['live', 'invalid-list', 'freed'] as const;
    const from = sp.life;
    sp.life = to;
    if (this.tr) this.fx({ kind: 'sp-state', sp: sp.id, from: names[from], to: names[to] }); else this.quiet(ACC.SPS);
  }

  /** kvm_mmu_free_page / kvm_mmu_free_shadow_page: leave the hash, free the memory. */
  freePage(t: ThreadCtx, sp: Sp): void {
    this.enter(t, this.v < 6.1 ? 'kvm_mmu_free_page' : 'kvm_mmu_free_shadow_page', this.frameArgs ? { sp: sp.id } : undefined);
    if (sp.rootCount) this.violate('RT-2', `sp#${sp.id} freed with root_count ${sp.rootCount}`, [`sp#${sp.id}`]);
    if (this.p.prepareCommit && !sp.tdp && this.s.flushPending) this.violate('FZ-4', `sp#${sp.id} freed before the remote TLB flush that must follow its prepare`, [`sp#${sp.id}`]);
    if (sp.inHash) {
      const b = this.hashBucket(sp.gfn);
      const bk = this.s.hash.get(b)!;
      bk.splice(bk.indexOf(sp.id), 1);
      if (!bk.length) this.s.hash.delete(b);
      sp.inHash = false;
    }
    this.activeRemove(sp);
    if (!this.p.prepareCommit && !sp.tdp) this.modUsed(-1);
    this.spLife(sp, LIFE_FREED);
    this.dropTable(sp); sp.gfns = null;
    this.s.sps.delete(sp.id);
    this.leave(t);
  }

  /** kvm_mmu_commit_zap_page: one remote flush, then free everything on the list. */
  commitZap(t: ThreadCtx, list: Sp[]): void {
    if (!list.length) return;
    this.enter(t, 'kvm_mmu_commit_zap_page', this.frameArgs ? { pages: list.length } : undefined);
    this.kvmFlushRemoteTlbs(t);
    for (const sp of list.splice(0)) { this.s.lockOps++; this.freePage(t, sp); }
    this.leave(t);
  }

  // ----------------------------------------------------------------------------------------------
  // TDP MMU
  // ----------------------------------------------------------------------------------------------
  tdpRootRole(): number { return this.roleWord(4, true, undefined, false); }

  rootRef(sp: Sp, delta: number, holder?: string): void {
    const old = sp.rootCount;
    sp.rootCount += delta;
    if (this.tr) this.fx({ kind: 'root-ref', sp: sp.id, field: sp.tdp && this.v >= 5.15 ? 'tdp_mmu_root_count' : 'root_count', old, new: sp.rootCount, holder }); else this.quiet(ACC.SPS);
  }

  /** kvm_tdp_mmu_get_root: refcount_inc_not_zero (5.15/5.17 also refuse invalid roots). */
  tdpGetRoot(t: ThreadCtx, sp: Sp, holder: string): boolean {
    if (sp.rootCount === 0) return false;
    if (this.p.tdpRootModel === '5.15' && sp.invalid) return false;
    this.enter(t, 'kvm_tdp_mmu_get_root', this.frameArgs ? { root: sp.id } : undefined);
    this.rootRef(sp, 1, holder);
    this.leave(t);
    return true;
  }

  /** Allocate a TDP page table page (tdp_mmu_alloc_sp). */
  tdpAllocSp(gfn: number, level: number, root: Sp | null): Sp {
    const sp = this.newSp(gfn, level, true, true, this.roleWord(level, true, undefined, false), false);
    sp.rootId = root ? root.id : sp.id;
    return sp;
  }

  /** Zap every SPTE under sp (tdp_mmu_zap_root / handle_removed_pt). */
  tdpZapTree(t: ThreadCtx, sp: Sp, freeChildren: boolean): number {
    let n = 0;
    if (!sp.spt) return 0;
    for (let i = 0; i < 512 && sp.nPresent > 0; i++) {
      const val = sp.spt[i];
      if (!isPresent(val)) continue;
      if (!this.isLeaf(sp, val)) {
        const child = this.childOf(val);
        this.setSpte(sp, i, 0);
        if (child) {
          this.enter(t, 'handle_removed', this.frameArgs ? { pt: child.id } : undefined);
          n += this.tdpZapTree(t, child, true);
          this.leave(t);
        }
      } else { this.setSpte(sp, i, 0); n++; }
    }
    if (freeChildren && sp.life !== LIFE_FREED) this.freeTdpSp(t, sp);
    return n;
  }

  freeTdpSp(_t: ThreadCtx, sp: Sp): void {
    this.spLife(sp, LIFE_FREED);
    this.dropTable(sp);
    this.s.sps.delete(sp.id);
  }

  /** kvm_tdp_mmu_put_root. */
  *tdpPutRoot(t: ThreadCtx, sp: Sp, holder: string): Gen {
    this.enter(t, 'kvm_tdp_mmu_put_root', this.frameArgs ? { root: sp.id } : undefined);
    this.rootRef(sp, -1, holder);
    if (sp.rootCount === 0) {
      const model = this.p.tdpRootModel;
      if (model === '5.18' && !sp.invalid) {
        this.setInvalid(sp);
        this.rootRef(sp, 1, 'tdp_mmu_zap_wq');
        this.scheduleZap(t, sp);
      } else {
        if (model === '6.19' && !sp.invalid) this.violate('RT-2', `last reference of valid TDP root sp#${sp.id} dropped`, [`sp#${sp.id}`]);
        this.leafLock(t, 'tdp_mmu_pages_lock', () => {
          this.s.tdpRoots.splice(this.s.tdpRoots.indexOf(sp.id), 1);
          this.vmField('tdp_mmu_roots', 'remove', sp.id);
        });
        const n = this.tdpZapTree(t, sp, false);
        if (n && this.p.tdpRootModel === '5.15') this.kvmFlushRemoteTlbs(t);
        this.freeTdpSp(t, sp);
      }
    }
    this.leave(t);
  }

  scheduleZap(t: ThreadCtx, sp: Sp): void {
    this.enter(t, 'tdp_mmu_schedule_zap_root', this.frameArgs ? { root: sp.id } : undefined);
    this.s.workQueue.push(sp.id);
    this.vmField('tdp_mmu_zap_wq', 'queue', sp.id);
    this.leave(t);
  }

  /** kvm_tdp_mmu_get_vcpu_root_hpa / kvm_tdp_mmu_alloc_root. */
  tdpAllocRoot(t: ThreadCtx, v: Vcpu): Sp {
    this.enter(t, 'tdp_get_root', this.frameArgs ? { vcpu: v.id } : undefined);
    const role = this.tdpRootRole();
    for (const id of this.s.tdpRoots) {
      const r = this.s.sps.get(id)!;
      if (r.role === role && !r.invalid && this.tdpGetRoot(t, r, `vcpu${v.id}`)) { this.leave(t); return r; }
    }
    const r = this.tdpAllocSp(0, 4, null);
    this.rootRef(r, this.p.tdpRootModel === '6.19' ? 2 : 1, this.p.tdpRootModel === '6.19' ? `vcpu${v.id}+tdp_mmu` : `vcpu${v.id}`);
    this.leafLock(t, 'tdp_mmu_pages_lock', () => {
      this.s.tdpRoots.unshift(r.id);
      this.vmField('tdp_mmu_roots', 'add', r.id);
    });
    this.leave(t);
    return r;
  }

  /** kvm_tdp_mmu_map: walk down from the root, creating tables, install the leaf. */
  tdpMap(t: ThreadCtx, root: Sp, gfn: number, pfn: number, writable: boolean, dirty: boolean): void {
    this.enter(t, 'kvm_tdp_mmu_map', this.frameArgs ? { gfn: hex(gfn), root: root.id } : undefined);
    let sp = root;
    for (let level = 4; level > 1; level--) {
      const i = Math.floor(gfn / levelSpan(level)) % 512;
      const val = this.getSpte(sp, i);
      let child: Sp | undefined;
      if (isPresent(val)) child = this.childOf(val);
      if (!child) {
        const span = levelSpan(level);
        child = this.tdpAllocSp(Math.floor(gfn / span) * span, level - 1, root);
        child.parentPtes = sptepOf(sp.id, i);
        this.setSpte(sp, i, makeSpte(SP_PFN_BASE + child.id, SPTE_P | SPTE_W | SPTE_U | SPTE_A));
      }
      sp = child;
    }
    this.setLeaf(t, sp, gfn % 512, gfn, pfn, writable, dirty);
    this.leave(t);
  }

  /** The SPTE indexes of `sp` whose ranges overlap gfns [start, end) (a TDP root at level 4 starts at gfn 0). */
  slotRange(sp: Sp, start: number, end: number): [number, number] {
    const span = levelSpan(sp.level);
    const base = sp.level === 4 ? 0 : sp.gfn;
    return [Math.max(0, Math.floor((start - base) / span)), Math.min(511, Math.floor((end - 1 - base) / span))];
  }

  /** Zap leaf SPTEs of [start, end) in one TDP root. Returns the number zapped. */
  tdpZapLeafs(sp: Sp, start: number, end: number): number {
    let n = 0;
    if (!sp.spt) return 0;
    const [lo, hi] = this.slotRange(sp, start, end);
    for (let i = lo; i <= hi; i++) {
      const val = sp.spt[i];
      if (!isPresent(val)) continue;
      if (this.isLeaf(sp, val)) { this.setSpte(sp, i, 0); n++; } else { const c = this.childOf(val); if (c) n += this.tdpZapLeafs(c, start, end); }
    }
    return n;
  }

  /** Visit present leaf SPTEs of [start, end) under sp; `onFreed` hears of non-leaf SPTEs pointing at freed pages. */
  forLeafs(sp: Sp, start: number, end: number, fn: (sp: Sp, i: number, v: number) => void, onFreed?: (parent: Sp, i: number, id: number) => void): void {
    if (!sp.spt) return;
    const [lo, hi] = this.slotRange(sp, start, end);
    for (let i = lo; i <= hi; i++) {
      const val = sp.spt[i];
      if (!isPresent(val)) continue;
      if (this.isLeaf(sp, val)) fn(sp, i, val);
      else {
        const c = this.childOf(val);
        if (c && c.life !== LIFE_FREED) this.forLeafs(c, start, end, fn, onFreed);
        else if (onFreed) onFreed(sp, i, sptePfn(val) - SP_PFN_BASE);
      }
    }
  }

  /**
   * Benchmark/test helper: create n unlinked direct shadow pages (as if faulted in and later
   * detached), accounted, hashed and on active_mmu_pages, without tracing.
   */
  debugPopulate(n: number): void {
    const role = this.roleWord(1, true, undefined, false);
    const tr = this.tr;
    this.tr = false;
    for (let k = 0; k < n; k++) {
      const sp = this.newSp(k * 512, 1, true, false, role, false);
      const b = this.hashBucket(sp.gfn);
      let bk = this.s.hash.get(b);
      if (!bk) { bk = []; this.s.hash.set(b, bk); }
      bk.unshift(sp.id); sp.inHash = true;
      this.activeAddHead(sp);
    }
    this.s.nUsed += n;
    this.s.nMax = Math.max(this.s.nMax, this.s.nUsed + 64);
    this.tr = tr;
  }

  // ----------------------------------------------------------------------------------------------
  // Operation dispatcher
  // ----------------------------------------------------------------------------------------------
  *runOp(t: ThreadCtx, op: Op): Gen {
    switch (op.op) {
      case 'page_fault': yield* this.pageFault(t, this.vcpuOf(t), op.gfn ?? op.gva ?? 0, !!op.write); break;
      case 'guest_access': yield* this.guestAccess(t, this.vcpuOf(t), op.gfn ?? op.gva ?? 0, !!op.write); break;
      case 'enter_guest': yield* this.vcpuEnterGuest(t, this.vcpuOf(t)); break;
      case 'exit_guest': { const v = this.vcpuOf(t); this.s.wr |= ACC.VCPUS; v.inGuest = false; this.note(`vcpu${v.id} exits guest mode`); break; }
      case 'load_cr3': yield* this.loadCr3(t, this.vcpuOf(t), op.gfn); break;
      case 'tlb_flush_guest': yield* this.flushGuest(t, this.vcpuOf(t)); break;
      case 'invlpg': yield* this.invlpg(t, this.vcpuOf(t), op.gva); break;
      case 'set_cr4': yield* this.setCr(t, this.vcpuOf(t), op.bits as Record<string, boolean>, 'kvm_set_cr4'); break;
      case 'set_cr0': yield* this.setCr(t, this.vcpuOf(t), op.bits as Record<string, boolean>, 'kvm_set_cr0'); break;
      case 'enter_guest_mode': { const v = this.vcpuOf(t); this.s.wr |= ACC.VCPUS; v.guestMode = op.l2; this.note(`vcpu${v.id} ${op.l2 ? 'enters L2 (guest_mmu)' : 'returns to L1 (root_mmu)'}`); break; }
      case 'guest_pt_write': yield* this.guestPtWrite(t, this.vcpuOf(t), op.gfn, op.index, op.value); break;
      case 'memslot_create': yield* this.memslotCreate(t, op.slot); break;
      case 'memslot_delete': yield* this.memslotDelete(t, op.id, null); break;
      case 'memslot_move': yield* this.memslotDelete(t, op.id, op.baseGfn); break;
      case 'zap_all_fast': yield* this.zapAllFast(t); break;
      case 'zap_all': yield* this.zapAll(t); break;
      case 'change_mmu_pages': yield* this.changeMmuPages(t, op.pages); break;
      case 'unprotect_page': yield* this.unprotectPage(t, op.gfn); break;
      case 'zap_gfn_range': yield* this.zapGfnRange(t, op.start, op.end); break;
      case 'set_nx_huge_pages': this.s.nxHugePages = op.enabled; this.enter(t, 'set_nx_huge_pages'); yield* this.zapAllFast(t); this.leave(t); break;
      case 'destroy_vm': yield* this.destroyVm(t); break;
      case 'invalidate_range_start': yield* this.invalidateRangeStart(t, Math.floor(op.hva / 4096), op.npages ?? 1); break;
      case 'invalidate_range_end': yield* this.invalidateRangeEnd(t, Math.floor(op.hva / 4096), op.npages ?? 1); break;
      case 'invalidate_page': yield* this.invalidatePage(t, Math.floor(op.hva / 4096)); break;
      case 'clear_flush_young': yield* this.age(t, Math.floor(op.hva / 4096), op.npages ?? 1, 'clear_flush', false); break;
      case 'clear_young': yield* this.age(t, Math.floor(op.hva / 4096), op.npages ?? 1, 'clear', !!op.fastOnly); break;
      case 'test_young': yield* this.age(t, Math.floor(op.hva / 4096), op.npages ?? 1, 'test', !!op.fastOnly); break;
      case 'host_unmap': yield* this.hostUnmap(t, Math.floor(op.hva / 4096), op.npages ?? 1); break;
      case 'host_free': this.hostFree(t, Math.floor(op.hva / 4096), 1); break;
      case 'swap_out': yield* this.hostUnmap(t, Math.floor(op.hva / 4096), 1); this.hostFree(t, Math.floor(op.hva / 4096), 2); break;
      case 'age_lru': yield* this.ageLru(t, Math.floor(op.hva / 4096), op.npages ?? 1, !!op.fastOnly); break;
      case 'gup': this.enter(t, 'get_user_pages'); this.gup(Math.floor(op.hva / 4096), false); this.leave(t); break;
      case 'wait': {
        const c = op.for;
        yield { point: 'wait', wait: () => this.waitHolds(c) };
        break;
      }
      case '__tdp_zap_root_work' as string: yield* this.tdpZapRootWork(t); break;
    }
  }

  waitHook: ((c: unknown) => boolean) | null = null;
  private waitHolds(c: unknown): boolean {
    const w = c as { requestServiced?: RequestName; vcpu?: number };
    if (w.requestServiced) return !this.s.vcpus.some((v) => (w.vcpu === undefined || v.id === w.vcpu) && v.requests.includes(w.requestServiced!));
    return this.waitHook ? this.waitHook(c) : true;
  }

  vcpuOf(t: ThreadCtx): Vcpu { return this.s.vcpus[t.vcpu] ?? this.s.vcpus[0]; }

  // ----------------------------------------------------------------------------------------------
  // vCPU paths
  // ----------------------------------------------------------------------------------------------
  mmuKind(v: Vcpu): 'tdp' | 'direct-shadow' | 'shadow' | 'nested-l2' {
    const k = this.cfg.mmu;
    if (k === 'nested') return v.guestMode ? 'nested-l2' : (this.p.tdpMmu ? 'tdp' : 'direct-shadow');
    if (k === 'tdp') return this.p.tdpMmu ? 'tdp' : 'direct-shadow';
    return k;
  }

  /** kvm_mmu_reload -> kvm_mmu_load when no root is loaded. */
  *mmuReload(t: ThreadCtx, v: Vcpu): Gen {
    const l2 = v.guestMode && this.cfg.mmu === 'nested';
    if ((l2 ? v.l2Root : v.root) >= 0) return;
    this.enter(t, 'kvm_mmu_load', this.frameArgs ? { vcpu: v.id } : undefined);
    const kind = this.mmuKind(v);
    this.enter(t, kind === 'shadow' ? 'mmu_alloc_shadow_roots' : 'mmu_alloc_direct_roots');
    yield* this.lock(t, kind === 'tdp' && this.v >= 6.19 ? 'read' : 'write');
    let root: Sp;
    if (kind === 'tdp') root = this.tdpAllocRoot(t, v);
    else {
      this.makePagesAvailable(t);
      this.s.shadowRootAllocated = true;
      root = kind === 'shadow' ? this.getPage(t, v, v.cr3, this.guestTopLevel(v.cr3), false, false)
        : this.getPage(t, v, 0, 4, kind !== 'nested-l2', kind === 'nested-l2');
      this.rootRef(root, 1, `vcpu${v.id}`);
    }
    if (this.auditEvents && (root.invalid || this.isObsolete(root))) this.violate('RT-1', `vcpu${v.id} loads invalid/obsolete root sp#${root.id}`, [`sp#${root.id}`, `vcpu${v.id}`]);
    this.setRoot(v, l2 ? 'l2' : 'current', root.id);
    if (kind === 'shadow') { this.s.wr |= ACC.VCPUS; v.rootPgd = v.cr3; }
    if (kind === 'shadow') this.syncRoots(t, v);
    this.unlock(t);
    this.leave(t);
    this.point(t, 'kvm_x86_flush_tlb_current');
    if (!(this.testFaults !== null && this.testFaults.skipRootLoadFlush)) this.tlbFlush(v, 'current');
    if (this.auditEvents && v.tlb.some((e) => e.tag === this.curTag(v))) this.violate('RT-8', `vcpu${v.id} loaded a root with TLB entries still tagged for it`, [`vcpu${v.id}.tlb`]);
    this.leave(t);
  }

  setRoot(v: Vcpu, slot: 'current' | 'l2' | number, id: number): void {
    let old: number;
    if (slot === 'current') { old = v.root; v.root = id; }
    else if (slot === 'l2') { old = v.l2Root; this.s.wr |= ACC.VCPUS; v.l2Root = id; }
    else { old = v.prev[slot].hpa; v.prev[slot].hpa = id; }
    // TL-2: a newly loaded root owes a flush of the current context before the next guest entry
    if ((slot === 'current' || slot === 'l2') && id >= 0) { this.s.wr |= ACC.VCPUS; v.loadFlushPending = true; }
    if (this.tr) this.fx({ kind: 'vcpu-root', vcpu: v.id, slot: slot === 'l2' ? 'current' : typeof slot === 'number' ? (`prev${slot}` as `prev${number}`) : 'current', old: old >= 0 ? `sp#${old}` : null, new: id >= 0 ? `sp#${id}` : null }); else this.quiet(ACC.VCPUS);
  }

  guestTopLevel(gfn: number): number { return this.s.guestPt.get(gfn)?.level ?? 4; }

  /** make_mmu_pages_available: zap the oldest pages when close to n_max_mmu_pages. */
  makePagesAvailable(t: ThreadCtx): void {
    if (this.s.nMax - this.s.nUsed >= KVM_MIN_FREE_MMU_PAGES) return;
    this.enter(t, 'make_available');
    const list: Sp[] = [];
    let guard = 0;
    while (this.s.nMax - this.s.nUsed < KVM_MIN_FREE_MMU_PAGES && guard++ < 1000) {
      const sp = this.oldestZappable();
      if (!sp) break;
      this.zapPage(t, sp, list);
      this.stat('mmu_recycled');
    }
    this.commitZap(t, list);
    this.leave(t);
  }

  oldestZappable(): Sp | undefined {
    for (let id = this.s.activeTail; id >= 0;) {
      const sp = this.s.sps.get(id)!;
      if (!sp.rootCount) return sp;
      id = sp.prevA;
    }
    return undefined;
  }

  /** kvm_mmu_page_fault and the per-MMU fault handlers, with the notifier-sequence retry. */
  *pageFault(t: ThreadCtx, v: Vcpu, addr: number, write: boolean): Gen {
    this.enter(t, 'kvm_mmu_page_fault', this.frameArgs ? { addr: hex(addr), write } : undefined);
    for (let attempt = 0; attempt < 8; attempt++) {
      if ((v.guestMode && this.cfg.mmu === 'nested' ? v.l2Root : v.root) < 0) yield* this.mmuReload(t, v);
      const kind = this.mmuKind(v);
      this.s.srcuReaders++;     // srcu_read_lock(&kvm->srcu): memslots stay stable for this fault
      const r = kind === 'shadow' ? yield* this.shadowFault(t, v, addr, write) : yield* this.directFault(t, v, addr, write, kind);
      this.s.srcuReaders--;
      if (r !== 'retry') break;
    }
    this.leave(t);
  }

  /** Direct faults: TDP MMU, shadow MMU with direct roots, and nested (L2) pages. */
  *directFault(t: ThreadCtx, v: Vcpu, gfn: number, write: boolean, kind: string): Gen<string> {
    const tdp = kind === 'tdp';
    const outer = kind === 'nested-l2' ? 'FNAME(page_fault)' : this.N('tdp_fault');
    const inner = kind === 'nested-l2' || this.v < 5.10 ? null : tdp && this.v >= 6.19 ? 'kvm_tdp_mmu_page_fault' : 'direct_page_fault';
    const fname = inner ?? outer;
    this.enter(t, outer);
    if (inner) this.enter(t, inner, this.frameArgs ? { gfn: hex(gfn) } : undefined);
    const slot = this.slotOfGfn(gfn);
    if (!slot || slot.invalid) { this.note(`gfn ${hex(gfn)}: no memslot (emulated MMIO)`); if (inner) this.leave(t); this.leave(t); return 'mmio'; }
    const noRetry = this.bug === 'gup-no-seq-retry';
    const seq = this.s.seq;
    if (!noRetry) this.point(t, `snapshot ${this.p.fieldNames.mmu_invalidate_seq}=${seq}`);
    this.enter(t, 'faultin');
    const hva = Math.floor(slot.hva / 4096) + (gfn - slot.baseGfn);
    const pfn = this.gup(hva, write);
    this.leave(t);
    yield this.pt2(fname, 'after faultin');
    yield* this.lock(t, tdp && this.p.lock === 'rwlock' ? 'read' : 'write');
    const root = this.s.sps.get(kind === 'nested-l2' ? v.l2Root : v.root);
    if (this.stale(t, v, root, seq, noRetry, gfn)) {
      this.unlock(t);
      this.refAdjust(pfn, -1);
      if (inner) this.leave(t); this.leave(t);
      yield this.pt2(fname, 'RET_PF_RETRY');
      return 'retry';
    }
    const writable = !(slot.flags?.includes('readonly')) && (write || !slot.flags?.includes('dirty-log'));
    if (tdp) this.tdpMap(t, root!, gfn, pfn, writable, write);
    else {
      this.makePagesAvailable(t);
      this.directMap(t, v, root!, gfn, pfn, writable, write, kind === 'nested-l2');
    }
    this.stat('pf_fixed');
    this.unlock(t);
    if (!this.p.pinsPages) { this.enter(t, 'release_pfn'); this.refAdjust(pfn, -1); this.leave(t); }
    if (inner) this.leave(t); this.leave(t);
    yield this.pt2(fname, 'after unlock');
    return 'ok';
  }

  /** is_page_fault_stale (5.17+) / mmu_notifier_retry: under mmu_lock. */
  stale(t: ThreadCtx, v: Vcpu, root: Sp | undefined, seq: number, noRetry: boolean, gfn: number): boolean {
    if (!root || root.life === LIFE_FREED) return true;
    if (this.p.pageFaultStale) {
      this.enter(t, 'is_page_fault_stale');
      const obs = this.isObsolete(root);
      this.leave(t);
      if (obs) return true;
    } else if (root.invalid && !root.tdp) return true;
    if (noRetry) return false;
    this.enter(t, 'retry', this.frameArgs ? { seq } : undefined);
    let r = this.s.seq !== seq;
    if (this.s.inProgress) {
      if (this.v >= 5.12 && this.s.rangeStart >= 0) {
        const hva = this.hvaOfGfn(gfn) ?? -1;
        const key = this.v >= 6.19 ? gfn : hva;
        if (key >= this.s.rangeStart && key < this.s.rangeEnd) r = true;
      } else r = true;
    }
    this.leave(t);
    void v;
    return r;
  }

  /** __direct_map / direct_map on the shadow MMU. */
  directMap(t: ThreadCtx, v: Vcpu, root: Sp, gfn: number, pfn: number, writable: boolean, dirty: boolean, nested: boolean): void {
    this.enter(t, nested ? 'FNAME(fetch)' : 'direct_map', this.frameArgs ? { gfn: hex(gfn) } : undefined);
    let sp = root;
    for (let level = sp.level; level > 1; level--) {
      const i = Math.floor(gfn / levelSpan(level)) % 512;
      const val = this.getSpte(sp, i);
      let child = isPresent(val) ? this.childOf(val) : undefined;
      if (!child) {
        const span = levelSpan(level);
        child = this.getPage(t, v, Math.floor(gfn / span) * span, level - 1, !nested, nested);
        this.linkShadowPage(t, sp, i, child);
      }
      sp = child;
    }
    this.setLeaf(t, sp, gfn % 512, gfn, pfn, writable, dirty);
    this.leave(t);
  }

  /** FNAME(page_fault) for shadow paging: walk the guest tables, then FNAME(fetch). */
  *shadowFault(t: ThreadCtx, v: Vcpu, gva: number, write: boolean): Gen<string> {
    this.enter(t, 'FNAME(page_fault)', this.frameArgs ? { gva: hex(gva), write } : undefined);
    // FNAME(walk_addr)
    const path: Array<{ table: number; level: number; i: number; e: GuestPte }> = [];
    let table = v.cr3;
    let level = this.guestTopLevel(table);
    while (level >= 1) {
      const pt = this.s.guestPt.get(table);
      const i = Math.floor(gva / levelSpan(level)) % 512;
      const e = pt?.entries.get(i);
      if (!e || !e.present) { this.note(`guest walk fails at level ${level}: inject #PF for gva ${hex(gva)}`); this.leave(t); return 'guest-pf'; }
      path.push({ table, level, i, e });
      if (level === 1) break;
      table = e.gfn; level--;
    }
    const leaf = path[path.length - 1];
    if (write && !leaf.e.writable) { this.note('guest PTE is read-only: inject #PF'); this.leave(t); return 'guest-pf'; }
    const gfn = leaf.e.gfn;
    const slot = this.slotOfGfn(gfn);
    if (!slot) { this.note(`gfn ${hex(gfn)}: no memslot`); this.leave(t); return 'mmio'; }
    const noRetry = this.bug === 'gup-no-seq-retry';
    const seq = this.s.seq;
    this.enter(t, 'faultin');
    const pfn = this.gup(Math.floor(slot.hva / 4096) + (gfn - slot.baseGfn), write);
    this.leave(t);
    yield { point: 'FNAME(page_fault):after faultin' };
    yield* this.lock(t, 'write');
    const root = this.s.sps.get(v.root);
    if (this.stale(t, v, root, seq, noRetry, gfn)) {
      this.unlock(t); this.refAdjust(pfn, -1); this.leave(t);
      yield { point: 'FNAME(page_fault):RET_PF_RETRY' };
      return 'retry';
    }
    this.makePagesAvailable(t);
    // FNAME(fetch)
    this.enter(t, 'FNAME(fetch)');
    let sp = root!;
    for (const step of path) {
      if (step.level === 1) break;
      const val = this.getSpte(sp, step.i);
      let child = isPresent(val) ? this.childOf(val) : undefined;
      if (!child) {
        child = this.getPage(t, v, step.e.gfn, step.level - 1, false, false);
        this.linkShadowPage(t, sp, step.i, child);
      }
      sp = child;
    }
    let writable = leaf.e.writable && !(slot.flags?.includes('readonly'));
    const late = this.testFaults !== null && !!this.testFaults.unsyncAfterWritable;
    if (writable && !late && this.needWriteProtect(t, gfn)) { writable = false; if (write) this.note('write to a write-protected guest page table: emulate (kvm_mmu_pte_write)'); }
    this.setLeaf(t, sp, leaf.i, gfn, pfn, writable, write && writable);
    if (late && writable) this.needWriteProtect(t, gfn);
    this.leave(t);
    this.stat('pf_fixed');
    this.unlock(t);
    if (!this.p.pinsPages) this.refAdjust(pfn, -1);
    this.leave(t);
    yield { point: 'FNAME(page_fault):after unlock' };
    return 'ok';
  }

  /** vcpu_enter_guest: service requests, kvm_mmu_reload, enter. */
  *vcpuEnterGuest(t: ThreadCtx, v: Vcpu): Gen {
    this.enter(t, 'vcpu_enter_guest', this.frameArgs ? { vcpu: v.id } : undefined);
    // requests posted while this vCPU was servicing earlier ones cancel the entry and loop again
    for (let round = 0; round < 16; round++) {
      yield* this.serviceRequests(t, v);
      if (!v.requests.length) break;
      this.point(t, 'request pending: cancel entry');
    }
    const root = this.s.sps.get(this.curTag(v));
    if (this.auditEvents && root && (root.invalid || this.isObsolete(root))) {
      this.violate(this.s.gen !== root.gen && !root.invalid ? 'FZ-1' : 'RT-1', `vcpu${v.id} enters the guest with ${root.invalid ? 'invalid' : 'obsolete'} root sp#${root.id}`, [`sp#${root.id}`, `vcpu${v.id}`]);
      if (this.s.gen !== root.gen || root.invalid) this.violate('FZ-1', `vcpu${v.id} enters the guest with an obsolete root after mmu_valid_gen changed`, [`sp#${root.id}`, `vcpu${v.id}`]);
    }
    if (this.auditEvents && v.loadFlushPending) this.violate('TL-2', `vcpu${v.id} enters the guest on a newly loaded root sp#${this.curTag(v)} without a flush of the current TLB context`, [`vcpu${v.id}.tlb`, `sp#${this.curTag(v)}`]);
    this.s.wr |= ACC.VCPUS; v.inGuest = true;
    this.point(t, 'in guest mode');
    this.leave(t);
  }

  *serviceRequests(t: ThreadCtx, v: Vcpu): Gen {
    if (this.clearRequest(v, 'KVM_REQ_MMU_RELOAD')) yield* this.mmuUnload(t, v);
    if (this.clearRequest(v, 'KVM_REQ_MMU_FREE_OBSOLETE_ROOTS')) yield* this.freeObsoleteRoots(t, v);
    if (this.clearRequest(v, 'KVM_REQ_MMU_SYNC') && this.s.sps.get(v.root)?.unsyncChildren) {
      yield* this.lock(t, 'write');
      this.syncRoots(t, v);
      this.unlock(t);
    }
    if (this.clearRequest(v, 'KVM_REQ_TLB_FLUSH')) this.tlbFlush(v, 'all');
    if (this.clearRequest(v, 'KVM_REQ_TLB_FLUSH_GUEST')) this.tlbFlush(v, 'guest');
    if (this.clearRequest(v, 'KVM_REQ_TLB_FLUSH_CURRENT')) this.tlbFlush(v, 'current');
    this.clearRequest(v, 'KVM_REQ_LOAD_MMU_PGD');
    this.enter(t, 'kvm_mmu_reload');
    yield* this.mmuReload(t, v);
    this.leave(t);
  }

  /** guest touches memory: TLB hit, or hardware walk of the SPTEs (sets A/D), or a page fault. */
  *guestAccess(t: ThreadCtx, v: Vcpu, addr: number, write: boolean): Gen {
    if (!v.inGuest || v.requests.length) yield* this.vcpuEnterGuest(t, v);
    for (let tries = 0; tries < 3; tries++) {
      const tag = this.curTag(v);
      const hit = v.tlb.find((e) => e.tag === tag && e.key === addr && (!write || e.w));
      if (hit) {
        if (this.auditEvents && this.isStale(hit)) this.violate('TL-1', `vcpu${v.id} used a stale TLB entry for ${hex(addr)} (pfn ${hex(hit.pfn)})`, [`vcpu${v.id}.tlb`, `pfn ${hex(hit.pfn)}`]);
        this.note(`vcpu${v.id} TLB hit ${hex(addr)}`);
        return;
      }
      const tr = this.translate(tag, addr);
      if (tr && (!write || tr.w)) {
        const val = this.getSpte(tr.sp, tr.i);
        const nv = val + ((val % 64) >= 32 ? 0 : SPTE_A) + (write && (val % 128) < 64 ? SPTE_D : 0);
        if (nv !== val) this.setSpte(tr.sp, tr.i, nv);
        const gfn = this.spteGfn(tr.sp, tr.i);
        const hva = this.hvaOfGfn(gfn);
        if (hva !== undefined) { const e = this.hpte(hva); if (e !== 0 && Math.floor(e / 4) === tr.pfn) this.setHpte(hva, Math.floor(e / 4) * 4 + 1 + (write || (e % 4) >= 2 ? 2 : 0)); }
        if (v.tlb.length >= 64) v.tlb.shift();
        v.tlb.push({ tag, key: addr, pfn: tr.pfn, w: tr.w });
        if (this.tr) this.fx({ kind: 'tlb-fill', vcpu: v.id, tag: `sp#${tag}`, gfn: addr, pfn: tr.pfn, writable: tr.w }); else this.quiet(ACC.VCPUS);
        return;
      }
      this.s.wr |= ACC.VCPUS; v.inGuest = false;
      yield* this.pageFault(t, v, addr, write);
      yield* this.vcpuEnterGuest(t, v);
    }
  }

  /** kvm_mmu_free_roots / mmu_free_roots with a mask of slots: 'current', 0..2 for prev roots. */
  *freeRoots(t: ThreadCtx, v: Vcpu, slots: Array<'current' | 'l2' | number>): Gen {
    if (!slots.length) return;
    this.enter(t, 'free_roots', this.frameArgs ? { vcpu: v.id, mask: slots.join(',') } : undefined);
    const tdp = this.mmuKind(v) === 'tdp';
    yield* this.lock(t, tdp && this.v >= 6.19 ? 'read' : 'write');
    const list: Sp[] = [];
    for (const slot of slots) {
      const id = slot === 'current' ? v.root : slot === 'l2' ? v.l2Root : v.prev[slot].hpa;
      if (id < 0) continue;
      const sp = this.s.sps.get(id);
      this.setRoot(v, slot, -1);
      if (!sp) { this.violate('RT-2', `vcpu${v.id} held a freed root sp#${id}`, [`sp#${id}`]); continue; }
      this.enter(t, this.v >= 4.19 ? 'mmu_free_root_page' : 'free_roots', this.frameArgs ? { root: id } : undefined);
      if (sp.tdp) yield* this.tdpPutRoot(t, sp, `vcpu${v.id}`);
      else {
        this.rootRef(sp, -1, `vcpu${v.id}`);
        if (sp.rootCount === 0 && sp.invalid) {
          if (this.p.prepareCommit) this.zapPage(t, sp, list);
          else this.freePage(t, sp);
        }
      }
      this.leave(t);
    }
    this.commitZap(t, list);
    this.unlock(t);
    this.leave(t);
  }

  *mmuUnload(t: ThreadCtx, v: Vcpu): Gen {
    this.enter(t, 'kvm_mmu_unload', this.frameArgs ? { vcpu: v.id } : undefined);
    const slots: Array<'current' | 'l2' | number> = ['current'];
    for (let i = 0; i < v.prev.length; i++) slots.push(i);
    if (v.l2Root >= 0) slots.push('l2');
    yield* this.freeRoots(t, v, slots);
    this.leave(t);
  }

  isObsoleteRoot(id: number): boolean {
    if (id < 0) return false;
    const sp = this.s.sps.get(id);
    return !sp || this.isObsolete(sp);
  }

  /** kvm_mmu_free_obsolete_roots (5.18+). */
  *freeObsoleteRoots(t: ThreadCtx, v: Vcpu): Gen {
    this.enter(t, 'kvm_mmu_free_obsolete_roots', this.frameArgs ? { vcpu: v.id } : undefined);
    this.enter(t, '__kvm_mmu_free_obsolete_roots');
    const slots: Array<'current' | 'l2' | number> = [];
    if (this.isObsoleteRoot(v.root)) slots.push('current');
    for (let i = 0; i < v.prev.length; i++) {
      const probe = this.bug === 'prev-roots-not-freed' ? v.root : v.prev[i].hpa;
      if (v.prev[i].hpa >= 0 && this.isObsoleteRoot(probe)) slots.push(i);
    }
    if (this.isObsoleteRoot(v.l2Root)) slots.push('l2');
    this.leave(t);
    yield* this.freeRoots(t, v, slots);
    if (this.auditEvents) {
      const left: string[] = [];
      if (this.isObsoleteRoot(v.root)) left.push(`vcpu${v.id}.root sp#${v.root}`);
      v.prev.forEach((p, i) => { if (this.isObsoleteRoot(p.hpa)) left.push(`vcpu${v.id}.prev_roots[${i}] sp#${p.hpa}`); });
      if (left.length) this.violate('RT-6', `KVM_REQ_MMU_FREE_OBSOLETE_ROOTS serviced but obsolete roots are still referenced`, left);
    }
    this.leave(t);
  }

  /** kvm_mmu_sync_roots: sync every unsync page reachable from the current root. */
  syncRoots(t: ThreadCtx, v: Vcpu): void {
    const root = this.s.sps.get(v.root);
    if (!root || root.direct || !root.unsyncChildren) return;
    this.enter(t, 'kvm_mmu_sync_roots', this.frameArgs ? { root: root.id } : undefined);
    this.enter(t, 'mmu_sync_children');
    const vec: Array<{ sp: Sp; leaf: boolean }> = [];
    this.unsyncWalk(root, vec);
    const batch = vec.filter((e) => e.leaf && e.sp.unsync && e.sp.life === LIFE_LIVE).map((e) => e.sp);
    // every era: write-protect the gfns of the whole batch first (the pages become sync below and
    // must trap guest writes again), one remote flush if any SPTE lost W, then sync page by page
    let prot = false;
    if (!(this.testFaults !== null && this.testFaults.skipSyncWriteProtect)) for (const sp of batch) prot = this.syncWriteProtect(t, sp.gfn) || prot;
    if (prot) this.syncBatchFlush(t);
    let flush = false;
    for (const sp of batch) if (sp.unsync && sp.life === LIFE_LIVE) flush = this.syncPage(t, sp) || flush;
    if (flush) this.syncBatchFlush(t);
    this.leave(t);
    this.leave(t);
  }

  /**
   * kvm_sync_page: mark in sync, re-read the guest table, drop SPTEs that no longer match. The
   * unsync mark is cleared first in every era: inside kvm_sync_page / __kvm_sync_page up to 3.x,
   * by mmu_sync_children just before the call from 5.x on.
   */
  syncPage(t: ThreadCtx, sp: Sp): boolean {
    if (this.v >= 5.15) this.unlinkUnsync(t, sp);
    this.enter(t, 'kvm_sync_page', this.frameArgs ? { sp: sp.id } : undefined);
    // 3.x and 6.19 split the work into __kvm_sync_page (hidden where it does not exist)
    this.enter(t, '__kvm_sync_page');
    this.unlinkUnsync(t, sp);
    const pt = this.s.guestPt.get(sp.gfn);
    let flush = false;
    if (sp.spt) for (let i = 0; i < 512; i++) {
      const val = sp.spt[i];
      if (!isPresent(val)) continue;
      const e = pt?.entries.get(i);
      const gfn = this.spteGfn(sp, i);
      if (!e || !e.present || e.gfn !== gfn) { this.zapPte(t, sp, i); flush = true; }
      else if (!e.writable && (val % 4) === 3) { this.setSpte(sp, i, val - SPTE_W); flush = true; }
    }
    this.leave(t);
    this.leave(t);
    return flush;
  }

  *loadCr3(t: ThreadCtx, v: Vcpu, gfn: number): Gen {
    const kind = this.mmuKind(v);
    this.enter(t, 'kvm_set_cr3', this.frameArgs ? { cr3: hex(gfn) } : undefined);
    this.s.wr |= ACC.VCPUS; v.cr3 = gfn;
    if (kind !== 'shadow') { this.requestVcpu(v, 'KVM_REQ_TLB_FLUSH_GUEST'); this.leave(t); return; }
    if (this.p.prevRoots > 0) {
      this.enter(t, 'kvm_mmu_new_pgd', this.frameArgs ? { pgd: hex(gfn) } : undefined);
      this.enter(t, 'fast_pgd_switch');
      const k = v.prev.findIndex((p) => p.hpa >= 0 && p.pgd === gfn && !this.isObsoleteRoot(p.hpa));
      const curHpa = v.root, curPgd = v.rootPgd;
      if (k >= 0) {
        const hitHpa = v.prev[k].hpa;
        for (let i = k; i > 0; i--) { this.setRoot(v, i, v.prev[i - 1].hpa); v.prev[i].pgd = v.prev[i - 1].pgd; }
        this.setRoot(v, 0, curHpa); v.prev[0].pgd = curPgd;
        this.setRoot(v, 'current', hitHpa); this.s.wr |= ACC.VCPUS; v.rootPgd = gfn;
        this.leave(t);
        this.requestVcpu(v, 'KVM_REQ_LOAD_MMU_PGD');
      } else {
        this.leave(t);
        const last = v.prev.length - 1;
        if (v.prev[last].hpa >= 0) yield* this.freeRoots(t, v, [last]);
        for (let i = last; i > 0; i--) { this.setRoot(v, i, v.prev[i - 1].hpa); v.prev[i].pgd = v.prev[i - 1].pgd; }
        this.setRoot(v, 0, curHpa); v.prev[0].pgd = curPgd;
        this.setRoot(v, 'current', -1);
      }
      this.requestVcpu(v, 'KVM_REQ_MMU_SYNC');
      this.requestVcpu(v, 'KVM_REQ_TLB_FLUSH_CURRENT');
      this.leave(t);
    } else {
      this.enter(t, 'kvm_mmu_new_cr3');
      yield* this.freeRoots(t, v, ['current']);
      this.leave(t);
    }
    this.s.wr |= ACC.VCPUS; v.inGuest = false;
    this.leave(t);
  }

  *flushGuest(t: ThreadCtx, v: Vcpu): Gen {
    this.enter(t, 'kvm_vcpu_flush_tlb_guest', this.frameArgs ? { vcpu: v.id } : undefined);
    if (this.mmuKind(v) === 'shadow') {
      yield* this.lock(t, 'write');
      this.syncRoots(t, v);
      this.unlock(t);
    }
    this.tlbFlush(v, 'guest');
    this.leave(t);
  }

  *invlpg(t: ThreadCtx, v: Vcpu, gva: number): Gen {
    this.enter(t, 'kvm_mmu_invlpg', this.frameArgs ? { gva: hex(gva) } : undefined);
    if (this.mmuKind(v) === 'shadow') {
      yield* this.lock(t, 'write');
      const tr = this.translate(v.root, gva);
      if (tr && tr.sp.unsync) { this.zapPte(t, tr.sp, tr.i); this.kvmFlushRemoteTlbs(t); }
      this.unlock(t);
    }
    this.tlbFlush(v, 'gva', gva);
    this.leave(t);
  }

  *setCr(t: ThreadCtx, v: Vcpu, bits: Record<string, boolean>, fn: string): Gen {
    this.enter(t, fn, this.frameArgs ? { vcpu: v.id } : undefined);
    const before = this.roleWord(1, false, v, false);
    const pgeChanged = bits.cr4_pge !== undefined && bits.cr4_pge !== v.modeBits.cr4_pge;
    this.s.wr |= ACC.VCPUS; Object.assign(v.modeBits, bits);
    const after = this.roleWord(1, false, v, false);
    if (this.cfg.mmu === 'shadow' && (before !== after || this.v < 2.635)) {
      this.enter(t, 'kvm_mmu_reset_context');
      yield* this.mmuUnload(t, v);
      this.leave(t);
    } else if (pgeChanged) this.requestVcpu(v, this.v >= 5.15 ? 'KVM_REQ_TLB_FLUSH_GUEST' : 'KVM_REQ_TLB_FLUSH');
    this.s.wr |= ACC.VCPUS; v.inGuest = false;
    this.leave(t);
  }

  /** Emulated write to a guest page table (kvm_mmu_pte_write / kvm_mmu_track_write). */
  *guestPtWrite(t: ThreadCtx, v: Vcpu, gfn: number, index: number, value: { gfn: number; present?: boolean; writable?: boolean; user?: boolean; huge?: boolean } | null): Gen {
    // the tables are immutable (shared by snapshots): replace the written table and the map holding it
    const pt = this.s.guestPt.get(gfn);
    const entries = new Map(pt?.entries);
    if (value) entries.set(index, { gfn: value.gfn, present: value.present ?? true, writable: value.writable ?? true, user: value.user ?? true, huge: value.huge ?? false });
    else entries.delete(index);
    const tables = new Map(this.s.guestPt);
    tables.set(gfn, { level: pt?.level ?? 1, entries });
    this.s.guestPt = tables;
    const bucket = this.s.hash.get(this.hashBucket(gfn)) ?? [];
    const tracked = bucket.map((id) => this.s.sps.get(id)!).filter((sp) => sp && sp.gfn === gfn && !sp.direct && !sp.nested && !sp.invalid);
    if (!tracked.length || tracked.every((sp) => sp.unsync)) { this.note(`guest writes gfn ${hex(gfn)}[${index}] directly (not write-protected)`); return; }
    this.enter(t, this.v >= 6.1 ? 'kvm_mmu_track_write' : 'kvm_mmu_pte_write', this.frameArgs ? { gfn: hex(gfn), index } : undefined);
    yield* this.lock(t, 'write');
    this.stat('mmu_pte_write');
    const list: Sp[] = [];
    let flush = false;
    for (const sp of tracked) {
      if (sp.life !== LIFE_LIVE || sp.invalid) continue;
      if (this.v >= 3) this.s.wr |= ACC.SPS; // the flood counter has no trace effect
      if (this.v >= 3 && ++sp.writeFlooding >= 3) { this.zapPage(t, sp, list); this.stat('mmu_flooded'); continue; }
      if (isPresent(this.getSpte(sp, index))) { this.zapPte(t, sp, index); flush = true; }
    }
    if (flush && !list.length) this.kvmFlushRemoteTlbs(t);
    this.commitZap(t, list);
    this.unlock(t);
    this.leave(t);
    void v;
  }

  // ----------------------------------------------------------------------------------------------
  // ioctl paths
  // ----------------------------------------------------------------------------------------------
  *memslotCreate(t: ThreadCtx, m: MemslotConfig): Gen {
    this.enter(t, 'kvm_set_memory_region', this.frameArgs ? { slot: m.id } : undefined);
    this.s.memslots.push(this.makeSlot(m));
    this.addRegion(this.s, m);
    this.s.memslots.sort((a, b) => a.id - b.id);
    if (this.tr) this.fx({ kind: 'memslot', id: m.id, action: 'create' }); else this.quiet(ACC.SLOTS);
    this.leave(t);
    yield { point: 'kvm_set_memory_region:done' };
  }

  *memslotDelete(t: ThreadCtx, id: number, moveTo: number | null): Gen {
    this.enter(t, 'kvm_set_memory_region', this.frameArgs ? { slot: id } : undefined);
    const slot = this.s.memslots.find((m) => m.id === id);
    if (!slot) { this.note(`no memslot ${id}`); this.leave(t); return; }
    slot.invalid = true;
    if (this.tr) this.fx({ kind: 'memslot', id, action: 'invalidate' }); else this.quiet(ACC.SLOTS);
    yield { point: 'kvm_set_memory_region:invalid slot installed' };
    // synchronize_srcu: faults that still see the old slot finish before the flush
    if (this.s.srcuReaders) yield { point: 'kvm_set_memory_region:synchronize_srcu', wait: () => this.s.srcuReaders === 0 };
    this.enter(t, 'kvm_arch_flush_shadow_memslot', this.frameArgs ? { slot: id } : undefined);
    if (this.p.fastZap === 'none' || this.bug === 'slow-zap-all') yield* this.zapAll(t);
    else yield* this.zapAllFast(t);
    this.leave(t);
    this.s.memslots.splice(this.s.memslots.indexOf(slot), 1);
    if (this.tr) this.fx({ kind: 'memslot', id, action: moveTo === null ? 'delete' : 'move' }); else this.quiet(ACC.SLOTS);
    if (moveTo !== null) this.s.memslots.push(this.makeSlot({ id, baseGfn: moveTo, npages: slot.npages, hva: slot.hva, flags: slot.flags }));
    this.leave(t);
  }

  /** kvm_mmu_zap_all_fast / kvm_mmu_invalidate_zap_all_pages. */
  *zapAllFast(t: ThreadCtx): Gen {
    if (this.p.fastZap === 'none') { yield* this.zapAll(t); return; }
    this.enter(t, 'zap_all_fast');
    yield* this.lock(t, 'write');
    const old = this.s.gen;
    this.s.gen = this.p.fastZap === 'gen-u8' ? old ^ 1 : old + 1;
    this.vmField('mmu_valid_gen', old, this.s.gen);
    this.s.lockOps++;
    this.s.rt3Window = 'mmu_valid_gen changed';
    const invalidated = this.tdpOn ? this.s.tdpRoots.filter((id) => !this.s.sps.get(id)?.invalid) : [];
    if (this.tdpOn) this.tdpInvalidateRoots(t);
    if (this.bug === 'yield-before-free-request') yield* this.condResched(t, 'yield before request');
    if (this.auditEvents) for (const id of this.s.tdpRoots) if (!this.s.sps.get(id)?.invalid) this.violate('RT-4', `request posted while TDP root sp#${id} is not yet invalid`, [`sp#${id}`]);
    this.callsPoint(t, 'make_all_cpus_request');
    if (this.p.reloadRequest === 'KVM_REQ_MMU_RELOAD') { this.enter(t, 'kvm_reload_remote_mmus'); this.makeAllCpusRequest(t, 'KVM_REQ_MMU_RELOAD'); this.leave(t); }
    else this.makeAllCpusRequest(t, 'KVM_REQ_MMU_FREE_OBSOLETE_ROOTS');
    this.s.rt3Window = null;
    yield* this.zapObsoletePages(t);
    this.unlock(t);
    if (this.tdpOn) {
      yield* this.tdpZapInvalidatedRoots(t);
      // FZ-6: roots invalidated by this fast zap hold no SPTEs once it returns
      if (this.auditEvents) for (const id of invalidated) { const r = this.s.sps.get(id); if (r && r.nPresent > 0) this.violate('FZ-6', `invalidated TDP root sp#${id} still holds SPTEs after the fast zap returned`, [`sp#${id}`]); }
    }
    this.leave(t);
  }

  tdpInvalidateRoots(t: ThreadCtx): void {
    this.enter(t, 'tdp_invalidate');
    for (const id of this.s.tdpRoots) {
      const r = this.s.sps.get(id)!;
      this.s.lockOps++;
      if (this.p.tdpRootModel === '5.15') {
        if (r.rootCount === 0 || r.invalid) continue;
        this.tdpGetRoot(t, r, 'zap_invalidated_roots');
        this.setInvalid(r);
        r.scheduledToZap = true;
      } else if (this.p.tdpRootModel === '5.18') {
        if (r.invalid) continue;
        this.rootRef(r, 1, 'tdp_mmu_zap_wq');
        this.setInvalid(r);
        this.scheduleZap(t, r);
      } else {
        if (r.invalid) continue;
        this.setInvalid(r);
        r.scheduledToZap = true;
        this.spField(r, 'tdp_mmu_scheduled_root_to_zap', false, true);
      }
    }
    this.leave(t);
  }

  *tdpZapInvalidatedRoots(t: ThreadCtx): Gen {
    this.enter(t, 'kvm_tdp_mmu_zap_invalidated_roots');
    if (this.p.tdpRootModel === '5.18') {
      this.point(t, 'flush_workqueue(tdp_mmu_zap_wq)');
      yield { point: 'kvm_tdp_mmu_zap_invalidated_roots:flush_workqueue', wait: () => this.s.workQueue.length === 0 && !this.workerBusy };
      this.leave(t);
      return;
    }
    yield* this.lock(t, 'read');
    for (const id of [...this.s.tdpRoots]) {
      const r = this.s.sps.get(id);
      if (!r || !r.scheduledToZap) continue;
      r.scheduledToZap = false;
      this.s.wr |= ACC.SPS;
      this.enter(t, 'tdp_mmu_zap_root', this.frameArgs ? { root: id } : undefined);
      const n = this.tdpZapTree(t, r, false);
      if (n && this.p.tdpRootModel === '5.15') this.kvmFlushRemoteTlbs(t);
      this.leave(t);
      yield* this.tdpPutRoot(t, r, this.p.tdpRootModel === '6.19' ? 'tdp_mmu' : 'zap_invalidated_roots');
      if (this.s.tdpRoots.some((x) => this.s.sps.get(x)?.scheduledToZap)) yield* this.condResched(t, 'yield between roots');
    }
    this.unlock(t);
    this.leave(t);
  }

  private busy = false;
  /** The tdp_mmu_zap_wq worker is inside tdp_mmu_zap_root_work (flush_workqueue waits for it). */
  get workerBusy(): boolean { this.s.rd |= ACC.WORKQ; return this.busy; }
  set workerBusy(v: boolean) { this.s.wr |= ACC.WORKQ; this.busy = v; }
  /** tdp_mmu_zap_root_work (5.18..6.1 asynchronous zapper). */
  *tdpZapRootWork(t: ThreadCtx): Gen {
    const id = this.s.workQueue.shift();
    if (id === undefined) return;
    this.s.wr |= ACC.WORKQ; // dequeued without a trace effect
    this.workerBusy = true;
    this.enter(t, 'tdp_mmu_zap_root_work', this.frameArgs ? { root: id } : undefined);
    yield* this.lock(t, 'read');
    const r = this.s.sps.get(id);
    if (r) {
      this.enter(t, 'tdp_mmu_zap_root', this.frameArgs ? { root: id } : undefined);
      this.tdpZapTree(t, r, false);
      this.leave(t);
      yield* this.tdpPutRoot(t, r, 'tdp_mmu_zap_wq');
    }
    this.unlock(t);
    this.leave(t);
    this.workerBusy = false;
  }

  /** kvm_zap_obsolete_pages: oldest first, stop at the first valid page, batches with lock breaks. */
  *zapObsoletePages(t: ThreadCtx): Gen {
    this.enter(t, 'kvm_zap_obsolete_pages');
    const list: Sp[] = [];
    let batch = 0;
    restart: for (;;) {
      for (let id = this.s.activeTail; id >= 0;) {
        const sp = this.s.sps.get(id)!;
        this.s.lockOps++;
        if (!this.isObsolete(sp)) break restart;
        if (sp.invalid) { id = sp.prevA; continue; }
        if (batch >= BATCH_ZAP_PAGES) {
          batch = 0;
          yield* this.condResched(t, 'yield');
          continue restart;
        }
        const r = this.zapPage(t, sp, list);
        this.s.zappedObsolete = list.map((x) => x.id);
        if (this.p.batchCountsEveryZap || r.unstable) batch++;
        // a zapped page has left the list (or sits at the head as an invalid root), so walking on
        // from the tail is what the kernel's reverse-safe iterator does; `unstable` only matters
        // for the batch counter above
        continue restart;
      }
      break;
    }
    this.commitZap(t, list);
    this.s.zappedObsolete = [];
    if (this.auditEvents) {
      for (let id = this.s.activeTail; id >= 0;) {
        const sp = this.s.sps.get(id)!;
        if (this.isObsolete(sp) && !sp.invalid) { this.violate('FZ-3', `obsolete sp#${sp.id} left on active_mmu_pages after kvm_zap_obsolete_pages`, [`sp#${sp.id}`]); break; }
        id = sp.prevA;
      }
    }
    this.leave(t);
  }

  /** kvm_mmu_zap_all (slow): every shadow page under one lock hold (3.10 form), then TDP roots. */
  *zapAll(t: ThreadCtx): Gen {
    this.enter(t, 'kvm_mmu_zap_all');
    yield* this.lock(t, 'write');
    const list: Sp[] = [];
    restart: for (;;) {
      for (let id = this.s.activeHead; id >= 0;) {
        const sp = this.s.sps.get(id)!;
        this.s.lockOps++;
        const next = sp.nextA;
        if (sp.invalid && sp.rootCount) { id = next; continue; }
        const r = this.zapPage(t, sp, list);
        if (r.n) continue restart;
        id = next;
      }
      break;
    }
    this.commitZap(t, list);
    if (this.tdpOn) {
      this.enter(t, 'kvm_tdp_mmu_zap_all');
      let n = 0;
      for (const id of this.s.tdpRoots) {
        const r = this.s.sps.get(id);
        if (r && !(r.invalid && this.bug === 'notifier-skips-invalid-roots')) n += this.tdpZapLeafs(r, 0, 2 ** 36);
      }
      if (n) this.kvmFlushRemoteTlbs(t);
      this.leave(t);
    }
    this.unlock(t);
    this.leave(t);
  }

  /** kvm_mmu_change_mmu_pages. */
  *changeMmuPages(t: ThreadCtx, goal: number): Gen {
    this.enter(t, 'kvm_mmu_change_mmu_pages', this.frameArgs ? { goal } : undefined);
    yield* this.lock(t, 'write');
    const list: Sp[] = [];
    if (this.v < 3) {
      let used = this.s.nUsed;
      if (used > goal) {
        let guard = 0;
        while (used > goal && this.s.activeTail >= 0 && guard++ < 10000) {
          const sp = this.s.sps.get(this.s.activeTail)!;
          if (sp.invalid && sp.rootCount) break;
          const wasRoot = sp.rootCount > 0;
          used -= this.zapPage(t, sp, list).n;
          // the page itself: a root in use is only invalidated, not freed, so the model does not count
          // it (the 2.6 code subtracted one unconditionally, which only matters for in-use roots)
          if (!wasRoot) used--;
        }
        goal = used;
        const old = this.s.nUsed;
        this.s.nUsed = used;   // n_free_mmu_pages = 0: "used" becomes the computed value
        this.usedField(old, used);
      }
    } else if (this.s.nUsed > goal) {
      this.enter(t, 'zap_oldest');
      let guard = 0;
      while (this.s.nUsed > goal && guard++ < 100000) {
        const sp = this.oldestZappable();
        if (!sp) break;
        this.zapPage(t, sp, list);
      }
      this.commitZap(t, list);
      this.leave(t);
      goal = Math.max(goal, this.s.nUsed);
    }
    const old = this.s.nMax;
    this.s.nMax = goal;
    if (this.v < 3) { this.vmField('n_alloc_mmu_pages', old, goal); this.vmField('n_free_mmu_pages', old - this.s.nUsed, goal - this.s.nUsed); }
    else this.vmField('n_max_mmu_pages', old, goal);
    this.unlock(t);
    this.leave(t);
  }

  /** mmu_unshadow / kvm_mmu_unprotect_page: zap every indirect page of gfn, walking its hash bucket. */
  *unprotectPage(t: ThreadCtx, gfn: number): Gen {
    this.enter(t, 'unprotect', this.frameArgs ? { gfn: hex(gfn) } : undefined);
    yield* this.lock(t, 'write');
    const b = this.hashBucket(gfn);
    const list: Sp[] = [];
    const restartOnZap = this.bug !== 'hash-walk-zaps-saved-next';
    let uaf = false;
    restart: for (let guard = 0; guard < 1000; guard++) {
      const bucket = this.s.hash.get(b) ?? [];
      let pos = 0;
      let curId = bucket[0];
      while (curId !== undefined) {
        const sp = this.s.sps.get(curId);
        if (!sp) {
          this.violate('IT-1', `bucket walk dereferences freed sp#${curId} (saved next node freed by the loop body)`, [`sp#${curId}`, `mmu_page_hash[${b}]`]);
          this.violate('HS-1', `freed sp#${curId} reached through mmu_page_hash[${b}]`, [`sp#${curId}`]);
          uaf = true;
          break restart;
        }
        const cur = this.s.hash.get(b) ?? [];
        const nextId = cur[cur.indexOf(curId) + 1];     // hlist_for_each_entry_safe saves the next node
        this.s.lockOps++;
        if (sp.gfn === gfn && !sp.direct && !sp.invalid) {
          const r = this.zapPage(t, sp, list);
          if (restartOnZap && r.n) continue restart;
        }
        pos++;
        curId = nextId;
      }
      break;
    }
    if (uaf) this.note('walk aborted: use after free');
    this.commitZap(t, list);
    this.unlock(t);
    this.leave(t);
  }

  *zapGfnRange(t: ThreadCtx, start: number, end: number): Gen {
    this.enter(t, 'kvm_zap_gfn_range', this.frameArgs ? { start: hex(start), end: hex(end) } : undefined);
    yield* this.lock(t, 'write');
    this.invalidateBegin(t, start, end, true);
    const n = this.unmapGfnRange(t, start, end, true);
    if (n) this.kvmFlushRemoteTlbs(t);
    this.invalidateEnd(t);
    this.unlock(t);
    this.leave(t);
  }

  *destroyVm(t: ThreadCtx): Gen {
    this.enter(t, 'kvm_destroy_vm');
    for (const v of this.s.vcpus) { this.s.wr |= ACC.VCPUS; v.inGuest = false; yield* this.mmuUnload(t, v); }
    this.enter(t, 'kvm_arch_flush_shadow_all');
    yield* this.zapAll(t);
    this.leave(t);
    if (this.tdpOn) {
      yield* this.lock(t, 'write');
      for (const id of [...this.s.tdpRoots]) {
        const r = this.s.sps.get(id);
        if (!r) continue;
        this.tdpZapTree(t, r, false);
        this.s.tdpRoots.splice(this.s.tdpRoots.indexOf(id), 1);
        r.rootCount = 0;
        this.freeTdpSp(t, r);
      }
      this.unlock(t);
    }
    this.s.destroyed = true;
    this.leave(t);
  }

  // ----------------------------------------------------------------------------------------------
  // MMU notifier paths
  // ----------------------------------------------------------------------------------------------
  invalidateBegin(t: ThreadCtx, start: number, end: number, gfnRange: boolean): void {
    if (this.N('invalidate_begin')) this.enter(t, 'invalidate_begin');
    const old = this.s.inProgress;
    this.s.inProgress++;
    this.vmField(this.p.fieldNames.mmu_invalidate_in_progress, old, this.s.inProgress);
    if (this.v >= 5.12) {
      // the tracked range is in hva pages up to 6.1 and gfns in 6.19
      const useGfn = this.v >= 6.19;
      let lo = start, hi = end;
      if (useGfn !== gfnRange) {
        if (gfnRange) { const a = this.hvaOfGfn(start), b = this.hvaOfGfn(end - 1); lo = a ?? start; hi = (b ?? end - 1) + 1; }
        else { const g = this.gfnsOfHva(start, end - start); lo = g.length ? Math.min(...g.map((x) => x[1])) : 0; hi = g.length ? Math.max(...g.map((x) => x[2])) : 0; }
      }
      if (old === 0) { this.s.rangeStart = lo; this.s.rangeEnd = hi; }
      else { this.s.rangeStart = Math.min(this.s.rangeStart, lo); this.s.rangeEnd = Math.max(this.s.rangeEnd, hi); }
    }
    if (this.N('invalidate_begin')) this.leave(t);
  }

  invalidateEnd(t: ThreadCtx): void {
    if (this.N('invalidate_end')) this.enter(t, 'invalidate_end');
    const old = this.s.seq;
    this.s.seq++;
    this.vmField(this.p.fieldNames.mmu_invalidate_seq, old, this.s.seq);
    this.s.inProgress--;
    this.vmField(this.p.fieldNames.mmu_invalidate_in_progress, this.s.inProgress + 1, this.s.inProgress);
    if (this.s.inProgress === 0) { this.s.rangeStart = -1; this.s.rangeEnd = -1; }
    if (this.N('invalidate_end')) this.leave(t);
  }

  /** kvm_unmap_gfn_range (kvm_unmap_hva_range before 5.15): zap both MMUs for [start, end). */
  unmapGfnRange(t: ThreadCtx, start: number, end: number, fromZapRange = false): number {
    this.enter(t, 'unmap', this.frameArgs ? { start: hex(start), end: hex(end) } : undefined);
    let n = 0;
    // shadow MMU: every rmap level
    for (const slot of this.s.memslots) {
      const lo = Math.max(start, slot.baseGfn), hi = Math.min(end, slot.baseGfn + slot.npages);
      if (lo >= hi) continue;
      for (let level = 1; level <= 3; level++) {
        const a = slot.rmap[level - 1];
        if (!a) continue;
        for (let gfn = lo; gfn < hi; gfn++) {
          if (level > 1 && gfn !== lo && gfn % levelSpan(level) !== 0) continue;
          const idx = this.rmapIndex(slot, gfn, level);
          if (!a[idx]) continue;
          this.enter(t, 'unmap_rmap', this.frameArgs ? { gfn: hex(gfn), level } : undefined);
          for (const sptep of this.listEntries(a[idx])) {
            const sp = this.s.sps.get(sptepSp(sptep));
            if (sp) { this.zapPte(t, sp, sptepIndex(sptep)); n++; }
          }
          this.leave(t);
        }
      }
    }
    if (this.tdpOn) {
      // the 5.17 notifier unmap used the valid-only yield-safe iterator; 5.15's range-start unmap
      // walked every root, but its zap-range/zap-all helpers skipped invalid roots (domain §7.3)
      const bug = this.bug === 'notifier-skips-invalid-roots';
      const skipInvalid = (bug && (fromZapRange || this.v >= 5.17)) || (fromZapRange && this.v >= 6.19);
      this.enter(t, fromZapRange ? 'tdp_zap_range' : 'kvm_tdp_mmu_unmap_gfn_range');
      for (const id of this.s.tdpRoots) {
        const r = this.s.sps.get(id);
        if (!r) continue;
        if (skipInvalid && r.invalid) continue;
        n += this.tdpZapLeafs(r, start, end);
      }
      this.leave(t);
    }
    this.leave(t);
    return n;
  }

  /** The handler body shared by range_start and invalidate_page. */
  private notifierUnmap(t: ThreadCtx, hvaPage: number, npages: number): number {
    let n = 0;
    if (this.v >= 5.15) this.enter(t, 'kvm_handle_hva_range');
    for (const [, lo, hi] of this.gfnsOfHva(hvaPage, npages)) n += this.unmapGfnRange(t, lo, hi);
    if (n) this.kvmFlushRemoteTlbs(t);
    if (this.v >= 5.15) this.leave(t);
    return n;
  }

  /** RT-5 / MN-4: after a notifier unmap nothing may still map the range. */
  private checkRangeUnmapped(hvaPage: number, npages: number): void {
    if (!this.auditEvents) return;
    for (const [, lo, hi] of this.gfnsOfHva(hvaPage, npages)) {
      for (const id of this.s.tdpRoots) {
        const r = this.s.sps.get(id);
        if (!r) continue;
        const left: string[] = [];
        this.forLeafs(r, lo, hi, (sp, i) => left.push(`sp#${sp.id}[${i}]`));
        if (left.length) {
          if (r.invalid) this.violate('RT-5', `MMU notifier unmap skipped invalid TDP root sp#${r.id}`, [`sp#${r.id}`, ...left]);
          this.violate('MN-4', `SPTEs still map gfns [${hex(lo)}, ${hex(hi)}) after the notifier unmapped them`, left);
        }
      }
      for (const slot of this.s.memslots) {
        const a = slot.rmap[0];
        if (!a) continue;
        for (let g = Math.max(lo, slot.baseGfn); g < Math.min(hi, slot.baseGfn + slot.npages); g++) {
          if (a[this.rmapIndex(slot, g, 1)]) this.violate('MN-4', `rmap of gfn ${hex(g)} still populated after notifier unmap`, [`gfn ${hex(g)}`]);
        }
      }
    }
  }

  *invalidateRangeStart(t: ThreadCtx, hvaPage: number, npages: number): Gen {
    this.enter(t, 'kvm_mmu_notifier_invalidate_range_start', this.frameArgs ? { hva: hex(hvaPage * 4096), npages } : undefined);
    yield* this.lock(t, 'write');
    this.invalidateBegin(t, hvaPage, hvaPage + npages, false);
    this.notifierUnmap(t, hvaPage, npages);
    this.unlock(t);
    this.checkRangeUnmapped(hvaPage, npages);
    this.leave(t);
  }

  *invalidateRangeEnd(t: ThreadCtx, hvaPage: number, npages: number): Gen {
    this.enter(t, 'kvm_mmu_notifier_invalidate_range_end', this.frameArgs ? { hva: hex(hvaPage * 4096), npages } : undefined);
    yield* this.lock(t, 'write');
    this.invalidateEnd(t);
    this.unlock(t);
    this.leave(t);
  }

  *invalidatePage(t: ThreadCtx, hvaPage: number): Gen {
    this.enter(t, 'kvm_mmu_notifier_invalidate_page', this.frameArgs ? { hva: hex(hvaPage * 4096) } : undefined);
    yield* this.lock(t, 'write');
    const old = this.s.seq;
    this.s.seq++;
    this.vmField(this.p.fieldNames.mmu_invalidate_seq, old, this.s.seq);
    this.notifierUnmap(t, hvaPage, 1);
    this.unlock(t);
    this.checkRangeUnmapped(hvaPage, 1);
    this.leave(t);
  }

  /** Primary MMU unmaps: range_start, clear PTEs (drop their references), range_end. */
  *hostUnmap(t: ThreadCtx, hvaPage: number, npages: number): Gen {
    this.enter(t, 'try_to_unmap', this.frameArgs ? { hva: hex(hvaPage * 4096), npages } : undefined);
    if (this.v < 2.63 && npages === 1) yield* this.invalidatePage(t, hvaPage);
    else yield* this.invalidateRangeStart(t, hvaPage, npages);
    for (let h = hvaPage; h < hvaPage + npages; h++) {
      const e = this.hpte(h);
      if (e === 0) continue;
      this.setHpte(h, 0);
      if (this.tr) this.fx({ kind: 'host-pte', hva: h * 4096, old: `pfn ${hex(Math.floor(e / 4))}`, new: 'none' }); else this.quiet(ACC.HOST);
      this.refAdjust(Math.floor(e / 4), -1);
    }
    yield { point: 'try_to_unmap:ptes cleared' };
    if (!(this.v < 2.63 && npages === 1)) yield* this.invalidateRangeEnd(t, hvaPage, npages);
    this.leave(t);
  }

  /** The page at hva is freed (or swapped) once nobody holds a reference. MN-4: nothing may map it. */
  hostFree(t: ThreadCtx, hvaPage: number, to: number): void {
    this.enter(t, to === 2 ? 'swap_writepage' : 'free_page', this.frameArgs ? { hva: hex(hvaPage * 4096) } : undefined);
    const pfn = this.lastPfn(hvaPage);
    if (!pfn || this.hpte(hvaPage) !== 0) { this.note('page still mapped by the host: not freed'); this.leave(t); return; }
    const ref = this.pageRef(pfn);
    if (ref > 0) { this.note(`pfn ${hex(pfn)} still has ${ref} reference(s): not freed`); this.leave(t); return; }
    const old = this.pageState(pfn);
    this.s.host.state[pfn - PFN_FIRST] = to;
    const names = ['in-use', 'free', 'swapped', 'reused'];
    if (this.tr) this.fx({ kind: 'host-page', pfn, field: 'state', old: names[old], new: names[to] }); else this.quiet(ACC.HOST);
    if (this.auditEvents && this.pfnMapCount(pfn)) this.violate('MN-4', `host freed pfn ${hex(pfn)} while ${this.pfnMapCount(pfn)} SPTE(s) still map it`, [`pfn ${hex(pfn)}`, ...this.spteMappers(pfn)]);
    this.leave(t);
  }

  spteMappers(pfn: number): string[] {
    const out: string[] = [];
    for (const sp of this.s.sps.values()) {
      if (!sp.spt || sp.nPresent === 0) continue;
      for (let i = 0; i < 512; i++) { const v = sp.spt[i]; if (isPresent(v) && this.isLeaf(sp, v) && sptePfn(v) === pfn) out.push(`sp#${sp.id}[${i}]${sp.invalid ? ' (invalid root tree)' : ''}`); }
    }
    return out;
  }

  // ----------------------------------------------------------------------------------------------
  // Aging
  // ----------------------------------------------------------------------------------------------
  /** Young state of every SPTE (both MMUs) mapping [lo, hi): used by the AG-4 check. */
  anyYoung(lo: number, hi: number, shadowOnly: boolean): boolean {
    let young = false;
    if (!shadowOnly) for (const id of this.s.tdpRoots) { const r = this.s.sps.get(id); if (r && !r.invalid) this.forLeafs(r, lo, hi, (_s, _i, v) => { if ((v % 64) >= 32) young = true; }); }
    for (const slot of this.s.memslots) {
      const a = slot.rmap[0];
      if (!a) continue;
      for (let g = Math.max(lo, slot.baseGfn); g < Math.min(hi, slot.baseGfn + slot.npages); g++) {
        for (const sptep of this.listEntries(a[this.rmapIndex(slot, g, 1)])) {
          const sp = this.s.sps.get(sptepSp(sptep));
          if (sp && (this.getSpte(sp, sptepIndex(sptep)) % 64) >= 32) young = true;
        }
      }
    }
    return young;
  }

  /** clear_flush_young / clear_young / test_young notifiers -> kvm_age_gfn / kvm_test_age_gfn. */
  *age(t: ThreadCtx, hvaPage: number, npages: number, mode: 'clear_flush' | 'clear' | 'test', fastOnly: boolean): Gen<boolean> {
    const notifier = mode === 'clear_flush' ? 'kvm_mmu_notifier_clear_flush_young' : mode === 'clear' ? 'kvm_mmu_notifier_clear_young' : 'kvm_mmu_notifier_test_young';
    this.enter(t, notifier, this.frameArgs ? { hva: hex(hvaPage * 4096), npages, fastOnly } : undefined);
    const lockless = this.p.locklessAging;
    if (!lockless) yield* this.lock(t, 'write');
    let young = false;
    const test = mode === 'test';
    const ranges = this.gfnsOfHva(hvaPage, npages);
    const truth = ranges.some(([, lo, hi]) => this.anyYoung(lo, hi, false));
    if (this.v >= 5.15) this.enter(t, 'kvm_handle_hva_range');
    for (const [, lo, hi] of ranges) {
      this.enter(t, test ? 'test_age' : 'age', this.frameArgs ? { start: hex(lo), end: hex(hi) } : undefined);
      if (this.tdpOn) {
        this.enter(t, this.v >= 6.19 ? 'kvm_tdp_mmu_age_gfn_range' : test ? 'kvm_tdp_mmu_test_age_gfn' : 'kvm_tdp_mmu_age_gfn_range');
        const validOnly = this.v >= 6.19 && !(this.testFaults !== null && this.testFaults.agingVisitsInvalidRoots);
        const onFreed = lockless && this.auditEvents ? (p: Sp, i: number, id: number) => this.violate('AG-2', `lockless aging walks sp#${p.id}[${i}] into freed page table sp#${id}`, [`sp#${p.id}`, `sp#${id}`]) : undefined;
        for (const id of this.s.tdpRoots) {
          const r = this.s.sps.get(id);
          if (!r || (validOnly && r.invalid)) continue;     // 6.19 ages valid roots only (AG-5)
          // AG-5 (event): lockless aging (6.15+) must not visit an invalid root
          if (r.invalid && this.auditEvents) this.violate('AG-5', `aging visits invalid TDP root sp#${r.id}`, [`sp#${r.id}`]);
          this.forLeafs(r, lo, hi, (sp, i, v) => {
            if ((v % 64) < 32) return;
            young = true;
            if (!test) this.ageSpte(sp, i, v);
          }, onFreed);
        }
        this.leave(t);
      }
      const consultShadow = !(fastOnly && this.bug === 'fast-aging-skips-shadow') && !(test && young)
        && (!this.tdpOn || this.s.indirectShadowPages > 0 || this.cfg.mmu !== 'tdp');
      if (consultShadow) young = this.ageRmaps(t, lo, hi, test, fastOnly, lockless) || young;
      else if (fastOnly && this.bug === 'fast-aging-skips-shadow') this.note('fast-only aging: shadow MMU not consulted');
      this.leave(t);
    }
    if (this.v >= 5.15) this.leave(t);
    if (mode === 'clear_flush' && young && !(this.v >= 6.15)) this.kvmFlushRemoteTlbs(t);
    if (!lockless) this.unlock(t);
    if (this.auditEvents && truth && !young) this.violate('AG-4', `aging reports gfns of hva ${hex(hvaPage * 4096)} cold while a shadow-MMU SPTE is young (shadow MMU not consulted)`, ranges.map(([, lo]) => `gfn ${hex(lo)}`));
    this.note(`${notifier} -> ${young ? 'young' : 'old'}`);
    this.leave(t);
    return young;
  }

  /**
   * The SPTE write of an aging walk: clear the Accessed bit. AG-1 (event): nothing else may change,
   * neither the pfn nor the permission bits.
   */
  ageSpte(sp: Sp, i: number, v: number): void {
    let nv = v - SPTE_A;
    if (this.testFaults !== null && this.testFaults.agingClearsWritable && (nv % 4) === 3) nv -= SPTE_W;
    if (this.auditEvents && (sptePfn(nv) !== sptePfn(v) || v - nv !== SPTE_A)) this.violate('AG-1', `aging rewrote sp#${sp.id}[${i}] ${hex(v)} -> ${hex(nv)}: more than the Accessed bit changed`, [`sp#${sp.id}`]);
    this.setSpte(sp, i, nv);
  }

  /** Shadow-MMU aging over the rmaps of [lo, hi). Lockless eras read single-entry heads directly. */
  ageRmaps(t: ThreadCtx, lo: number, hi: number, test: boolean, fastOnly: boolean, lockless: boolean): boolean {
    let young = false;
    this.enter(t, test ? 'test_age_rmap' : 'age_rmap', this.frameArgs ? { start: hex(lo), end: hex(hi) } : undefined);
    for (const slot of this.s.memslots) {
      for (let level = 1; level <= 3; level++) {
        const a = slot.rmap[level - 1];
        if (!a) continue;
        for (let g = Math.max(lo, slot.baseGfn); g < Math.min(hi, slot.baseGfn + slot.npages); g++) {
          if (level > 1 && g % levelSpan(level) !== 0 && g !== lo) continue;
          const head = a[this.rmapIndex(slot, g, level)];
          if (head === 0) continue;
          if (lockless && fastOnly && head % 2 === 1) {
            this.note(`fast-only aging skips multi-entry rmap of gfn ${hex(g)} (reported young)`);
            young = true;
            continue;
          }
          if (lockless && head % 2 === 1) this.point(t, 'kvm_rmap_lock_readonly');
          for (const sptep of this.listEntries(head)) {
            const sp = this.s.sps.get(sptepSp(sptep));
            if (!sp || sp.life === LIFE_FREED) {
              // AG-2 (event): a lockless rmap walk must never reach a freed shadow page
              if (lockless && this.auditEvents) this.violate('AG-2', `lockless aging follows rmap entry ${hex(sptep)} of gfn ${hex(g)} into freed sp#${sptepSp(sptep)}`, [`sp#${sptepSp(sptep)}`, `gfn ${hex(g)}`]);
              continue;
            }
            const i = sptepIndex(sptep), v = this.getSpte(sp, i);
            if ((v % 64) < 32) continue;
            young = true;
            if (!test) this.ageSpte(sp, i, v);
          }
        }
      }
    }
    this.leave(t);
    return young;
  }

  /** An LRU aging pass: the primary PTE's young bit, then the secondary MMU via the notifier. */
  *ageLru(t: ThreadCtx, hvaPage: number, npages: number, fastOnly: boolean): Gen {
    this.enter(t, 'lru_gen_look_around', this.frameArgs ? { hva: hex(hvaPage * 4096), npages } : undefined);
    for (let h = hvaPage; h < hvaPage + npages; h++) {
      const e = this.hpte(h);
      let hostYoung = false;
      if (e !== 0 && (e % 2) === 1) { hostYoung = true; this.setHpte(h, e - 1); if (this.tr) this.fx({ kind: 'host-pte', hva: h * 4096, old: 'young', new: 'old' }); else this.quiet(ACC.HOST); }
      const kvmYoung: boolean = yield* this.age(t, h, 1, 'clear', fastOnly);
      this.note(`page at hva ${hex(h * 4096)} judged ${hostYoung || kvmYoung ? 'hot' : 'cold'}`);
    }
    this.leave(t);
  }
}
