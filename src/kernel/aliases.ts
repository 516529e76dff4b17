/**
 * Version-aware rename table (domain §12.3 and §3). Each group lists the names one concept had over
 * time, oldest first, with the eras in which each name is current. Resolution tries the asked name
 * first, then the group member that is current in the tree's era, then the other members.
 */
import type { EraId } from '../engine/api';
import { eraKey } from './version';

export interface AliasName {
  name: string;
  /** First era (inclusive) in which this name is current. */
  from?: EraId;
  /** Last era (inclusive) in which this name is current. */
  to?: EraId;
}

export type AliasGroup = readonly AliasName[];

const g = (...names: Array<string | [string, EraId | undefined, EraId | undefined]>): AliasGroup =>
  names.map((n) => (typeof n === 'string' ? { name: n } : { name: n[0], from: n[1], to: n[2] }));

/** Rename groups. Field names are written `struct.field` where the struct matters, bare otherwise. */
export const ALIAS_GROUPS: readonly AliasGroup[] = [
  // functions
  g(['kvm_mmu_invalidate_zap_all_pages', '3.11', '3.11'], ['kvm_mmu_zap_all_fast', '5.15', undefined]),
  g(['kvm_mmu_zap_page', undefined, '2.6.35'], ['kvm_mmu_prepare_zap_page', '3.10', '3.11'], ['__kvm_mmu_prepare_zap_page', '5.15', undefined]),
  g(['mmu_unshadow', undefined, '2.6.35'], ['kvm_mmu_unprotect_page', '3.10', '6.1'], ['__kvm_mmu_unprotect_gfn_and_retry', '6.19', undefined], ['kvm_mmu_unprotect_gfn_and_retry', '6.19', undefined]),
  g(['kvm_mmu_free_some_pages', undefined, '2.6.35'], ['make_mmu_pages_available', '3.10', undefined]),
  g(['prepare_zap_oldest_mmu_page', '3.10', '3.11'], ['kvm_mmu_zap_oldest_mmu_pages', '5.15', undefined]),
  g(['mmu_shrink', undefined, '3.10'], ['mmu_shrink_scan', '3.11', '6.1']),
  g(['mmu_free_roots', undefined, '3.11'], ['kvm_mmu_free_roots', '5.15', undefined]),
  g(['kvm_mmu_invalidate_zap_pages_in_memslot', '3.11', '6.1'], ['kvm_mmu_zap_memslot', '6.19', undefined]),
  g(['kvm_mmu_get_page', undefined, '5.18'], ['kvm_mmu_get_shadow_page', '6.1', undefined]),
  g(['kvm_mmu_alloc_page', undefined, '5.18'], ['kvm_mmu_alloc_shadow_page', '6.1', undefined]),
  g(['kvm_mmu_free_page', undefined, '5.18'], ['kvm_mmu_free_shadow_page', '6.1', undefined]),
  g(['mmu_parent_walk', undefined, '2.6.35'], ['kvm_mmu_mark_parents_unsync', '3.10', undefined]),
  g(['mmu_need_write_protect', '2.6.35', '3.11'], ['mmu_try_to_unsync_pages', '5.15', undefined]),
  g(['kvm_unmap_hva', undefined, '3.10'], ['kvm_unmap_hva_range', '3.11', '3.11'], ['kvm_unmap_gfn_range', '5.15', undefined]),
  g(['kvm_age_hva', undefined, '3.11'], ['kvm_age_gfn', '5.15', undefined]),
  g(['kvm_test_age_hva', undefined, '3.11'], ['kvm_test_age_gfn', '5.15', undefined]),
  g(['kvm_unmap_rmapp', undefined, '3.11'], ['kvm_zap_rmapp', '5.15', '5.18'], ['kvm_zap_rmap', '6.1', undefined]),
  g(['kvm_age_rmapp', undefined, '5.18'], ['kvm_age_rmap', '6.1', '6.1'], ['kvm_rmap_age_gfn_range', '6.19', undefined]),
  g(['kvm_test_age_rmapp', undefined, '5.18'], ['kvm_test_age_rmap', '6.1', '6.1']),
  g(['kvm_inc_notifier_count', '5.15', '5.18'], ['kvm_mmu_invalidate_begin', '6.1', undefined]),
  g(['kvm_dec_notifier_count', '5.15', '5.18'], ['kvm_mmu_invalidate_end', '6.1', undefined]),
  g(['mmu_notifier_retry', undefined, '5.18'], ['mmu_invalidate_retry', '6.1', undefined]),
  g(['mmu_notifier_retry_hva', '5.15', '5.18'], ['mmu_invalidate_retry_hva', '6.1', '6.1'], ['mmu_invalidate_retry_gfn', '6.19', undefined]),
  g(['tdp_page_fault', undefined, '3.11'], ['kvm_tdp_page_fault', '5.15', undefined]),
  g(['try_async_pf', undefined, '3.11'], ['kvm_faultin_pfn', '5.15', '6.1'], ['kvm_mmu_faultin_pfn', '6.19', undefined]),
  g(['__direct_map', undefined, '6.1'], ['direct_map', '6.19', undefined]),
  g(['kvm_tdp_mmu_get_vcpu_root_hpa', '5.15', '6.1'], ['kvm_tdp_mmu_alloc_root', '6.19', undefined]),
  g(['kvm_tdp_mmu_invalidate_all_roots', '5.15', '6.1'], ['kvm_tdp_mmu_invalidate_roots', '6.19', undefined]),
  g(['kvm_tdp_mmu_zap_gfn_range', '5.15', '5.17'], ['kvm_tdp_mmu_zap_leafs', '5.18', undefined]),
  g(['handle_removed_tdp_mmu_page', '5.15', '5.17'], ['handle_removed_pt', '5.18', undefined]),
  g(['for_each_tdp_mmu_root', '5.15', '6.1'], ['__for_each_tdp_mmu_root', '6.19', undefined]),
  g(['make_all_cpus_request', '2.6.35', '3.11'], ['kvm_make_all_cpus_request', '5.15', undefined]),
  g(['kvm_mmu_new_cr3', '3.11', '3.11'], ['kvm_mmu_new_pgd', '5.15', undefined]),
  g('kvm_flush_remote_tlbs', 'kvm_arch_flush_remote_tlbs'),
  g(['kvm_mmu_pte_write', undefined, '6.1'], ['kvm_mmu_track_write', '6.19', undefined]),
  g(['swap_writepage', undefined, '6.1'], ['swap_writeout', '6.19', undefined]),
  g(['kvm_handle_hva', undefined, '3.11'], ['kvm_handle_hva_range', '5.15', undefined]),
  // fields (bare and qualified forms)
  g(['mmu_notifier_seq', undefined, '5.18'], ['mmu_invalidate_seq', '6.1', undefined]),
  g(['kvm.mmu_notifier_seq', undefined, '5.18'], ['kvm.mmu_invalidate_seq', '6.1', undefined]),
  g(['mmu_notifier_count', undefined, '5.18'], ['mmu_invalidate_in_progress', '6.1', undefined]),
  g(['kvm.mmu_notifier_count', undefined, '5.18'], ['kvm.mmu_invalidate_in_progress', '6.1', undefined]),
  g(['mmu_notifier_range_start', '5.15', '5.18'], ['mmu_invalidate_range_start', '6.1', undefined]),
  g(['kvm.mmu_notifier_range_start', '5.15', '5.18'], ['kvm.mmu_invalidate_range_start', '6.1', undefined]),
  g(['mmu_notifier_range_end', '5.15', '5.18'], ['mmu_invalidate_range_end', '6.1', undefined]),
  g(['kvm.mmu_notifier_range_end', '5.15', '5.18'], ['kvm.mmu_invalidate_range_end', '6.1', undefined]),
  g(['gfns', undefined, '5.18'], ['shadowed_translation', '6.1', undefined]),
  g(['kvm_mmu_page.gfns', undefined, '5.18'], ['kvm_mmu_page.shadowed_translation', '6.1', undefined]),
  g(['lpage_disallowed', '3.11', '6.1'], ['nx_huge_page_disallowed', '6.19', undefined]),
  g(['kvm_mmu_page.lpage_disallowed', '3.11', '6.1'], ['kvm_mmu_page.nx_huge_page_disallowed', '6.19', undefined]),
  g(['lpage_disallowed_mmu_pages', '3.11', '6.1'], ['possible_nx_huge_pages', '6.19', undefined]),
  g(['kvm_arch.lpage_disallowed_mmu_pages', '3.11', '6.1'], ['kvm_arch.possible_nx_huge_pages', '6.19', undefined]),
  g(['memslots_have_rmaps', '5.15', '5.15'], ['shadow_root_allocated', '5.17', undefined]),
  g(['kvm_arch.memslots_have_rmaps', '5.15', '5.15'], ['kvm_arch.shadow_root_allocated', '5.17', undefined]),
  g(['write_count', undefined, '3.11'], ['disallow_lpage', '5.15', undefined]),
  g(['kvm_lpage_info.write_count', undefined, '3.11'], ['kvm_lpage_info.disallow_lpage', '5.15', undefined]),
  g(['kvm_mmu.root_hpa', undefined, '5.17'], ['kvm_mmu.root', '5.18', undefined]),
  g(['kvm_rmap_desc', undefined, '2.6.35'], ['pte_list_desc', '3.10', undefined]),
  g(['kvm_pte_chain', undefined, '2.6.35'], ['pte_list_desc', '3.10', undefined]),
  g(['n_free_mmu_pages', undefined, '2.6.35'], ['n_used_mmu_pages', '3.10', undefined]),
  g(['kvm_arch.n_free_mmu_pages', undefined, '2.6.35'], ['kvm_arch.n_used_mmu_pages', '3.10', undefined]),
  g(['tdp_mmu_async_work', '5.18', '6.1'], ['tdp_mmu_scheduled_root_to_zap', '6.19', undefined]),
  // role bits
  g(['kvm_mmu_page_role.metaphysical', undefined, '2.6.27'], ['kvm_mmu_page_role.direct', '2.6.34', undefined]),
  g(['kvm_mmu_page_role.cr4_pae', '2.6.35', '3.11'], ['kvm_mmu_page_role.gpte_is_8_bytes', '5.15', '5.15'], ['kvm_mmu_page_role.has_4_byte_gpte', '5.17', undefined]),
  g(['kvm_mmu_page_role.nxe', undefined, '3.11'], ['kvm_mmu_page_role.efer_nx', '5.15', undefined]),
  // requests
  g(['KVM_REQ_MMU_RELOAD', undefined, '5.17'], ['KVM_REQ_MMU_FREE_OBSOLETE_ROOTS', '5.18', undefined]),
];

const byName = new Map<string, AliasGroup[]>();
for (const group of ALIAS_GROUPS) {
  for (const n of group) {
    const list = byName.get(n.name) ?? [];
    list.push(group);
    byName.set(n.name, list);
  }
}

function current(n: AliasName, era: EraId | undefined): boolean {
  if (!era) return false;
  const k = eraKey(era);
  return (!n.from || eraKey(n.from) <= k) && (!n.to || k <= eraKey(n.to));
}

/**
 * Other names for `name`, best first for `era`: names current in that era, then the rest (newest first).
 * Does not include `name` itself.
 */
export function aliasesOf(name: string, era?: EraId): string[] {
  const groups = byName.get(name);
  if (!groups) return [];
  const now: string[] = [];
  const rest: string[] = [];
  for (const group of groups) {
    for (let i = group.length - 1; i >= 0; i--) {
      const n = group[i]!;
      if (n.name === name || now.includes(n.name) || rest.includes(n.name)) continue;
      (current(n, era) ? now : rest).push(n.name);
    }
  }
  return [...now, ...rest.filter((x) => !now.includes(x))];
}

/** True if `name` is listed with an era range that excludes `era` (i.e. it was renamed away or not yet born). */
export function isOutOfEra(name: string, era: EraId): boolean {
  const groups = byName.get(name);
  if (!groups) return false;
  return groups.every((group) => group.filter((n) => n.name === name).every((n) => (n.from || n.to) && !current(n, era)));
}
