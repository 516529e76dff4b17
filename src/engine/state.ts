/**
 * Plain engine state. Everything here is made of numbers, strings, arrays, typed arrays, Maps and Sets
 * so that `structuredClone` snapshots it and the hash/view code can walk it.
 */
import type { LockMode, MemslotConfig, RequestName } from './api';

// ------------------------------------------------------------------------------------------------
// SPTE encoding (one JS number per SPTE, < 2^53). Bits follow the x86 PTE layout:
//   bit 0 present, bit 1 writable, bit 2 user, bit 5 accessed, bit 6 dirty, bit 7 huge (PS),
//   bits 12..50 pfn, bit 51 = MMIO marker (a reserved bit, as KVM uses reserved bits for MMIO SPTEs).
// ------------------------------------------------------------------------------------------------
export const SPTE_P = 1;
export const SPTE_W = 2;
export const SPTE_U = 4;
export const SPTE_A = 32;
export const SPTE_D = 64;
export const SPTE_PS = 128;
export const SPTE_MMIO = 2 ** 51;
const PFN_MOD = 2 ** 39;

export function sptePfn(v: number): number { return Math.floor(v / 4096) % PFN_MOD; }
export function spteFlags(v: number): number { return v % 4096; }
export function makeSpte(pfn: number, flags: number): number { return pfn * 4096 + flags; }
export function isPresent(v: number): boolean { return v !== 0 && v < SPTE_MMIO && (v % 2) === 1; }

/**
 * Pages (gfns) one entry covers at each paging level: 512^(level-1). A table, because `2 ** n` with a
 * variable exponent was one of the hottest expressions of a step.
 */
const LEVEL_SPANS = [0, 1, 512, 262144, 134217728, 68719476736, 35184372088832];
export function levelSpan(level: number): number { return LEVEL_SPANS[level] ?? 2 ** (9 * (level - 1)); }

/** The spt of shadow page `id` lives at host pfn SP_PFN_BASE + id; non-leaf SPTEs point there. */
export const SP_PFN_BASE = 0x10000000;
/** pte_list_desc addresses; the head word of an rmap is desc address | 1. */
export const DESC_BASE = 0x100000000000;

export function sptepOf(spId: number, index: number): number { return (SP_PFN_BASE + spId) * 4096 + index * 8; }
export function sptepSp(sptep: number): number { return Math.floor(sptep / 4096) - SP_PFN_BASE; }
export function sptepIndex(sptep: number): number { return (sptep % 4096) / 8; }

export const LIFE_LIVE = 0;
export const LIFE_INVALID_LIST = 1;
export const LIFE_FREED = 2;

export interface Sp {
  id: number;
  gfn: number;
  role: number;
  level: number;
  direct: boolean;
  tdp: boolean;
  /** Nested (guest_mode) page that shadows an identity L1 EPT table. */
  nested: boolean;
  /**
   * 512 SPTEs, allocated on the first write, plus one slot (SPT_HOLDERS) counting the copies of the
   * state that hold the table: cloneVmState shares tables copy-on-write, Kvm.setSpte copies a table
   * held more than once before writing it, and the pool recycles a table when its last holder goes.
   */
  spt: Float64Array | null;
  nPresent: number;
  /** parent_ptes head word (shadow MMU, rmap encoding) or the single ptep (TDP MMU). */
  parentPtes: number;
  unsync: boolean;
  unsyncChildren: number;
  unsyncBitmap: number[];
  /** root_count (shadow) or tdp_mmu_root_count (TDP). */
  rootCount: number;
  gen: number;
  invalid: boolean;
  life: number;
  onActive: boolean;
  prevA: number;
  nextA: number;
  inHash: boolean;
  /** Indirect pages: gfn mapped by each leaf SPTE (sp->gfns / shadowed_translation). */
  gfns: Map<number, number> | null;
  /** TDP: root this page belongs to. */
  rootId: number;
  /** 5.15/5.17: the invalidation gifted a reference; 6.19: tdp_mmu_scheduled_root_to_zap. */
  scheduledToZap: boolean;
  writeFlooding: number;
  /**
   * Order-independent hash (two lanes) of the leaf entries of spt, kept by Kvm.setSpte through
   * sptLeafTerm(): the canonical hash reads it instead of scanning the 512 entries.
   */
  lh1: number;
  lh2: number;
  /**
   * Indices of the present entries of spt, and of its non-leaf entries (non-zero values that name a
   * lower table), ascending. Kept by Kvm.setSpte; immutable (a write replaces the array), so copies of
   * the state share them. The auditor and the canonical hash read these instead of scanning 512 entries.
   */
  presentIdx: readonly number[];
  nonLeafIdx: readonly number[];
}

/** `list` (ascending) with `i` added or removed: a new array, the old one may be shared. */
export function withIndex(list: readonly number[], i: number, present: boolean): readonly number[] {
  let k = 0;
  while (k < list.length && list[k]! < i) k++;
  const has = k < list.length && list[k] === i;
  if (has === present) return list;
  return present ? [...list.slice(0, k), i, ...list.slice(k)] : [...list.slice(0, k), ...list.slice(k + 1)];
}

/** SPTEs per table, and the index of the extra slot that counts a table's holders (see Sp.spt). */
export const SPT_ENTRIES = 512;
export const SPT_HOLDERS = 512;
export const SPT_LENGTH = SPT_ENTRIES + 1;

export interface Desc { sptes: number[]; more: number }

export interface Slot extends MemslotConfig {
  /** rmap heads per level 1..3 (index level-1), lazily allocated. */
  rmap: Array<Float64Array | null>;
  /** lpage_info disallow_lpage counters for levels 2..3 (index level-2). */
  lpage: Int32Array[];
  invalid: boolean;
  /** Content version of the rmap arrays: a fresh writeVersion() on every rmap head write. */
  rver: number;
}

export interface GuestPte { gfn: number; present: boolean; writable: boolean; user: boolean; huge: boolean }

export type GuestPageTables = ReadonlyMap<number, { readonly level: number; readonly entries: ReadonlyMap<number, Readonly<GuestPte>> }>;

export interface TlbEntry { tag: number; key: number; pfn: number; w: boolean }

export interface Vcpu {
  id: number;
  root: number;
  rootPgd: number;
  prev: Array<{ hpa: number; pgd: number }>;
  /** guest_mmu root (nested, L2). */
  l2Root: number;
  requests: RequestName[];
  inGuest: boolean;
  guestMode: boolean;
  tlb: TlbEntry[];
  cr3: number;
  modeBits: Record<string, boolean>;
  /** TL-2: a root was loaded into this vCPU and no flush of the current context followed yet. */
  loadFlushPending: boolean;
}

export interface LockState { writer: string | null; writerMode: LockMode | null; readers: string[] }

export interface HostRegion {
  /** first hva page of the region (a memslot's userspace_addr range) */
  base: number;
  n: number;
  /** host PTE per hva page: 0 = none, else pfn*4 + young + 2*dirty */
  pte: Float64Array;
  /** last pfn mapped at each hva page (what host_free frees) */
  last: Float64Array;
  /**
   * Order-independent hash of the non-zero (pte, last) entries, kept up to date by setHostEntry():
   * the canonical hash reads it instead of scanning the region.
   */
  zh1: number;
  zh2: number;
}

function fmix(h: number): number {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16;
  return h;
}

/** One lane of an entry's Zobrist-style term (XOR-combined, so entries can change in any order). */
function entryTerm(seed: number, k: number, pte: number, last: number): number {
  let h = fmix(seed ^ Math.imul(k + 1, 0x9e3779b1));
  h = fmix(h ^ (pte >>> 0)); h = fmix(h ^ (Math.floor(pte / 4294967296) | 0));
  h = fmix(h ^ (last >>> 0)); h = fmix(h ^ (Math.floor(last / 4294967296) | 0));
  return h;
}

/** One lane of a leaf SPTE's term in Sp.lh1/lh2 (XOR-combined, like the host regions' hash). */
export function sptLeafTerm(lane: 1 | 2, i: number, v: number): number {
  return entryTerm(lane === 1 ? 0x7f4a7c15 : 0x2c1b3c6d, i, v, 0);
}

/** Sp.lh1/lh2 computed from scratch (tests compare them with the kept values). */
export function sptLeafHashFromScratch(sp: Sp, isLeaf: (sp: Sp, v: number) => boolean): [number, number] {
  let h1 = 0, h2 = 0;
  if (sp.spt) for (let i = 0; i < 512; i++) {
    const v = sp.spt[i]!;
    if (v !== 0 && isLeaf(sp, v)) { h1 ^= sptLeafTerm(1, i, v); h2 ^= sptLeafTerm(2, i, v); }
  }
  return [h1, h2];
}

/** The region hash computed from scratch (what setHostEntry keeps incrementally; tests compare them). */
export function regionHashFromScratch(r: HostRegion): [number, number] {
  let h1 = 0, h2 = 0;
  for (let k = 0; k < r.n; k++) {
    const p = r.pte[k]!, l = r.last[k]!;
    if (p !== 0 || l !== 0) { h1 ^= entryTerm(0x3c6ef372, k, p, l); h2 ^= entryTerm(0x1b873593, k, p, l); }
  }
  return [h1, h2];
}

/** Write a host PTE slot (pte and last pfn) and keep the region's hash current. */
export function setHostEntry(r: HostRegion, k: number, pte: number, last: number): void {
  const op = r.pte[k]!, ol = r.last[k]!;
  if (op === pte && ol === last) return;
  if (op !== 0 || ol !== 0) { r.zh1 ^= entryTerm(0x3c6ef372, k, op, ol); r.zh2 ^= entryTerm(0x1b873593, k, op, ol); }
  r.pte[k] = pte; r.last[k] = last;
  if (pte !== 0 || last !== 0) { r.zh1 ^= entryTerm(0x3c6ef372, k, pte, last); r.zh2 ^= entryTerm(0x1b873593, k, pte, last); }
}

/** First host pfn handed out; per-pfn arrays are indexed by pfn - PFN_FIRST. */
export const PFN_FIRST = 0x1000;

export interface HostState {
  regions: HostRegion[];
  /** page reference counts */
  ref: Int32Array;
  /** 0 in-use, 1 free, 2 swapped, 3 reused */
  state: Uint8Array;
  /** number of present leaf SPTEs (both MMUs) mapping each pfn */
  maps: Int32Array;
  /** pfns with maps > 0 */
  mapped: number;
  nextPfn: number;
}

export interface VmState {
  gen: number;
  sps: Map<number, Sp>;
  nextSpId: number;
  activeHead: number;
  activeTail: number;
  hash: Map<number, number[]>;
  hashBuckets: number;
  zappedObsolete: number[];
  tdpRoots: number[];
  nUsed: number;
  nMax: number;
  seq: number;
  inProgress: number;
  rangeStart: number;
  rangeEnd: number;
  indirectShadowPages: number;
  lock: LockState;
  stats: Record<string, number>;
  memslots: Slot[];
  descs: Map<number, Desc>;
  nextDescId: number;
  host: HostState;
  vcpus: Vcpu[];
  /**
   * Guest page tables by gfn. Immutable: a write replaces the maps on its path (Kvm.guestPtWrite), so
   * copies of the state share them and the canonical hash caches their hash by identity.
   */
  guestPt: GuestPageTables;
  /** 5.18/6.1 tdp_mmu_zap_wq queue of root ids. */
  workQueue: number[];
  shadowRootAllocated: boolean;
  /** RT-3 window: set while generation/roots are invalidated but the request is not posted yet. */
  rt3Window: string | null;
  /** vCPUs inside a fault's kvm->srcu read section (memslot updates wait for them). */
  srcuReaders: number;
  /** TL-1: SPTEs were zapped/write-protected since the last remote flush. */
  flushPending: boolean;
  nxHugePages: boolean;
  /** Operations done while holding mmu_lock in the current critical section (see bench/engine.ts). */
  lockOps: number;
  destroyed: boolean;
}

// ------------------------------------------------------------------------------------------------
// Snapshots
// ------------------------------------------------------------------------------------------------

let writeSeq = 0;
/**
 * A process-wide fresh number for a content version. Arrays that the canonical hash would otherwise
 * scan (SPTE tables, rmap arrays, host PTEs) carry the version of their content; snapshots copy it with
 * the content, so equal versions mean equal contents and canonical.ts caches its scans by version.
 * Every write to those arrays must take a new version (the property tests check the cache against a
 * full scan).
 */
export function writeVersion(): number { return ++writeSeq; }

type Typed = Float64Array | Int32Array | Uint8Array;

/**
 * Recycles the typed arrays of discarded states. Allocating a typed array costs about a microsecond
 * (each has its own ArrayBuffer), and the explorer copies a whole state on every backtrack, so copies
 * reuse the arrays of states the engine has dropped. Only hand a state to release() when nothing can
 * reach it any more (the engine does so for the live state it replaces and for truncated snapshots).
 */
export class ArrayPool {
  private readonly f64 = new Map<number, Float64Array[]>();
  private readonly i32 = new Map<number, Int32Array[]>();
  private readonly u8 = new Map<number, Uint8Array[]>();
  private static readonly MAX_PER_SHAPE = 4096;

  private shelf(a: Typed): Map<number, Typed[]> {
    return (a instanceof Float64Array ? this.f64 : a instanceof Int32Array ? this.i32 : this.u8) as Map<number, Typed[]>;
  }

  copy<T extends Typed>(src: T): T {
    const a = this.shelf(src).get(src.length)?.pop() as T | undefined;
    if (a === undefined) return src.slice() as T;
    a.set(src);
    return a;
  }

  /** A zero-filled Float64Array of length n: a recycled one when there is one (see copy()). */
  zeroF64(n: number): Float64Array {
    const a = this.f64.get(n)?.pop();
    if (a === undefined) return new Float64Array(n);
    a.fill(0);
    return a;
  }

  private put(a: Typed): void {
    const shelf = this.shelf(a);
    let list = shelf.get(a.length);
    if (!list) { list = []; shelf.set(a.length, list); }
    if (list.length < ArrayPool.MAX_PER_SHAPE) list.push(a);
  }

  /** Take back one array nothing references any more. */
  recycle(a: Float64Array): void { this.put(a); }

  release(s: VmState): void {
    for (const sp of s.sps.values()) if (sp.spt && --sp.spt[SPT_HOLDERS]! === 0) this.put(sp.spt);
    for (const m of s.memslots) {
      for (const a of m.rmap) if (a) this.put(a);
      for (const a of m.lpage) this.put(a);
    }
    for (const r of s.host.regions) { this.put(r.pte); this.put(r.last); }
    this.put(s.host.ref); this.put(s.host.state); this.put(s.host.maps);
  }
}

const NO_POOL = { copy: <T extends Typed>(a: T): T => a.slice() as T };

/** The page's table, now held by one more copy of the state (copy-on-write). */
function shareSpt(sp: Sp): Float64Array | null {
  if (sp.spt !== null) sp.spt[SPT_HOLDERS]!++;
  return sp.spt;
}

function cloneSp(sp: Sp): Sp {
  // every field listed (no spread): the object literal must satisfy Sp, so a new field is a compile
  // error here rather than a silently shared value, and V8 builds the copy with one fixed shape
  return {
    id: sp.id, gfn: sp.gfn, role: sp.role, level: sp.level, direct: sp.direct, tdp: sp.tdp, nested: sp.nested,
    spt: shareSpt(sp), nPresent: sp.nPresent, parentPtes: sp.parentPtes, unsync: sp.unsync,
    unsyncChildren: sp.unsyncChildren, unsyncBitmap: sp.unsyncBitmap.slice(), rootCount: sp.rootCount, gen: sp.gen,
    invalid: sp.invalid, life: sp.life, onActive: sp.onActive, prevA: sp.prevA, nextA: sp.nextA, inHash: sp.inHash,
    gfns: sp.gfns ? new Map(sp.gfns) : null, rootId: sp.rootId, scheduledToZap: sp.scheduledToZap,
    writeFlooding: sp.writeFlooding, lh1: sp.lh1, lh2: sp.lh2, presentIdx: sp.presentIdx, nonLeafIdx: sp.nonLeafIdx,
  };
}

/**
 * Deep copy of the VM state. Equivalent to structuredClone for this layout (the unit tests compare the
 * two and check that no object is shared), several times faster: the explorer restores a snapshot on
 * every backtrack. A new field holding an object must be copied here too; the sharing test catches it.
 */
export function cloneVmState(s: VmState, pool: Pick<ArrayPool, 'copy'> = NO_POOL): VmState {
  const sps = new Map<number, Sp>();
  for (const [id, sp] of s.sps) sps.set(id, cloneSp(sp));
  const hash = new Map<number, number[]>();
  for (const [b, ids] of s.hash) hash.set(b, ids.slice());
  const descs = new Map<number, Desc>();
  for (const [id, d] of s.descs) descs.set(id, { sptes: d.sptes.slice(), more: d.more });
  const h = s.host;
  return {
    gen: s.gen, sps, nextSpId: s.nextSpId, activeHead: s.activeHead, activeTail: s.activeTail,
    hash, hashBuckets: s.hashBuckets, zappedObsolete: s.zappedObsolete.slice(), tdpRoots: s.tdpRoots.slice(),
    nUsed: s.nUsed, nMax: s.nMax, seq: s.seq, inProgress: s.inProgress, rangeStart: s.rangeStart, rangeEnd: s.rangeEnd,
    indirectShadowPages: s.indirectShadowPages,
    lock: { writer: s.lock.writer, writerMode: s.lock.writerMode, readers: s.lock.readers.slice() },
    stats: { ...s.stats },
    memslots: s.memslots.map((m) => ({
      id: m.id, baseGfn: m.baseGfn, npages: m.npages, hva: m.hva, flags: m.flags ? m.flags.slice() : m.flags,
      rmap: m.rmap.map((a) => (a ? pool.copy(a) : null)), lpage: m.lpage.map((a) => pool.copy(a)),
      invalid: m.invalid, rver: m.rver,
    })),
    descs, nextDescId: s.nextDescId,
    host: {
      regions: h.regions.map((r) => ({ base: r.base, n: r.n, pte: pool.copy(r.pte), last: pool.copy(r.last), zh1: r.zh1, zh2: r.zh2 })),
      ref: pool.copy(h.ref), state: pool.copy(h.state), maps: pool.copy(h.maps), mapped: h.mapped, nextPfn: h.nextPfn,
    },
    vcpus: s.vcpus.map((v) => ({
      id: v.id, root: v.root, rootPgd: v.rootPgd, prev: v.prev.map((p) => ({ hpa: p.hpa, pgd: p.pgd })), l2Root: v.l2Root,
      requests: v.requests.slice(), inGuest: v.inGuest, guestMode: v.guestMode, tlb: v.tlb.map((e) => ({ tag: e.tag, key: e.key, pfn: e.pfn, w: e.w })),
      cr3: v.cr3, modeBits: { ...v.modeBits }, loadFlushPending: v.loadFlushPending,
    })),
    guestPt: s.guestPt, workQueue: s.workQueue.slice(), shadowRootAllocated: s.shadowRootAllocated, rt3Window: s.rt3Window,
    srcuReaders: s.srcuReaders, flushPending: s.flushPending, nxHugePages: s.nxHugePages, lockOps: s.lockOps, destroyed: s.destroyed,
  };
}
