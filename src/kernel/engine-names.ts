/**
 * The list of kernel names the engine uses. The engine publishes `KERNEL_SYMBOLS` from
 * src/engine/kernel-names.ts; until then (and as a cross-check) this module carries its own list,
 * built from domain §11 and the fields/requests in the engine API.
 */
import type { EraId } from '../engine/api';
import type { EngineName } from './types';
import { KERNEL_SYMBOLS } from '../engine/kernel-names';

const ALL_TDP: EraId[] = ['5.15', '5.17', '5.18', '6.1', '6.19'];
const MMU_C = 'arch/x86/kvm/mmu/mmu.c';
const TDP_C = 'arch/x86/kvm/mmu/tdp_mmu.c';
const MAIN_C = 'virt/kvm/kvm_main.c';

const fn = (name: string, file: string, eras?: EraId[]): EngineName => ({ name, kind: 'function', file, ...(eras ? { eras } : {}) });
const field = (name: string, eras?: EraId[]): EngineName => ({ name, kind: 'field', ...(eras ? { eras } : {}) });
const req = (name: string, eras?: EraId[]): EngineName => ({ name, kind: 'request', ...(eras ? { eras } : {}) });

/** Names as the 6.19 profile spells them (older spellings are reached through the rename table). */
export const FALLBACK_ENGINE_NAMES: readonly EngineName[] = [
  ...[
    'kvm_mmu_zap_all_fast', 'kvm_zap_obsolete_pages', 'is_obsolete_sp', 'is_obsolete_root', 'kvm_mmu_free_obsolete_roots',
    '__kvm_mmu_free_obsolete_roots', 'kvm_mmu_free_roots', 'mmu_free_root_page', '__kvm_mmu_prepare_zap_page',
    'kvm_mmu_prepare_zap_page', 'kvm_mmu_commit_zap_page', 'mmu_zap_unsync_children', 'kvm_mmu_page_unlink_children',
    'mmu_page_zap_pte', 'kvm_mmu_zap_oldest_mmu_pages', 'make_mmu_pages_available', 'kvm_mmu_change_mmu_pages',
    'kvm_mmu_zap_all', 'kvm_mmu_zap_memslot', 'kvm_mmu_load', 'kvm_mmu_unload', 'mmu_alloc_direct_roots',
    'mmu_alloc_shadow_roots', 'kvm_mmu_get_shadow_page', 'kvm_mmu_mark_parents_unsync', 'mmu_try_to_unsync_pages',
    'rmap_add', 'pte_list_add', 'pte_list_remove', 'kvm_zap_rmap', 'kvm_unmap_gfn_range', 'kvm_age_gfn',
    'kvm_test_age_gfn', 'kvm_rmap_age_gfn_range', 'kvm_mmu_faultin_pfn', 'is_page_fault_stale', 'direct_page_fault',
    'kvm_tdp_page_fault', 'kvm_mmu_page_fault', 'kvm_mmu_new_pgd', 'kvm_mmu_sync_roots', 'kvm_unsync_page',
    'kvm_arch_flush_shadow_memslot', 'kvm_arch_flush_shadow_all', 'kvm_zap_gfn_range', 'kvm_mmu_track_write',
    'kvm_mmu_unprotect_page', 'set_nx_huge_pages', 'kvm_mmu_invalidate_mmio_sptes',
  ].map((n) => fn(n, MMU_C)),
  ...[
    'kvm_tdp_mmu_map', 'kvm_tdp_mmu_alloc_root', 'kvm_tdp_mmu_put_root', 'tdp_mmu_next_root',
    'kvm_tdp_mmu_invalidate_roots', 'kvm_tdp_mmu_zap_invalidated_roots', 'kvm_tdp_mmu_zap_all',
    'kvm_tdp_mmu_zap_leafs', 'kvm_tdp_mmu_unmap_gfn_range', 'kvm_tdp_mmu_age_gfn_range', 'handle_removed_pt',
  ].map((n) => fn(n, TDP_C, ALL_TDP)),
  fn('kvm_tdp_mmu_get_root', 'arch/x86/kvm/mmu/tdp_mmu.h', ALL_TDP),
  fn('kvm_mmu_reload', 'arch/x86/kvm/mmu.h'),
  fn('mmu_invalidate_retry_gfn', 'include/linux/kvm_host.h'),
  ...['kvm_flush_remote_tlbs', 'kvm_make_all_cpus_request', 'kvm_handle_hva_range', 'kvm_mmu_invalidate_begin', 'kvm_mmu_invalidate_end'].map((n) => fn(n, MAIN_C)),
  { name: 'FNAME(page_fault)', kind: 'function', file: 'arch/x86/kvm/mmu/paging_tmpl.h' },
  { name: 'FNAME(fetch)', kind: 'function', file: 'arch/x86/kvm/mmu/paging_tmpl.h' },
  { name: '__for_each_tdp_mmu_root_yield_safe', kind: 'macro', file: TDP_C, eras: ['5.18', '6.1', '6.19'] },
  { name: 'for_each_tdp_mmu_root_yield_safe', kind: 'macro', file: TDP_C, eras: ALL_TDP },
  ...[
    'kvm_arch.mmu_valid_gen', 'kvm_arch.active_mmu_pages', 'kvm_arch.n_used_mmu_pages', 'kvm_arch.n_max_mmu_pages',
    'kvm_arch.indirect_shadow_pages', 'kvm_arch.mmu_page_hash', 'kvm.mmu_lock', 'kvm.mmu_invalidate_seq',
    'kvm.mmu_invalidate_in_progress', 'kvm.mmu_invalidate_range_start', 'kvm.mmu_invalidate_range_end',
    'kvm_mmu_page.root_count', 'kvm_mmu_page.unsync', 'kvm_mmu_page.unsync_children', 'kvm_mmu_page.unsync_child_bitmap',
    'kvm_mmu_page.parent_ptes', 'kvm_mmu_page.mmu_valid_gen', 'kvm_mmu_page.gfn', 'kvm_mmu_page.role', 'kvm_mmu_page.spt',
    'kvm_mmu_page_role.invalid', 'kvm_mmu_page_role.level', 'kvm_mmu_page_role.direct', 'kvm_mmu_page_role.cr0_wp',
    'kvm_mmu.prev_roots', 'kvm_memory_slot.base_gfn', 'kvm_memory_slot.npages',
  ].map((n) => field(n)),
  field('kvm_arch.zapped_obsolete_pages', ['3.11', '5.15', '5.17', '5.18', '6.1']),
  ...['kvm_arch.tdp_mmu_roots', 'kvm_mmu_page.tdp_mmu_root_count'].map((n) => field(n, ALL_TDP)),
  field('kvm_mmu_page.tdp_mmu_scheduled_root_to_zap', ['6.19']),
  req('KVM_REQ_TLB_FLUSH'),
  req('KVM_REQ_MMU_RELOAD', ['2.6.27', '2.6.34', '2.6.35', '3.10', '3.11', '5.15', '5.17']),
  req('KVM_REQ_MMU_FREE_OBSOLETE_ROOTS', ['5.18', '6.1', '6.19']),
  req('KVM_REQ_MMU_SYNC'),
  req('KVM_REQ_LOAD_MMU_PGD', ALL_TDP),
  req('KVM_REQ_TLB_FLUSH_CURRENT', ALL_TDP),
  req('KVM_REQ_TLB_FLUSH_GUEST', ALL_TDP),
  { name: 'mmu_shadow_zapped', kind: 'stat' },
];

/** The engine's names (KERNEL_SYMBOLS from src/engine/kernel-names.ts), as EngineName entries. */
export function engineNames(): readonly EngineName[] {
  if (!Array.isArray(KERNEL_SYMBOLS) || KERNEL_SYMBOLS.length === 0) return FALLBACK_ENGINE_NAMES;
  return KERNEL_SYMBOLS.map((k) => ({ name: k.name, kind: k.kind, file: { ...k.files }, eras: [...k.eras] }));
}

/** Names that apply to an era (entries without `eras` apply everywhere). */
export function namesForEra(names: readonly EngineName[], era: EraId): EngineName[] {
  return names.filter((n) => !n.eras || n.eras.includes(era));
}

/** Every file the engine's names live in, for one era or all eras (so the index covers mm/ files too). */
export function engineFiles(names: readonly EngineName[], era?: EraId): string[] {
  const out = new Set<string>();
  for (const n of names) {
    if (!n.file) continue;
    if (typeof n.file === 'string') out.add(n.file);
    else for (const [e, f] of Object.entries(n.file)) if (f && (!era || e === era)) out.add(f);
  }
  return [...out].sort();
}
