import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { hoverFor, wordAt, buildLiveValues, HOVER_COMMANDS, type LiveValues } from '../../../src/knowledge/hover';
import type { ShadowPageView, StateView, StepRecord } from '../../../src/engine/api';

function page(id: number, extra: Partial<ShadowPageView> = {}): ShadowPageView {
  return {
    id, gfn: id * 0x10, role: {}, roleWord: '0x0', level: 1, tdp: false, unsync: false, unsyncChildren: 0, unsyncChildBitmap: [],
    rootCount: 0, mmuValidGen: 0, obsolete: false, invalid: false, lifetime: 'live', parentPtes: [], sptes: [], onActiveList: true, inHash: true, ...extra,
  };
}

function state(): StateView {
  return {
    era: '6.19', mmu: 'shadow', step: 7,
    vm: {
      mmu_valid_gen: 1, active_mmu_pages: [4, 3, 2, 1], zapped_obsolete_pages: [], tdp_mmu_roots: [9], n_used_mmu_pages: 4, n_max_mmu_pages: 64,
      mmu_invalidate_seq: 3, mmu_invalidate_in_progress: 1, mmu_invalidate_range: [0x100, 0x200], indirect_shadow_pages: 2,
      mmu_lock: { type: 'rwlock', holders: [{ thread: 'ioctl', mode: 'write' }] }, stats: { mmu_shadow_zapped: 5 }, names: { mmu_invalidate_seq: 'mmu_invalidate_seq' },
    },
    vcpus: [
      { id: 0, root: 'sp#1', prevRoots: [null, null, null], guestMode: false, inGuest: false, requests: ['KVM_REQ_MMU_FREE_OBSOLETE_ROOTS'], tlb: [], modeBits: {} },
      { id: 1, root: 'sp#4', prevRoots: ['sp#2', null, null], guestMode: false, inGuest: true, requests: [], tlb: [], modeBits: {} },
      { id: 2, root: null, prevRoots: [null, null, null], guestMode: false, inGuest: false, requests: ['KVM_REQ_TLB_FLUSH', 'KVM_REQ_MMU_FREE_OBSOLETE_ROOTS'], tlb: [], modeBits: {} },
    ],
    shadowPages: [
      page(1, { mmuValidGen: 0, obsolete: true, rootCount: 1, level: 4 }),
      page(2, { mmuValidGen: 0, obsolete: true }),
      page(3, { mmuValidGen: 0, obsolete: true, invalid: true, lifetime: 'invalid-list', onActiveList: false }),
      page(4, { mmuValidGen: 1, rootCount: 2, level: 4 }),
      page(5, { mmuValidGen: 0, lifetime: 'freed' }),
      page(9, { tdp: true, rootCount: 2, invalid: true, level: 4 }),
    ],
    memslots: [{ id: 0, baseGfn: 0, npages: 16, hva: 0x7000, rmaps: [
      { slot: 0, level: 1, gfn: 1, head: '0xffff1000', sptes: ['0xffff1000'], descs: [] },
      { slot: 0, level: 1, gfn: 2, head: 'desc|1', sptes: ['a', 'b', 'c'], descs: [['a', 'b', 'c']] },
    ], lpageDisallow: [] }],
    host: { ptes: [], pages: [] },
    threads: [],
  };
}

function step(index: number, fns: string[]): StepRecord {
  return {
    index, thread: 'ioctl', opIndex: 0, op: { op: 'zap_all_fast' }, stoppedAt: 'x', stack: [], violations: [],
    events: fns.map((fn) => ({ kind: 'call' as const, thread: 'ioctl', depth: 0, frame: { fn, file: 'arch/x86/kvm/mmu/mmu.c' } })),
  };
}

function live(): LiveValues {
  const history = [step(0, ['kvm_mmu_zap_all_fast']), step(1, ['kvm_zap_obsolete_pages']), step(2, ['kvm_zap_obsolete_pages', '__kvm_mmu_prepare_zap_page']), step(3, [])];
  return buildLiveValues(state(), history, history.length, 'fast-zap demo');
}

test('wordAt finds C identifiers, FNAME(x), and ignores numbers and punctuation', () => {
  const text = 'static void kvm_mmu_zap_all_fast(struct kvm *kvm) { x = 0x1f; FNAME(page_fault)(vcpu); }';
  const at = (needle: string, delta = 0) => wordAt(text, text.indexOf(needle) + delta)?.word;
  assert.equal(at('kvm_mmu_zap_all_fast', 3), 'kvm_mmu_zap_all_fast');
  assert.equal(at('kvm_mmu_zap_all_fast', 'kvm_mmu_zap_all_fast'.length), 'kvm_mmu_zap_all_fast'); // cursor just after
  assert.equal(at('0x1f', 1), undefined);
  assert.equal(at('FNAME', 2), 'FNAME(page_fault)');
  assert.equal(at('page_fault', 4), 'FNAME(page_fault)');
  assert.equal(at(' = ', 1), undefined);
  assert.equal(wordAt('', 0), undefined);
  assert.equal(wordAt('abc', 10), undefined);
  const w = wordAt(text, text.indexOf('kvm *kvm') + 5)!;
  assert.deepEqual([w.word, text.slice(w.start, w.end)], ['kvm', 'kvm']);
});

test('function hover: what, lock, misuse, callers, invariants, seed, history', () => {
  const h = hoverFor('kvm_mmu_zap_all_fast')!;
  assert.equal(h.entryName, 'kvm_mmu_zap_all_fast');
  for (const s of ['function', 'mmu_valid_gen', '**Protected by:**', 'slots_lock', '**If misused:**', '**Callers:**', 'FZ-1', 'RT-3', '**Seed thread:**', '2013 fast zap', '5.4.59..7.1.5', 'kvm_mmu_invalidate_zap_all_pages']) {
    assert.ok(h.markdown.includes(s), `missing ${s}`);
  }
  assert.equal(h.presence, undefined);
});

test('field hover (mmu_valid_gen shows both the VM field and the page field)', () => {
  const h = hoverFor('mmu_valid_gen')!;
  assert.match(h.markdown, /per-VM MMU field/);
  assert.match(h.markdown, /\*\*Also \(struct kvm_mmu_page field\):\*\*/);
  assert.match(h.markdown, /FZ-5/);
  const t = hoverFor('tdp_mmu_root_count')!;
  assert.match(t.markdown, /refcount/);
  assert.match(t.markdown, /RT-2/);
  const p = hoverFor('pte_list_desc')!;
  assert.match(p.markdown, /reverse map/);
  assert.match(p.markdown, /kvm_rmap_desc/);
});

test('request hover', () => {
  const h = hoverFor('KVM_REQ_MMU_FREE_OBSOLETE_ROOTS')!;
  assert.match(h.markdown, /vCPU request/);
  assert.match(h.markdown, /RT-6/);
  assert.match(h.markdown, /2022 zap only obsolete roots/);
  assert.match(h.markdown, /KVM_REQ_MMU_RELOAD/);
});

test('old name → explanation of the successor, with a note naming it', () => {
  const h = hoverFor('mmu_notifier_seq')!;
  assert.equal(h.entryName, 'mmu_invalidate_seq');
  assert.match(h.markdown, /older name/);
  assert.match(h.markdown, /successor is `mmu_invalidate_seq`/);
  const r = hoverFor('KVM_REQ_MMU_RELOAD')!;
  assert.equal(r.entryName, 'KVM_REQ_MMU_RELOAD'); // has its own entry
  assert.match(r.markdown, /successor `KVM_REQ_MMU_FREE_OBSOLETE_ROOTS`/);
  const f = hoverFor('kvm_tdp_mmu_zap_gfn_range')!;
  assert.match(f.markdown, /kvm_tdp_mmu_zap_leafs/);
  const g = hoverFor('mmu_notifier_retry_hva')!;
  assert.equal(g.entryName, 'mmu_invalidate_retry_gfn');
});

test('symbol absent in the detected version: note with the name to look for', () => {
  const h = hoverFor('kvm_mmu_zap_all_fast', { treeVersion: '4.19' })!;
  assert.equal(h.presence, 'absent');
  assert.match(h.markdown, /does not exist in this tree \(detected 4\.19\)/);
  assert.match(h.markdown, /look for `kvm_mmu_invalidate_zap_all_pages`/);
  const ok = hoverFor('kvm_mmu_zap_all_fast', { treeVersion: '6.19' })!;
  assert.equal(ok.presence, 'present');
  assert.doesNotMatch(ok.markdown, /does not exist/);
  const old = hoverFor('mmu_notifier_seq', { treeVersion: '6.19' })!;
  assert.equal(old.presence, 'absent');
  assert.match(old.markdown, /look for `mmu_invalidate_seq`/);
  const oldOk = hoverFor('mmu_notifier_seq', { treeVersion: '5.15.24' })!;
  assert.equal(oldOk.presence, 'present');
  const between = hoverFor('KVM_REQ_MMU_FREE_OBSOLETE_ROOTS', { treeVersion: '5.17' })!;
  assert.equal(between.presence, 'uncertain');
  assert.match(between.markdown, /may not exist/);
});

test('live values: field, function, request, stat, roots; links are trusted command URIs', () => {
  const lv = live();
  const gen = hoverFor('mmu_valid_gen', { live: lv })!;
  assert.match(gen.markdown, /Live — fast-zap demo \(step 7\)/);
  assert.match(gen.markdown, /`kvm->arch\.mmu_valid_gen` = \*\*1\*\*; \*\*3\*\* of 4 shadow pages are obsolete/);
  const fn = hoverFor('kvm_zap_obsolete_pages', { live: lv })!;
  assert.match(fn.markdown, /Entered \*\*2\*\* times so far; last entry at step 2/);
  assert.ok(fn.markdown.includes(`command:kvmMmuLab.gotoStep?${encodeURIComponent(JSON.stringify({ step: 2 }))}`));
  assert.ok(fn.links.some((l) => l.command === 'kvmMmuLab.gotoStep' && (l.args as { step: number }).step === 2));
  assert.ok(fn.markdown.includes('command:kvmMmuLab.showPanel'));
  const none = hoverFor('kvm_mmu_commit_zap_page', { live: lv })!;
  assert.match(none.markdown, /Not entered so far/);
  const req = hoverFor('KVM_REQ_MMU_FREE_OBSOLETE_ROOTS', { live: lv })!;
  assert.match(req.markdown, /Pending on vCPU 0, 2 \(of 3\)/);
  const stat = hoverFor('mmu_shadow_zapped', { live: lv })!;
  assert.match(stat.markdown, /`mmu_shadow_zapped` = \*\*5\*\*/);
  const rc = hoverFor('tdp_mmu_root_count', { live: lv })!;
  assert.match(rc.markdown, /sp#9: tdp_mmu_root_count = \*\*2\*\* \(invalid\)/);
  const seq = hoverFor('mmu_notifier_seq', { live: lv })!;
  assert.match(seq.markdown, /= \*\*3\*\*; in progress: 1/);
  const desc = hoverFor('pte_list_desc', { live: lv })!;
  assert.match(desc.markdown, /2 non-empty rmap heads; 1 use a pte_list_desc chain/);
  const prev = hoverFor('prev_roots', { live: lv })!;
  assert.match(prev.markdown, /vCPU 1: prev_roots \[sp#2, empty, empty\]/);
  for (const h of [gen, fn, req, stat, rc]) for (const l of h.links) assert.ok((HOVER_COMMANDS as readonly string[]).includes(l.command));
});

test('definition link only when a definition is known; scenario op names resolve', () => {
  const h = hoverFor('kvm_mmu_zap_all_fast', { hasDefinition: (n) => n === 'kvm_mmu_zap_all_fast' })!;
  assert.ok(h.markdown.includes(`command:kvmMmuLab.openDefinition?${encodeURIComponent(JSON.stringify({ name: 'kvm_mmu_zap_all_fast' }))}`));
  assert.ok(!hoverFor('kvm_mmu_zap_all_fast')!.markdown.includes('openDefinition'));
  assert.equal(hoverFor('zap_all_fast'), undefined);
  const op = hoverFor('zap_all_fast', { scenario: true })!;
  assert.equal(op.entryName, 'kvm_mmu_zap_all_fast');
  assert.match(op.markdown, /Scenario op `zap_all_fast` drives/);
  assert.equal(hoverFor('not_a_kvm_symbol'), undefined);
});
