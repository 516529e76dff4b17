import { createEngine, runSchedule } from '../../../src/engine';
import type { EraId, MmuKind, BugId, Op, ThreadSpec, VmConfig, Schedule, GuestPageTableConfig } from '../../../src/engine';
import type { EngineInternals } from '../../../src/engine/engine';

export const HVA = 0x7f0000000000;
export const BASE = 0x1000;

export function vm(era: EraId, mmu: MmuKind, extra: Partial<VmConfig> = {}): VmConfig {
  return { era, mmu, vcpus: 1, memslots: [{ id: 0, baseGfn: BASE, npages: 2048, hva: HVA }], ...extra };
}

export function hvaOf(gfn: number, base = BASE): number { return HVA + (gfn - base) * 4096; }

export function vcpu(ops: Op[], id = 'vcpu0', n = 0): ThreadSpec { return { id, kind: 'vcpu', vcpu: n, ops }; }
export function ioctl(ops: Op[]): ThreadSpec { return { id: 'ioctl', kind: 'ioctl', ops }; }
export function notifier(ops: Op[]): ThreadSpec { return { id: 'mmu_notifier', kind: 'notifier', ops }; }
export function reclaim(ops: Op[]): ThreadSpec { return { id: 'reclaim', kind: 'reclaim', ops }; }

export function engine(cfg: VmConfig, threads: ThreadSpec[], bug?: BugId): EngineInternals {
  return createEngine({ config: bug ? { ...cfg, bug } : cfg, threads });
}

export function run(e: EngineInternals, s: Schedule = { kind: 'sequential' }) {
  const r = runSchedule(e, s);
  return r;
}

export function ids(e: EngineInternals): string[] { return [...new Set(e.violations().map((v) => v.id))].sort(); }

/**
 * Shadow-paging guest used by several scenarios (gfns inside the memslot):
 *   T2a (0x1010, level 2) [0] -> T1 (0x1011)     T2b (0x1020, level 2) [0] -> T1
 *   T1 (0x1011, level 1) [0] -> 0x1011 writable (maps its own table: becomes unsync), [1] -> 0x1050
 */
export const T2A = 0x1010, T2B = 0x1020, T1 = 0x1011, EMPTY = 0x1030;
export function shadowGuest(): GuestPageTableConfig[] {
  return [
    { gfn: T2A, level: 2, entries: [{ index: 0, gfn: T1 }] },
    { gfn: T2B, level: 2, entries: [{ index: 0, gfn: T1 }] },
    { gfn: T1, level: 1, entries: [{ index: 0, gfn: T1, writable: true }, { index: 1, gfn: 0x1050 }] },
    { gfn: EMPTY, level: 2, entries: [] },
  ];
}

export function shadowVm(era: EraId, extra: Partial<VmConfig> = {}): VmConfig {
  return vm(era, 'shadow', { guestPageTables: shadowGuest(), guestCr3: [T2A], ...extra });
}

/** A small deterministic generator for random schedules (same seed, same run). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
}

/** Three shadow-MMU threads over the shadowGuest() page tables: faults, a zap and a host unmap. */
export function shadowRaceThreads(): ThreadSpec[] {
  return [
    { id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: [{ op: 'load_cr3', gfn: T2A }, { op: 'enter_guest' }, { op: 'page_fault', gva: 0, write: false }, { op: 'page_fault', gva: 1, write: true }, { op: 'guest_pt_write', gfn: T1, index: 1, value: null }] },
    { id: 'ioctl', kind: 'ioctl', ops: [{ op: 'zap_all' }, { op: 'change_mmu_pages', pages: 2 }] },
    { id: 'mm', kind: 'notifier', ops: [{ op: 'host_unmap', hva: hvaOf(T1) }] },
  ];
}
