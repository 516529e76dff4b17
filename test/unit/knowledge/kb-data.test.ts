// Knowledge-base checks: entries are complete, every function/macro they name exists in the function index for
// exactly the versions they claim, every invariant ID is in the catalogue, aliases agree with the index.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ALL_ENTRIES, ENTRY_FILES, EXTERNAL_FUNCTIONS, INVARIANTS, INVARIANT_IDS, RENAMES, INDEX_KEYS, SAMPLE_LABELS,
  countByKind, entriesNamed, labelsToPresence, presenceToLabels, type KnowledgeEntry, type SampleLabel,
} from '../../../src/knowledge/index';
import { validateRenames } from '../../../src/knowledge/aliases';

// out-dir/test/unit/knowledge → repo root is four levels up from the compiled file.
const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
const indexPath = path.resolve(repoRoot, '..', 'shared', 'domain', 'kvm-function-index.json');

type FunctionIndex = Record<string, Record<string, string[]>>;
function loadIndex(): FunctionIndex {
  if (!fs.existsSync(indexPath)) {
    assert.fail(`kvm-function-index.json is missing: expected it at ${indexPath} (../shared/domain relative to the repo root). The knowledge-base checks cannot run without it.`);
  }
  return JSON.parse(fs.readFileSync(indexPath, 'utf8')) as FunctionIndex;
}

/** name → set of labels where it is defined (functions and #macros). */
function presenceMap(index: FunctionIndex): Map<string, Set<SampleLabel>> {
  const m = new Map<string, Set<SampleLabel>>();
  for (const label of SAMPLE_LABELS) {
    const files = index[INDEX_KEYS[label]];
    assert.ok(files, `index has no key ${INDEX_KEYS[label]} for ${label}`);
    for (const names of Object.values(files)) for (const n of names) {
      let s = m.get(n);
      if (!s) m.set(n, (s = new Set()));
      s.add(label);
    }
  }
  return m;
}

const REQUIRED_KINDS = ['function', 'macro', 'vm-field', 'sp-field', 'role-bit', 'vcpu-field', 'rmap', 'request', 'notifier', 'spte-bit', 'stat'] as const;
const SEEDS = new Set(['fast-zap-2013', 'unsync-zap-2010', 'obsolete-roots-2022', 'notifiers-2008', 'fast-aging-2024', 'none']);

test('at least 150 entries, covering every required kind', () => {
  assert.ok(ALL_ENTRIES.length >= 150, `only ${ALL_ENTRIES.length} entries`);
  const counts = countByKind();
  for (const k of REQUIRED_KINDS) assert.ok((counts[k] ?? 0) > 0, `no entry of kind ${k}`);
});

test('every entry has the required parts', () => {
  const problems: string[] = [];
  for (const [file, entries] of Object.entries(ENTRY_FILES)) {
    for (const e of entries as KnowledgeEntry[]) {
      const where = `${file}:${e.name}`;
      if (!e.name || !/^[A-Za-z_][A-Za-z0-9_]*(\([A-Za-z0-9_]+\))?$/.test(e.name)) problems.push(`${where}: bad name`);
      if (!e.summary || e.summary.length < 15) problems.push(`${where}: summary missing/too short`);
      if (!e.protectedBy) problems.push(`${where}: protectedBy missing`);
      if (!Array.isArray(e.invariants)) problems.push(`${where}: invariants missing`);
      if (!Array.isArray(e.seeds) || e.seeds.length === 0) problems.push(`${where}: seeds missing`);
      for (const s of e.seeds ?? []) if (!SEEDS.has(s)) problems.push(`${where}: unknown seed ${s}`);
      if (!e.history?.presence || !e.history.file) problems.push(`${where}: history.presence/file missing`);
      else {
        try {
          presenceToLabels(e.history.presence);
        } catch (err) {
          problems.push(`${where}: ${(err as Error).message}`);
        }
      }
      const rel = (e.callers?.length ?? 0) + (e.callees?.length ?? 0) + (e.users?.length ?? 0);
      if ((e.kind === 'function' || e.kind === 'macro') && rel === 0 && e.invariants.length === 0) problems.push(`${where}: function with neither relations nor invariants`);
      for (const n of [...(e.history.oldNames ?? []), ...(e.history.newNames ?? [])]) {
        const v = n.until ?? n.since;
        if (v && !(SAMPLE_LABELS as readonly string[]).includes(v)) problems.push(`${where}: rename version ${v} is not a sample label`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('names are unique within a kind', () => {
  const seen = new Set<string>();
  const dups: string[] = [];
  for (const e of ALL_ENTRIES) {
    const k = `${e.kind}:${e.name}`;
    if (seen.has(k)) dups.push(k);
    seen.add(k);
  }
  assert.deepEqual(dups, []);
});

test('every invariant ID used by an entry exists in the catalogue', () => {
  const unknown = ALL_ENTRIES.flatMap((e) => e.invariants.filter((id) => !INVARIANT_IDS.has(id)).map((id) => `${e.name}: ${id}`));
  assert.deepEqual(unknown, []);
});

test('invariant catalogue has exactly the IDs of domain §10 with the sub-IDs of §5.5/§6.4/§7.5/§8.4/§9.5', () => {
  const expected = [
    'RM-1', 'RM-2', 'RM-3', 'RM-4', 'LP-1', 'HS-1', 'AL-1', 'IT-1', 'ZC-1', 'ZC-2', 'FR-1', 'TL-1', 'TL-2',
    ...[1, 2, 3, 4, 5, 6, 7, 8].map((i) => `RT-${i}`), ...[1, 2, 3, 4, 5, 6].map((i) => `FZ-${i}`),
    ...[1, 2, 3, 4, 5].map((i) => `US-${i}`), ...[1, 2, 3, 4, 5, 6].map((i) => `MN-${i}`), ...[1, 2, 3, 4, 5].map((i) => `AG-${i}`), 'LK-1',
  ];
  assert.deepEqual([...INVARIANTS.map((i) => i.id)].sort(), expected.sort());
  for (const inv of INVARIANTS) {
    assert.ok(inv.text.length > 20 && !inv.text.includes('\n'), `${inv.id}: one-line explanation expected`);
    assert.ok(inv.title, `${inv.id}: title`);
  }
});

test('every invariant is referenced by at least one entry', () => {
  const used = new Set(ALL_ENTRIES.flatMap((e) => e.invariants));
  assert.deepEqual(INVARIANTS.map((i) => i.id).filter((id) => !used.has(id)), []);
});

test('functions and macros exist in kvm-function-index.json for exactly the versions they claim', () => {
  const pm = presenceMap(loadIndex());
  const problems: string[] = [];
  let checked = 0;
  for (const e of ALL_ENTRIES) {
    if (e.kind !== 'function' && e.kind !== 'macro') continue;
    if (e.history.indexed === false) {
      if (pm.has(e.name)) problems.push(`${e.name}: marked not indexed but the index has it`);
      continue;
    }
    const actual = pm.get(e.name);
    if (!actual) {
      problems.push(`${e.name}: not in the index`);
      continue;
    }
    checked++;
    const claimed = presenceToLabels(e.history.presence);
    const missing = claimed.filter((l) => !actual.has(l));
    if (missing.length) problems.push(`${e.name}: claimed in ${missing.join(', ')} but absent there`);
    const extra = [...actual].filter((l) => !claimed.includes(l));
    if (extra.length) problems.push(`${e.name}: present in ${extra.join(', ')} but not claimed (index says ${labelsToPresence(actual)})`);
  }
  assert.deepEqual(problems, []);
  assert.ok(checked >= 100, `only ${checked} indexed functions/macros checked`);
});

test('functions named as callers/callees/users exist in the index or the knowledge base', () => {
  const pm = presenceMap(loadIndex());
  const problems: string[] = [];
  for (const e of ALL_ENTRIES) {
    for (const n of [...(e.callers ?? []), ...(e.callees ?? []), ...(e.users ?? [])]) {
      if (pm.has(n)) continue;
      if (entriesNamed(n).length) continue;
      if (EXTERNAL_FUNCTIONS.some((x) => x.name === n)) continue;
      problems.push(`${e.name} → ${n}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('renamed function names (oldNames/newNames) exist in the index in the version they name', () => {
  const pm = presenceMap(loadIndex());
  const problems: string[] = [];
  for (const e of ALL_ENTRIES) {
    if (e.kind !== 'function' && e.kind !== 'macro') continue;
    for (const o of e.history.oldNames ?? []) {
      const p = pm.get(o.name);
      if (!p) {
        if (e.history.indexed === false) continue; // inline helpers in kvm_host.h are not indexed
        problems.push(`${e.name}: old name ${o.name} not in the index`);
      } else if (o.until && !p.has(o.until as SampleLabel)) problems.push(`${e.name}: old name ${o.name} absent in ${o.until}`);
    }
    for (const n of e.history.newNames ?? []) {
      const p = pm.get(n.name);
      if (!p) continue; // successor may be a request or a non-indexed name
      if (n.since && !p.has(n.since as SampleLabel)) problems.push(`${e.name}: new name ${n.name} absent in ${n.since}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('alias table: presences parse, and agree with the index for indexed names', () => {
  assert.deepEqual(validateRenames(), []);
  const pm = presenceMap(loadIndex());
  const problems: string[] = [];
  for (const r of RENAMES) {
    const p = pm.get(r.old);
    if (p && labelsToPresence(p) !== labelsToPresence(presenceToLabels(r.oldPresence))) problems.push(`${r.old}: table ${r.oldPresence}, index ${labelsToPresence(p)}`);
    if (!r.successors.some((s) => entriesNamed(s).length || pm.has(s))) problems.push(`${r.old}: no successor is known`);
  }
  assert.deepEqual(problems, []);
});

test('the knowledge base covers the seed identifiers of the issue and every §11 function', () => {
  for (const n of ['kvm_mmu_zap_all_fast', 'mmu_valid_gen', 'tdp_mmu_root_count', 'KVM_REQ_MMU_FREE_OBSOLETE_ROOTS', 'pte_list_desc']) {
    assert.ok(entriesNamed(n).length, `missing ${n}`);
  }
  const section11 = [
    'kvm_mmu_zap_all_fast', 'kvm_mmu_invalidate_zap_all_pages', 'kvm_zap_obsolete_pages', 'is_obsolete_sp', 'is_obsolete_root', 'kvm_mmu_free_obsolete_roots',
    'kvm_mmu_free_roots', 'mmu_free_roots', 'mmu_free_root_page', '__kvm_mmu_prepare_zap_page', 'kvm_mmu_prepare_zap_page', 'kvm_mmu_commit_zap_page', 'kvm_mmu_zap_page',
    'mmu_zap_unsync_children', 'kvm_mmu_page_unlink_children', 'mmu_page_zap_pte', 'kvm_mmu_zap_oldest_mmu_pages', 'prepare_zap_oldest_mmu_page', 'make_mmu_pages_available',
    'kvm_mmu_change_mmu_pages', 'kvm_mmu_zap_all', 'kvm_mmu_zap_memslot', 'kvm_mmu_load', 'kvm_mmu_unload', 'mmu_alloc_direct_roots', 'mmu_alloc_shadow_roots',
    'kvm_mmu_get_shadow_page', 'kvm_mmu_get_page', 'kvm_mmu_mark_parents_unsync', 'mmu_try_to_unsync_pages', 'rmap_add', 'pte_list_add', 'pte_list_remove', 'kvm_zap_rmap',
    'kvm_unmap_gfn_range', 'kvm_age_gfn', 'kvm_test_age_gfn', 'kvm_rmap_age_gfn_range', 'kvm_handle_gfn_range', 'kvm_handle_hva_range', 'kvm_mmu_invalidate_begin',
    'kvm_mmu_invalidate_end', 'mmu_invalidate_retry', 'mmu_invalidate_retry_gfn', 'mmu_invalidate_retry_gfn_unsafe', 'kvm_faultin_pfn', 'kvm_mmu_faultin_pfn',
    'is_page_fault_stale', 'direct_page_fault', 'kvm_tdp_mmu_map', 'kvm_tdp_mmu_alloc_root', 'kvm_tdp_mmu_get_vcpu_root_hpa', 'kvm_tdp_mmu_get_root', 'kvm_tdp_mmu_put_root',
    'tdp_mmu_next_root', 'kvm_tdp_mmu_invalidate_all_roots', 'kvm_tdp_mmu_invalidate_roots', 'kvm_tdp_mmu_zap_invalidated_roots', 'kvm_tdp_mmu_zap_all',
    'kvm_tdp_mmu_zap_leafs', 'kvm_tdp_mmu_unmap_gfn_range', 'kvm_tdp_mmu_age_gfn_range', 'kvm_flush_remote_tlbs', 'kvm_make_all_cpus_request', 'kvm_reload_remote_mmus',
  ];
  assert.deepEqual(section11.filter((n) => !entriesNamed(n).some((e) => e.kind === 'function')), []);
  // notifier sequence fields with old and new names
  for (const [oldN, newN] of [['mmu_notifier_seq', 'mmu_invalidate_seq'], ['mmu_notifier_count', 'mmu_invalidate_in_progress']] as const) {
    const e = entriesNamed(newN)[0];
    assert.ok(e?.history.oldNames?.some((o) => o.name === oldN), `${newN} must record old name ${oldN}`);
  }
});

test('explanations quote no kernel code (no C statements or comment markers)', () => {
  const bad = ALL_ENTRIES.filter((e) => /\/\*|\*\/|;\s*$|\{\s*$|^\s*#define/m.test(`${e.summary}\n${e.details ?? ''}\n${e.misuse ?? ''}`));
  assert.deepEqual(bad.map((e) => e.name), []);
});
