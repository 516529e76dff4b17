import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { complete } from '../../../src/scenario/completion';
import { MINIMAL } from './helpers';

function at(text: string, marker = '|') {
  const i = text.indexOf(marker);
  const t = text.slice(0, i) + text.slice(i + 1);
  const before = t.slice(0, i).split('\n');
  return complete(t, before.length - 1, before.at(-1)!.length).map((c) => c.label);
}

test('step names in a thread list', () => {
  const l = at('scenario: x\nthreads:\n  vcpu0: [ |');
  assert.ok(l.includes('page_fault') && l.includes('zap_all_fast'));
  const l2 = at('scenario: x\nthreads:\n  vcpu0:\n    - |');
  assert.ok(l2.includes('page_fault'));
});

test('fields of a step', () => {
  const l = at('scenario: x\nthreads:\n  vcpu0: [ { page_fault: { |');
  assert.deepEqual(l, ['gfn', 'gva', 'write', 'exec']);
});

test('invariant ids in expect.violations', () => {
  const l = at('expect:\n  violations: [RT|');
  assert.ok(l.includes('RT-6') && l.includes('MN-1'));
  const l2 = at('expect:\n  violations:\n    - |');
  assert.ok(l2.includes('AG-4'));
});

test('values: era, mmu, bug, thread', () => {
  assert.ok(at('vm:\n  era: |').includes('5.18'));
  assert.ok(at('vm:\n  mmu: |').includes('nested'));
  assert.ok(at('bug: |').includes('prev-roots-not-freed'));
  // MINIMAL is 5.18 tdp: the engine's tdp_mmu_zap_wq worker may be named by the schedule too
  const l = at(MINIMAL.replace('schedule: sequential', 'schedule:\n  - { thread: |'));
  assert.deepEqual(l, ['vcpu0', 'ioctl', 'tdp_mmu_zap_wq']);
  const l517 = at(MINIMAL.replace('"5.18"', '"5.17"').replace('schedule: sequential', 'schedule:\n  - { thread: |'));
  assert.deepEqual(l517, ['vcpu0', 'ioctl']);
});

test('top-level and vm keys, assertion paths', () => {
  assert.ok(at('|').includes('scenario'));
  assert.ok(at('vm:\n  |').includes('memslots'));
  assert.ok(at('expect:\n  at:\n    - after: end\n      assert:\n        |').includes('vm.mmu_valid_gen'));
});

test('completion never throws on junk', () => {
  for (const t of ['', '{{{', ']]]:', '\n\n\t- -', 'threads: [ { : { ']) {
    for (let i = 0; i <= t.length; i++) complete(t, 0, i);
  }
});

test('hover describes steps, invariants, bugs and requests', async () => {
  const { hoverAt } = await import('../../../src/scenario/hover');
  const text = 'threads:\n  vcpu0: [ { page_fault: { gfn: 0x10 } } ]\nexpect: { violations: [RT-6] }\nbug: prev-roots-not-freed\n# KVM_REQ_MMU_RELOAD';
  assert.match(hoverAt(text, 1, 15)!.markdown, /kvm_mmu_page_fault/);
  assert.match(hoverAt(text, 2, 25)!.markdown, /RT-6/);
  assert.match(hoverAt(text, 3, 8)!.markdown, /5\.18/);
  assert.match(hoverAt(text, 4, 5)!.markdown, /until|5\.17|Exists/);
  assert.equal(hoverAt(text, 0, 2), undefined);
  assert.equal(hoverAt(text, 99, 0), undefined);
});
