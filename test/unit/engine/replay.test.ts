// goto's replay reuses the stored trace hashes and StepRecords: after any sequence of gotos the engine
// reports exactly what a fresh run reports (trace hash, state hash, violations, records); and the
// explorer's traceHash: false engine follows the same states.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createEngine, runSchedule } from '../../../src/engine';
import type { EraId, ThreadSpec } from '../../../src/engine';
import { vm, hvaOf } from './helpers';

const G = 0x1234;
function threads(): ThreadSpec[] {
  return [
    { id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: [{ op: 'enter_guest' }, { op: 'page_fault', gfn: G, write: true }, { op: 'enter_guest' }, { op: 'guest_access', gfn: G }] },
    { id: 'ioctl', kind: 'ioctl', ops: [{ op: 'zap_all_fast' }] },
    { id: 'mm', kind: 'notifier', ops: [{ op: 'host_unmap', hva: hvaOf(G) }] },
  ];
}

for (const era of ['5.18', '6.19', '3.11'] as EraId[]) {
  for (const snapshotEvery of [1, 64]) {
    test(`${era}, snapshotEvery ${snapshotEvery}: goto back and forth reproduces the original run exactly`, () => {
      const mmu = era === '3.11' ? 'direct-shadow' : 'tdp';
      const ref = createEngine({ config: vm(era, mmu), threads: threads(), snapshotEvery });
      assert.equal(runSchedule(ref, { kind: 'round-robin' }).completed, true);
      const n = ref.position;
      const trace: string[] = [];
      const state: string[] = [];
      const viol: number[] = [];
      const records = ref.history.map((r) => JSON.stringify(r));
      for (let i = 0; i <= n; i++) {
        ref.goto(i);
        trace.push(ref.traceHash()); state.push(ref.stateHash()); viol.push(ref.violations().length);
      }
      // a fresh run's trace hashes agree with the replayed ones
      const fresh = createEngine({ config: vm(era, mmu), threads: threads() });
      const choices = ref.history.map((r) => r.thread);
      assert.equal(fresh.traceHash(), trace[0]);
      for (let i = 0; i < n; i++) { fresh.step(choices[i]!); assert.equal(fresh.traceHash(), trace[i + 1], `step ${i + 1}`); }
      // jump around
      let seed = 7;
      for (let k = 0; k < 40; k++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        const i = seed % (n + 1);
        ref.goto(i);
        assert.equal(ref.traceHash(), trace[i], `traceHash at ${i}`);
        assert.equal(ref.stateHash(), state[i], `stateHash at ${i}`);
        assert.equal(ref.violations().length, viol[i], `violations at ${i}`);
      }
      ref.goto(n);
      assert.deepEqual(ref.history.map((r) => JSON.stringify(r)), records);
      // the explorer's engine (no event trace hash) walks through the same states
      const lite = createEngine({ config: vm(era, mmu), threads: threads(), traceHash: false, snapshotEvery: 1 });
      for (let i = 0; i < n; i++) { lite.step(choices[i]!); assert.equal(lite.stateHash(), state[i + 1]); }
      lite.goto(Math.floor(n / 2));
      assert.equal(lite.stateHash(), state[Math.floor(n / 2)]);
    });
  }
}
