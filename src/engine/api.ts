/**
 * The engine's public contract. Everything outside `src/engine` (scenarios, CLI, debugger, panel,
 * hovers, explorer) talks to the engine only through these types and the `Engine` interface.
 *
 * Rules of the contract:
 *  - Plain, JSON-serialisable data only (numbers, strings, arrays, plain objects): the panel receives
 *    these over postMessage and the explorer hashes them.
 *  - Additive changes are fine; renaming or removing a field breaks other rooms, so do it with care.
 *  - Kernel names are used verbatim (function names, field names, request names) so that the trace
 *    reads like the kernel and the code-link index can resolve them.
 */

// ---------------------------------------------------------------------------------------------
// Eras, MMU kinds, bug variants
// ---------------------------------------------------------------------------------------------

/** Kernel-era profiles. Each selects the era's algorithms, names, role bits and lock type. */
export type EraId = '2.6.27' | '2.6.34' | '2.6.35' | '3.10' | '3.11' | '5.15' | '5.17' | '5.18' | '6.1' | '6.19';

/** Which MMU the VM runs: TDP MMU (EPT/NPT, tdp_mmu=1), shadow paging, direct shadow MMU (TDP with tdp_mmu=0), or nested TDP (L2 shadowing L1's EPT). */
export type MmuKind = 'tdp' | 'shadow' | 'direct-shadow' | 'nested';

/**
 * Named historical bugs. A variant switches one algorithm back to its buggy form; the profile's
 * default is the fixed form. Each is documented in the engine's bug table with the invariant it violates.
 */
export type BugId =
  | 'hash-walk-zaps-saved-next'        // 2010: mmu_unshadow/kvm_mmu_unprotect_page bucket walk frees the saved next node (IT-1/HS-1)
  | 'unsync-zap-miscount'              // 2010: mmu_zap_unsync_children counts intermediate pages (ZC-1/ZC-2)
  | 'yield-before-free-request'        // 2022: fast zap yields between root invalidation and the request (RT-3/FZ-1)
  | 'prev-roots-not-freed'             // 5.18.0: free-obsolete tests only the current root (RT-6)
  | 'notifier-skips-invalid-roots'     // 5.17: TDP notifier unmap uses the valid-only iterator (RT-5/MN-4)
  | 'gup-no-seq-retry'                 // 2008 V7: fault installs an SPTE without the mmu_notifier_seq retry (MN-1)
  | 'fast-aging-skips-shadow'          // 2024: fast-only aging never consults the shadow MMU (AG-4)
  | 'slow-zap-all';                    // 2013 "before": memslot flush zaps every page under one lock hold (not a correctness bug)

export type ThreadKind = 'vcpu' | 'ioctl' | 'notifier' | 'worker' | 'reclaim';

/** A thread id is the scenario's thread name (e.g. "vcpu0", "ioctl", "mmu_notifier"). */
export type ThreadId = string;

// ---------------------------------------------------------------------------------------------
// VM configuration
// ---------------------------------------------------------------------------------------------

export interface MemslotConfig {
  id: number;
  baseGfn: number;
  npages: number;
  /** Host virtual address of the first page (userspace_addr). */
  hva: number;
  flags?: Array<'dirty-log' | 'readonly'>;
}

/** One guest page-table page for shadow paging: gfn of the table and its non-zero entries. */
export interface GuestPageTableConfig {
  gfn: number;
  level: number;
  entries: Array<{ index: number; gfn: number; present?: boolean; writable?: boolean; user?: boolean; huge?: boolean }>;
}

export interface VmConfig {
  era: EraId;
  mmu: MmuKind;
  bug?: BugId;
  vcpus: number;
  memslots: MemslotConfig[];
  /** Shadow paging / nested: the guest's own page tables. */
  guestPageTables?: GuestPageTableConfig[];
  /** Initial guest CR3 (gfn of the top-level table) per vCPU, shadow paging only. */
  guestCr3?: number[];
  /** CR0/CR4/EFER bits that go into the page role (cr0_wp, cr4_pae, efer_nx, smep, smap). */
  guestModeBits?: Partial<Record<'cr0_wp' | 'cr4_pae' | 'cr4_pge' | 'efer_nx' | 'cr4_smep' | 'cr4_smap', boolean>>;
  /** n_max_mmu_pages (KVM_SET_NR_MMU_PAGES); default derived from memslot size like KVM. */
  maxMmuPages?: number;
  /** Hash buckets for mmu_page_hash; small values make bucket collisions easy to script. */
  hashBuckets?: number;
  /** Host pages (hva -> pfn) present at start; by default every memslot page is backed. */
  hostBacking?: 'all' | 'none';
}

// ---------------------------------------------------------------------------------------------
// Operations: the scenario step vocabulary. Each op is run by one thread and is named after the
// kernel entry point it drives; the engine splits it into atomic steps at preemption points.
// ---------------------------------------------------------------------------------------------

export type Op =
  // vCPU thread
  | { op: 'page_fault'; gfn?: number; gva?: number; write?: boolean; exec?: boolean }   // kvm_mmu_page_fault
  | { op: 'guest_access'; gfn?: number; gva?: number; write?: boolean }                 // guest touches memory: uses TLB, sets A/D
  | { op: 'guest_pt_write'; gfn: number; index: number; value: { gfn: number; present?: boolean; writable?: boolean; user?: boolean; huge?: boolean } | null } // emulated write to a shadowed guest PT (kvm_mmu_pte_write)
  | { op: 'load_cr3'; gfn: number }                                                     // kvm_mmu_new_pgd / fast_pgd_switch + sync
  | { op: 'set_cr4'; bits: Partial<Record<'cr4_pge' | 'cr4_pae' | 'cr4_smep' | 'cr4_smap', boolean>> }
  | { op: 'set_cr0'; bits: Partial<Record<'cr0_wp', boolean>> }
  | { op: 'enter_guest' }                                                               // vcpu_enter_guest: service requests, kvm_mmu_reload, enter
  | { op: 'exit_guest' }
  | { op: 'invlpg'; gva: number }
  | { op: 'tlb_flush_guest' }                                                           // guest TLB flush / CR3 reload: sync unsync pages
  | { op: 'enter_guest_mode'; l2: boolean }                                             // nested: switch between L1 and L2
  // ioctl thread
  | { op: 'memslot_create'; slot: MemslotConfig }
  | { op: 'memslot_delete'; id: number }                                                // kvm_arch_flush_shadow_memslot
  | { op: 'memslot_move'; id: number; baseGfn: number }
  | { op: 'zap_all_fast' }                                                              // kvm_mmu_zap_all_fast / kvm_mmu_invalidate_zap_all_pages
  | { op: 'zap_all' }                                                                   // kvm_mmu_zap_all (slow)
  | { op: 'change_mmu_pages'; pages: number }                                           // kvm_mmu_change_mmu_pages
  | { op: 'unprotect_page'; gfn: number }                                               // mmu_unshadow / kvm_mmu_unprotect_page
  | { op: 'zap_gfn_range'; start: number; end: number }                                 // kvm_zap_gfn_range
  | { op: 'set_nx_huge_pages'; enabled: boolean }
  | { op: 'destroy_vm' }
  // notifier thread (host mm calling into KVM)
  | { op: 'invalidate_range_start'; hva: number; npages?: number }
  | { op: 'invalidate_range_end'; hva: number; npages?: number }
  | { op: 'invalidate_page'; hva: number }                                              // 2.6.27..3.13
  | { op: 'clear_flush_young'; hva: number; npages?: number }
  | { op: 'clear_young'; hva: number; npages?: number; fastOnly?: boolean }
  | { op: 'test_young'; hva: number; npages?: number; fastOnly?: boolean }
  // reclaim / host side
  | { op: 'host_unmap'; hva: number; npages?: number }                                  // primary MMU zaps its PTE (runs notifiers)
  | { op: 'host_free'; hva: number }                                                    // page freed / reused after unmap
  | { op: 'swap_out'; hva: number }                                                     // try_to_unmap + notifier + free
  | { op: 'age_lru'; hva: number; npages?: number; fastOnly?: boolean }                 // MGLRU/LRU aging pass over a range
  | { op: 'gup'; hva: number }                                                          // get_user_pages from outside a fault
  // any thread
  | { op: 'wait'; for: WaitCondition };

export type WaitCondition =
  | { requestServiced: RequestName; vcpu?: number }
  | { threadDone: ThreadId }
  | { point: string; thread: ThreadId };

export type RequestName =
  | 'KVM_REQ_TLB_FLUSH'
  | 'KVM_REQ_MMU_RELOAD'
  | 'KVM_REQ_MMU_FREE_OBSOLETE_ROOTS'
  | 'KVM_REQ_MMU_SYNC'
  | 'KVM_REQ_LOAD_MMU_PGD'
  | 'KVM_REQ_TLB_FLUSH_CURRENT'
  | 'KVM_REQ_TLB_FLUSH_GUEST';

export interface ThreadSpec {
  id: ThreadId;
  kind: ThreadKind;
  /** For vCPU threads: the vCPU index. */
  vcpu?: number;
  ops: Op[];
}

/** A schedule slice: run `thread` until the condition holds (default: one atomic step). */
export interface ScheduleSlice {
  thread: ThreadId;
  until?:
    | { steps: number }
    | { opDone: true }
    | { done: true }
    /** first (or n-th) time the thread reaches a named preemption point, e.g. "kvm_zap_obsolete_pages:yield" */
    | { point: string; occurrence?: number };
}

/** Plain order = every thread runs its ops to completion in declaration order; explicit = slices; open = for the explorer. */
export type Schedule =
  | { kind: 'sequential' }
  | { kind: 'round-robin' }
  | { kind: 'explicit'; slices: ScheduleSlice[] }
  | { kind: 'open'; threads?: ThreadId[]; maxPreemptions?: number; maxDepth?: number };

// ---------------------------------------------------------------------------------------------
// Trace: one event stream for the debugger, the panel, the history and the tests.
// ---------------------------------------------------------------------------------------------

/** A simulated kernel call-stack frame. */
export interface Frame {
  /** Kernel function name as in the profile's era, e.g. "kvm_zap_obsolete_pages". */
  fn: string;
  /** Kernel file relative to the tree root, e.g. "arch/x86/kvm/mmu/mmu.c". */
  file: string;
  /** The point inside the function, e.g. "entry", "before yield", "calls kvm_make_all_cpus_request". */
  point?: string;
  /** Arguments as the kernel developer reads them (hex gfns, sp ids ...). */
  args?: Record<string, string | number | boolean>;
}

export type LockMode = 'write' | 'read' | 'spin';

/** State changes. Every mutation of engine state is recorded as exactly one effect. */
export type Effect =
  | { kind: 'spte-write'; sp: number; index: number; old: string; new: string }           // SPTE values as hex strings
  | { kind: 'rmap-add'; slot: number; level: number; gfn: number; sptep: string; count: number }
  | { kind: 'rmap-remove'; slot: number; level: number; gfn: number; sptep: string; count: number }
  | { kind: 'parent-pte-add'; sp: number; sptep: string }
  | { kind: 'parent-pte-remove'; sp: number; sptep: string }
  | { kind: 'sp-alloc'; sp: number; gfn: number; role: string; gen: number; tdp: boolean }
  | { kind: 'sp-state'; sp: number; from: SpLifetime; to: SpLifetime }
  | { kind: 'sp-field'; sp: number; field: string; old: unknown; new: unknown }           // unsync, unsync_children, role.invalid ...
  | { kind: 'root-ref'; sp: number; field: 'root_count' | 'tdp_mmu_root_count'; old: number; new: number; holder?: string }
  | { kind: 'vcpu-root'; vcpu: number; slot: 'current' | `prev${number}`; old: string | null; new: string | null }
  | { kind: 'request-set'; vcpu: number; request: RequestName }
  | { kind: 'request-clear'; vcpu: number; request: RequestName }
  | { kind: 'tlb-fill'; vcpu: number; tag: string; gfn: number; pfn: number; writable: boolean }
  | { kind: 'tlb-flush'; vcpu: number | 'all'; scope: 'all' | 'current' | 'guest' | 'gva'; entries: number }
  | { kind: 'lock'; lock: string; action: 'acquire' | 'release'; mode: LockMode; thread: ThreadId }
  | { kind: 'vm-field'; field: string; old: unknown; new: unknown }                        // mmu_valid_gen, mmu_invalidate_seq ...
  | { kind: 'stat'; stat: string; old: number; new: number }
  | { kind: 'host-pte'; hva: number; old: string; new: string }
  | { kind: 'host-page'; pfn: number; field: 'refcount' | 'state'; old: unknown; new: unknown }
  | { kind: 'memslot'; id: number; action: 'create' | 'delete' | 'move' | 'invalidate' }
  | { kind: 'note'; text: string };

export type SpLifetime = 'live' | 'invalid-list' | 'freed';

export type TraceEvent =
  | { kind: 'call'; thread: ThreadId; depth: number; frame: Frame }
  | { kind: 'return'; thread: ThreadId; depth: number; frame: Frame }
  | { kind: 'point'; thread: ThreadId; depth: number; frame: Frame }
  | { kind: 'effect'; thread: ThreadId; depth: number; effect: Effect };

export interface Violation {
  /** Catalogue id, e.g. "RT-6", "MN-1". */
  id: string;
  message: string;
  step: number;
  thread: ThreadId;
  /** The innermost kernel frame when the violation was detected. */
  frame?: Frame;
  /** Objects involved, e.g. ["sp#12", "vcpu1.prev_roots[0]", "gfn 0x1000"]. */
  objects: string[];
}

/** One atomic step: a thread advanced from one preemption point to the next. */
export interface StepRecord {
  index: number;
  thread: ThreadId;
  /** Index of the op in the thread's list, and the op itself. */
  opIndex: number;
  op: Op;
  /** The preemption point where the thread stopped, e.g. "kvm_zap_obsolete_pages:yield" or "op-done". */
  stoppedAt: string;
  events: TraceEvent[];
  /** The thread's kernel call stack at the end of the step, outermost first. */
  stack: Frame[];
  violations: Violation[];
  /**
   * State categories (bitmasks of engine/access.ts ACC) the step read and wrote, for partial-order
   * reduction. Reads include what the thread's enabling condition read and every held-object category
   * its operation read in earlier steps; a lock taken and released within the step does not count as a
   * lock write. Only on steps run with full tracing (not on replays or count-mode steps).
   */
  access?: { rd: number; wr: number };
}

// ---------------------------------------------------------------------------------------------
// State view: the whole state as plain data, for the panel, the debugger's variables and hovers.
// Objects carry stable ids so that views can diff one step against the next.
// ---------------------------------------------------------------------------------------------

export interface SpteView {
  index: number;
  value: string;               // hex
  present: boolean;
  writable: boolean;
  accessed: boolean;
  dirty: boolean;
  huge: boolean;
  mmio: boolean;
  leaf: boolean;
  pfn?: number;
  child?: number;              // sp id for non-leaf SPTEs
}

export interface ShadowPageView {
  id: number;
  gfn: number;
  role: Record<string, number | boolean>;
  roleWord: string;            // hex
  level: number;
  tdp: boolean;
  unsync: boolean;
  unsyncChildren: number;
  unsyncChildBitmap: number[];
  rootCount: number;           // root_count or tdp_mmu_root_count
  mmuValidGen: number;
  obsolete: boolean;
  invalid: boolean;
  lifetime: SpLifetime;
  parentPtes: string[];
  sptes: SpteView[];           // present entries only
  onActiveList: boolean;
  inHash: boolean;
}

export interface RmapHeadView {
  slot: number;
  level: number;
  gfn: number;
  /** The kernel encoding: "0" (empty), a single sptep, or "desc|1" for a pte_list_desc chain. */
  head: string;
  sptes: string[];
  descs: string[][];           // chain layout, one array per pte_list_desc
}

export interface VcpuView {
  id: number;
  root: string | null;
  prevRoots: Array<string | null>;
  guestMode: boolean;
  inGuest: boolean;
  requests: RequestName[];
  tlb: Array<{ tag: string; gfn: number; pfn: number; writable: boolean; stale: boolean }>;
  cr3?: number;
  modeBits: Record<string, boolean>;
}

export interface StateView {
  era: EraId;
  mmu: MmuKind;
  bug?: BugId;
  step: number;
  vm: {
    mmu_valid_gen: number;
    active_mmu_pages: number[];          // sp ids newest first
    zapped_obsolete_pages: number[];
    tdp_mmu_roots: number[];
    n_used_mmu_pages: number;
    n_max_mmu_pages: number;
    mmu_invalidate_seq: number;          // named mmu_notifier_seq in eras before 6.1 (see `names`)
    mmu_invalidate_in_progress: number;
    mmu_invalidate_range: [number, number] | null;
    indirect_shadow_pages: number;
    mmu_lock: { type: 'spinlock' | 'rwlock'; holders: Array<{ thread: ThreadId; mode: LockMode }> };
    stats: Record<string, number>;
    /** Era-specific names of generic fields, e.g. { mmu_invalidate_seq: "mmu_notifier_seq" }. */
    names: Record<string, string>;
  };
  vcpus: VcpuView[];
  shadowPages: ShadowPageView[];
  memslots: Array<MemslotConfig & { rmaps: RmapHeadView[]; lpageDisallow: Array<{ level: number; index: number; count: number }> }>;
  host: {
    ptes: Array<{ hva: number; pfn: number | null; young: boolean; dirty: boolean }>;
    pages: Array<{ pfn: number; refcount: number; state: 'in-use' | 'free' | 'swapped' | 'reused' }>;
  };
  threads: Array<{ id: ThreadId; kind: ThreadKind; opIndex: number; done: boolean; stack: Frame[]; blockedOn?: string }>;
}

// ---------------------------------------------------------------------------------------------
// The engine
// ---------------------------------------------------------------------------------------------

export interface EngineOptions {
  config: VmConfig;
  threads: ThreadSpec[];
  /** Optional tuning (added): 'full' events with frames and effects (default), 'count' only, or 'explore' (no events, access masks). */
  trace?: 'full' | 'count' | 'explore';
  /** Optional (added): 'full' event + whole-state audit after every step (default), 'events', or 'off'. */
  audit?: 'full' | 'events' | 'off';
  /** Optional (added): keep StepRecords for stepBack/goto (default true). */
  history?: boolean;
  /** Optional (added): snapshot interval in steps for stepBack/goto (default 64). */
  snapshotEvery?: number;
}

export interface Engine {
  readonly config: VmConfig;
  /** Threads that can take a step now (not done, not blocked). */
  runnableThreads(): ThreadId[];
  /** Advance one thread by one atomic step (to its next preemption point). */
  step(thread: ThreadId): StepRecord;
  /** Undo the last step (replay or snapshot based). */
  stepBack(): void;
  /** Go to the state after `index` steps (0 = initial). */
  goto(index: number): void;
  readonly history: readonly StepRecord[];
  /** Current step count. */
  readonly position: number;
  view(): StateView;
  /** Canonical hash of the current state (ids renumbered), for the explorer. */
  stateHash(): string;
  /** Hash of the trace so far; identical across runs of the same scenario and schedule. */
  traceHash(): string;
  /** Every violation found so far. */
  violations(): Violation[];
  isDone(): boolean;
  /** (added) Explorer hook: the choices enabled now (same as runnableThreads). */
  enabledChoices?(): ThreadId[];
  /** (added) A new engine at the same position, built by replaying the choices. */
  fork?(): Engine;
}
