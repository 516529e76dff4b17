import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseScenario, splitPath } from '../../../src/scenario/parser';
import { MINIMAL } from './helpers';

function diag(text: string, options = {}) {
  return parseScenario(text, options).diagnostics.filter((d) => d.severity === 'error');
}

test('minimal scenario parses into engine ops', () => {
  const r = parseScenario(MINIMAL);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.ok(r.scenario);
  assert.equal(r.scenario.config.era, '5.18');
  assert.deepEqual(r.scenario.threads[0]!.ops, [{ op: 'page_fault', gfn: 0x10, write: true }, { op: 'enter_guest' }]);
  assert.equal(r.scenario.threads[0]!.kind, 'vcpu');
  assert.equal(r.scenario.threads[0]!.vcpu, 0);
  assert.equal(r.scenario.threads[1]!.kind, 'ioctl');
  assert.deepEqual(r.scenario.expect.violations, []);
  assert.equal(r.scenario.header, 'minimal');
});

test('unknown step: exact range and did-you-mean', () => {
  const text = MINIMAL.replace('page_fault', 'pagefault');
  const d = diag(text);
  assert.equal(d.length, 1);
  assert.equal(d[0]!.message, "unknown step 'pagefault'; did you mean 'page_fault'?");
  assert.equal(d[0]!.range.start.line, 4);
  assert.equal(d[0]!.range.start.character, text.split('\n')[4]!.indexOf('pagefault'));
  assert.equal(d[0]!.range.end.character - d[0]!.range.start.character, 'pagefault'.length);
});

test('bad gfn outside every memslot', () => {
  const d = diag(MINIMAL.replace('gfn: 0x10', 'gfn: 0x900'));
  assert.equal(d.length, 1);
  assert.equal(d[0]!.code, 'bad-gfn');
  assert.match(d[0]!.message, /gfn 0x900 is outside every memslot/);
  assert.match(d[0]!.message, /add a memslot/);
});

test('thread that does not exist (schedule and wait)', () => {
  const text = MINIMAL.replace('schedule: sequential', 'schedule:\n  - { thread: iotcl, until: done }').replace('[ zap_all_fast ]', '[ zap_all_fast, { wait: { threadDone: vcpu9 } } ]');
  const d = diag(text);
  assert.deepEqual(d.map((x) => x.code), ['unknown-thread', 'unknown-thread']);
  assert.ok(d.some((x) => x.message === "thread 'iotcl' does not exist; did you mean 'ioctl'?"));
});

test('assertion on a field the era does not have', () => {
  const text = MINIMAL.replace('  violations: []', '  violations: []\n  at:\n    - after: end\n      assert: { "vm.zapped_obsolete_pages": [] }');
  assert.deepEqual(diag(text), []);
  const d = diag(text, { era: '6.19' });
  assert.equal(d.length, 1);
  assert.equal(d[0]!.code, 'era-field');
  assert.equal(d[0]!.range.start.line, 11);
  const d2 = diag(MINIMAL.replace('era: "5.18"', 'era: "3.10"').replace('mmu: tdp', 'mmu: shadow').replace('zap_all_fast', 'zap_all') + '  at:\n    - assert: { "vm.mmu_valid_gen": 0, "vcpus[0].requests": [KVM_REQ_MMU_FREE_OBSOLETE_ROOTS] }\n');
  assert.deepEqual(d2.map((x) => x.code).sort(), ['era-field', 'era-request']);
});

test('era checks on steps, mmu kinds and requests', () => {
  const d = diag(MINIMAL.replace('era: "5.18"', 'era: "3.10"'));
  assert.deepEqual(d.map((x) => x.code).sort(), ['era-mmu', 'era-step']);
  assert.ok(d.some((x) => /use 'zap_all'/.test(x.message)));
});

test('unquoted era numbers use the source text (3.10 is not 3.1)', () => {
  const r = parseScenario(MINIMAL.replace('era: "5.18"', 'era: 3.10').replace('mmu: tdp', 'mmu: shadow').replace('zap_all_fast', 'zap_all'));
  assert.equal(r.scenario?.config.era, '3.10');
});

test('vcpu index beyond vm.vcpus, duplicate labels, unknown label', () => {
  const text = MINIMAL.replace('vcpu0:', 'vcpu3:').replace('enter_guest ]', '{ enter_guest: null, label: a }, { exit_guest: null, label: a } ]') + '  at:\n    - after: b\n      assert: { step: 3 }\n';
  const codes = diag(text).map((x) => x.code).sort();
  assert.deepEqual(codes, ['duplicate', 'unknown-label', 'vcpu']);
});

test('unknown keys and invariant ids get suggestions', () => {
  const text = MINIMAL.replace('schedule: sequential', 'schedul: sequential').replace('violations: []', 'violations: [RT-66, MN1]');
  const d = diag(text);
  assert.ok(d.some((x) => x.message === "unknown top-level key 'schedul'; did you mean 'schedule'?"));
  assert.ok(d.some((x) => x.message.startsWith("unknown invariant 'MN1'; did you mean 'MN-1'")));
  assert.ok(d.some((x) => x.message.startsWith("unknown invariant 'RT-66'")));
});

test('YAML syntax errors become diagnostics', () => {
  const d = diag('scenario: x\nvm: { era: "5.18"\nthreads: [');
  assert.ok(d.length > 0);
  assert.ok(d.every((x) => x.range.start.line >= 0));
});

test('explicit schedule with points, labels and slice assertions', () => {
  const text = MINIMAL.replace('schedule: sequential', `schedule:
  - { thread: ioctl, until: "kvm_zap_obsolete_pages:yield", label: yielded }
  - { thread: vcpu0, until: done }
  - { thread: ioctl, until: { point: "x:y", occurrence: 2 } }
  - vcpu0`) + '  at:\n    - after: yielded\n      assert: { "vcpus[0].root": { ne: null } }\n    - after: 1\n      assert: { "roots.valid": { ge: 1 } }\n';
  const r = parseScenario(text);
  assert.deepEqual(r.diagnostics.filter((x) => x.severity === 'error'), []);
  const s = r.scenario!.schedule.schedule;
  assert.equal(s.kind, 'explicit');
  if (s.kind === 'explicit') {
    assert.deepEqual(s.slices[0], { thread: 'ioctl', until: { point: 'kvm_zap_obsolete_pages:yield' } });
    assert.deepEqual(s.slices[2]!.until, { point: 'x:y', occurrence: 2 });
    assert.deepEqual(s.slices[3], { thread: 'vcpu0' });
  }
  assert.equal(r.scenario!.expect.at.length, 2);
  assert.deepEqual(r.scenario!.expect.at[1]!.assertions[0]!.matcher, { kind: 'op', op: 'ge', value: 1 });
});

test('variants and overrides', () => {
  const text = MINIMAL + 'variants:\n  buggy:\n    bug: yield-before-free-request\n    expect: { violations: [RT-3] }\n';
  const r = parseScenario(text);
  assert.equal(r.scenario?.variants[0]?.bug, 'yield-before-free-request');
  const r2 = parseScenario(text, { bug: 'prev-roots-not-freed' });
  assert.equal(r2.scenario?.config.bug, 'prev-roots-not-freed');
});

test('shorthand step args and memslot_create', () => {
  const text = MINIMAL.replace('[ zap_all_fast ]', '[ { memslot_create: { id: 1, baseGfn: 0x1000, npages: 16, hva: 0x7f1000000000 } }, { zap_gfn_range: { start: 0x1000, end: 0x1004 } }, { memslot_delete: 1 } ]').replace('gfn: 0x10,', 'gfn: 0x1002,');
  const r = parseScenario(text);
  assert.deepEqual(r.diagnostics.filter((x) => x.severity === 'error'), []);
  assert.deepEqual(r.scenario!.threads[1]!.ops[0], { op: 'memslot_create', slot: { id: 1, baseGfn: 0x1000, npages: 16, hva: 0x7f1000000000 } });
  assert.deepEqual(r.scenario!.threads[1]!.ops[2], { op: 'memslot_delete', id: 1 });
});

test('splitPath', () => {
  assert.deepEqual(splitPath('vcpus[0].prevRoots[1]'), ['vcpus', 0, 'prevRoots', 1]);
  assert.deepEqual(splitPath('gfn[0x10].mapped'), ['gfn', 16, 'mapped']);
  assert.equal(splitPath('vm..x'), undefined);
  assert.equal(splitPath('[0]'), undefined);
  assert.equal(splitPath('a.'), undefined);
});
