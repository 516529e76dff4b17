/**
 * The scenario vocabulary: step kinds and their fields, eras, MMU kinds, bug variants, requests,
 * invariant ids, and the era-availability table used by the validator ("assertion on a field the era
 * does not have"). Pure data; no engine import so the editor features work even before the engine loads.
 */
import type { BugId, EraId, MmuKind, RequestName, ThreadKind } from '../engine/api';

export const ERAS: readonly EraId[] = ['2.6.27', '2.6.34', '2.6.35', '3.10', '3.11', '5.15', '5.17', '5.18', '6.1', '6.19'];
export const MMU_KINDS: readonly MmuKind[] = ['tdp', 'shadow', 'direct-shadow', 'nested'];
export const THREAD_KINDS: readonly ThreadKind[] = ['vcpu', 'ioctl', 'notifier', 'worker', 'reclaim'];

export interface BugInfo {
  id: BugId;
  year: string;
  summary: string;
  /** Eras in which the buggy form is meaningful. */
  eras: readonly EraId[];
  invariants: readonly string[];
}

export const BUG_INFO: readonly BugInfo[] = [
  { id: 'hash-walk-zaps-saved-next', year: '2010', summary: 'hash bucket walk frees the node its safe iterator saved as next', eras: ['2.6.34', '2.6.35'], invariants: ['IT-1', 'HS-1'] },
  { id: 'unsync-zap-miscount', year: '2010', summary: 'unsync-children zap counts intermediate pages as zapped', eras: ['2.6.34', '2.6.35'], invariants: ['ZC-1', 'ZC-2'] },
  { id: 'yield-before-free-request', year: '2022', summary: 'fast zap yields between root invalidation and the free-obsolete request', eras: ['3.11', '5.15', '5.17', '5.18', '6.1', '6.19'], invariants: ['RT-3', 'FZ-1'] },
  { id: 'prev-roots-not-freed', year: '5.18.0', summary: 'free-obsolete handler tests only the current root', eras: ['5.18'], invariants: ['RT-6'] },
  { id: 'notifier-skips-invalid-roots', year: '5.17', summary: 'TDP notifier unmap walks valid roots only', eras: ['5.15', '5.17'], invariants: ['RT-5', 'MN-4'] },
  { id: 'gup-no-seq-retry', year: '2008', summary: 'fault installs an SPTE without the notifier sequence retry', eras: ['2.6.27'], invariants: ['MN-1'] },
  { id: 'fast-aging-skips-shadow', year: '2024', summary: 'fast-only aging never consults the shadow MMU', eras: ['6.19'], invariants: ['AG-4'] },
  { id: 'slow-zap-all', year: '2013', summary: 'memslot flush zaps every page under one lock hold (latency, not correctness)', eras: ['3.10', '3.11'], invariants: [] },
];
export const BUG_IDS: readonly BugId[] = BUG_INFO.map((b) => b.id);

export const REQUESTS: readonly RequestName[] = [
  'KVM_REQ_TLB_FLUSH',
  'KVM_REQ_MMU_RELOAD',
  'KVM_REQ_MMU_FREE_OBSOLETE_ROOTS',
  'KVM_REQ_MMU_SYNC',
  'KVM_REQ_LOAD_MMU_PGD',
  'KVM_REQ_TLB_FLUSH_CURRENT',
  'KVM_REQ_TLB_FLUSH_GUEST',
];

/** Invariant catalogue ids (domain reference §10). */
export const INVARIANT_IDS: readonly string[] = [
  'RM-1', 'RM-2', 'RM-3', 'RM-4', 'LP-1', 'HS-1', 'AL-1', 'IT-1', 'ZC-1', 'ZC-2', 'FR-1', 'TL-1', 'TL-2',
  'RT-1', 'RT-2', 'RT-3', 'RT-4', 'RT-5', 'RT-6', 'RT-7', 'RT-8',
  'FZ-1', 'FZ-2', 'FZ-3', 'FZ-4', 'FZ-5', 'FZ-6',
  'US-1', 'US-2', 'US-3', 'US-4', 'US-5',
  'MN-1', 'MN-2', 'MN-3', 'MN-4', 'MN-5', 'MN-6',
  'AG-1', 'AG-2', 'AG-3', 'AG-4', 'AG-5', 'LK-1',
];

// ---------------------------------------------------------------------------------------------
// Step kinds
// ---------------------------------------------------------------------------------------------

export type FieldType = 'gfn' | 'gva' | 'hva' | 'int' | 'bool' | 'gpte' | 'memslot' | 'bits';

export interface FieldSpec {
  name: string;
  type: FieldType;
  required?: boolean;
  doc: string;
  /** For 'bits': the allowed bit names. */
  bits?: readonly string[];
}

export interface StepSpec {
  name: string;
  /** The thread kinds that normally run it (advisory; used for completion ordering and a warning). */
  threads: readonly ThreadKind[];
  fields: readonly FieldSpec[];
  /** "gfn or gva" style constraint: at least one of these must be given. */
  oneOf?: readonly string[];
  kernel: string;
  doc: string;
  /** Eras in which the kernel has this entry point; absent = every era. */
  eras?: readonly EraId[];
}

const ALL_THREADS: readonly ThreadKind[] = THREAD_KINDS;
const f = (name: string, type: FieldType, doc: string, required = false): FieldSpec => ({ name, type, doc, required });
const CR4_BITS = ['cr4_pge', 'cr4_pae', 'cr4_smep', 'cr4_smap'] as const;
const ERAS_FROM = (first: EraId): EraId[] => ERAS.slice(ERAS.indexOf(first));
const ERAS_UNTIL = (last: EraId): EraId[] => ERAS.slice(0, ERAS.indexOf(last) + 1);

export const STEPS: readonly StepSpec[] = [
  { name: 'page_fault', threads: ['vcpu'], fields: [f('gfn', 'gfn', 'faulting guest frame'), f('gva', 'gva', 'faulting guest virtual address (shadow paging)'), f('write', 'bool', 'write fault'), f('exec', 'bool', 'instruction fetch')], oneOf: ['gfn', 'gva'], kernel: 'kvm_mmu_page_fault', doc: 'A guest access misses in the MMU and KVM handles the fault.' },
  { name: 'guest_access', threads: ['vcpu'], fields: [f('gfn', 'gfn', 'guest frame'), f('gva', 'gva', 'guest virtual address'), f('write', 'bool', 'write access')], oneOf: ['gfn', 'gva'], kernel: 'guest', doc: 'The guest touches memory through its TLB, setting accessed/dirty bits.' },
  { name: 'guest_pt_write', threads: ['vcpu'], fields: [f('gfn', 'gfn', 'gfn of the guest page table', true), f('index', 'int', 'entry index 0..511', true), f('value', 'gpte', 'new entry, or null to clear it', true)], kernel: 'kvm_mmu_pte_write', doc: 'An emulated write to a shadowed guest page table.' },
  { name: 'load_cr3', threads: ['vcpu'], fields: [f('gfn', 'gfn', 'gfn of the new top-level guest table', true)], kernel: 'kvm_mmu_new_pgd', doc: 'The guest loads CR3.' },
  { name: 'set_cr4', threads: ['vcpu'], fields: CR4_BITS.map((b) => f(b, 'bool', `new value of ${b}`)), kernel: 'kvm_set_cr4', doc: 'The guest writes CR4 (give the bits that change).' },
  { name: 'set_cr0', threads: ['vcpu'], fields: [f('cr0_wp', 'bool', 'new value of CR0.WP')], kernel: 'kvm_set_cr0', doc: 'The guest writes CR0.' },
  { name: 'enter_guest', threads: ['vcpu'], fields: [], kernel: 'vcpu_enter_guest', doc: 'Service pending requests, reload the MMU and enter the guest.' },
  { name: 'exit_guest', threads: ['vcpu'], fields: [], kernel: 'vcpu_enter_guest', doc: 'VM exit.' },
  { name: 'invlpg', threads: ['vcpu'], fields: [f('gva', 'gva', 'address to invalidate', true)], kernel: 'kvm_mmu_invlpg', doc: 'The guest invalidates one TLB entry.' },
  { name: 'tlb_flush_guest', threads: ['vcpu'], fields: [], kernel: 'kvm_vcpu_flush_tlb_guest', doc: 'Guest TLB flush: unsync pages are synced.' },
  { name: 'enter_guest_mode', threads: ['vcpu'], fields: [f('l2', 'bool', 'true to run L2, false to return to L1', true)], kernel: 'nested_vmx_run', doc: 'Nested: switch between L1 and L2.' },
  { name: 'memslot_create', threads: ['ioctl'], fields: [f('id', 'int', 'slot id', true), f('baseGfn', 'gfn', 'first gfn', true), f('npages', 'int', 'number of pages', true), f('hva', 'hva', 'userspace address of the first page', true)], kernel: 'kvm_set_memory_region', doc: 'KVM_SET_USER_MEMORY_REGION creating a slot.' },
  { name: 'memslot_delete', threads: ['ioctl'], fields: [f('id', 'int', 'slot id', true)], kernel: 'kvm_arch_flush_shadow_memslot', doc: 'Delete a memslot (flushes its shadow pages).' },
  { name: 'memslot_move', threads: ['ioctl'], fields: [f('id', 'int', 'slot id', true), f('baseGfn', 'gfn', 'new first gfn', true)], kernel: 'kvm_arch_flush_shadow_memslot', doc: 'Move a memslot to a new gfn base.' },
  { name: 'zap_all_fast', threads: ['ioctl', 'worker'], fields: [], kernel: 'kvm_mmu_zap_all_fast', eras: ERAS_FROM('3.11'), doc: 'Fast invalidation by generation (kvm_mmu_invalidate_zap_all_pages in 3.11).' },
  { name: 'zap_all', threads: ['ioctl', 'worker'], fields: [], kernel: 'kvm_mmu_zap_all', doc: 'Zap every shadow page under one lock hold.' },
  { name: 'change_mmu_pages', threads: ['ioctl'], fields: [f('pages', 'int', 'new n_max_mmu_pages', true)], kernel: 'kvm_mmu_change_mmu_pages', doc: 'KVM_SET_NR_MMU_PAGES.' },
  { name: 'unprotect_page', threads: ['ioctl', 'vcpu'], fields: [f('gfn', 'gfn', 'guest page-table gfn to unshadow', true)], kernel: 'kvm_mmu_unprotect_page', doc: 'Zap every shadow page of a gfn (hash bucket walk).' },
  { name: 'zap_gfn_range', threads: ['ioctl', 'worker'], fields: [f('start', 'gfn', 'first gfn', true), f('end', 'gfn', 'end gfn (exclusive)', true)], kernel: 'kvm_zap_gfn_range', doc: 'Zap SPTEs for a gfn range.' },
  { name: 'set_nx_huge_pages', threads: ['ioctl', 'worker'], fields: [f('enabled', 'bool', 'new nx_huge_pages value', true)], kernel: 'set_nx_huge_pages', eras: ERAS_FROM('5.15'), doc: 'Toggle the NX huge page mitigation (fast zap of every VM).' },
  { name: 'destroy_vm', threads: ['ioctl'], fields: [], kernel: 'kvm_destroy_vm', doc: 'Tear the VM down.' },
  { name: 'invalidate_range_start', threads: ['notifier', 'reclaim'], fields: [f('hva', 'hva', 'first host address', true), f('npages', 'int', 'pages in the range')], kernel: 'kvm_mmu_notifier_invalidate_range_start', doc: 'Primary MMU begins invalidating a range.' },
  { name: 'invalidate_range_end', threads: ['notifier', 'reclaim'], fields: [f('hva', 'hva', 'first host address', true), f('npages', 'int', 'pages in the range')], kernel: 'kvm_mmu_notifier_invalidate_range_end', doc: 'Primary MMU ends the invalidation.' },
  { name: 'invalidate_page', threads: ['notifier', 'reclaim'], fields: [f('hva', 'hva', 'host address', true)], kernel: 'kvm_mmu_notifier_invalidate_page', eras: ERAS_UNTIL('3.11'), doc: 'Single-page invalidation (2.6.27 to 3.13).' },
  { name: 'clear_flush_young', threads: ['notifier', 'reclaim'], fields: [f('hva', 'hva', 'first host address', true), f('npages', 'int', 'pages')], kernel: 'kvm_mmu_notifier_clear_flush_young', doc: 'Age and flush.' },
  { name: 'clear_young', threads: ['notifier', 'reclaim'], fields: [f('hva', 'hva', 'first host address', true), f('npages', 'int', 'pages'), f('fastOnly', 'bool', 'fast-only (lockless) aging')], kernel: 'kvm_mmu_notifier_clear_young', eras: ERAS_FROM('5.15'), doc: 'Clear accessed bits without a TLB flush.' },
  { name: 'test_young', threads: ['notifier', 'reclaim'], fields: [f('hva', 'hva', 'first host address', true), f('npages', 'int', 'pages'), f('fastOnly', 'bool', 'fast-only (lockless) aging')], kernel: 'kvm_mmu_notifier_test_young', eras: ERAS_FROM('3.10'), doc: 'Test accessed bits.' },
  { name: 'host_unmap', threads: ['reclaim', 'notifier'], fields: [f('hva', 'hva', 'first host address', true), f('npages', 'int', 'pages')], kernel: 'try_to_unmap', doc: 'The primary MMU zaps its PTE (running the notifiers).' },
  { name: 'host_free', threads: ['reclaim', 'notifier'], fields: [f('hva', 'hva', 'host address', true)], kernel: 'free_page', doc: 'The page is freed and may be reused.' },
  { name: 'swap_out', threads: ['reclaim', 'notifier'], fields: [f('hva', 'hva', 'host address', true)], kernel: 'try_to_unmap', doc: 'Unmap + notifier + free: the page goes to swap.' },
  { name: 'age_lru', threads: ['reclaim'], fields: [f('hva', 'hva', 'first host address', true), f('npages', 'int', 'pages'), f('fastOnly', 'bool', 'MGLRU fast-only look-around')], kernel: 'lru_gen_look_around', doc: 'An LRU/MGLRU aging pass over a range.' },
  { name: 'gup', threads: ['reclaim', 'worker', 'vcpu'], fields: [f('hva', 'hva', 'host address', true)], kernel: 'get_user_pages', doc: 'get_user_pages from outside a fault.' },
  { name: 'wait', threads: ALL_THREADS, fields: [f('requestServiced', 'int', 'request name'), f('vcpu', 'int', 'vCPU index'), f('threadDone', 'int', 'thread name'), f('point', 'int', 'preemption point'), f('thread', 'int', 'thread name')], kernel: 'wait', doc: 'Block until a request is serviced, a thread finishes, or a thread reaches a point.' },
];
export const STEP_NAMES: readonly string[] = STEPS.map((s) => s.name);
export const stepSpec = (name: string): StepSpec | undefined => STEPS.find((s) => s.name === name);

export const GPTE_FIELDS = ['gfn', 'present', 'writable', 'user', 'huge'] as const;

// ---------------------------------------------------------------------------------------------
// Era availability of state fields and requests
// ---------------------------------------------------------------------------------------------

export interface FieldAvailability {
  /** Assertion path prefix (dots), e.g. "vm.zapped_obsolete_pages". */
  path: string;
  eras: readonly EraId[];
  why: string;
}

export const FIELD_AVAILABILITY: readonly FieldAvailability[] = [
  { path: 'vm.zapped_obsolete_pages', eras: ['3.11', '5.15', '5.17', '5.18', '6.1'], why: 'zapped_obsolete_pages exists from 3.11 (fast zap) until 6.1; 6.19 uses a local list' },
  { path: 'vm.mmu_valid_gen', eras: ERAS_FROM('3.11'), why: 'mmu_valid_gen was introduced by fast zap in 3.11' },
  { path: 'vm.tdp_mmu_roots', eras: ERAS_FROM('5.15'), why: 'tdp_mmu_roots exists only with the TDP MMU (5.10+)' },
  { path: 'vm.mmu_invalidate_range', eras: ERAS_FROM('5.15'), why: 'range tracking of in-progress invalidations starts in 5.12' },
  { path: 'vm.indirect_shadow_pages', eras: ERAS_FROM('3.10'), why: 'indirect_shadow_pages is a 3.x addition' },
  { path: 'roots.tdp', eras: ERAS_FROM('5.15'), why: 'TDP MMU roots exist only from 5.10' },
  { path: 'sp.unsync', eras: ERAS_FROM('2.6.34'), why: 'unsync shadow pages do not exist in 2.6.27' },
  { path: 'sp.unsyncChildren', eras: ERAS_FROM('2.6.34'), why: 'unsync_children does not exist in 2.6.27' },
  { path: 'pages.unsync', eras: ERAS_FROM('2.6.34'), why: 'unsync shadow pages do not exist in 2.6.27' },
  { path: 'vcpus.prevRoots', eras: ERAS_FROM('5.15'), why: 'the previous-root cache (prev_roots) arrived in 4.19' },
];

export const REQUEST_AVAILABILITY: Readonly<Record<RequestName, readonly EraId[]>> = {
  KVM_REQ_TLB_FLUSH: ERAS,
  KVM_REQ_MMU_RELOAD: ERAS_UNTIL('5.17'),
  KVM_REQ_MMU_FREE_OBSOLETE_ROOTS: ERAS_FROM('5.18'),
  KVM_REQ_MMU_SYNC: ERAS,
  KVM_REQ_LOAD_MMU_PGD: ERAS_FROM('5.15'),
  KVM_REQ_TLB_FLUSH_CURRENT: ERAS_FROM('5.15'),
  KVM_REQ_TLB_FLUSH_GUEST: ERAS_FROM('5.15'),
};

export const MMU_AVAILABILITY: Readonly<Record<MmuKind, readonly EraId[]>> = {
  tdp: ERAS_FROM('5.15'),
  shadow: ERAS,
  'direct-shadow': ERAS,
  nested: ERAS_FROM('3.10'),
};

/**
 * Threads the engine adds itself at run time (not declared under `threads:`). A schedule may name them
 * (explicit slices, `open: { threads }`) in the eras and MMU kinds where the engine creates them. Must
 * match the engine (`EngineImpl.reset`); a scenario test checks it against every era and MMU kind.
 */
export interface HelperThreadSpec { id: string; kind: ThreadKind; eras: readonly EraId[]; mmus: readonly MmuKind[]; doc: string }
export const HELPER_THREADS: readonly HelperThreadSpec[] = [
  {
    id: 'tdp_mmu_zap_wq', kind: 'worker', eras: ['5.18', '6.1'], mmus: ['tdp', 'nested'],
    doc: 'the asynchronous TDP MMU root zapper (a workqueue worker that zaps invalidated roots)',
  },
];

/** The helper threads the engine creates for a VM of this era and MMU kind. */
export function helperThreads(era: EraId, mmu: MmuKind): HelperThreadSpec[] {
  return HELPER_THREADS.filter((h) => h.eras.includes(era) && h.mmus.includes(mmu));
}

/** Eras in which a field path is available, or undefined if every era has it. */
export function fieldAvailability(path: string): FieldAvailability | undefined {
  return FIELD_AVAILABILITY.find((a) => path === a.path || path.startsWith(a.path + '.') || path.startsWith(a.path + '['));
}

/** Top-level assertion roots and their documentation (completion and validation). */
export const ASSERT_ROOTS: ReadonlyArray<{ name: string; doc: string }> = [
  { name: 'vm', doc: 'per-VM MMU state: mmu_valid_gen, active_mmu_pages, tdp_mmu_roots, n_used_mmu_pages, mmu_invalidate_seq, ...' },
  { name: 'vcpus', doc: 'vcpus[N].root, .prevRoots, .requests, .tlb, .inGuest' },
  { name: 'shadowPages', doc: 'every shadow page (list)' },
  { name: 'memslots', doc: 'memslots[N].rmaps, .lpageDisallow' },
  { name: 'host', doc: 'host.ptes, host.pages' },
  { name: 'threads', doc: 'thread states' },
  { name: 'stats', doc: 'shorthand for vm.stats' },
  { name: 'roots', doc: 'computed: roots.count, roots.valid, roots.invalid, roots.obsolete, roots.list' },
  { name: 'gfn', doc: 'computed: gfn[0x10].mapped, .sptes, .young, .writable, .rmap, .rmapCount' },
  { name: 'sp', doc: 'computed: sp[ID] = shadow page by id' },
  { name: 'pages', doc: 'computed: pages.live, pages.freed, pages.invalidList, pages.obsolete (counts)' },
  { name: 'violations', doc: 'computed: ids of the violations found so far' },
  { name: 'step', doc: 'the step count' },
  { name: 'era', doc: 'the era' },
  { name: 'mmu', doc: 'the MMU kind' },
  { name: 'bug', doc: 'the bug variant' },
];

export const VM_FIELDS = [
  'mmu_valid_gen', 'active_mmu_pages', 'zapped_obsolete_pages', 'tdp_mmu_roots', 'n_used_mmu_pages', 'n_max_mmu_pages',
  'mmu_invalidate_seq', 'mmu_invalidate_in_progress', 'mmu_invalidate_range', 'indirect_shadow_pages', 'mmu_lock', 'stats', 'names',
] as const;

const extraInvariants = new Set<string>();
/** Let the engine's own invariant catalogue extend the static list (called by the runner). */
export function addKnownInvariants(ids: Iterable<string>): void {
  for (const id of ids) if (typeof id === 'string' && id) extraInvariants.add(id);
}
export function knownInvariantIds(): string[] {
  return [...INVARIANT_IDS, ...[...extraInvariants].filter((x) => !INVARIANT_IDS.includes(x))];
}

export interface InvariantDoc { id: string; title: string; explanation: string; eras?: readonly EraId[] }
const invariantDocs = new Map<string, InvariantDoc>();
/** The engine's invariant catalogue (titles, explanations, eras it is checked in); registered by the engine loader. */
export function registerInvariantDocs(docs: Iterable<InvariantDoc>): void {
  for (const d of docs) if (d && typeof d.id === 'string') invariantDocs.set(d.id, d);
  addKnownInvariants([...invariantDocs.keys()]);
}
export function invariantDoc(id: string): InvariantDoc | undefined {
  return invariantDocs.get(id);
}
