// Exact effect sequences (SPTE writes, rmap changes, flushes, refcounts, requests) of every operation.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createEngine, runSchedule } from '../../../src/engine';
import { OP_SCENARIOS } from './op-scenarios';
import { EXPECTED_EFFECTS } from './op-effects.expected';
import { effectsOf, callsOf } from './fmt';

for (const sc of OP_SCENARIOS) {
  test(`effects: ${sc.name}`, () => {
    const e = createEngine({ config: sc.cfg, threads: sc.threads });
    const r = sc.name.startsWith('gup race')
      ? runSchedule(e, { kind: 'explicit', slices: [{ thread: 'vcpu0', until: { steps: 2 } }, { thread: 'mmu_notifier', until: { done: true } }, { thread: 'vcpu0', until: { done: true } }] })
      : runSchedule(e, { kind: 'sequential' });
    assert.equal(r.completed, true, r.stoppedBecause);
    assert.deepEqual(e.violations(), []);
    const recs = e.history.filter((h) => h.thread === sc.thread && h.opIndex === sc.op);
    assert.deepEqual(effectsOf(recs), EXPECTED_EFFECTS[sc.name]);
  });
}

test('kernel call chain of a 6.19 TDP fault and of a 3.11 fast zap', () => {
  const e = createEngine({ config: OP_SCENARIOS[0].cfg, threads: OP_SCENARIOS[0].threads });
  runSchedule(e, { kind: 'sequential' });
  const fns = callsOf(e.history);
  for (const f of ['kvm_mmu_page_fault', 'kvm_mmu_load', 'kvm_tdp_mmu_alloc_root', 'kvm_tdp_mmu_page_fault', 'kvm_mmu_faultin_pfn', 'is_page_fault_stale', 'mmu_invalidate_retry_gfn', 'kvm_tdp_mmu_map', 'kvm_mmu_finish_page_fault']) assert.ok(fns.includes(f), f);
  const z = OP_SCENARIOS.find((s) => s.name.startsWith('fast zap (3.11'))!;
  const e2 = createEngine({ config: z.cfg, threads: z.threads });
  runSchedule(e2, { kind: 'sequential' });
  const calls = callsOf(e2.history.filter((h) => h.thread === 'ioctl'));
  assert.deepEqual(calls.slice(0, 3), ['kvm_mmu_invalidate_zap_all_pages', 'kvm_reload_remote_mmus', 'make_all_cpus_request']);
  assert.ok(calls.includes('kvm_zap_obsolete_pages') && calls.includes('kvm_mmu_prepare_zap_page') && calls.includes('kvm_mmu_commit_zap_page'));
  const points = e2.history.flatMap((h) => h.events.filter((ev) => ev.kind === 'point').map((ev) => (ev as { frame: { fn: string; point?: string } }).frame));
  assert.ok(points.some((p) => p.fn === 'kvm_mmu_invalidate_zap_all_pages' && p.point === 'calls make_all_cpus_request'));
});

test('frames carry the era file (mmu.c moved to mmu/ in 5.5)', () => {
  for (const [era, file] of [['3.11', 'arch/x86/kvm/mmu.c'], ['6.19', 'arch/x86/kvm/mmu/mmu.c']] as const) {
    const sc = OP_SCENARIOS.find((s) => s.name.startsWith(era === '3.11' ? 'fast zap (3.11' : 'fast zap (6.19'))!;
    const e = createEngine({ config: sc.cfg, threads: sc.threads });
    runSchedule(e, { kind: 'sequential' });
    const f = e.history.flatMap((h) => h.events).find((ev) => ev.kind === 'call' && ev.frame.fn === 'kvm_zap_obsolete_pages');
    assert.ok(f && f.kind === 'call' && f.frame.file === file, era);
  }
});
