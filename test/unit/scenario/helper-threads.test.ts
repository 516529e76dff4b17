// Threads the engine adds itself (the 5.18/6.1 tdp_mmu_zap_wq worker) in scenario schedules: the
// vocabulary matches the engine, the validator is era-aware, completion offers them, the runner pins them.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseScenario } from '../../../src/scenario/parser';
import { runScenario } from '../../../src/scenario/runner';
import { complete } from '../../../src/scenario/completion';
import { ERAS, HELPER_THREADS, MMU_AVAILABILITY, MMU_KINDS, helperThreads } from '../../../src/scenario/vocabulary';
import { createEngine } from '../../../src/engine';

const vm = (era: string, mmu = 'tdp'): string => `vm: { era: "${era}", mmu: ${mmu}, vcpus: 1, memslots: [{ id: 0, baseGfn: 0x0, npages: 512, hva: 0x7f0000000000 }] }\n`;
const BODY = `threads:
  vcpu0: [ enter_guest, { page_fault: { gfn: 0x10 } }, enter_guest ]
  ioctl: [ zap_all_fast ]
`;
const text = (era: string, schedule: string, mmu = 'tdp', extra = ''): string => `scenario: h\n${vm(era, mmu)}${BODY}schedule:\n${schedule}\n${extra}`;

test('HELPER_THREADS matches the threads the engine adds, for every era and MMU kind', () => {
  for (const era of ERAS) {
    for (const mmu of MMU_KINDS) {
      if (!MMU_AVAILABILITY[mmu].includes(era)) continue;
      const e = createEngine({ config: { era, mmu, vcpus: 1, memslots: [{ id: 0, baseGfn: 0, npages: 16, hva: 0x7f0000000000 }] }, threads: [{ id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: [] }] });
      const extra = e.view().threads.filter((t) => t.id !== 'vcpu0').map((t) => `${t.id}:${t.kind}`);
      assert.deepEqual(extra, helperThreads(era, mmu).map((h) => `${h.id}:${h.kind}`), `${era} ${mmu}`);
    }
  }
  assert.ok(HELPER_THREADS.some((h) => h.id === 'tdp_mmu_zap_wq'));
});

test('schedules may name tdp_mmu_zap_wq in 5.18/6.1 with the TDP MMU (slices and open threads)', () => {
  for (const era of ['5.18', '6.1']) {
    const slices = parseScenario(text(era, '  - { thread: vcpu0, until: 3 }\n  - { thread: ioctl, until: done }\n  - { thread: tdp_mmu_zap_wq, until: done }'));
    assert.ok(slices.scenario, JSON.stringify(slices.diagnostics));
    const open = parseScenario(text(era, '  open: { threads: [vcpu0, tdp_mmu_zap_wq] }'));
    assert.ok(open.scenario, JSON.stringify(open.diagnostics));
  }
});

test('naming tdp_mmu_zap_wq where the engine does not create it is an error saying where it exists', () => {
  const cases: Array<[string, string, string]> = [
    ['5.17', 'tdp', '  - { thread: tdp_mmu_zap_wq, until: 1 }'],
    ['6.19', 'tdp', '  open: { threads: [vcpu0, tdp_mmu_zap_wq] }'],
    ['5.18', 'shadow', '  - { thread: tdp_mmu_zap_wq, until: 1 }'],
  ];
  for (const [era, mmu, sched] of cases) {
    const r = parseScenario(text(era, sched, mmu));
    assert.equal(r.scenario, undefined);
    const d = r.diagnostics.find((x) => x.code === 'era-thread');
    assert.ok(d, JSON.stringify(r.diagnostics));
    assert.match(d.message, /tdp_mmu_zap_wq/);
    assert.match(d.message, new RegExp(`era ${era.replace('.', '\\.')} with mmu ${mmu}`));
    assert.match(d.message, /only in eras 5\.18, 6\.1 with mmu tdp or nested/);
  }
  // a variant that switches to an era without the worker cannot share a schedule naming it
  const v = parseScenario(text('5.18', '  - { thread: tdp_mmu_zap_wq, until: done }', 'tdp', 'variants:\n  old:\n    era: "5.17"\n    expect: { violations: [] }\n'));
  assert.equal(v.scenario, undefined);
  assert.ok(v.diagnostics.some((d) => d.code === 'era-thread' && /variant 'old' runs era 5\.17/.test(d.message)), JSON.stringify(v.diagnostics));
  // a misspelt scenario thread is still an unknown thread, with the helper among the suggestions' candidates
  const typo = parseScenario(text('5.18', '  - { thread: tdp_mmu_zap_w, until: 1 }'));
  assert.ok(typo.diagnostics.some((d) => d.code === 'unknown-thread' && /did you mean 'tdp_mmu_zap_wq'/.test(d.message)), JSON.stringify(typo.diagnostics));
});

test('completion offers tdp_mmu_zap_wq in open thread lists of 5.18', () => {
  const t = text('5.18', '  open: { threads: [vcpu0, ');
  const lines = t.split('\n');
  const line = lines.length - 2;
  const labels = complete(t, line, lines[line]!.length).map((c) => c.label);
  assert.deepEqual(labels, ['vcpu0', 'ioctl', 'tdp_mmu_zap_wq']);
});

test('an explicit slice pins the worker; a slice on the idle worker is a schedule error', () => {
  // vcpu0 faults gfn 0x10 in; the fast zap invalidates its root and queues the root's zap; the worker
  // runs it before the vCPU re-enters (and frees the obsolete root)
  const ok = parseScenario(text('5.18', '  - { thread: vcpu0, until: op }\n  - { thread: vcpu0, until: op }\n  - { thread: ioctl, until: done }\n  - { thread: tdp_mmu_zap_wq, until: done }\n  - { thread: vcpu0, until: done }', 'tdp', 'expect:\n  violations: []\n'));
  assert.ok(ok.scenario, JSON.stringify(ok.diagnostics));
  const r = runScenario(ok.scenario, createEngine);
  assert.equal(r.verdict, 'pass', JSON.stringify(r.failedExpectations));
  const idle = parseScenario(text('5.18', '  - { thread: tdp_mmu_zap_wq, until: 1 }', 'tdp', 'expect:\n  violations: []\n'));
  assert.ok(idle.scenario, JSON.stringify(idle.diagnostics));
  const ri = runScenario(idle.scenario, createEngine);
  assert.equal(ri.verdict, 'fail');
  assert.ok(ri.failedExpectations.some((m) => /engine thread 'tdp_mmu_zap_wq' has no queued work/.test(m)), JSON.stringify(ri.failedExpectations));
});
