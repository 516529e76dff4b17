import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseHostMessage, parseWebviewMessage, hostMessage, panelUiStateCheck } from '../../../src/shared/protocol';
import { computeDelta, summarizeChanges } from '../../../src/shared/delta';
import { tdpAfter, tdpBefore, tdpGenerations, tdpStep, tdpViolation } from '../../browser/fixtures/states';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

function snapshot() {
  return clone(
    hostMessage('snapshot', {
      state: tdpAfter(),
      changes: summarizeChanges(tdpBefore(), tdpAfter()),
      record: tdpStep(),
      historyLength: 9,
      violations: [tdpViolation()],
      generations: tdpGenerations(),
      scenario: 'fast-zap.yaml',
    }),
  );
}

test('well-formed messages pass in both directions', () => {
  assert.ok(parseHostMessage(snapshot()).ok);
  const d = computeDelta(tdpBefore(), tdpAfter());
  const up = clone({ method: 'update', params: { delta: d, changes: summarizeChanges(tdpBefore(), tdpAfter(), d), record: null, historyLength: 4, violations: [] } });
  assert.deepEqual(parseHostMessage(up), { ok: true, message: up });
  for (const m of [
    { method: 'ready', params: { restored: false } },
    { method: 'gotoStep', params: { step: 3 } },
    { method: 'openSource', params: { file: 'arch/x86/kvm/mmu/mmu.c', fn: 'kvm_mmu_zap_all_fast', point: 'entry' } },
    { method: 'requestSnapshot', params: { reason: 'base mismatch' } },
    { method: 'log', params: { level: 'warn', message: 'x' } },
  ])
    assert.ok(parseWebviewMessage(m).ok, m.method);
});

test('hostile inputs are rejected', () => {
  const bad: unknown[] = [
    null,
    42,
    'gotoStep',
    [],
    {},
    { method: 'nope', params: {} },
    { method: 'toString', params: {} },
    { method: '__proto__', params: {} },
    { method: 'gotoStep' },
    { method: 'gotoStep', params: { step: '3' } },
    { method: 'gotoStep', params: { step: -1 } },
    { method: 'gotoStep', params: { step: 1.5 } },
    { method: 'gotoStep', params: { step: Infinity } },
    { method: 'gotoStep', params: { step: 1, extra: true } },
    { method: 'gotoStep', params: { step: 1 }, extra: 1 },
    { method: 'openSource', params: { file: 'x'.repeat(100_000), fn: 'f' } },
    { method: 'openSource', params: { file: 1, fn: 'f' } },
    { method: 'x'.repeat(1_000_000), params: {} },
    JSON.parse('{"method":"gotoStep","params":{"step":1,"__proto__":{"polluted":1}}}'),
    JSON.parse('{"method":"ready","__proto__":{"polluted":1},"params":{"restored":true}}'),
    { method: 'log', params: { level: 'fatal', message: 'x' } },
  ];
  for (const b of bad) assert.equal(parseWebviewMessage(b).ok, false, JSON.stringify(b)?.slice(0, 80));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('hostile state payloads are rejected', () => {
  const mutations: Array<(m: any) => void> = [
    (m) => (m.params.state.vm.mmu_valid_gen = '1'),
    (m) => (m.params.state.shadowPages[0].sptes = 'x'),
    (m) => (m.params.state.shadowPages[0].role = JSON.parse('{"__proto__":{"x":1}}')),
    (m) => (m.params.state.vm.stats = JSON.parse('{"constructor":1}')),
    (m) => (m.params.state.vcpus[0].root = 'r'.repeat(10_000)),
    (m) => (m.params.state.memslots[0].rmaps[0].sptes = [1]),
    (m) => (m.params.record.events[0].frame.fn = null),
    (m) => (m.params.record.events.push({ kind: 'effect', thread: 't', depth: 0, effect: JSON.parse('{"kind":"note","__proto__":{}}') })),
    (m) => (m.params.violations[0].objects = [{}]),
    (m) => (m.params.generations[0].marks = ['boom']),
    (m) => (m.params.state = undefined),
    (m) => (m.params.state.step = NaN),
    (m) => (m.params.changes.shadowPages.added = ['a']),
    (m) => (m.params.state.threads = new Array(10_000).fill(m.params.state.threads[0])),
  ];
  for (const [i, mut] of mutations.entries()) {
    const m = snapshot();
    mut(m);
    assert.equal(parseHostMessage(m).ok, false, `mutation ${i}`);
  }
});

test('hostile deltas are rejected', () => {
  const d: any = clone(computeDelta(tdpBefore(), tdpAfter()));
  const base = { changes: summarizeChanges(tdpBefore(), tdpAfter()), record: null, historyLength: 1, violations: [] };
  const ok = { method: 'update', params: { ...base, delta: d } };
  assert.ok(parseHostMessage(clone(ok)).ok);
  const m1: any = clone(ok);
  m1.params.delta.shadowPages.patch[0].set.bogus = 1;
  assert.equal(parseHostMessage(m1).ok, false);
  const m2: any = clone(ok);
  m2.params.delta.vm.splice = { active_mmu_pages: { start: -1, del: 0, ins: [] } };
  assert.equal(parseHostMessage(m2).ok, false);
  const m3: any = clone(ok);
  m3.params.delta.shadowPages.patch[0].key = { a: 1 };
  assert.equal(parseHostMessage(m3).ok, false);
});

test('ui state validator', () => {
  assert.equal(panelUiStateCheck({ version: 1, open: {}, expandedSps: [], expandedRmapGroups: [], rmapSearch: '', scroll: {}, pageScroll: 0 }, 's'), null);
  assert.notEqual(panelUiStateCheck({ version: 2 }, 's'), null);
});
