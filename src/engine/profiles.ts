/**
 * Era profiles and the historical-bug table.
 *
 * A profile selects, for one kernel era, the algorithms the engine runs (which zap scheme, which
 * request, how TDP roots are reference counted, whether rmap descriptors hold 3/4/14 entries ...),
 * the kernel names it prints and the layout of the page role word.
 */
import type { BugId, EraId, RequestName } from './api';

export type TdpRootModel = 'none' | '5.15' | '5.18' | '6.19';

export interface EraProfile {
  id: EraId;
  /** Human label, e.g. "5.18 (5.18.12 sample)". */
  label: string;
  /** mmu_lock type: spinlock before the TDP MMU went parallel, rwlock on x86 from 5.12 on. */
  lock: 'spinlock' | 'rwlock';
  /** Directory of mmu.c: "arch/x86/kvm" (<= 5.4) or "arch/x86/kvm/mmu" (>= 5.5). */
  mmuDir: 'arch/x86/kvm' | 'arch/x86/kvm/mmu';
  /** TDP MMU present (5.10+; all sampled 5.15+ profiles). */
  tdpMmu: boolean;
  tdpRootModel: TdpRootModel;
  /** Unsync shadow pages exist (2.6.35-era onward; absent in 2.6.27). */
  unsync: boolean;
  /** Zap is split in prepare + commit (2.6.36+); before, kvm_mmu_zap_page frees immediately. */
  prepareCommit: boolean;
  /** Fast zap: none (2.6.x, 3.10), generation as unsigned long (3.11..4.19), u8 toggle (5.4+). */
  fastZap: 'none' | 'gen-ulong' | 'gen-u8';
  /** Request posted to make vCPUs drop obsolete roots. */
  reloadRequest: RequestName;
  /** Number of cached previous roots (KVM_MMU_NUM_PREV_ROOTS), 0 before 4.19. */
  prevRoots: number;
  /** Entries per pte_list_desc (RMAP_EXT / PTE_LIST_EXT). */
  pteListExt: number;
  /** KVM holds a page reference for every mapped SPTE (until 2.6.30). */
  pinsPages: boolean;
  /** is_page_fault_stale() exists (5.17+). */
  pageFaultStale: boolean;
  /** Aging runs without mmu_lock (6.15+, CONFIG_KVM_MMU_LOCKLESS_AGING). */
  locklessAging: boolean;
  /** Per-page remote TLB flush inside kvm_mmu_zap_page (2.6.35; 2.6.27 did not). */
  zapFlushesPerPage: boolean;
  /** kvm_zap_obsolete_pages batch counting: every zap (3.11, 5.18+) or only unstable zaps (5.4..5.17). */
  batchCountsEveryZap: boolean;
  /** A zapped in-use root stays on active_mmu_pages (moved to head) up to 5.4; removed from 5.10. */
  zappedRootStaysOnActive: boolean;
  /** The unsync walk clears stale bitmap bits lazily (3.x+). */
  unsyncWalkClearsStale: boolean;
  /** Role bit layout in declaration order: [name, width]. */
  roleBits: Array<[string, number]>;
  /** Generic name -> era kernel name. */
  names: Record<string, string>;
  /** VM field names for view(). */
  fieldNames: Record<string, string>;
}

const ROLE_2627: Array<[string, number]> = [['glevels', 4], ['level', 4], ['quadrant', 2], ['pad_for_nice_hex_output', 6], ['metaphysical', 1], ['access', 3], ['invalid', 1]];
const ROLE_2634: Array<[string, number]> = [['glevels', 4], ['level', 4], ['quadrant', 2], ['pad_for_nice_hex_output', 6], ['direct', 1], ['access', 3], ['invalid', 1], ['cr4_pge', 1], ['nxe', 1]];
const ROLE_2635: Array<[string, number]> = [['level', 4], ['cr4_pae', 1], ['quadrant', 2], ['pad_for_nice_hex_output', 6], ['direct', 1], ['access', 3], ['invalid', 1], ['nxe', 1], ['cr0_wp', 1]];
const ROLE_310: Array<[string, number]> = [...ROLE_2635, ['smep_andnot_wp', 1]];
const ROLE_515: Array<[string, number]> = [['level', 4], ['gpte_is_8_bytes', 1], ['quadrant', 2], ['direct', 1], ['access', 3], ['invalid', 1], ['efer_nx', 1], ['cr0_wp', 1], ['smep_andnot_wp', 1], ['smap_andnot_wp', 1], ['ad_disabled', 1], ['guest_mode', 1], ['pad', 6], ['smm', 8]];
const ROLE_517: Array<[string, number]> = ROLE_515.map(([n, w]) => [n === 'gpte_is_8_bytes' ? 'has_4_byte_gpte' : n, w] as [string, number]);
const ROLE_61: Array<[string, number]> = [['level', 4], ['has_4_byte_gpte', 1], ['quadrant', 2], ['direct', 1], ['access', 3], ['invalid', 1], ['efer_nx', 1], ['cr0_wp', 1], ['smep_andnot_wp', 1], ['smap_andnot_wp', 1], ['ad_disabled', 1], ['guest_mode', 1], ['passthrough', 1], ['pad', 5], ['smm', 8]];
const ROLE_619: Array<[string, number]> = [['level', 4], ['has_4_byte_gpte', 1], ['quadrant', 2], ['direct', 1], ['access', 3], ['invalid', 1], ['efer_nx', 1], ['cr0_wp', 1], ['smep_andnot_wp', 1], ['smap_andnot_wp', 1], ['ad_disabled', 1], ['guest_mode', 1], ['passthrough', 1], ['is_mirror', 1], ['pad', 4], ['smm', 8]];

/** Names that differ by era. Keys are generic; values are the kernel's spelling. */
function names(era: EraId): Record<string, string> {
  const v = eraNum(era);
  return {
    zap_page: v < 3 ? 'kvm_mmu_zap_page' : v < 5.2 ? 'kvm_mmu_prepare_zap_page' : '__kvm_mmu_prepare_zap_page',
    get_page: v < 6.1 ? 'kvm_mmu_get_page' : 'kvm_mmu_get_shadow_page',
    unprotect: v < 3 ? 'mmu_unshadow' : 'kvm_mmu_unprotect_page',
    free_roots: v < 4.19 ? 'mmu_free_roots' : 'kvm_mmu_free_roots',
    zap_all_fast: v < 5 ? 'kvm_mmu_invalidate_zap_all_pages' : 'kvm_mmu_zap_all_fast',
    need_write_protect: v < 5.15 ? 'mmu_need_write_protect' : 'mmu_try_to_unsync_pages',
    unsync_page: v < 3 ? 'kvm_unsync_page' : v < 5.15 ? '__kvm_unsync_page' : 'kvm_unsync_page',
    tdp_get_root: v < 6.19 ? 'kvm_tdp_mmu_get_vcpu_root_hpa' : 'kvm_tdp_mmu_alloc_root',
    tdp_invalidate: v < 6.19 ? 'kvm_tdp_mmu_invalidate_all_roots' : 'kvm_tdp_mmu_invalidate_roots',
    tdp_zap_range: v < 5.18 ? 'kvm_tdp_mmu_zap_gfn_range' : 'kvm_tdp_mmu_zap_leafs',
    direct_map: v < 6.19 ? '__direct_map' : 'direct_map',
    tdp_fault: v < 5.10 ? 'tdp_page_fault' : 'kvm_tdp_page_fault',
    faultin: v < 5.15 ? 'gfn_to_pfn' : v < 6.19 ? 'kvm_faultin_pfn' : 'kvm_mmu_faultin_pfn',
    retry: v < 6.1 ? 'mmu_notifier_retry' : 'mmu_invalidate_retry_gfn',
    unmap: v < 3.1 ? 'kvm_unmap_hva' : v < 5.15 ? 'kvm_unmap_hva_range' : 'kvm_unmap_gfn_range',
    release_pfn: v < 6.19 ? 'kvm_release_pfn_clean' : 'kvm_mmu_finish_page_fault',
    mmu_alloc_direct_roots: v < 3 ? 'mmu_alloc_roots' : 'mmu_alloc_direct_roots',
    mmu_alloc_shadow_roots: v < 3 ? 'mmu_alloc_roots' : 'mmu_alloc_shadow_roots',
    tdp_mmu_zap_root: v < 5.18 ? 'zap_gfn_range' : 'tdp_mmu_zap_root',
    unmap_rmap: v < 6.1 ? 'kvm_unmap_rmapp' : 'kvm_zap_rmap',
    age: v < 5.15 ? 'kvm_age_hva' : 'kvm_age_gfn',
    test_age: v < 5.15 ? 'kvm_test_age_hva' : 'kvm_test_age_gfn',
    age_rmap: v < 6.1 ? 'kvm_age_rmapp' : v < 6.19 ? 'kvm_age_rmap' : 'kvm_rmap_age_gfn_range',
    test_age_rmap: v < 6.1 ? 'kvm_test_age_rmapp' : v < 6.19 ? 'kvm_test_age_rmap' : 'kvm_rmap_age_gfn_range',
    invalidate_begin: v < 5.15 ? '' : v < 6.1 ? 'kvm_inc_notifier_count' : 'kvm_mmu_invalidate_begin',
    invalidate_end: v < 5.15 ? '' : v < 6.1 ? 'kvm_dec_notifier_count' : 'kvm_mmu_invalidate_end',
    zap_oldest: v < 5.10 ? 'prepare_zap_oldest_mmu_page' : 'kvm_mmu_zap_oldest_mmu_pages',
    make_available: v < 3 ? 'kvm_mmu_free_some_pages' : 'make_mmu_pages_available',
    make_all_cpus_request: v < 4.19 ? 'make_all_cpus_request' : 'kvm_make_all_cpus_request',
    handle_removed: v < 5.18 ? 'handle_removed_tdp_mmu_page' : 'handle_removed_pt',
  };
}

export function eraNum(era: EraId): number {
  switch (era) {
    case '2.6.27': return 2.627;
    case '2.6.34': return 2.634;
    case '2.6.35': return 2.635;
    case '3.10': return 3.10;
    case '3.11': return 3.11;
    case '5.15': return 5.15;
    case '5.17': return 5.17;
    case '5.18': return 5.18;
    case '6.1': return 6.1;
    case '6.19': return 6.19;
  }
}

function mk(id: EraId, label: string, p: Omit<EraProfile, 'id' | 'label' | 'names' | 'fieldNames' | 'mmuDir'>): EraProfile {
  const v = eraNum(id);
  return {
    id, label, ...p,
    mmuDir: v < 5.5 ? 'arch/x86/kvm' : 'arch/x86/kvm/mmu',
    names: names(id),
    fieldNames: v < 3
      ? { mmu_invalidate_seq: 'mmu_notifier_seq', mmu_invalidate_in_progress: 'mmu_notifier_count', mmu_invalidate_range: '-', n_used_mmu_pages: 'n_alloc_mmu_pages - n_free_mmu_pages', n_max_mmu_pages: 'n_alloc_mmu_pages' }
      : v < 6.1
      ? { mmu_invalidate_seq: 'mmu_notifier_seq', mmu_invalidate_in_progress: 'mmu_notifier_count', mmu_invalidate_range: v >= 5.12 ? 'mmu_notifier_range_start/end' : '-' }
      : { mmu_invalidate_seq: 'mmu_invalidate_seq', mmu_invalidate_in_progress: 'mmu_invalidate_in_progress', mmu_invalidate_range: 'mmu_invalidate_range_start/end' },
  };
}

const OLD = { tdpMmu: false, tdpRootModel: 'none' as TdpRootModel, pageFaultStale: false, locklessAging: false };

export const PROFILES: Record<EraId, EraProfile> = {
  '2.6.27': mk('2.6.27', '2.6.27 (mmu notifiers merged, no unsync)', { ...OLD, lock: 'spinlock', unsync: false, prepareCommit: false, fastZap: 'none', reloadRequest: 'KVM_REQ_MMU_RELOAD', prevRoots: 0, pteListExt: 4, pinsPages: true, zapFlushesPerPage: false, batchCountsEveryZap: true, zappedRootStaysOnActive: true, unsyncWalkClearsStale: false, roleBits: ROLE_2627 }),
  '2.6.34': mk('2.6.34', '2.6.34 (cr4_pge still in the role, kvm_mmu_zap_page)', { ...OLD, lock: 'spinlock', unsync: true, prepareCommit: false, fastZap: 'none', reloadRequest: 'KVM_REQ_MMU_RELOAD', prevRoots: 0, pteListExt: 4, pinsPages: false, zapFlushesPerPage: true, batchCountsEveryZap: true, zappedRootStaysOnActive: true, unsyncWalkClearsStale: false, roleBits: ROLE_2634 }),
  '2.6.35': mk('2.6.35', '2.6.35 (2.6.35.6 sample)', { ...OLD, lock: 'spinlock', unsync: true, prepareCommit: false, fastZap: 'none', reloadRequest: 'KVM_REQ_MMU_RELOAD', prevRoots: 0, pteListExt: 4, pinsPages: false, zapFlushesPerPage: true, batchCountsEveryZap: true, zappedRootStaysOnActive: true, unsyncWalkClearsStale: false, roleBits: ROLE_2635 }),
  '3.10': mk('3.10', '3.10 (3.10.65 sample, slow zap-all)', { ...OLD, lock: 'spinlock', unsync: true, prepareCommit: true, fastZap: 'none', reloadRequest: 'KVM_REQ_MMU_RELOAD', prevRoots: 0, pteListExt: 3, pinsPages: false, zapFlushesPerPage: false, batchCountsEveryZap: true, zappedRootStaysOnActive: true, unsyncWalkClearsStale: true, roleBits: ROLE_310 }),
  '3.11': mk('3.11', '3.11 (fast zap merged; 3.13.10 sample)', { ...OLD, lock: 'spinlock', unsync: true, prepareCommit: true, fastZap: 'gen-ulong', reloadRequest: 'KVM_REQ_MMU_RELOAD', prevRoots: 0, pteListExt: 3, pinsPages: false, zapFlushesPerPage: false, batchCountsEveryZap: true, zappedRootStaysOnActive: true, unsyncWalkClearsStale: true, roleBits: ROLE_310 }),
  '5.15': mk('5.15', '5.15 (5.15.24 sample)', { lock: 'rwlock', tdpMmu: true, tdpRootModel: '5.15', unsync: true, prepareCommit: true, fastZap: 'gen-u8', reloadRequest: 'KVM_REQ_MMU_RELOAD', prevRoots: 3, pteListExt: 14, pinsPages: false, pageFaultStale: false, locklessAging: false, zapFlushesPerPage: false, batchCountsEveryZap: false, zappedRootStaysOnActive: false, unsyncWalkClearsStale: true, roleBits: ROLE_515 }),
  '5.17': mk('5.17', '5.17 (5.17-rc5 sample)', { lock: 'rwlock', tdpMmu: true, tdpRootModel: '5.15', unsync: true, prepareCommit: true, fastZap: 'gen-u8', reloadRequest: 'KVM_REQ_MMU_RELOAD', prevRoots: 3, pteListExt: 14, pinsPages: false, pageFaultStale: true, locklessAging: false, zapFlushesPerPage: false, batchCountsEveryZap: false, zappedRootStaysOnActive: false, unsyncWalkClearsStale: true, roleBits: ROLE_517 }),
  '5.18': mk('5.18', '5.18 (5.18.12 sample; free-obsolete request, async root zap)', { lock: 'rwlock', tdpMmu: true, tdpRootModel: '5.18', unsync: true, prepareCommit: true, fastZap: 'gen-u8', reloadRequest: 'KVM_REQ_MMU_FREE_OBSOLETE_ROOTS', prevRoots: 3, pteListExt: 14, pinsPages: false, pageFaultStale: true, locklessAging: false, zapFlushesPerPage: false, batchCountsEveryZap: true, zappedRootStaysOnActive: false, unsyncWalkClearsStale: true, roleBits: ROLE_517 }),
  '6.1': mk('6.1', '6.1 (6.1-rc7 sample; renamed invalidate fields)', { lock: 'rwlock', tdpMmu: true, tdpRootModel: '5.18', unsync: true, prepareCommit: true, fastZap: 'gen-u8', reloadRequest: 'KVM_REQ_MMU_FREE_OBSOLETE_ROOTS', prevRoots: 3, pteListExt: 14, pinsPages: false, pageFaultStale: true, locklessAging: false, zapFlushesPerPage: false, batchCountsEveryZap: true, zappedRootStaysOnActive: false, unsyncWalkClearsStale: true, roleBits: ROLE_61 }),
  '6.19': mk('6.19', '6.19 (lockless aging, TDP MMU owns a root reference)', { lock: 'rwlock', tdpMmu: true, tdpRootModel: '6.19', unsync: true, prepareCommit: true, fastZap: 'gen-u8', reloadRequest: 'KVM_REQ_MMU_FREE_OBSOLETE_ROOTS', prevRoots: 3, pteListExt: 14, pinsPages: false, pageFaultStale: true, locklessAging: true, zapFlushesPerPage: false, batchCountsEveryZap: true, zappedRootStaysOnActive: false, unsyncWalkClearsStale: true, roleBits: ROLE_619 }),
};

export interface BugInfo {
  id: BugId;
  title: string;
  eras: EraId[];
  /** Invariant ids the variant is expected to violate. */
  invariants: string[];
  /** Seed thread (domain reference section). */
  seed: string;
  /** What the fixed form does instead. */
  fix: string;
}

export const BUGS: Record<BugId, BugInfo> = {
  'hash-walk-zaps-saved-next': {
    id: 'hash-walk-zaps-saved-next', title: 'mmu_unshadow/kvm_mmu_unprotect_page bucket walk frees the saved next node (an unsync child zapped with its parent)',
    eras: ['2.6.34', '2.6.35'], invariants: ['IT-1', 'HS-1'], seed: '2010 "KVM MMU: optimize for writing cr4" review (domain §6.3 item 3)',
    fix: 'restart the bucket walk whenever kvm_mmu_zap_page() reports collateral zaps (2.6.35), later prepare/commit (2.6.36)',
  },
  'unsync-zap-miscount': {
    id: 'unsync-zap-miscount', title: 'mmu_zap_unsync_children counts the page vector (parent entry and intermediate pages), kvm_mmu_change_mmu_pages accounting goes wrong',
    eras: ['2.6.34', '2.6.35'], invariants: ['ZC-1', 'ZC-2'], seed: '2010 "KVM MMU: optimize for writing cr4" review (domain §6.3 items 1-2, §16)',
    fix: 'count one per unsync leaf actually zapped',
  },
  'yield-before-free-request': {
    id: 'yield-before-free-request', title: 'fast zap drops mmu_lock between root invalidation and the reload/free-obsolete request',
    eras: ['3.11', '5.15', '5.17', '5.18', '6.1', '6.19'], invariants: ['RT-3', 'FZ-1'], seed: '2022 "Zap only obsolete roots if a root shadow page is zapped" (domain §7.4 item 1)',
    fix: 'post the request inside the same write-locked section, before kvm_zap_obsolete_pages() may yield',
  },
  'prev-roots-not-freed': {
    id: 'prev-roots-not-freed', title: '5.18.0 __kvm_mmu_free_obsolete_roots tests the current root for every previous-root slot',
    eras: ['5.18', '6.1', '6.19'], invariants: ['RT-6'], seed: '2022 obsolete-root series, fix by Shaoqin Huang (domain §7.2)',
    fix: 'test prev_roots[i].hpa for slot i',
  },
  'notifier-skips-invalid-roots': {
    id: 'notifier-skips-invalid-roots', title: 'TDP MMU zaps driven by MMU notifiers skip invalid roots (kvm_tdp_mmu_get_root refuses them): the range unmap in 5.17, the zap-range/zap-all helpers in 5.15 and 5.17',
    eras: ['5.15', '5.17'], invariants: ['RT-5', 'MN-4'], seed: '2021/2022 "Zap _all_ roots when unmapping gfn range in TDP MMU" (domain §7.6)',
    fix: 'walk all roots, invalid included, when unmapping for an MMU notifier',
  },
  'gup-no-seq-retry': {
    id: 'gup-no-seq-retry', title: 'page fault installs an SPTE without the mmu_notifier_seq / count retry (2008 V7)',
    eras: ['2.6.27', '2.6.34', '2.6.35', '3.10', '3.11', '5.15', '5.17', '5.18', '6.1', '6.19'], invariants: ['MN-1'], seed: '2008 "KVM swapping with MMU Notifiers V7" (domain §8.1)',
    fix: 'snapshot the sequence before resolving the pfn and retry under mmu_lock (mmu_notifier_retry)',
  },
  'fast-aging-skips-shadow': {
    id: 'fast-aging-skips-shadow', title: 'fast-only aging consults only the TDP MMU; an L2-hot page mapped by the shadow (nested) MMU is judged cold',
    eras: ['6.19'], invariants: ['AG-4'], seed: '2024 "mm: Add test_clear_young_fast_only MMU notifier" (domain §9.2)',
    fix: 'consult the shadow MMU too: lockless walk of single-entry rmaps (6.19: every rmap under the read-only rmap lock)',
  },
  'slow-zap-all': {
    id: 'slow-zap-all', title: 'memslot flush zaps every shadow page under one mmu_lock hold (the 2013 "before")',
    eras: ['3.11', '5.15', '5.17', '5.18', '6.1', '6.19'], invariants: [], seed: '2013 "KVM: MMU: fast zap all shadow pages" (domain §5.1)',
    fix: 'fast zap: bump mmu_valid_gen, request reload, zap obsolete pages with lock breaks',
  },
};
