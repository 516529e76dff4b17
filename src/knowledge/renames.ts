/**
 * THE rename table of kernel identifiers (domain §12.3 and §3): the one source of truth behind both
 * the knowledge base / hovers (`src/knowledge/aliases.ts`) and the kernel symbol index / debugger
 * (`src/kernel/aliases.ts`). Both of those modules are views; edit only this file.
 *
 * Two parts:
 *  - `RENAME_ROWS`: one row per rename, oldest name first: `old` → `successors` (knowledge-base order,
 *    the first successor is the entry a hover shows), `since` = first sampled version in which the
 *    successor took over, a note, and `same` = the successors that are the *same object under a new
 *    name*. Only `same` successors are aliases for the kernel index (a split, an open-coded
 *    replacement or a merged helper is shown by the hover but must not resolve as the old definition).
 *    `struct` names the containing struct of a field; the kernel index then also knows `struct.field`
 *    (and only that form when `qualifiedOnly`, for field names too common to alias bare).
 *    `hover: false` marks a row the kernel index needs but which is no knowledge-base rename.
 *  - `NAMES`: for every name in the rows, its sampled presence (sample labels of versions.ts, checked
 *    against kvm-function-index.json by the knowledge tests for indexed names) and, where needed,
 *    an explicit engine-era range.
 *
 * Era range rule (what `eraRangeOf` returns; the kernel index calls a name "current" inside it):
 *  - derived from the presence: map every present sample to its engine era (`eraForVersion`),
 *    skipping a sample whose era is older than that of an earlier sample (5.2.1 maps back to the 3.10
 *    era because fast zap was briefly removed; it says nothing about names). The range runs from the
 *    first to the last such era; it is open below when the oldest sample (2.6.27) is present and open
 *    above when the newest sample (7.1.5) is present.
 *  - stored explicitly (`eras`) where that derivation is wrong: the rename happened between samples in
 *    a way an era boundary can see (e.g. a name born in 2.6.28, first sampled in 2.6.35.6, is already
 *    current in the 2.6.34 era), or the names coexist and no era excludes either (`eras: 'any'`).
 */
import type { EraId } from '../engine/api';
import { eraForVersion, eraKey } from '../kernel/version';
import { presenceToLabels, SAMPLE_LABELS, type SampleLabel } from './versions';

export interface RenameRow {
  /** The older identifier (bare; fields without their struct). */
  old: string;
  /** The identifier(s) that took over; the first is the knowledge-base entry to show. */
  successors: readonly string[];
  /** Successors that are the old object under a new name (kernel-index aliases). Omitted: none. */
  same?: readonly string[];
  /** First sampled version with the successor. */
  since: SampleLabel;
  note: string;
  /** Containing struct, for fields: the kernel index also resolves `struct.old` ↔ `struct.successor`. */
  struct?: string;
  /** Only the struct-qualified form is an alias (the bare word is too common). */
  qualifiedOnly?: true;
  /** false: needed by the kernel index only, not a knowledge-base rename. */
  hover?: false;
}

export interface NameInfo {
  /** Sampled presence ("a..b, c", sample labels). */
  presence: string;
  /** Explicit era range [from, to] (undefined = open end), or 'any' for no range; see the rule above. */
  eras?: readonly [EraId | undefined, EraId | undefined] | 'any';
}

const ALL = '2.6.27..7.1.5';

/** Sampled presence (and era overrides) of every name used in `RENAME_ROWS`. */
export const NAMES: Readonly<Record<string, NameInfo>> = {
  // functions (presence as in kvm-function-index.json where indexed)
  kvm_mmu_zap_page: { presence: '2.6.27..2.6.35.6' },
  kvm_mmu_prepare_zap_page: { presence: '3.10.65..7.1.5' },
  kvm_mmu_commit_zap_page: { presence: '3.10.65..7.1.5' },
  __kvm_mmu_prepare_zap_page: { presence: '5.2.1..7.1.5' },
  mmu_unshadow: { presence: '2.6.27..2.6.35.6' },
  kvm_mmu_unprotect_page: { presence: '2.6.27..6.1-rc7' },
  kvm_mmu_unprotect_gfn_and_retry: { presence: '6.19..7.1.5' },
  __kvm_mmu_unprotect_gfn_and_retry: { presence: '6.19..7.1.5' },
  kvm_mmu_free_some_pages: { presence: '2.6.27..2.6.35.6' },
  make_mmu_pages_available: { presence: '3.10.65..7.1.5' },
  prepare_zap_oldest_mmu_page: { presence: '3.10.65..5.4.59' },
  kvm_mmu_zap_oldest_mmu_pages: { presence: '5.10..7.1.5' },
  mmu_shrink: { presence: '2.6.27..3.10.65' },
  mmu_shrink_scan: { presence: '3.13.10..6.1-rc7' },
  mmu_shrink_count: { presence: '3.13.10..6.1-rc7' },
  mmu_free_roots: { presence: '2.6.27..3.13.10' },
  kvm_mmu_free_roots: { presence: '4.19..7.1.5' },
  mmu_free_root_page: { presence: '4.19..7.1.5' },
  mmu_alloc_roots: { presence: '2.6.27..5.12.9' },
  mmu_alloc_direct_roots: { presence: '3.10.65..7.1.5' },
  mmu_alloc_shadow_roots: { presence: '3.10.65..7.1.5' },
  kvm_mmu_invalidate_zap_all_pages: { presence: '3.13.10..4.19' },
  kvm_mmu_zap_all_fast: { presence: '5.4.59..7.1.5' },
  kvm_mmu_invalidate_zap_pages_in_memslot: { presence: '4.19..6.1-rc7' },
  kvm_mmu_zap_memslot: { presence: '6.19..7.1.5' },
  kvm_arch_flush_shadow_memslot: { presence: '6.19..7.1.5' },
  kvm_mmu_get_page: { presence: '2.6.27..5.18.12' },
  kvm_mmu_get_shadow_page: { presence: '6.1-rc7..7.1.5' },
  __kvm_mmu_get_shadow_page: { presence: '6.1-rc7..7.1.5' },
  kvm_mmu_find_shadow_page: { presence: '6.1-rc7..7.1.5' },
  kvm_mmu_alloc_page: { presence: '2.6.27..5.18.12' },
  kvm_mmu_alloc_shadow_page: { presence: '6.1-rc7..7.1.5' },
  kvm_mmu_free_page: { presence: '2.6.27..5.18.12' },
  kvm_mmu_free_shadow_page: { presence: '6.1-rc7..7.1.5' },
  // born with unsync (2.6.28), so current in the unsampled 2.6.34 era too
  mmu_parent_walk: { presence: '2.6.35.6', eras: ['2.6.34', '2.6.35'] },
  kvm_mmu_mark_parents_unsync: { presence: '2.6.35.6..7.1.5' },
  mark_unsync: { presence: '3.10.65..7.1.5' },
  mmu_need_write_protect: { presence: '2.6.35.6..5.12.9' },
  mmu_try_to_unsync_pages: { presence: '5.15.24..7.1.5' },
  kvm_unmap_hva: { presence: '2.6.27..3.13.10' },
  kvm_unmap_hva_range: { presence: '3.10.65..5.12.9' },
  kvm_unmap_gfn_range: { presence: '5.15.24..7.1.5' },
  kvm_age_hva: { presence: '2.6.27..5.12.9' },
  kvm_age_gfn: { presence: '5.15.24..7.1.5' },
  kvm_test_age_hva: { presence: '3.10.65..5.12.9' },
  kvm_test_age_gfn: { presence: '5.15.24..7.1.5' },
  kvm_handle_hva: { presence: '2.6.27..5.12.9' },
  kvm_handle_hva_range: { presence: '3.10.65..7.1.5' },
  kvm_handle_gfn_range: { presence: '5.15.24..7.1.5' },
  kvm_unmap_rmapp: { presence: '2.6.27..5.18.12' },
  kvm_zap_rmapp: { presence: '4.19..5.18.12' },
  kvm_zap_rmap: { presence: '6.1-rc7..7.1.5' },
  kvm_age_rmapp: { presence: '2.6.27..5.18.12' },
  kvm_age_rmap: { presence: '6.1-rc7' },
  kvm_test_age_rmapp: { presence: '3.10.65..5.18.12' },
  kvm_test_age_rmap: { presence: '6.1-rc7' },
  kvm_rmap_age_gfn_range: { presence: '6.19..7.1.5' },
  kvm_inc_notifier_count: { presence: '5.15.24..5.18.12' },
  kvm_dec_notifier_count: { presence: '5.15.24..5.18.12' },
  kvm_mmu_invalidate_begin: { presence: '6.1-rc7..7.1.5' },
  kvm_mmu_invalidate_end: { presence: '6.1-rc7..7.1.5' },
  mmu_notifier_retry: { presence: '2.6.27..5.18.12' },
  mmu_invalidate_retry: { presence: '6.1-rc7..7.1.5' },
  mmu_notifier_retry_hva: { presence: '5.12.9..5.18.12' },
  mmu_invalidate_retry_hva: { presence: '6.1-rc7' },
  mmu_invalidate_retry_gfn: { presence: '6.19..7.1.5' },
  tdp_page_fault: { presence: '2.6.27..5.4.59' },
  kvm_tdp_page_fault: { presence: '5.10..7.1.5' },
  try_async_pf: { presence: '3.10.65..5.12.9' },
  kvm_faultin_pfn: { presence: '5.15.24..6.1-rc7' },
  kvm_mmu_faultin_pfn: { presence: '6.19..7.1.5' },
  __direct_map: { presence: '2.6.27..6.1-rc7' },
  direct_map: { presence: '6.19..7.1.5' },
  kvm_tdp_mmu_get_vcpu_root_hpa: { presence: '5.10..6.1-rc7' },
  kvm_tdp_mmu_alloc_root: { presence: '6.19..7.1.5' },
  kvm_tdp_mmu_invalidate_all_roots: { presence: '5.15.24..6.1-rc7' },
  kvm_tdp_mmu_invalidate_roots: { presence: '6.19..7.1.5' },
  kvm_tdp_mmu_zap_gfn_range: { presence: '5.10..5.17-rc5' },
  kvm_tdp_mmu_zap_leafs: { presence: '5.18.12..7.1.5' },
  handle_removed_tdp_mmu_page: { presence: '5.12.9..5.17-rc5' },
  handle_removed_pt: { presence: '5.18.12..7.1.5' },
  for_each_tdp_mmu_root: { presence: '5.10..6.1-rc7' },
  __for_each_tdp_mmu_root: { presence: '6.19..7.1.5' },
  for_each_valid_tdp_mmu_root: { presence: '6.19..7.1.5' },
  kvm_reload_remote_mmus: { presence: '2.6.27..5.17-rc5' },
  kvm_make_all_cpus_request: { presence: '4.19..7.1.5' },
  make_all_cpus_request: { presence: '2.6.35.6..3.13.10' },
  kvm_mmu_new_cr3: { presence: '3.13.10..5.4.59' },
  kvm_mmu_new_pgd: { presence: '5.10..7.1.5' },
  kvm_mmu_pte_write: { presence: '2.6.27..6.1-rc7' },
  kvm_mmu_track_write: { presence: '6.19..7.1.5' },
  // the generic TLB flush and the arch hook it calls coexist: no era excludes either
  kvm_flush_remote_tlbs: { presence: ALL, eras: 'any' },
  kvm_arch_flush_remote_tlbs: { presence: '6.19..7.1.5', eras: 'any' },
  // mm (not in the KVM function index)
  swap_writepage: { presence: '2.6.27..6.1-rc7' },
  swap_writeout: { presence: '6.19..7.1.5' },
  // requests and SPTE values
  KVM_REQ_MMU_RELOAD: { presence: '2.6.27..5.17-rc5' },
  KVM_REQ_MMU_FREE_OBSOLETE_ROOTS: { presence: '5.18.12..7.1.5' },
  REMOVED_SPTE: { presence: '5.12.9..6.1-rc7' },
  FROZEN_SPTE: { presence: '6.19..7.1.5' },
  // fields
  mmu_notifier_seq: { presence: '2.6.27..5.18.12' },
  mmu_invalidate_seq: { presence: '6.1-rc7..7.1.5' },
  mmu_notifier_count: { presence: '2.6.27..5.18.12' },
  mmu_invalidate_in_progress: { presence: '6.1-rc7..7.1.5' },
  mmu_notifier_range_start: { presence: '5.12.9..5.18.12' },
  mmu_invalidate_range_start: { presence: '6.1-rc7..7.1.5' },
  mmu_notifier_range_end: { presence: '5.12.9..5.18.12' },
  mmu_invalidate_range_end: { presence: '6.1-rc7..7.1.5' },
  gfns: { presence: '2.6.27..5.18.12' },
  shadowed_translation: { presence: '6.1-rc7..7.1.5' },
  lpage_disallowed: { presence: '5.4.59..6.1-rc7' },
  nx_huge_page_disallowed: { presence: '6.19..7.1.5' },
  lpage_disallowed_mmu_pages: { presence: '5.4.59..6.1-rc7' },
  possible_nx_huge_pages: { presence: '6.19..7.1.5' },
  memslots_have_rmaps: { presence: '5.15.24' },
  shadow_root_allocated: { presence: '5.17-rc5..7.1.5' },
  write_count: { presence: '2.6.27..3.13.10' },
  disallow_lpage: { presence: '4.19..7.1.5' },
  root_hpa: { presence: '2.6.27..5.17-rc5' },
  root: { presence: '5.18.12..7.1.5' },
  n_alloc_mmu_pages: { presence: '2.6.27..2.6.35.6' },
  n_max_mmu_pages: { presence: '3.10.65..7.1.5' },
  n_free_mmu_pages: { presence: '2.6.27..2.6.35.6' },
  n_used_mmu_pages: { presence: '3.10.65..7.1.5' },
  tdp_mmu_async_work: { presence: '5.18.12..6.1-rc7' },
  tdp_mmu_scheduled_root_to_zap: { presence: '6.19..7.1.5' },
  // role bits; `direct` replaced `metaphysical` in 2.6.28, before the 2.6.34 era (first sampled in 2.6.35.6)
  metaphysical: { presence: '2.6.27' },
  direct: { presence: '2.6.35.6..7.1.5', eras: ['2.6.34', undefined] },
  cr4_pae: { presence: '2.6.35.6..4.19' },
  gpte_is_8_bytes: { presence: '5.2.1..5.15.24' },
  has_4_byte_gpte: { presence: '5.17-rc5..7.1.5' },
  nxe: { presence: '2.6.35.6..5.12.9' },
  efer_nx: { presence: '5.15.24..7.1.5' },
  // structs
  kvm_rmap_desc: { presence: '2.6.27..2.6.35.6' },
  kvm_pte_chain: { presence: '2.6.27..2.6.35.6' },
  pte_list_desc: { presence: '3.10.65..7.1.5' },
  parent_ptes: { presence: ALL },
};

/** The renames, oldest name first. */
export const RENAME_ROWS: readonly RenameRow[] = [
  // functions
  { old: 'kvm_mmu_zap_page', successors: ['kvm_mmu_prepare_zap_page', 'kvm_mmu_commit_zap_page', '__kvm_mmu_prepare_zap_page'], same: ['kvm_mmu_prepare_zap_page', '__kvm_mmu_prepare_zap_page'], since: '3.10.65', note: 'split into prepare + commit upstream in 2.6.36' },
  { old: 'mmu_unshadow', successors: ['kvm_mmu_unprotect_page'], same: ['kvm_mmu_unprotect_page'], since: '3.10.65', note: 'folded into kvm_mmu_unprotect_page; 6.19 uses kvm_mmu_unprotect_gfn_and_retry' },
  { old: 'kvm_mmu_unprotect_page', successors: ['kvm_mmu_unprotect_gfn_and_retry', '__kvm_mmu_unprotect_gfn_and_retry'], same: ['kvm_mmu_unprotect_gfn_and_retry', '__kvm_mmu_unprotect_gfn_and_retry'], since: '6.19', note: 'unprotect-and-retry helpers replace it' },
  { old: 'kvm_mmu_free_some_pages', successors: ['make_mmu_pages_available'], same: ['make_mmu_pages_available'], since: '3.10.65', note: 'mmu.h helper replaced' },
  { old: 'prepare_zap_oldest_mmu_page', successors: ['kvm_mmu_zap_oldest_mmu_pages'], same: ['kvm_mmu_zap_oldest_mmu_pages'], since: '5.10', note: 'one page at a time became a batch' },
  { old: 'mmu_shrink', successors: ['mmu_shrink_scan', 'mmu_shrink_count'], same: ['mmu_shrink_scan'], since: '3.13.10', note: 'shrinker API split; no MMU shrinker in 6.19' },
  { old: 'mmu_free_roots', successors: ['kvm_mmu_free_roots', 'mmu_free_root_page'], same: ['kvm_mmu_free_roots'], since: '4.19', note: 'arrived with the prev_roots cache' },
  { old: 'mmu_alloc_roots', successors: ['mmu_alloc_direct_roots', 'mmu_alloc_shadow_roots'], since: '3.10.65', note: 'direct and shadow root allocation split' },
  { old: 'kvm_mmu_invalidate_zap_all_pages', successors: ['kvm_mmu_zap_all_fast'], same: ['kvm_mmu_zap_all_fast'], since: '5.4.59', note: 'removed in 5.1/5.2, reintroduced for 5.3 as kvm_mmu_zap_all_fast' },
  { old: 'kvm_mmu_invalidate_zap_pages_in_memslot', successors: ['kvm_mmu_zap_memslot', 'kvm_arch_flush_shadow_memslot'], same: ['kvm_mmu_zap_memslot'], since: '6.19', note: 'memslot flush moved into mmu.c' },
  { old: 'kvm_mmu_get_page', successors: ['kvm_mmu_get_shadow_page', '__kvm_mmu_get_shadow_page', 'kvm_mmu_find_shadow_page'], same: ['kvm_mmu_get_shadow_page'], since: '6.1-rc7', note: 'find-or-allocate split into find + alloc helpers' },
  { old: 'kvm_mmu_alloc_page', successors: ['kvm_mmu_alloc_shadow_page'], same: ['kvm_mmu_alloc_shadow_page'], since: '6.1-rc7', note: 'renamed with the shadow-page helpers' },
  { old: 'kvm_mmu_free_page', successors: ['kvm_mmu_free_shadow_page'], same: ['kvm_mmu_free_shadow_page'], since: '6.1-rc7', note: 'renamed with the shadow-page helpers' },
  { old: 'mmu_parent_walk', successors: ['kvm_mmu_mark_parents_unsync', 'mark_unsync'], same: ['kvm_mmu_mark_parents_unsync'], since: '3.10.65', note: 'upward propagation became per-parent recursion' },
  { old: 'mmu_need_write_protect', successors: ['mmu_try_to_unsync_pages'], same: ['mmu_try_to_unsync_pages'], since: '5.15.24', note: 'called from SPTE construction' },
  { old: 'kvm_unmap_hva', successors: ['kvm_unmap_gfn_range'], same: ['kvm_unmap_gfn_range'], since: '5.15.24', note: 'hva-based arch hooks became gfn-range hooks' },
  { old: 'kvm_unmap_hva_range', successors: ['kvm_unmap_gfn_range'], same: ['kvm_unmap_gfn_range'], since: '5.15.24', note: 'memslot walk moved to generic code' },
  { old: 'kvm_age_hva', successors: ['kvm_age_gfn'], same: ['kvm_age_gfn'], since: '5.15.24', note: 'the tracepoint keeps the old name' },
  { old: 'kvm_test_age_hva', successors: ['kvm_test_age_gfn'], same: ['kvm_test_age_gfn'], since: '5.15.24', note: 'gfn-range arch hook' },
  { old: 'kvm_handle_hva', successors: ['kvm_handle_hva_range', 'kvm_handle_gfn_range'], same: ['kvm_handle_hva_range'], since: '5.15.24', note: 'generic notifier engine in kvm_main.c' },
  { old: 'kvm_unmap_rmapp', successors: ['kvm_zap_rmap'], same: ['kvm_zap_rmap'], since: '6.1-rc7', note: 'rmap handler renamed' },
  { old: 'kvm_zap_rmapp', successors: ['kvm_zap_rmap'], same: ['kvm_zap_rmap'], since: '6.1-rc7', note: 'rmap handler renamed' },
  { old: 'kvm_age_rmapp', successors: ['kvm_age_rmap', 'kvm_rmap_age_gfn_range'], same: ['kvm_age_rmap', 'kvm_rmap_age_gfn_range'], since: '6.1-rc7', note: '6.19 ages locklessly through kvm_rmap_age_gfn_range' },
  { old: 'kvm_test_age_rmapp', successors: ['kvm_test_age_rmap', 'kvm_rmap_age_gfn_range'], same: ['kvm_test_age_rmap'], since: '6.1-rc7', note: '6.19 folds it into kvm_rmap_age_gfn_range' },
  { old: 'kvm_age_rmap', successors: ['kvm_rmap_age_gfn_range'], same: ['kvm_rmap_age_gfn_range'], since: '6.19', note: 'lockless aging (6.15)' },
  { old: 'kvm_inc_notifier_count', successors: ['kvm_mmu_invalidate_begin'], same: ['kvm_mmu_invalidate_begin'], since: '6.1-rc7', note: 'upstream 6.1 rename' },
  { old: 'kvm_dec_notifier_count', successors: ['kvm_mmu_invalidate_end'], same: ['kvm_mmu_invalidate_end'], since: '6.1-rc7', note: 'upstream 6.1 rename' },
  { old: 'mmu_notifier_seq', successors: ['mmu_invalidate_seq'], same: ['mmu_invalidate_seq'], struct: 'kvm', since: '6.1-rc7', note: 'upstream 6.1 rename of struct kvm fields' },
  { old: 'mmu_notifier_count', successors: ['mmu_invalidate_in_progress'], same: ['mmu_invalidate_in_progress'], struct: 'kvm', since: '6.1-rc7', note: 'upstream 6.1 rename of struct kvm fields' },
  { old: 'mmu_notifier_range_start', successors: ['mmu_invalidate_range_start'], same: ['mmu_invalidate_range_start'], struct: 'kvm', since: '6.1-rc7', note: 'hva until 6.1; gfn in 6.19' },
  { old: 'mmu_notifier_range_end', successors: ['mmu_invalidate_range_end'], same: ['mmu_invalidate_range_end'], struct: 'kvm', since: '6.1-rc7', note: 'hva until 6.1; gfn in 6.19' },
  { old: 'mmu_notifier_retry', successors: ['mmu_invalidate_retry'], same: ['mmu_invalidate_retry'], since: '6.1-rc7', note: 'static inline in kvm_host.h' },
  { old: 'mmu_notifier_retry_hva', successors: ['mmu_invalidate_retry_hva', 'mmu_invalidate_retry_gfn'], same: ['mmu_invalidate_retry_hva', 'mmu_invalidate_retry_gfn'], since: '6.1-rc7', note: 'range-aware retry; gfn-based in 6.19' },
  { old: 'mmu_invalidate_retry_hva', successors: ['mmu_invalidate_retry_gfn'], same: ['mmu_invalidate_retry_gfn'], since: '6.19', note: 'the tracked range became gfn-based' },
  { old: 'tdp_page_fault', successors: ['kvm_tdp_page_fault'], same: ['kvm_tdp_page_fault'], since: '5.10', note: 'also kvm_tdp_mmu_page_fault in 6.19' },
  { old: 'try_async_pf', successors: ['kvm_faultin_pfn'], same: ['kvm_faultin_pfn'], since: '5.15.24', note: 'the async-fault attempt became the pfn fault-in step' },
  { old: 'kvm_faultin_pfn', successors: ['kvm_mmu_faultin_pfn'], same: ['kvm_mmu_faultin_pfn'], since: '6.19', note: 'now also snapshots the sequence' },
  { old: '__direct_map', successors: ['direct_map'], same: ['direct_map'], since: '6.19', note: 'renamed' },
  { old: 'kvm_tdp_mmu_get_vcpu_root_hpa', successors: ['kvm_tdp_mmu_alloc_root'], same: ['kvm_tdp_mmu_alloc_root'], since: '6.19', note: 'root lookup now runs under the read lock' },
  { old: 'kvm_tdp_mmu_invalidate_all_roots', successors: ['kvm_tdp_mmu_invalidate_roots'], same: ['kvm_tdp_mmu_invalidate_roots'], since: '6.19', note: 'takes a root-type mask' },
  { old: 'kvm_tdp_mmu_zap_gfn_range', successors: ['kvm_tdp_mmu_zap_leafs'], same: ['kvm_tdp_mmu_zap_leafs'], since: '5.18.12', note: 'zaps leaf SPTEs only' },
  { old: 'handle_removed_tdp_mmu_page', successors: ['handle_removed_pt'], same: ['handle_removed_pt'], since: '5.18.12', note: 'renamed' },
  { old: 'for_each_tdp_mmu_root', successors: ['__for_each_tdp_mmu_root', 'for_each_valid_tdp_mmu_root'], same: ['__for_each_tdp_mmu_root'], since: '6.19', note: 'non-yielding root walk split by root type' },
  { old: 'kvm_reload_remote_mmus', successors: ['kvm_make_all_cpus_request', 'KVM_REQ_MMU_FREE_OBSOLETE_ROOTS'], since: '5.18.12', note: 'open-coded request in 5.18' },
  { old: 'KVM_REQ_MMU_RELOAD', successors: ['KVM_REQ_MMU_FREE_OBSOLETE_ROOTS'], same: ['KVM_REQ_MMU_FREE_OBSOLETE_ROOTS'], since: '5.18.12', note: 'reload of all roots replaced by freeing only obsolete roots' },
  { old: 'make_all_cpus_request', successors: ['kvm_make_all_cpus_request'], same: ['kvm_make_all_cpus_request'], since: '4.19', note: 'exported with a kvm_ prefix' },
  { old: 'kvm_mmu_new_cr3', successors: ['kvm_mmu_new_pgd'], same: ['kvm_mmu_new_pgd'], since: '5.10', note: 'named after the guest page-table root, not the register' },
  { old: 'kvm_mmu_pte_write', successors: ['kvm_mmu_track_write'], same: ['kvm_mmu_track_write'], since: '6.19', note: 'write-tracking hook renamed' },
  { old: 'kvm_flush_remote_tlbs', successors: ['kvm_arch_flush_remote_tlbs'], same: ['kvm_arch_flush_remote_tlbs'], since: '6.19', note: 'generic flush and its arch hook; both exist', hover: false },
  { old: 'swap_writepage', successors: ['swap_writeout'], same: ['swap_writeout'], since: '6.19', note: 'mm: swap-out write path renamed (6.16)', hover: false },
  { old: 'REMOVED_SPTE', successors: ['FROZEN_SPTE'], same: ['FROZEN_SPTE'], since: '6.19', note: 'renamed (presence approximate)' },
  // fields
  { old: 'gfns', successors: ['shadowed_translation'], same: ['shadowed_translation'], struct: 'kvm_mmu_page', since: '6.1-rc7', note: 'now also stores access bits' },
  { old: 'lpage_disallowed', successors: ['nx_huge_page_disallowed'], same: ['nx_huge_page_disallowed'], struct: 'kvm_mmu_page', since: '6.19', note: 'NX huge page mitigation field renamed' },
  { old: 'lpage_disallowed_mmu_pages', successors: ['possible_nx_huge_pages'], same: ['possible_nx_huge_pages'], struct: 'kvm_arch', since: '6.19', note: 'NX recovery list renamed' },
  { old: 'memslots_have_rmaps', successors: ['shadow_root_allocated'], same: ['shadow_root_allocated'], struct: 'kvm_arch', since: '5.17-rc5', note: 'renamed' },
  { old: 'write_count', successors: ['disallow_lpage'], same: ['disallow_lpage'], struct: 'kvm_lpage_info', since: '4.19', note: 'lpage_info counter renamed' },
  { old: 'root_hpa', successors: ['root'], same: ['root'], struct: 'kvm_mmu', qualifiedOnly: true, since: '5.18.12', note: 'now struct kvm_mmu_root_info {pgd, hpa}' },
  { old: 'n_alloc_mmu_pages', successors: ['n_max_mmu_pages'], same: ['n_max_mmu_pages'], struct: 'kvm_arch', since: '3.10.65', note: '2.6-era limit' },
  { old: 'n_free_mmu_pages', successors: ['n_used_mmu_pages'], same: ['n_used_mmu_pages'], struct: 'kvm_arch', since: '3.10.65', note: '2.6-era headroom counter (free = alloc - used)' },
  { old: 'tdp_mmu_async_work', successors: ['tdp_mmu_scheduled_root_to_zap'], same: ['tdp_mmu_scheduled_root_to_zap'], since: '6.19', note: 'asynchronous root zapping gave way to a scheduled-zap flag', hover: false },
  // role bits
  { old: 'cr4_pae', successors: ['gpte_is_8_bytes', 'has_4_byte_gpte'], same: ['gpte_is_8_bytes', 'has_4_byte_gpte'], struct: 'kvm_mmu_page_role', qualifiedOnly: true, since: '5.2.1', note: 'role bit renamed, later inverted' },
  { old: 'gpte_is_8_bytes', successors: ['has_4_byte_gpte'], same: ['has_4_byte_gpte'], struct: 'kvm_mmu_page_role', qualifiedOnly: true, since: '5.17-rc5', note: 'inverted sense' },
  { old: 'nxe', successors: ['efer_nx'], same: ['efer_nx'], struct: 'kvm_mmu_page_role', qualifiedOnly: true, since: '5.15.24', note: 'role bit renamed' },
  { old: 'metaphysical', successors: ['direct'], same: ['direct'], struct: 'kvm_mmu_page_role', qualifiedOnly: true, since: '2.6.35.6', note: 'role bit renamed (2.6.28 era)' },
  // structs
  { old: 'kvm_rmap_desc', successors: ['pte_list_desc'], same: ['pte_list_desc'], since: '3.10.65', note: 'rmap descriptor renamed and shared with parent_ptes' },
  { old: 'kvm_pte_chain', successors: ['parent_ptes', 'pte_list_desc'], same: ['pte_list_desc'], since: '3.10.65', note: 'parent chains now use the rmap encoding' },
];

/** Sampled presence of a name of the table (throws for a name the table does not know). */
export function presenceOf(name: string): string {
  const info = NAMES[name];
  if (!info) throw new Error(`renames: no presence for ${name}`);
  return info.presence;
}

/** [from, to] engine-era range in which `name` is current (undefined ends are open); see the rule above. */
export function eraRangeOf(name: string): readonly [EraId | undefined, EraId | undefined] {
  const info = NAMES[name];
  if (!info || info.eras === 'any') return [undefined, undefined];
  if (info.eras) return info.eras;
  const labels = new Set<string>(presenceToLabels(info.presence));
  const eras: EraId[] = [];
  let newest: EraId | undefined; // newest era of any earlier sample
  for (const l of SAMPLE_LABELS) {
    const era = eraForVersion(l);
    if (newest && eraKey(era) < eraKey(newest)) continue; // sample maps back to an older era (5.2.1)
    newest = era;
    if (labels.has(l)) eras.push(era);
  }
  if (!eras.length) return [undefined, undefined];
  const open = (l: string): boolean => labels.has(l);
  return [open(SAMPLE_LABELS[0]) ? undefined : eras[0], open(SAMPLE_LABELS[SAMPLE_LABELS.length - 1]!) ? undefined : eras[eras.length - 1]];
}

/** Problems with the table itself (names without presence, unparseable presence, bad `since`/`same`). */
export function validateTable(): string[] {
  const errors: string[] = [];
  for (const [name, info] of Object.entries(NAMES)) {
    try {
      presenceToLabels(info.presence);
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message}`);
    }
  }
  for (const r of RENAME_ROWS) {
    for (const n of [r.old, ...r.successors]) if (!NAMES[n]) errors.push(`${r.old}: ${n} has no presence in NAMES`);
    for (const s of r.same ?? []) if (!r.successors.includes(s)) errors.push(`${r.old}: same-name ${s} is not a successor`);
    if (!(SAMPLE_LABELS as readonly string[]).includes(r.since)) errors.push(`${r.old}: since "${r.since}" is not a sample label`);
  }
  return errors;
}
