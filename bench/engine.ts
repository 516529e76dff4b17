/**
 * MMU engine benchmark. `run()` returns the figures; it prints nothing.
 *
 *  - tdpFaultsPerSec / shadowFaultsPerSec: 1,000,000 distinct 4 KiB gfns faulted in by one vCPU on the
 *    TDP MMU (6.19) and on the shadow MMU with direct roots (6.19, tdp_mmu=0), tracing in counting
 *    mode, auditor off, no history (what a throughput run would use), after a 50k-fault warm-up of
 *    each MMU so JIT compilation is not measured.
 *  - heapBytesPerMappedPage: heap growth (after GC; V8 heap plus ArrayBuffer backing stores, where
 *    the SPTE pages, rmaps and host arrays live) of the larger of the two runs, divided by the
 *    number of mapped pages. The scenario's op list is allocated before the baseline is taken.
 *  - zapAll: the write-locked mmu_lock section of the slow zap-all (3.10 kvm_mmu_zap_all) against
 *    the fast zap (3.11 kvm_mmu_invalidate_zap_all_pages) for 1K..1M shadow pages.
 *    "Lock-held operations" = units of work done while mmu_lock is held in one critical section:
 *    every active_mmu_pages node visited, every page prepared/zapped, every SPTE cleared and every
 *    page freed by the commit (the engine's `lockOps` counter, reset when the lock is taken and
 *    logged when it is released). For the fast zap the section measured is the first one: from
 *    taking mmu_lock to the first lock break (cond_resched_lock) in kvm_zap_obsolete_pages.
 *    `ratio` = slowLockOps / fastLockOps, `timeRatio` = slowMs / fastMs.
 *  - stepP95Ms / stepBackP95Ms: a 10,000-step scenario with default options (full trace, full audit,
 *    history with snapshots), p95 of step() and of stepBack() at positions spread over the run.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { performance } from 'node:perf_hooks';
import { createEngine } from '../src/engine';
import type { Op, EraId, MmuKind } from '../src/engine';
import type { EngineInternals } from '../src/engine/engine';

function getGc(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  v8.setFlagsFromString('--expose_gc');
  return vm.runInNewContext('gc') as () => void;
}

function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))];
}

const N_FAULTS = 1_000_000;
const BASE = 0x100000;
const HVA = 0x7f0000000000;

function faultRun(era: EraId, mmu: MmuKind, gc: () => void): { perSec: number; bytesPerPage: number } {
  const ops: Op[] = new Array(N_FAULTS);
  for (let i = 0; i < N_FAULTS; i++) ops[i] = { op: 'page_fault', gfn: BASE + i, write: true };
  gc();
  const mem = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
  const before = mem();
  const e = createEngine({
    config: { era, mmu, vcpus: 1, memslots: [{ id: 0, baseGfn: BASE, npages: N_FAULTS, hva: HVA }], maxMmuPages: 1 << 20 },
    threads: [{ id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops }],
    trace: 'count', audit: 'off', history: false,
  });
  const t0 = performance.now();
  while (!e.isDone()) e.step('vcpu0');
  const ms = performance.now() - t0;
  gc();
  const after = mem();
  const mapped = e.kvm.s.host.mapped;
  if (mapped !== N_FAULTS) throw new Error(`expected ${N_FAULTS} mapped pages, got ${mapped}`);
  return { perSec: Math.round(N_FAULTS / (ms / 1000)), bytesPerPage: Math.round((after - before) / mapped) };
}

function zapRun(era: EraId, op: 'zap_all' | 'zap_all_fast', pages: number): { ops: number; ms: number } {
  const e = createEngine({
    config: { era, mmu: 'direct-shadow', vcpus: 1, memslots: [{ id: 0, baseGfn: 0, npages: 512, hva: HVA }], maxMmuPages: pages + 64 },
    threads: [{ id: 'ioctl', kind: 'ioctl', ops: [{ op }] }],
    trace: 'count', audit: 'off', history: false,
  });
  e.kvm.debugPopulate(pages);
  e.kvm.critLog = [];
  let ms = 0;
  while (!e.isDone()) {
    const n = e.kvm.critLog.length;
    const t0 = performance.now();
    e.step('ioctl');
    const dt = performance.now() - t0;
    if (e.kvm.critLog.length > n) { ms = dt; break; }
  }
  const first = e.kvm.critLog[0];
  return { ops: first ? first.ops : 0, ms };
}

function stepLatency(): { stepP95Ms: number; stepBackP95Ms: number; steps: number } {
  const mk = (g0: number, n: number): Op[] => {
    const ops: Op[] = [];
    for (let i = 0; i < n; i++) {
      ops.push({ op: 'page_fault', gfn: g0 + i, write: i % 3 === 0 });
      if (i % 50 === 49) ops.push({ op: 'enter_guest' }, { op: 'guest_access', gfn: g0 + i - 1 });
    }
    return ops;
  };
  const notifier: Op[] = [];
  for (let i = 0; i < 100; i++) notifier.push({ op: 'host_unmap', hva: HVA + (i * 13) * 4096 }, { op: 'clear_young', hva: HVA + (i * 7) * 4096, npages: 4 });
  const e: EngineInternals = createEngine({
    config: { era: '6.19', mmu: 'tdp', vcpus: 2, memslots: [{ id: 0, baseGfn: BASE, npages: 8192, hva: HVA }] },
    threads: [
      { id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: mk(BASE, 1600) },
      { id: 'vcpu1', kind: 'vcpu', vcpu: 1, ops: mk(BASE + 4096, 1600) },
      { id: 'mmu_notifier', kind: 'notifier', ops: notifier },
      { id: 'ioctl', kind: 'ioctl', ops: [{ op: 'zap_all_fast' }, { op: 'zap_gfn_range', start: BASE, end: BASE + 64 }] },
    ],
  });
  const times: number[] = [];
  let k = 0;
  while (!e.isDone() && e.position < 10_000) {
    const r = e.runnableThreads();
    const t0 = performance.now();
    e.step(r[k++ % r.length]);
    times.push(performance.now() - t0);
  }
  const back: number[] = [];
  const n = e.position;
  for (let i = 0; i < 100; i++) {
    const target = Math.floor(((i + 1) * n) / 101);
    e.goto(target + 1);
    const t0 = performance.now();
    e.stepBack();
    back.push(performance.now() - t0);
  }
  return { stepP95Ms: +p95(times).toFixed(4), stepBackP95Ms: +p95(back).toFixed(3), steps: n };
}

function warmUp(): void {
  for (const mmu of ['tdp', 'direct-shadow'] as const) {
    const ops: Op[] = [];
    for (let i = 0; i < 50_000; i++) ops.push({ op: 'page_fault', gfn: BASE + i, write: true });
    const e = createEngine({
      config: { era: '6.19', mmu, vcpus: 1, memslots: [{ id: 0, baseGfn: BASE, npages: 50_000, hva: HVA }] },
      threads: [{ id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops }], trace: 'count', audit: 'off', history: false,
    });
    while (!e.isDone()) e.step('vcpu0');
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const gc = getGc();
  warmUp();
  gc();
  const tdp = faultRun('6.19', 'tdp', gc);
  gc();
  const shadow = faultRun('6.19', 'direct-shadow', gc);
  gc();
  const zapAll: Record<string, { slowLockOps: number; fastLockOps: number; slowMs: number; fastMs: number; ratio: number; timeRatio: number }> = {};
  for (const pages of [1_000, 10_000, 100_000, 1_000_000]) {
    const slow = zapRun('3.10', 'zap_all', pages);
    gc();
    const fast = zapRun('3.11', 'zap_all_fast', pages);
    gc();
    zapAll[String(pages)] = {
      slowLockOps: slow.ops, fastLockOps: fast.ops, slowMs: +slow.ms.toFixed(3), fastMs: +fast.ms.toFixed(3),
      ratio: +(slow.ops / Math.max(1, fast.ops)).toFixed(1),
      timeRatio: +(slow.ms / Math.max(1e-3, fast.ms)).toFixed(1),
    };
  }
  const lat = stepLatency();
  return {
    tdpFaultsPerSec: tdp.perSec,
    shadowFaultsPerSec: shadow.perSec,
    heapBytesPerMappedPage: Math.max(tdp.bytesPerPage, shadow.bytesPerPage),
    tdpHeapBytesPerMappedPage: tdp.bytesPerPage,
    shadowHeapBytesPerMappedPage: shadow.bytesPerPage,
    zapAll,
    stepP95Ms: lat.stepP95Ms,
    stepBackP95Ms: lat.stepBackP95Ms,
    latencyScenarioSteps: lat.steps,
  };
}
