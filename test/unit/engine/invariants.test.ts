// The checks added for US-4, US-5, TL-2, AG-1, AG-2, AG-3, AG-5 and LK-1: each is silent on the
// correct model and fires when a test-only fault (Kvm.testFaults), a crafted state mutation or a
// direct call into the model's internals breaks its rule.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createEngine, runSchedule, INVARIANTS } from '../../../src/engine';
import type { EraId, Op, ThreadSpec, VmConfig } from '../../../src/engine';
import type { EngineInternals } from '../../../src/engine/engine';
import type { TestFaults, ThreadCtx } from '../../../src/engine/kvm';
import { vm, shadowVm, hvaOf, ids, T1, T2A } from './helpers';
import { effectsOf } from './fmt';

const G = 0x1234;

function eng(config: VmConfig, threads: ThreadSpec[], faults?: TestFaults): EngineInternals {
  const e = createEngine({ config, threads });
  if (faults) e.kvm.testFaults = faults;
  return e;
}
const seq = (e: EngineInternals) => assert.equal(runSchedule(e, { kind: 'sequential' }).completed, true);
const thread = (id: string, kind: ThreadSpec['kind'], ops: Op[]): ThreadSpec => ({ id, kind, vcpu: 0, ops });
const ctx = (held: ThreadCtx['held']): ThreadCtx => ({ id: 'test', kind: 'ioctl', vcpu: 0, stack: [], held });
/** Run `fn` as a thread of the model (outside any scheduled step) and return the violation ids it raised. */
function direct(e: EngineInternals, held: ThreadCtx['held'], fn: (t: ThreadCtx) => void): string[] {
  const kvm = e.kvm, t = ctx(held);
  kvm.violations = [];
  kvm.cur = t;
  fn(t);
  kvm.cur = null;
  return [...new Set(kvm.violations.map((v) => v.id))].sort();
}

test('catalogue: the eight invariants are checked, none is documentation only', () => {
  for (const id of ['US-4', 'US-5', 'TL-2', 'AG-1', 'AG-2', 'AG-3', 'AG-5', 'LK-1']) {
    const inv = INVARIANTS.find((i) => i.id === id)!;
    assert.equal(inv.check, id === 'US-4' ? 'state+event' : 'event', id);
  }
  assert.deepEqual(INVARIANTS.filter((i) => i.check === 'none').map((i) => i.id), []);
  assert.deepEqual(INVARIANTS.find((i) => i.id === 'AG-5')!.eras, ['6.19']);
});

// ------------------------------------------------------------------------------------------------
// US-4: unsync before writable
// ------------------------------------------------------------------------------------------------
for (const era of ['2.6.35', '5.15', '6.19'] as EraId[]) {
  test(`US-4 (${era}): a writable SPTE for a shadowed table installed before the unsync mark is caught`, () => {
    // gva 0 maps T1, which is itself a shadowed level-1 guest table, writable
    const ok = eng(shadowVm(era), [thread('vcpu0', 'vcpu', [{ op: 'page_fault', gva: 0, write: true }])]);
    seq(ok);
    assert.deepEqual(ok.violations(), []);
    assert.ok(ok.view().shadowPages.some((sp) => sp.unsync && sp.gfn === T1));
    const bad = eng(shadowVm(era), [thread('vcpu0', 'vcpu', [{ op: 'page_fault', gva: 0, write: true }])], { unsyncAfterWritable: true });
    seq(bad);
    assert.deepEqual(ids(bad), ['US-4']);
    assert.match(bad.violations()[0].message, /not unsync/);
  });
}

test('US-4: a writable SPTE for a gfn shadowed at an upper level is caught (direct install)', () => {
  // gva 1 shadows T2A (level 2) and T1 (level 1); then map T2A's gfn writable behind write tracking's back
  const e = eng(shadowVm('6.19'), [thread('vcpu0', 'vcpu', [{ op: 'page_fault', gva: 1 }])]);
  seq(e);
  assert.deepEqual(e.violations(), []);
  const kvm = e.kvm;
  const leaf = kvm.translate(kvm.s.vcpus[0].root, 1)!;
  const pfn = kvm.gup(Math.floor(hvaOf(T2A) / 4096), false);
  assert.deepEqual(direct(e, 'write', (t) => kvm.setLeaf(t, leaf.sp, 7, T2A, pfn, true, false)), ['US-4']);
  assert.match(kvm.violations[0].message, /upper-level/);
});

// US-4, state form: after the step that syncs T1 (a guest TLB flush), T1's own gfn must no longer be
// mapped writable, since T1's shadow page is sync again. Only the test fault that skips the
// re-write-protect in mmu_sync_children leaves it writable; no install happens, so only the state
// check can see it.
const WP_FRAME: Partial<Record<EraId, string>> = { '2.6.35': 'rmap_write_protect', '3.10': 'rmap_write_protect', '5.15': 'rmap_write_protect', '5.18': 'kvm_vcpu_write_protect_gfn', '6.19': 'kvm_vcpu_write_protect_gfn' };
for (const era of ['2.6.35', '3.10', '5.15', '5.18', '6.19'] as EraId[]) {
  test(`US-4 state (${era}): sync write-protects the synced gfn again, once flushed; skipping it is caught`, () => {
    const ops: Op[] = [{ op: 'page_fault', gva: 0, write: true }, { op: 'tlb_flush_guest' }, { op: 'page_fault', gva: 0, write: true }];
    const ok = eng(shadowVm(era), [thread('vcpu0', 'vcpu', ops)]);
    const t1Leaf = () => { const tr = ok.kvm.translate(ok.kvm.s.vcpus[0].root, 0)!; return ok.kvm.getSpte(tr.sp, tr.i); };
    seq(ok);
    assert.deepEqual(ok.violations(), []);
    const syncRecs = ok.history.filter((h) => h.opIndex === 1);
    const effects = effectsOf(syncRecs);
    const wDrops = effects.filter((x) => /^spte sp\d+\[0\] 0x[0-9a-f]*[37bf]->0x[0-9a-f]*[15]$/.test(x));
    assert.equal(wDrops.length, 1, 'the one writable SPTE of T1 loses W');
    assert.equal(effects.filter((x) => x.startsWith('stat remote_tlb_flush')).length, 1, 'one flush for the batch');
    const calls = syncRecs.flatMap((h) => h.events).filter((ev) => ev.kind === 'call').map((ev) => (ev as { frame: { fn: string } }).frame.fn);
    assert.ok(calls.indexOf(WP_FRAME[era]!) > calls.indexOf('mmu_sync_children') && calls.indexOf(WP_FRAME[era]!) < calls.indexOf('kvm_sync_page'), calls.join(' '));
    // the next guest write traps again: the page goes unsync again and the leaf is writable again
    assert.equal(t1Leaf() % 4, 3);
    assert.ok(ok.view().shadowPages.some((sp) => sp.unsync && sp.gfn === T1));
    const unsyncs = effectsOf(ok.history.filter((h) => h.opIndex === 2)).filter((x) => /^sp\d+\.unsync false->true$/.test(x));
    assert.equal(unsyncs.length, 1);

    const bad = eng(shadowVm(era), [thread('vcpu0', 'vcpu', ops.slice(0, 2))], { skipSyncWriteProtect: true });
    seq(bad);
    assert.deepEqual(ids(bad), ['US-4']);
    assert.match(bad.violations()[0].message, /is mapped writable by sp#\d+\[0\] while sp#\d+ \(level 1\) shadows it and is not unsync/);
  });
}

// ------------------------------------------------------------------------------------------------
// US-5: zap unsync descendants first
// ------------------------------------------------------------------------------------------------
for (const era of ['2.6.35', '3.11', '6.19'] as EraId[]) {
  test(`US-5 (${era}): zapping a page without zapping its unsync child first is caught`, () => {
    const threads = () => [thread('vcpu0', 'vcpu', [{ op: 'page_fault', gva: 0, write: true }]), thread('ioctl', 'ioctl', [{ op: 'unprotect_page', gfn: T2A }])];
    const ok = eng(shadowVm(era), threads());
    seq(ok);
    assert.deepEqual(ok.violations(), []);
    assert.ok(!ok.view().shadowPages.some((sp) => sp.unsync), 'the unsync child went with its parent');
    const bad = eng(shadowVm(era), threads(), { skipUnsyncChildrenZap: true });
    seq(bad);
    assert.ok(ids(bad).includes('US-5'), ids(bad).join(','));
    assert.match(bad.violations().find((v) => v.id === 'US-5')!.message, /left unsync sp#\d+ unreachable/);
  });
}

// ------------------------------------------------------------------------------------------------
// TL-2: root load flushes
// ------------------------------------------------------------------------------------------------
for (const [era, mmu] of [['6.19', 'tdp'], ['5.15', 'tdp'], ['3.11', 'direct-shadow'], ['2.6.27', 'direct-shadow']] as const) {
  test(`TL-2 (${era} ${mmu}): entering the guest on a newly loaded root without a flush is caught`, () => {
    const ops: Op[] = [{ op: 'page_fault', gfn: G }, { op: 'enter_guest' }];
    const ok = eng(vm(era, mmu), [thread('vcpu0', 'vcpu', ops)]);
    seq(ok);
    assert.deepEqual(ok.violations(), []);
    const bad = eng(vm(era, mmu), [thread('vcpu0', 'vcpu', ops)], { skipRootLoadFlush: true });
    seq(bad);
    assert.ok(ids(bad).includes('TL-2'), ids(bad).join(','));
  });
}

test('TL-2: the fast_pgd_switch hit is flushed through KVM_REQ_TLB_FLUSH_CURRENT before entry', () => {
  const e = eng(shadowVm('6.19'), [thread('vcpu0', 'vcpu', [
    { op: 'page_fault', gva: 0 }, { op: 'enter_guest' }, { op: 'load_cr3', gfn: 0x1020 }, { op: 'page_fault', gva: 0 },
    { op: 'enter_guest' }, { op: 'load_cr3', gfn: T2A }, { op: 'enter_guest' },
  ])]);
  seq(e);
  assert.deepEqual(e.violations(), []);
  // the same switch with the request dropped: the cached root is entered unflushed
  const kvm = e.kvm;
  const v = kvm.s.vcpus[0];
  assert.equal(v.loadFlushPending, false);
  direct(e, null, () => kvm.setRoot(v, 'current', v.root));
  assert.equal(v.loadFlushPending, true);
  kvm.tlbFlush(v, 'guest');
  assert.equal(v.loadFlushPending, true, 'a guest-scope flush does not count');
  kvm.tlbFlush(v, 'current');
  assert.equal(v.loadFlushPending, false);
});

// ------------------------------------------------------------------------------------------------
// AG-1: aging changes only the Accessed bit
// ------------------------------------------------------------------------------------------------
for (const [era, mmu] of [['6.19', 'tdp'], ['6.1', 'tdp'], ['6.19', 'direct-shadow'], ['3.11', 'direct-shadow']] as const) {
  test(`AG-1 (${era} ${mmu}): an aging write that also drops the writable bit is caught`, () => {
    const threads = () => [thread('vcpu0', 'vcpu', [{ op: 'page_fault', gfn: G, write: true }]), thread('mmu_notifier', 'notifier', [{ op: 'clear_young', hva: hvaOf(G) }])];
    const ok = eng(vm(era, mmu), threads());
    seq(ok);
    assert.deepEqual(ok.violations(), []);
    const bad = eng(vm(era, mmu), threads(), { agingClearsWritable: true });
    seq(bad);
    assert.deepEqual(ids(bad), ['AG-1']);
  });
}

// ------------------------------------------------------------------------------------------------
// AG-2: lockless aging never walks freed page tables
// ------------------------------------------------------------------------------------------------
for (const mmu of ['tdp', 'direct-shadow'] as const) {
  test(`AG-2 (6.19 ${mmu}): lockless aging reaching a page table freed while still linked is caught`, () => {
    const e = eng(vm('6.19', mmu), [thread('vcpu0', 'vcpu', [{ op: 'page_fault', gfn: G }]), thread('mmu_notifier', 'notifier', [{ op: 'clear_young', hva: hvaOf(G) }])]);
    runSchedule(e, { kind: 'explicit', slices: [{ thread: 'vcpu0', until: { done: true } }] });
    assert.deepEqual(e.violations(), []);
    // free the last-level table behind the walkers' back: no unlink, no RCU grace period
    const kvm = e.kvm;
    const leaf = kvm.translate(kvm.s.vcpus[0].root, G)!;
    if (mmu === 'tdp') { kvm.s.sps.delete(leaf.sp.id); }
    else leaf.sp.life = 2;     // LIFE_FREED, still reachable through the rmap
    runSchedule(e, { kind: 'explicit', slices: [{ thread: 'mmu_notifier', until: { done: true } }] });
    assert.equal(e.currentOp('mmu_notifier'), undefined, 'aging ran');
    assert.ok(ids(e).includes('AG-2'), ids(e).join(','));
  });
}

test('AG-2 applies to lockless aging only (6.1 ages under mmu_lock)', () => {
  const e = eng(vm('6.1', 'tdp'), [thread('vcpu0', 'vcpu', [{ op: 'page_fault', gfn: G }]), thread('mmu_notifier', 'notifier', [{ op: 'clear_young', hva: hvaOf(G) }])]);
  runSchedule(e, { kind: 'explicit', slices: [{ thread: 'vcpu0', until: { done: true } }] });
  const kvm = e.kvm;
  kvm.s.sps.delete(kvm.translate(kvm.s.vcpus[0].root, G)!.sp.id);
  runSchedule(e, { kind: 'explicit', slices: [{ thread: 'mmu_notifier', until: { done: true } }] });
  assert.ok(!ids(e).includes('AG-2'));
});

// ------------------------------------------------------------------------------------------------
// AG-3: rmap chains change under mmu_lock (write) and, 6.15+, the rmap bit lock
// ------------------------------------------------------------------------------------------------
test('AG-3 (6.19): an rmap change without kvm_rmap_lock is caught, mmu_lock being held for write', () => {
  const ops: Op[] = [{ op: 'page_fault', gfn: G }];
  const ok = eng(vm('6.19', 'direct-shadow'), [thread('vcpu0', 'vcpu', ops)]);
  seq(ok);
  assert.deepEqual(ok.violations(), []);
  const bad = eng(vm('6.19', 'direct-shadow'), [thread('vcpu0', 'vcpu', ops)], { skipRmapLock: true });
  seq(bad);
  assert.deepEqual(ids(bad), ['AG-3']);
  assert.match(bad.violations()[0].message, /kvm_rmap_lock/);
  // before 6.15 there is no rmap bit lock to take
  const old = eng(vm('6.1', 'direct-shadow'), [thread('vcpu0', 'vcpu', ops)], { skipRmapLock: true });
  seq(old);
  assert.deepEqual(old.violations(), []);
});

for (const era of ['3.11', '5.15', '6.19'] as EraId[]) {
  test(`AG-3 (${era}): an rmap change under mmu_lock held for read is caught`, () => {
    const e = eng(vm(era, 'direct-shadow'), [thread('vcpu0', 'vcpu', [{ op: 'page_fault', gfn: G }])]);
    seq(e);
    const kvm = e.kvm;
    const leaf = kvm.translate(kvm.s.vcpus[0].root, G)!;
    const got = direct(e, era === '3.11' ? null : 'read', () => kvm.rmapRemove(leaf.sp, leaf.i, G, 1));
    assert.ok(got.includes('AG-3') && got.includes('RM-4'), got.join(','));
  });
}

// ------------------------------------------------------------------------------------------------
// AG-5: aging visits valid TDP roots only in the lockless-aging era
// ------------------------------------------------------------------------------------------------
test('AG-5: 6.19 aging that visits an invalidated root is caught; 5.15-6.1 legitimately visit it', () => {
  // the fast zap invalidates the root while vcpu0 still references it, so it stays on tdp_mmu_roots
  const threads = () => [
    thread('vcpu0', 'vcpu', [{ op: 'page_fault', gfn: G }]),
    thread('ioctl', 'ioctl', [{ op: 'zap_all_fast' }]),
    thread('mmu_notifier', 'notifier', [{ op: 'clear_young', hva: hvaOf(G) }]),
  ];
  const ok = eng(vm('6.19', 'tdp'), threads());
  seq(ok);
  assert.deepEqual(ok.violations(), []);
  const bad = eng(vm('6.19', 'tdp'), threads(), { agingVisitsInvalidRoots: true });
  seq(bad);
  assert.deepEqual(ids(bad), ['AG-5']);
  for (const era of ['5.15', '6.1'] as EraId[]) {
    const e = eng(vm(era, 'tdp'), threads());
    seq(e);
    assert.ok(e.kvm.s.tdpRoots.some((id) => e.kvm.s.sps.get(id)?.invalid), `${era}: an invalid root is listed`);
    assert.deepEqual(e.violations(), [], era);
  }
});

// ------------------------------------------------------------------------------------------------
// LK-1: leaf spinlocks only inside mmu_lock
// ------------------------------------------------------------------------------------------------
test('LK-1: tdp_mmu_pages_lock is taken around tdp_mmu_roots changes, inside mmu_lock', () => {
  const e = eng(vm('6.19', 'tdp'), [thread('vcpu0', 'vcpu', [{ op: 'page_fault', gfn: G }])]);
  seq(e);
  const locks = e.history.flatMap((h) => h.events).flatMap((ev) => (ev.kind === 'effect' && ev.effect.kind === 'lock' ? [`${ev.effect.action} ${ev.effect.lock}`] : []));
  assert.deepEqual(locks.slice(0, 4), ['acquire mmu_lock', 'acquire tdp_mmu_pages_lock', 'release tdp_mmu_pages_lock', 'release mmu_lock']);
  // the same insertion from a thread that holds no mmu_lock (fresh VMs: no root to reuse)
  for (const held of [null, 'read', 'write'] as const) {
    const f = eng(vm('6.19', 'tdp'), []);
    assert.deepEqual(direct(f, held, (t) => f.kvm.tdpAllocRoot(t, f.kvm.s.vcpus[0])), held ? [] : ['LK-1'], String(held));
    assert.equal(f.kvm.s.tdpRoots.length, 1);
  }
});

test('LK-1: mmu_unsync_pages_lock (5.15+) is taken when marking pages unsync, inside mmu_lock', () => {
  for (const era of ['5.15', '6.19'] as EraId[]) {
    const e = eng(shadowVm(era), [thread('vcpu0', 'vcpu', [{ op: 'page_fault', gva: 0, write: true }])]);
    seq(e);
    assert.deepEqual(e.violations(), []);
    const locks = e.history.flatMap((h) => h.events).flatMap((ev) => (ev.kind === 'effect' && ev.effect.kind === 'lock' ? [ev.effect.lock] : []));
    assert.ok(locks.includes('mmu_unsync_pages_lock'), era);
    // gva 1 shadows T1 (level 1, in sync); unsyncing it from a thread without mmu_lock
    const e2 = eng(shadowVm(era), [thread('vcpu0', 'vcpu', [{ op: 'page_fault', gva: 1 }])]);
    seq(e2);
    assert.deepEqual(direct(e2, null, (t) => e2.kvm.needWriteProtect(t, T1)), ['LK-1'], era);
  }
  // 3.11 has no such lock
  const e = eng(shadowVm('3.11'), [thread('vcpu0', 'vcpu', [{ op: 'page_fault', gva: 0, write: true }])]);
  seq(e);
  assert.ok(!e.history.some((h) => h.events.some((ev) => ev.kind === 'effect' && ev.effect.kind === 'lock' && ev.effect.lock !== 'mmu_lock')));
});

test('test faults are off unless a test sets them', () => {
  const e = createEngine({ config: vm('6.19', 'tdp'), threads: [] });
  assert.equal(e.kvm.testFaults, null);
});
