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
  /** 512 SPTEs, allocated on the first write. */
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
}

export interface Desc { sptes: number[]; more: number }

export interface Slot extends MemslotConfig {
  /** rmap heads per level 1..3 (index level-1), lazily allocated. */
  rmap: Array<Float64Array | null>;
  /** lpage_info disallow_lpage counters for levels 2..3 (index level-2). */
  lpage: Int32Array[];
  invalid: boolean;
}

export interface GuestPte { gfn: number; present: boolean; writable: boolean; user: boolean; huge: boolean }

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
  freedIds: Set<number>;
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
  guestPt: Map<number, { level: number; entries: Map<number, GuestPte> }>;
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
