// TLB observability, reload request, VM teardown, lock modes.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createEngine, runSchedule } from '../../../src/engine';
import { vm, shadowVm, T2B } from './helpers';

const G = 0x1234;

test('a missing remote flush is observable: a vCPU uses a stale TLB entry (TL-1)', () => {
  const e = createEngine({ config: vm('6.19', 'tdp'), threads: [{ id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: [{ op: 'page_fault', gfn: G }, { op: 'guest_access', gfn: G }, { op: 'guest_access', gfn: G }] }] });
  while (e.currentOp('vcpu0')?.op !== 'guest_access' || e.history.filter((h) => h.opIndex === 1 && h.stoppedAt === 'op-done').length === 0) e.step('vcpu0');
  const v0 = e.view().vcpus[0];
  assert.equal(v0.tlb.length, 1);
  assert.equal(v0.tlb[0].stale, false);
  // zap the leaf behind KVM's back, without kvm_flush_remote_tlbs
  const kvm = e.kvm;
  const tr = kvm.translate(kvm.s.vcpus[0].root, G)!;
  kvm.cur = { id: 'test', kind: 'ioctl', vcpu: 0, stack: [], held: null };
  kvm.zapPte(kvm.cur, tr.sp, tr.i);
  kvm.cur = null;
  assert.equal(e.view().vcpus[0].tlb[0].stale, true);
  e.step('vcpu0');
  assert.ok(e.violations().some((v) => v.id === 'TL-1' && /stale TLB entry/.test(v.message)));
});

test('KVM_REQ_MMU_RELOAD (5.15) unloads every root, previous roots included', () => {
  const e = createEngine({ config: shadowVm('5.15'), threads: [
    { id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: [{ op: 'page_fault', gva: 0 }, { op: 'load_cr3', gfn: T2B }, { op: 'page_fault', gva: 0 }] },
    { id: 'ioctl', kind: 'ioctl', ops: [{ op: 'zap_all_fast' }] },
    { id: 'entry', kind: 'vcpu', vcpu: 0, ops: [{ op: 'enter_guest' }] },
  ] });
  assert.equal(runSchedule(e, { kind: 'sequential' }).completed, true);
  assert.deepEqual(e.violations(), []);
  const v = e.view();
  assert.deepEqual(v.vcpus[0].prevRoots, [null, null, null]);
  assert.ok(v.vcpus[0].root !== null);
  assert.ok(e.history.some((h) => h.events.some((ev) => ev.kind === 'call' && ev.frame.fn === 'kvm_mmu_unload')));
});

test('destroy_vm frees every page and root', () => {
  for (const mmu of ['tdp', 'direct-shadow'] as const) {
    const e = createEngine({ config: vm('6.19', mmu, { vcpus: 2 }), threads: [
      { id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: [{ op: 'page_fault', gfn: G }, { op: 'page_fault', gfn: G + 0x400 }] },
      { id: 'vcpu1', kind: 'vcpu', vcpu: 1, ops: [{ op: 'page_fault', gfn: G + 1 }] },
      { id: 'ioctl', kind: 'ioctl', ops: [{ op: 'destroy_vm' }] },
    ] });
    assert.equal(runSchedule(e, { kind: 'sequential' }).completed, true);
    assert.deepEqual(e.violations(), [], mmu);
    const v = e.view();
    assert.equal(v.shadowPages.length, 0, mmu);
    assert.equal(v.vm.n_used_mmu_pages, 0);
  }
});

test('lock modes per era: TDP faults take mmu_lock for read on rwlock eras, spinlock before', () => {
  const modes = (era: '6.19' | '3.11', mmu: 'tdp' | 'direct-shadow') => {
    const e = createEngine({ config: vm(era, mmu), threads: [{ id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: [{ op: 'page_fault', gfn: G }] }] });
    runSchedule(e, { kind: 'sequential' });
    return e.history.flatMap((h) => h.events).filter((ev) => ev.kind === 'effect' && ev.effect.kind === 'lock' && ev.effect.lock === 'mmu_lock' && ev.effect.action === 'acquire').map((ev) => (ev as { effect: { mode: string } }).effect.mode);
  };
  assert.deepEqual(modes('6.19', 'tdp'), ['read', 'read']);
  assert.deepEqual(modes('6.19', 'direct-shadow'), ['write', 'write']);
  assert.deepEqual(modes('3.11', 'direct-shadow'), ['spin', 'spin']);
});

test('a thread waiting for mmu_lock is not runnable until it is released', () => {
  const e = createEngine({ config: vm('6.19', 'direct-shadow'), threads: [
    { id: 'ioctl', kind: 'ioctl', ops: [{ op: 'zap_all' }] },
    { id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: [{ op: 'page_fault', gfn: G }] },
  ] });
  e.kvm.s.lock.writer = 'someone';
  e.step('ioctl');
  assert.ok(!e.runnableThreads().includes('ioctl'));
  assert.equal(e.view().threads.find((t) => t.id === 'ioctl')!.blockedOn, 'mmu_lock (write)');
  e.kvm.s.lock.writer = null;
  assert.ok(e.runnableThreads().includes('ioctl'));
});
