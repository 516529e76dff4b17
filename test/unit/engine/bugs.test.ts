// Each historical bug variant reproduces its violation; the same scenario on the fixed profile is clean.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { BUGS } from '../../../src/engine';
import type { BugId, Schedule } from '../../../src/engine';
import { engine, ids, run, vm, vcpu, ioctl, notifier, reclaim, hvaOf, shadowVm, T2A, T2B, T1, EMPTY } from './helpers';

const G = 0x1234;

function gupRace(bug?: BugId) {
  const e = engine(vm('2.6.27', 'tdp'), [vcpu([{ op: 'page_fault', gfn: G, write: true }]), notifier([{ op: 'host_unmap', hva: hvaOf(G) }])], bug);
  const s: Schedule = { kind: 'explicit', slices: [
    { thread: 'vcpu0', until: { point: 'tdp_page_fault:after faultin' } },
    { thread: 'mmu_notifier', until: { done: true } },
    { thread: 'vcpu0', until: { done: true } },
  ] };
  return { e, r: run(e, s) };
}

test('gup-no-seq-retry (2008 V7): SPTE installed after the host unmapped the page -> MN-1', () => {
  const { e, r } = gupRace('gup-no-seq-retry');
  assert.equal(r.completed, true, r.stoppedBecause);
  assert.ok(ids(e).includes('MN-1'), ids(e).join());
  const v = e.violations().find((x) => x.id === 'MN-1')!;
  assert.ok(v.frame && v.objects.some((o) => o.startsWith('pfn')));
});

test('gup race with the mmu_notifier_seq retry is clean and retries', () => {
  const { e, r } = gupRace();
  assert.equal(r.completed, true);
  assert.deepEqual(ids(e), []);
  assert.ok(e.history.some((h) => h.stoppedAt.endsWith('RET_PF_RETRY')));
});

function notifierSkip(era: '5.17' | '5.18', bug?: BugId) {
  const e = engine(vm(era, 'tdp'), [
    vcpu([{ op: 'page_fault', gfn: G, write: true }]),
    ioctl([{ op: 'zap_all_fast' }]),
    notifier([{ op: 'host_unmap', hva: hvaOf(G) }]),
    reclaim([{ op: 'host_free', hva: hvaOf(G) }]),
  ], bug);
  const stop = era === '5.17' ? 'kvm_tdp_mmu_zap_invalidated_roots:mmu_lock' : 'kvm_tdp_mmu_zap_invalidated_roots:flush_workqueue';
  const s: Schedule = { kind: 'explicit', slices: [
    { thread: 'vcpu0', until: { done: true } },
    { thread: 'ioctl', until: { point: stop } },
    { thread: 'mmu_notifier', until: { done: true } },
    { thread: 'reclaim', until: { done: true } },
  ] };
  const r = run(e, s);
  return { e, r };
}

test('notifier-skips-invalid-roots (5.17): unmap skips the invalidated root -> RT-5 and MN-4', () => {
  const { e } = notifierSkip('5.17', 'notifier-skips-invalid-roots');
  const got = ids(e);
  assert.ok(got.includes('RT-5'), got.join());
  assert.ok(got.includes('MN-4'), got.join());
  // the host freed the page while an SPTE still maps it
  assert.ok(e.violations().some((v) => v.id === 'MN-4' && /host freed/.test(v.message)));
});

test('notifier unmap visiting invalid roots (fixed 5.17 and 5.18) is clean', () => {
  for (const era of ['5.17', '5.18'] as const) {
    const { e } = notifierSkip(era);
    assert.deepEqual(ids(e), [], era);
  }
});

function yieldBeforeRequest(era: '5.18' | '3.11' | '6.19', mmu: 'tdp' | 'direct-shadow', bug?: BugId) {
  const e = engine(vm(era, mmu), [
    vcpu([{ op: 'page_fault', gfn: G }, { op: 'exit_guest' }, { op: 'enter_guest' }]),
    ioctl([{ op: 'zap_all_fast' }]),
  ], bug);
  return e;
}

test('yield-before-free-request: lock dropped between invalidation and request -> RT-3 and FZ-1', () => {
  for (const [era, mmu] of [['5.18', 'tdp'], ['3.11', 'direct-shadow'], ['6.19', 'direct-shadow']] as const) {
    const e = yieldBeforeRequest(era, mmu, 'yield-before-free-request');
    const r = run(e, { kind: 'explicit', slices: [
      { thread: 'vcpu0', until: { steps: 4 } },
      { thread: 'ioctl', until: { point: 'yield before request' } },
      { thread: 'vcpu0', until: { done: true } },
    ] });
    assert.equal(r.stoppedBecause, 'schedule exhausted before every thread finished');
    assert.equal(run(e).completed, true, era);
    const got = ids(e);
    assert.ok(got.includes('RT-3'), `${era} ${got}`);
    assert.ok(got.includes('FZ-1'), `${era} ${got}`);
  }
});

test('fast zap posting the request before any yield is clean under every interleaving tried', () => {
  for (const [era, mmu] of [['5.18', 'tdp'], ['3.11', 'direct-shadow'], ['6.19', 'direct-shadow']] as const) {
    for (const s of [{ kind: 'sequential' }, { kind: 'round-robin' }] as Schedule[]) {
      const e = yieldBeforeRequest(era, mmu);
      assert.equal(run(e, s).completed, true);
      assert.deepEqual(ids(e), [], `${era} ${s.kind}`);
    }
  }
});

function prevRoots(bug?: BugId) {
  const e = engine(shadowVm('5.18'), [
    vcpu([{ op: 'page_fault', gva: 0 }, { op: 'load_cr3', gfn: T2B }, { op: 'page_fault', gva: 0 }]),
    ioctl([{ op: 'unprotect_page', gfn: T2A }]),
    vcpu([{ op: 'enter_guest' }], 'vcpu0-entry', 0),
  ], bug);
  run(e);
  return e;
}

test('prev-roots-not-freed (5.18.0): obsolete previous root survives the request -> RT-6', () => {
  const e = prevRoots('prev-roots-not-freed');
  assert.ok(ids(e).includes('RT-6'), ids(e).join());
  const v = e.violations().find((x) => x.id === 'RT-6')!;
  assert.ok(v.objects.some((o) => o.includes('prev_roots[0]')), v.objects.join());
});

test('free-obsolete-roots testing each prev_roots slot is clean and releases the root', () => {
  const e = prevRoots();
  assert.deepEqual(ids(e), []);
  const view = e.view();
  assert.deepEqual(view.vcpus[0].prevRoots.filter((x) => x !== null), []);
});

function hashWalk(era: '2.6.34' | '2.6.35' | '3.10', bug?: BugId) {
  const e = engine(shadowVm(era, { hashBuckets: 1 }), [
    vcpu([{ op: 'page_fault', gva: 0, write: true }, { op: 'load_cr3', gfn: T2B }, { op: 'page_fault', gva: 0 }]),
    ioctl([{ op: 'unprotect_page', gfn: T2B }]),
  ], bug);
  run(e);
  return e;
}

test('hash-walk-zaps-saved-next (2010): unsync child freed as the saved next node -> IT-1 and HS-1', () => {
  for (const era of ['2.6.34', '2.6.35'] as const) {
    const e = hashWalk(era, 'hash-walk-zaps-saved-next');
    const got = ids(e);
    assert.ok(got.includes('IT-1') && got.includes('HS-1'), `${era}: ${got}`);
  }
});

test('bucket walk with goto restart (2.6.35) and prepare/commit (3.10) is clean', () => {
  for (const era of ['2.6.34', '2.6.35', '3.10'] as const) {
    const e = hashWalk(era);
    assert.deepEqual(ids(e), [], era);
    assert.ok(e.view().shadowPages.every((sp) => sp.gfn !== T1 || sp.lifetime !== 'freed'));
  }
});

function miscount(bug?: BugId) {
  const e = engine(shadowVm('2.6.35'), [
    vcpu([{ op: 'page_fault', gva: 0, write: true }, { op: 'load_cr3', gfn: EMPTY }]),
    ioctl([{ op: 'change_mmu_pages', pages: 0 }]),
  ], bug);
  run(e);
  return e;
}

test('unsync-zap-miscount (2010): page vector counted -> ZC-1 and ZC-2', () => {
  const e = miscount('unsync-zap-miscount');
  const got = ids(e);
  assert.ok(got.includes('ZC-1') && got.includes('ZC-2'), got.join());
});

test('counting only zapped unsync leaves keeps n_used_mmu_pages exact', () => {
  const e = miscount();
  assert.deepEqual(ids(e), []);
  assert.equal(e.view().vm.n_used_mmu_pages, 0);
  assert.ok(e.view().vm.stats.mmu_shadow_zapped >= 2);
});

function aging(bug?: BugId) {
  const e = engine(vm('6.19', 'nested'), [
    vcpu([{ op: 'page_fault', gfn: G }, { op: 'enter_guest_mode', l2: true }, { op: 'page_fault', gfn: G }]),
    reclaim([{ op: 'clear_young', hva: hvaOf(G), fastOnly: true }, { op: 'clear_young', hva: hvaOf(G), fastOnly: true }]),
  ], bug);
  run(e);
  return e;
}

test('fast-aging-skips-shadow (2024): L2-hot page judged cold -> AG-4', () => {
  const e = aging('fast-aging-skips-shadow');
  assert.ok(ids(e).includes('AG-4'), ids(e).join());
});

test('fast-only aging that walks single-entry rmaps locklessly is clean', () => {
  const e = aging();
  assert.deepEqual(ids(e), []);
  // lockless: aging never took mmu_lock
  assert.ok(!e.history.filter((h) => h.thread === 'reclaim').some((h) => h.events.some((ev) => ev.kind === 'effect' && ev.effect.kind === 'lock')));
});

test('slow-zap-all variant zaps everything in one critical section', () => {
  const e = engine(vm('3.11', 'direct-shadow'), [
    vcpu([{ op: 'page_fault', gfn: G }]),
    ioctl([{ op: 'memslot_delete', id: 0 }]),
  ], 'slow-zap-all');
  run(e);
  assert.deepEqual(ids(e), []);
  const fns = e.history.flatMap((h) => h.events.filter((ev) => ev.kind === 'call').map((ev) => (ev as { frame: { fn: string } }).frame.fn));
  assert.ok(fns.includes('kvm_mmu_zap_all'));
  assert.ok(!fns.includes('kvm_mmu_invalidate_zap_all_pages'));
});

test('bug table names an invariant for every correctness bug', () => {
  for (const b of Object.values(BUGS)) if (b.id !== 'slow-zap-all') assert.ok(b.invariants.length > 0, b.id);
});

test('an unsync page reached through two parent SPTEs is zapped and counted once (fixed form)', () => {
  // T2D[0] and T2D[1] both point at T1, whose own mapping makes it unsync: mmu_unsync_walk meets it twice.
  const T2D = 0x1040;
  const guest = [
    { gfn: T2D, level: 2, entries: [{ index: 0, gfn: T1 }, { index: 1, gfn: T1 }] },
    { gfn: T1, level: 1, entries: [{ index: 0, gfn: T1, writable: true }, { index: 1, gfn: 0x1050 }] },
    { gfn: EMPTY, level: 2, entries: [] },
  ];
  const build = (bug?: BugId) => {
    const e = engine(vm('2.6.35', 'shadow', { guestPageTables: guest, guestCr3: [T2D] }), [
      vcpu([{ op: 'page_fault', gva: 0, write: true }, { op: 'page_fault', gva: 512 }, { op: 'load_cr3', gfn: EMPTY }]),
      ioctl([{ op: 'change_mmu_pages', pages: 0 }]),
    ], bug);
    run(e);
    return e;
  };
  const fixed = build();
  const allocs = fixed.history.flatMap((r) => r.events).filter((ev) => ev.kind === 'effect' && ev.effect.kind === 'sp-alloc');
  assert.ok(allocs.some((ev) => ev.kind === 'effect' && ev.effect.kind === 'sp-alloc' && ev.effect.gfn === T1), 'T1 was shadowed');
  assert.deepEqual(ids(fixed), []);
  assert.equal(fixed.view().vm.n_used_mmu_pages, 0);
  assert.ok(ids(build('unsync-zap-miscount')).includes('ZC-1'));
});

test('going back and forth (goto) reproduces every step record of a buggy run, violations included', () => {
  const runs = [
    gupRace('gup-no-seq-retry').e, notifierSkip('5.17', 'notifier-skips-invalid-roots').e,
    yieldBeforeRequest('5.18', 'tdp', 'yield-before-free-request'), prevRoots('prev-roots-not-freed'),
    hashWalk('2.6.35', 'hash-walk-zaps-saved-next'), miscount('unsync-zap-miscount'), aging('fast-aging-skips-shadow'),
  ];
  assert.ok(runs.filter((e) => e.violations().length > 0).length >= 5, 'most bug runs report violations');
  for (const e of runs) {
    const outline = (r: { thread: string; stoppedAt: string; violations: Array<{ id: string; message: string }> }) =>
      `${r.thread}@${r.stoppedAt}:${r.violations.map((v) => v.id + ' ' + v.message).join(',')}`;
    const original = e.history.map(outline);
    const total = e.violations().map((v) => v.id + ' ' + v.message);
    const n = e.history.length;
    if (total.length === 0) continue; // this shape only shows its bug under another schedule
    for (const back of [n - 1, Math.floor(n / 2), 1, 0]) {
      e.goto(back);
      e.goto(n);
      assert.deepEqual(e.history.map(outline), original, `after goto(${back}) and back`);
      assert.deepEqual(e.violations().map((v) => v.id + ' ' + v.message), total);
    }
  }
});
