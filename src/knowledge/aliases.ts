/**
 * The rename table (domain §12.3), usable both ways: old name → successors, new name → predecessors.
 * Presence strings use the sample labels of versions.ts.
 */
import { presenceToLabels, SAMPLE_LABELS } from './versions';

export interface Rename {
  /** The older identifier. */
  old: string;
  /** Sampled presence of the old identifier. */
  oldPresence: string;
  /** The identifier(s) that took over; the first one is the knowledge-base entry to show. */
  successors: string[];
  /** First sampled version with the successor. */
  since: string;
  note: string;
}

export const RENAMES: readonly Rename[] = [
  { old: 'kvm_mmu_zap_page', oldPresence: '2.6.27..2.6.35.6', successors: ['kvm_mmu_prepare_zap_page', 'kvm_mmu_commit_zap_page', '__kvm_mmu_prepare_zap_page'], since: '3.10.65', note: 'split into prepare + commit upstream in 2.6.36' },
  { old: 'mmu_unshadow', oldPresence: '2.6.27..2.6.35.6', successors: ['kvm_mmu_unprotect_page'], since: '3.10.65', note: 'folded into kvm_mmu_unprotect_page; 6.19 uses kvm_mmu_unprotect_gfn_and_retry' },
  { old: 'kvm_mmu_unprotect_page', oldPresence: '2.6.27..6.1-rc7', successors: ['kvm_mmu_unprotect_gfn_and_retry', '__kvm_mmu_unprotect_gfn_and_retry'], since: '6.19', note: 'unprotect-and-retry helpers replace it' },
  { old: 'kvm_mmu_free_some_pages', oldPresence: '2.6.27..2.6.35.6', successors: ['make_mmu_pages_available'], since: '3.10.65', note: 'mmu.h helper replaced' },
  { old: 'prepare_zap_oldest_mmu_page', oldPresence: '3.10.65..5.4.59', successors: ['kvm_mmu_zap_oldest_mmu_pages'], since: '5.10', note: 'one page at a time became a batch' },
  { old: 'mmu_shrink', oldPresence: '2.6.27..3.10.65', successors: ['mmu_shrink_scan', 'mmu_shrink_count'], since: '3.13.10', note: 'shrinker API split; no MMU shrinker in 6.19' },
  { old: 'mmu_free_roots', oldPresence: '2.6.27..3.13.10', successors: ['kvm_mmu_free_roots', 'mmu_free_root_page'], since: '4.19', note: 'arrived with the prev_roots cache' },
  { old: 'mmu_alloc_roots', oldPresence: '2.6.27..5.12.9', successors: ['mmu_alloc_direct_roots', 'mmu_alloc_shadow_roots'], since: '3.10.65', note: 'direct and shadow root allocation split' },
  { old: 'kvm_mmu_invalidate_zap_all_pages', oldPresence: '3.13.10..4.19', successors: ['kvm_mmu_zap_all_fast'], since: '5.4.59', note: 'removed in 5.1/5.2, reintroduced for 5.3 as kvm_mmu_zap_all_fast' },
  { old: 'kvm_mmu_invalidate_zap_pages_in_memslot', oldPresence: '4.19..6.1-rc7', successors: ['kvm_mmu_zap_memslot', 'kvm_arch_flush_shadow_memslot'], since: '6.19', note: 'memslot flush moved into mmu.c' },
  { old: 'kvm_mmu_get_page', oldPresence: '2.6.27..5.18.12', successors: ['kvm_mmu_get_shadow_page', '__kvm_mmu_get_shadow_page', 'kvm_mmu_find_shadow_page'], since: '6.1-rc7', note: 'find-or-allocate split into find + alloc helpers' },
  { old: 'kvm_mmu_alloc_page', oldPresence: '2.6.27..5.18.12', successors: ['kvm_mmu_alloc_shadow_page'], since: '6.1-rc7', note: 'renamed with the shadow-page helpers' },
  { old: 'kvm_mmu_free_page', oldPresence: '2.6.27..5.18.12', successors: ['kvm_mmu_free_shadow_page'], since: '6.1-rc7', note: 'renamed with the shadow-page helpers' },
  { old: 'mmu_parent_walk', oldPresence: '2.6.35.6', successors: ['kvm_mmu_mark_parents_unsync', 'mark_unsync'], since: '3.10.65', note: 'upward propagation became per-parent recursion' },
  { old: 'mmu_need_write_protect', oldPresence: '2.6.35.6..5.12.9', successors: ['mmu_try_to_unsync_pages'], since: '5.15.24', note: 'called from SPTE construction' },
  { old: 'kvm_unmap_hva', oldPresence: '2.6.27..3.13.10', successors: ['kvm_unmap_gfn_range'], since: '5.15.24', note: 'hva-based arch hooks became gfn-range hooks' },
  { old: 'kvm_unmap_hva_range', oldPresence: '3.10.65..5.12.9', successors: ['kvm_unmap_gfn_range'], since: '5.15.24', note: 'memslot walk moved to generic code' },
  { old: 'kvm_age_hva', oldPresence: '2.6.27..5.12.9', successors: ['kvm_age_gfn'], since: '5.15.24', note: 'the tracepoint keeps the old name' },
  { old: 'kvm_test_age_hva', oldPresence: '3.10.65..5.12.9', successors: ['kvm_test_age_gfn'], since: '5.15.24', note: 'gfn-range arch hook' },
  { old: 'kvm_handle_hva', oldPresence: '2.6.27..5.12.9', successors: ['kvm_handle_hva_range', 'kvm_handle_gfn_range'], since: '5.15.24', note: 'generic notifier engine in kvm_main.c' },
  { old: 'kvm_unmap_rmapp', oldPresence: '2.6.27..5.18.12', successors: ['kvm_zap_rmap'], since: '6.1-rc7', note: 'rmap handler renamed' },
  { old: 'kvm_zap_rmapp', oldPresence: '4.19..5.18.12', successors: ['kvm_zap_rmap'], since: '6.1-rc7', note: 'rmap handler renamed' },
  { old: 'kvm_age_rmapp', oldPresence: '2.6.27..5.18.12', successors: ['kvm_age_rmap', 'kvm_rmap_age_gfn_range'], since: '6.1-rc7', note: '6.19 ages locklessly through kvm_rmap_age_gfn_range' },
  { old: 'kvm_test_age_rmapp', oldPresence: '3.10.65..5.18.12', successors: ['kvm_test_age_rmap', 'kvm_rmap_age_gfn_range'], since: '6.1-rc7', note: '6.19 folds it into kvm_rmap_age_gfn_range' },
  { old: 'kvm_age_rmap', oldPresence: '6.1-rc7', successors: ['kvm_rmap_age_gfn_range'], since: '6.19', note: 'lockless aging (6.15)' },
  { old: 'kvm_inc_notifier_count', oldPresence: '5.15.24..5.18.12', successors: ['kvm_mmu_invalidate_begin'], since: '6.1-rc7', note: 'upstream 6.1 rename' },
  { old: 'kvm_dec_notifier_count', oldPresence: '5.15.24..5.18.12', successors: ['kvm_mmu_invalidate_end'], since: '6.1-rc7', note: 'upstream 6.1 rename' },
  { old: 'mmu_notifier_seq', oldPresence: '2.6.27..5.18.12', successors: ['mmu_invalidate_seq'], since: '6.1-rc7', note: 'upstream 6.1 rename of struct kvm fields' },
  { old: 'mmu_notifier_count', oldPresence: '2.6.27..5.18.12', successors: ['mmu_invalidate_in_progress'], since: '6.1-rc7', note: 'upstream 6.1 rename of struct kvm fields' },
  { old: 'mmu_notifier_range_start', oldPresence: '5.12.9..5.18.12', successors: ['mmu_invalidate_range_start'], since: '6.1-rc7', note: 'hva until 6.1; gfn in 6.19' },
  { old: 'mmu_notifier_range_end', oldPresence: '5.12.9..5.18.12', successors: ['mmu_invalidate_range_end'], since: '6.1-rc7', note: 'hva until 6.1; gfn in 6.19' },
  { old: 'mmu_notifier_retry', oldPresence: '2.6.27..5.18.12', successors: ['mmu_invalidate_retry'], since: '6.1-rc7', note: 'static inline in kvm_host.h' },
  { old: 'mmu_notifier_retry_hva', oldPresence: '5.12.9..5.18.12', successors: ['mmu_invalidate_retry_hva', 'mmu_invalidate_retry_gfn'], since: '6.1-rc7', note: 'range-aware retry; gfn-based in 6.19' },
  { old: 'mmu_invalidate_retry_hva', oldPresence: '6.1-rc7', successors: ['mmu_invalidate_retry_gfn'], since: '6.19', note: 'the tracked range became gfn-based' },
  { old: 'tdp_page_fault', oldPresence: '2.6.27..5.4.59', successors: ['kvm_tdp_page_fault'], since: '5.10', note: 'also kvm_tdp_mmu_page_fault in 6.19' },
  { old: 'kvm_faultin_pfn', oldPresence: '5.15.24..6.1-rc7', successors: ['kvm_mmu_faultin_pfn'], since: '6.19', note: 'now also snapshots the sequence' },
  { old: '__direct_map', oldPresence: '2.6.27..6.1-rc7', successors: ['direct_map'], since: '6.19', note: 'renamed' },
  { old: 'kvm_tdp_mmu_get_vcpu_root_hpa', oldPresence: '5.10..6.1-rc7', successors: ['kvm_tdp_mmu_alloc_root'], since: '6.19', note: 'root lookup now runs under the read lock' },
  { old: 'kvm_tdp_mmu_invalidate_all_roots', oldPresence: '5.15.24..6.1-rc7', successors: ['kvm_tdp_mmu_invalidate_roots'], since: '6.19', note: 'takes a root-type mask' },
  { old: 'kvm_tdp_mmu_zap_gfn_range', oldPresence: '5.10..5.17-rc5', successors: ['kvm_tdp_mmu_zap_leafs'], since: '5.18.12', note: 'zaps leaf SPTEs only' },
  { old: 'handle_removed_tdp_mmu_page', oldPresence: '5.12.9..5.17-rc5', successors: ['handle_removed_pt'], since: '5.18.12', note: 'renamed' },
  { old: 'for_each_tdp_mmu_root', oldPresence: '5.10..6.1-rc7', successors: ['__for_each_tdp_mmu_root', 'for_each_valid_tdp_mmu_root'], since: '6.19', note: 'non-yielding root walk split by root type' },
  { old: 'kvm_reload_remote_mmus', oldPresence: '2.6.27..5.17-rc5', successors: ['kvm_make_all_cpus_request', 'KVM_REQ_MMU_FREE_OBSOLETE_ROOTS'], since: '5.18.12', note: 'open-coded request in 5.18' },
  { old: 'KVM_REQ_MMU_RELOAD', oldPresence: '2.6.27..5.17-rc5', successors: ['KVM_REQ_MMU_FREE_OBSOLETE_ROOTS'], since: '5.18.12', note: 'reload of all roots replaced by freeing only obsolete roots' },
  { old: 'make_all_cpus_request', oldPresence: '2.6.35.6..3.13.10', successors: ['kvm_make_all_cpus_request'], since: '4.19', note: 'exported with a kvm_ prefix' },
  { old: 'cr4_pae', oldPresence: '2.6.35.6..4.19', successors: ['gpte_is_8_bytes', 'has_4_byte_gpte'], since: '5.2.1', note: 'role bit renamed, later inverted' },
  { old: 'gpte_is_8_bytes', oldPresence: '5.2.1..5.15.24', successors: ['has_4_byte_gpte'], since: '5.17-rc5', note: 'inverted sense' },
  { old: 'nxe', oldPresence: '2.6.35.6..5.12.9', successors: ['efer_nx'], since: '5.15.24', note: 'role bit renamed' },
  { old: 'metaphysical', oldPresence: '2.6.27', successors: ['direct'], since: '2.6.35.6', note: 'role bit renamed (2.6.28 era)' },
  { old: 'gfns', oldPresence: '2.6.27..5.18.12', successors: ['shadowed_translation'], since: '6.1-rc7', note: 'now also stores access bits' },
  { old: 'lpage_disallowed', oldPresence: '5.4.59..6.1-rc7', successors: ['nx_huge_page_disallowed'], since: '6.19', note: 'NX huge page mitigation field renamed' },
  { old: 'lpage_disallowed_mmu_pages', oldPresence: '5.4.59..6.1-rc7', successors: ['possible_nx_huge_pages'], since: '6.19', note: 'NX recovery list renamed' },
  { old: 'memslots_have_rmaps', oldPresence: '5.15.24', successors: ['shadow_root_allocated'], since: '5.17-rc5', note: 'renamed' },
  { old: 'write_count', oldPresence: '2.6.27..3.13.10', successors: ['disallow_lpage'], since: '4.19', note: 'lpage_info counter renamed' },
  { old: 'kvm_rmap_desc', oldPresence: '2.6.27..2.6.35.6', successors: ['pte_list_desc'], since: '3.10.65', note: 'rmap descriptor renamed and shared with parent_ptes' },
  { old: 'kvm_pte_chain', oldPresence: '2.6.27..2.6.35.6', successors: ['parent_ptes', 'pte_list_desc'], since: '3.10.65', note: 'parent chains now use the rmap encoding' },
  { old: 'root_hpa', oldPresence: '2.6.27..5.17-rc5', successors: ['root'], since: '5.18.12', note: 'now struct kvm_mmu_root_info {pgd, hpa}' },
  { old: 'n_alloc_mmu_pages', oldPresence: '2.6.27..2.6.35.6', successors: ['n_max_mmu_pages'], since: '3.10.65', note: '2.6-era limit' },
  { old: 'n_free_mmu_pages', oldPresence: '2.6.27..2.6.35.6', successors: ['n_used_mmu_pages'], since: '3.10.65', note: '2.6-era headroom counter (free = alloc - used)' },
  { old: 'REMOVED_SPTE', oldPresence: '5.12.9..6.1-rc7', successors: ['FROZEN_SPTE'], since: '6.19', note: 'renamed (presence approximate)' },
];

const byOld = new Map<string, Rename[]>();
const byNew = new Map<string, Rename[]>();
for (const r of RENAMES) {
  byOld.set(r.old, [...(byOld.get(r.old) ?? []), r]);
  for (const s of r.successors) byNew.set(s, [...(byNew.get(s) ?? []), r]);
}

/** Renames where `name` is the old identifier. */
export function renamesFrom(name: string): Rename[] {
  return byOld.get(name) ?? [];
}
/** Renames where `name` is one of the successors. */
export function renamesTo(name: string): Rename[] {
  return byNew.get(name) ?? [];
}

/** Follow old → successor (first successor) transitively; returns the chain, starting with `name`. */
export function successorChain(name: string): string[] {
  const chain = [name];
  const seen = new Set(chain);
  let cur = name;
  for (;;) {
    const r = byOld.get(cur)?.[0];
    const next = r?.successors[0];
    if (!next || seen.has(next)) return chain;
    chain.push(next);
    seen.add(next);
    cur = next;
  }
}

/** Sanity helper for tests: every presence string parses and `since` is a sample label. */
export function validateRenames(): string[] {
  const errors: string[] = [];
  for (const r of RENAMES) {
    try {
      presenceToLabels(r.oldPresence);
    } catch (e) {
      errors.push(`${r.old}: ${(e as Error).message}`);
    }
    if (!(SAMPLE_LABELS as readonly string[]).includes(r.since)) errors.push(`${r.old}: since "${r.since}" is not a sample label`);
  }
  return errors;
}
