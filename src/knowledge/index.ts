/**
 * The knowledge base: entries loaded from the JSON data files, indexed by name, with alias resolution.
 * Pure module (no `vscode`).
 */
import type { EntryKind, InvariantDef, KnowledgeEntry } from './types';
import { renamesFrom, renamesTo, type Rename } from './aliases';
import functions from './entries/functions.json';
import macros from './entries/macros.json';
import vmFields from './entries/vm-fields.json';
import spFields from './entries/sp-fields.json';
import roles from './entries/roles.json';
import vcpuFields from './entries/vcpu-fields.json';
import rmap from './entries/rmap.json';
import requests from './entries/requests.json';
import notifier from './entries/notifier.json';
import spteBits from './entries/spte-bits.json';
import stats from './entries/stats.json';
import locks from './entries/locks.json';
import invariantData from './invariants.json';
import externalData from './external.json';

export * from './types';
export { RENAMES, renamesFrom, renamesTo, successorChain } from './aliases';
export * from './versions';

/** Every data file, by name (for tests and tooling). */
export const ENTRY_FILES: Record<string, readonly KnowledgeEntry[]> = {
  'functions.json': functions as KnowledgeEntry[],
  'macros.json': macros as KnowledgeEntry[],
  'vm-fields.json': vmFields as KnowledgeEntry[],
  'sp-fields.json': spFields as KnowledgeEntry[],
  'roles.json': roles as KnowledgeEntry[],
  'vcpu-fields.json': vcpuFields as KnowledgeEntry[],
  'rmap.json': rmap as KnowledgeEntry[],
  'requests.json': requests as KnowledgeEntry[],
  'notifier.json': notifier as KnowledgeEntry[],
  'spte-bits.json': spteBits as KnowledgeEntry[],
  'stats.json': stats as KnowledgeEntry[],
  'locks.json': locks as KnowledgeEntry[],
};

export const ALL_ENTRIES: readonly KnowledgeEntry[] = Object.values(ENTRY_FILES).flat();
/** Functions named as callers/callees that live in files the function index does not cover. */
export const EXTERNAL_FUNCTIONS: readonly { name: string; file: string; why: string }[] = externalData;

export const INVARIANTS: readonly InvariantDef[] = invariantData as InvariantDef[];
export const INVARIANT_IDS: ReadonlySet<string> = new Set(INVARIANTS.map((i) => i.id));
const invById = new Map(INVARIANTS.map((i) => [i.id, i]));
export function invariant(id: string): InvariantDef | undefined {
  return invById.get(id);
}

const byName = new Map<string, KnowledgeEntry[]>();
for (const e of ALL_ENTRIES) {
  const list = byName.get(e.name);
  if (list) list.push(e);
  else byName.set(e.name, [e]);
}

/** Entries with exactly this name (several when a name is both a VM field and a page field). */
export function entriesNamed(name: string): readonly KnowledgeEntry[] {
  return byName.get(name) ?? [];
}

export function countByKind(): Record<EntryKind, number> {
  const out = {} as Record<EntryKind, number>;
  for (const e of ALL_ENTRIES) out[e.kind] = (out[e.kind] ?? 0) + 1;
  return out;
}

/** Scenario op names (src/engine/api.ts `Op`) → the kernel entry point they drive. */
export const SCENARIO_OP_TARGETS: Readonly<Record<string, string>> = {
  page_fault: 'kvm_mmu_page_fault',
  guest_pt_write: 'kvm_mmu_pte_write',
  load_cr3: 'kvm_mmu_new_pgd',
  enter_guest: 'vcpu_enter_guest',
  memslot_delete: 'kvm_arch_flush_shadow_memslot',
  memslot_move: 'kvm_arch_flush_shadow_memslot',
  zap_all_fast: 'kvm_mmu_zap_all_fast',
  zap_all: 'kvm_mmu_zap_all',
  change_mmu_pages: 'kvm_mmu_change_mmu_pages',
  unprotect_page: 'kvm_mmu_unprotect_page',
  zap_gfn_range: 'kvm_zap_gfn_range',
  set_nx_huge_pages: 'set_nx_huge_pages',
  invalidate_range_start: 'kvm_mmu_notifier_invalidate_range_start',
  invalidate_range_end: 'kvm_mmu_notifier_invalidate_range_end',
  invalidate_page: 'kvm_mmu_notifier_invalidate_page',
  clear_flush_young: 'kvm_mmu_notifier_clear_flush_young',
  clear_young: 'kvm_mmu_notifier_clear_young',
  test_young: 'kvm_mmu_notifier_test_young',
};

export type Resolution =
  | { via: 'direct'; word: string; entries: readonly KnowledgeEntry[]; renamedTo: Rename[]; renamedFrom: Rename[] }
  | { via: 'alias'; word: string; entries: readonly KnowledgeEntry[]; rename: Rename }
  | { via: 'scenario-op'; word: string; entries: readonly KnowledgeEntry[]; op: string };

/**
 * Resolve a hovered word: the entry of that name, else through the rename table (old → successor),
 * else (scenario files) an op name → its kernel entry point. `FNAME(x)` words resolve as-is.
 */
export function resolve(word: string, opts: { scenario?: boolean } = {}): Resolution | undefined {
  const direct = byName.get(word);
  if (direct) return { via: 'direct', word, entries: direct, renamedTo: renamesFrom(word), renamedFrom: renamesTo(word) };
  for (const r of renamesFrom(word)) {
    for (const s of r.successors) {
      const e = byName.get(s);
      if (e) return { via: 'alias', word, entries: e, rename: r };
    }
  }
  if (opts.scenario) {
    const target = SCENARIO_OP_TARGETS[word];
    const e = target ? byName.get(target) : undefined;
    if (e) return { via: 'scenario-op', word, entries: e, op: word };
  }
  return undefined;
}
