// Determinism, trace hashes, stepping backward, replaying prefixes, canonical state hashes.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createEngine, runSchedule, PROFILES, KERNEL_SYMBOLS, INVARIANTS, BUGS } from '../../../src/engine';
import type { EraId, ThreadSpec } from '../../../src/engine';
import { vm, hvaOf, shadowVm, T2B } from './helpers';
import { OP_SCENARIOS } from './op-scenarios';

const G = 0x1234;
function threads(): ThreadSpec[] {
  return [
    { id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: [{ op: 'page_fault', gfn: G, write: true }, { op: 'guest_access', gfn: G }, { op: 'page_fault', gfn: G + 0x200 }, { op: 'guest_access', gfn: G + 1 }] },
    { id: 'vcpu1', kind: 'vcpu', vcpu: 1, ops: [{ op: 'page_fault', gfn: G + 1 }, { op: 'enter_guest' }, { op: 'guest_access', gfn: G }] },
    { id: 'ioctl', kind: 'ioctl', ops: [{ op: 'zap_all_fast' }, { op: 'zap_gfn_range', start: G, end: G + 2 }] },
    { id: 'mmu_notifier', kind: 'notifier', ops: [{ op: 'host_unmap', hva: hvaOf(G + 1) }, { op: 'clear_young', hva: hvaOf(G) }] },
  ];
}

test('the same scenario and schedule give the same trace hash every time', () => {
  for (const era of ['6.19', '5.18', '3.11'] as EraId[]) {
    const hashes = new Set<string>();
    const states = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const e = createEngine({ config: vm(era, era === '3.11' ? 'direct-shadow' : 'tdp', { vcpus: 2 }), threads: threads() });
      assert.equal(runSchedule(e, { kind: 'round-robin' }).completed, true);
      hashes.add(e.traceHash());
      states.add(e.stateHash());
    }
    assert.equal(hashes.size, 1, era);
    assert.equal(states.size, 1, era);
  }
});

test('different schedules give different traces', () => {
  const a = createEngine({ config: vm('6.19', 'tdp', { vcpus: 2 }), threads: threads() });
  const b = createEngine({ config: vm('6.19', 'tdp', { vcpus: 2 }), threads: threads() });
  runSchedule(a, { kind: 'round-robin' });
  runSchedule(b, { kind: 'sequential' });
  assert.notEqual(a.traceHash(), b.traceHash());
});

test('stepBack and goto restore exactly the state and trace of that position', () => {
  const e = createEngine({ config: vm('6.19', 'tdp', { vcpus: 2 }), threads: threads(), snapshotEvery: 4 });
  const hs: string[] = [e.stateHash()];
  const ts: string[] = [e.traceHash()];
  const views: string[] = [JSON.stringify(e.view())];
  let k = 0;
  while (!e.isDone()) {
    const r = e.runnableThreads();
    e.step(r[k++ % r.length]);
    hs.push(e.stateHash()); ts.push(e.traceHash()); views.push(JSON.stringify(e.view()));
  }
  const n = e.position;
  for (let i = n; i > 0; i--) {
    e.stepBack();
    assert.equal(e.position, i - 1);
    assert.equal(e.stateHash(), hs[i - 1], `stateHash at ${i - 1}`);
    assert.equal(e.traceHash(), ts[i - 1], `traceHash at ${i - 1}`);
  }
  assert.equal(JSON.stringify(e.view()), views[0]);
  for (const i of [n, 3, n - 1, 0, Math.floor(n / 2)]) {
    e.goto(i);
    assert.equal(e.stateHash(), hs[i]);
    assert.equal(JSON.stringify(e.view()), views[i], `view at ${i}`);
  }
  // stepping from the middle truncates the future and continues deterministically
  e.goto(5);
  e.step(e.history[5].thread);
  assert.equal(e.stateHash(), hs[6]);
  assert.equal(e.history.length, 6);
});

test('fork replays the choices; replaying a prefix gives the same state', () => {
  const e = createEngine({ config: vm('5.18', 'tdp', { vcpus: 2 }), threads: threads() });
  for (let i = 0; i < 9; i++) e.step(e.runnableThreads()[i % e.runnableThreads().length]);
  const f = e.fork();
  assert.equal(f.stateHash(), e.stateHash());
  assert.equal(f.traceHash(), e.traceHash());
  assert.deepEqual(f.enabledChoices(), e.enabledChoices());
});

test('stateHash is canonical: ids renumbered, different paths to the same state hash equal', () => {
  // zap_all_fast then a fault ends in the same shape as the fault on a fresh VM except generation
  const a = createEngine({ config: vm('6.19', 'direct-shadow'), threads: [{ id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: [{ op: 'page_fault', gfn: G }] }] });
  const b = createEngine({ config: vm('6.19', 'direct-shadow'), threads: [{ id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: [{ op: 'page_fault', gfn: G }] }] });
  runSchedule(a, { kind: 'sequential' });
  runSchedule(b, { kind: 'sequential' });
  assert.equal(a.stateHash(), b.stateHash());
});

test('a blocked thread is not runnable (mmu_lock write held across a lock break)', () => {
  const e = createEngine({ config: vm('6.19', 'tdp', { bug: 'yield-before-free-request' }), threads: [
    { id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: [{ op: 'page_fault', gfn: G }] },
    { id: 'ioctl', kind: 'ioctl', ops: [{ op: 'zap_all_fast' }] },
  ] });
  e.step('ioctl'); // reaches the lock
  e.step('ioctl'); // takes it, runs to the (buggy) yield, drops it
  assert.ok(e.runnableThreads().includes('vcpu0'));
  e.step('vcpu0'); // to the mmu_lock acquire point of root allocation
  e.step('vcpu0'); // allocates the root under the lock, stops after faultin
  const v = e.view();
  assert.equal(v.vm.mmu_lock.type, 'rwlock');
});

test('shadow paging profile view names era fields', () => {
  const e = createEngine({ config: shadowVm('5.15'), threads: [{ id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: [{ op: 'page_fault', gva: 0, write: true }, { op: 'load_cr3', gfn: T2B }] }] });
  runSchedule(e, { kind: 'sequential' });
  const v = e.view();
  assert.equal(v.vm.names.mmu_invalidate_seq, 'mmu_notifier_seq');
  assert.equal(v.vcpus[0].prevRoots.length, 3);
  assert.ok(v.shadowPages.some((sp) => sp.unsync && sp.role.level === 1));
  assert.ok(v.memslots[0].rmaps.length > 0);
  assert.equal(v.vm.mmu_lock.type, 'rwlock');
});

test('every frame emitted by the op scenarios is a kernel symbol of its era', () => {
  const byName = new Map(KERNEL_SYMBOLS.map((k) => [k.name, k]));
  const missing = new Set<string>();
  for (const sc of OP_SCENARIOS) {
    const e = createEngine({ config: sc.cfg, threads: sc.threads });
    runSchedule(e, { kind: 'sequential' });
    for (const h of e.history) for (const ev of h.events) {
      if (ev.kind !== 'call') continue;
      const k = byName.get(ev.frame.fn);
      if (!k || !k.files[sc.cfg.era]) missing.add(`${ev.frame.fn}@${sc.cfg.era}`);
      else assert.equal(ev.frame.file, k.files[sc.cfg.era], ev.frame.fn);
    }
  }
  assert.deepEqual([...missing].sort(), []);
});

test('catalogues: profiles, bugs, invariants, symbols', () => {
  for (const era of ['2.6.27', '2.6.34', '2.6.35', '3.11', '5.15', '5.17', '5.18', '6.19'] as EraId[]) assert.ok(PROFILES[era], era);
  assert.equal(PROFILES['5.15'].lock, 'rwlock');
  assert.equal(PROFILES['3.11'].lock, 'spinlock');
  const ids = new Set(INVARIANTS.map((i) => i.id));
  for (const id of ['RT-1', 'RT-2', 'RT-3', 'RT-4', 'RT-5', 'RT-6', 'RT-7', 'RT-8', 'MN-1', 'MN-4', 'AG-4', 'US-2', 'FZ-1', 'RM-1', 'ZC-1', 'ZC-2', 'HS-1', 'IT-1', 'FR-1', 'TL-1', 'LP-1', 'AL-1']) assert.ok(ids.has(id), id);
  for (const b of Object.values(BUGS)) for (const i of b.invariants) assert.ok(ids.has(i), `${b.id} ${i}`);
  for (const k of KERNEL_SYMBOLS) {
    assert.ok(k.eras.length > 0, k.name);
    for (const f of Object.values(k.files)) assert.ok(f && !f.startsWith('/'), k.name);
  }
  const mmuc = KERNEL_SYMBOLS.find((k) => k.name === 'kvm_zap_obsolete_pages')!;
  assert.equal(mmuc.files['3.11'], 'arch/x86/kvm/mmu.c');
  assert.equal(mmuc.files['6.19'], 'arch/x86/kvm/mmu/mmu.c');
});

test('every field, stat and request named in effects is a kernel symbol of its era', () => {
  const byName = new Map(KERNEL_SYMBOLS.map((k) => [k.name, k]));
  const missing = new Set<string>();
  const need = (name: string, era: EraId) => { const k = byName.get(name); if (!k || !k.files[era]) missing.add(`${name}@${era}`); };
  for (const sc of OP_SCENARIOS) {
    const e = createEngine({ config: sc.cfg, threads: sc.threads });
    runSchedule(e, { kind: 'sequential' });
    const era = sc.cfg.era;
    for (const h of e.history) for (const ev of h.events) {
      if (ev.kind === 'point' && ev.frame.point?.startsWith('calls ')) need(ev.frame.point.slice(6), era);
      if (ev.kind !== 'effect') continue;
      const f = ev.effect;
      if (f.kind === 'vm-field' || f.kind === 'sp-field') need(f.field.split('.')[0], era);
      else if (f.kind === 'stat') need(f.stat, era);
      else if (f.kind === 'request-set' || f.kind === 'request-clear') need(f.request, era);
      else if (f.kind === 'root-ref') need(f.field, era);
    }
  }
  assert.deepEqual([...missing].sort(), []);
});

test('a step record keeps the violations of its own step: later steps never add to it', () => {
  const e = createEngine({
    config: { era: '5.18', mmu: 'tdp', vcpus: 1, bug: 'yield-before-free-request', memslots: [{ id: 0, baseGfn: 0x1000, npages: 64, hva: 0x7f0000000000 }] },
    threads: [
      { id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: [{ op: 'page_fault', gfn: 0x1001, write: true }, { op: 'enter_guest' }, { op: 'page_fault', gfn: 0x1002 }, { op: 'enter_guest' }] },
      { id: 'ioctl', kind: 'ioctl', ops: [{ op: 'zap_all_fast' }] },
    ],
  });
  const seen: string[] = [];
  while (!e.isDone()) {
    const [thread] = e.runnableThreads();
    const rec = e.step(thread!);
    seen.push(JSON.stringify(rec.violations));
  }
  assert.ok(e.violations().length > 0, 'the bug variant reports a violation');
  assert.deepEqual(e.history.map((r) => JSON.stringify(r.violations)), seen);
});
