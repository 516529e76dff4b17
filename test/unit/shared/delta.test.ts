import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  applyDelta,
  computeDelta,
  isEmptyDelta,
  normalizeState,
  parseGfn,
  parseSpRef,
  parseSptep,
  spliceOf,
  summarizeChanges,
  summarizeGeneration,
} from '../../../src/shared/delta';
import { shadowState, tdpAfter, tdpBefore, tdpStep } from '../../browser/fixtures/states';
import { generateLarge } from '../../browser/fixtures/generate';
import type { StateView } from '../../../src/engine/api';

function roundTrip(a: StateView, b: StateView): void {
  const d = JSON.parse(JSON.stringify(computeDelta(a, b)));
  const s = normalizeState(JSON.parse(JSON.stringify(a)));
  applyDelta(s, d);
  assert.deepEqual(JSON.parse(JSON.stringify(s)), JSON.parse(JSON.stringify(normalizeState(b))));
}

test('identical states give an empty delta', () => {
  const a = tdpBefore();
  assert.ok(isEmptyDelta(computeDelta(a, tdpBefore())));
});

test('apply(compute(a, b)) reproduces b, both directions', () => {
  roundTrip(tdpBefore(), tdpAfter());
  roundTrip(tdpAfter(), tdpBefore());
  roundTrip(tdpBefore(), shadowState());
  roundTrip(shadowState(), tdpAfter());
});

test('delta over a sequence of generated steps stays exact and small', () => {
  const g = generateLarge({ shadowPages: 300, rmapEntries: 3000 });
  const shown = normalizeState(JSON.parse(JSON.stringify(g.state)));
  let prev = g.state;
  for (let i = 0; i < 20; i++) {
    const { state } = g.next();
    const d = computeDelta(prev, state);
    assert.ok(JSON.stringify(d).length < 20_000);
    applyDelta(shown, JSON.parse(JSON.stringify(d)));
    prev = state;
  }
  assert.deepEqual(JSON.parse(JSON.stringify(shown)), JSON.parse(JSON.stringify(normalizeState(prev))));
});

test('summary names added, removed and modified objects by stable id', () => {
  const c = summarizeChanges(tdpBefore(), tdpAfter());
  assert.deepEqual(c.shadowPages.added, [6]);
  assert.ok(c.shadowPages.modified.includes(1));
  assert.ok(c.spFields.some(([id, f]) => id === 1 && f.includes('invalid')));
  assert.deepEqual(c.rmaps.removed, ['0:1:18']);
  assert.deepEqual(c.rmaps.added, ['0:1:19']);
  assert.ok(c.vm.includes('mmu_valid_gen'));
  assert.deepEqual(c.roots.modified, ['1:current']);
  assert.deepEqual(c.roots.added, ['1:prev0']);
  assert.deepEqual(c.requests.added.sort(), ['0:KVM_REQ_MMU_FREE_OBSOLETE_ROOTS', '1:KVM_REQ_TLB_FLUSH']);
  assert.deepEqual(c.tlb.modified, ['0:pcid0:0x10']);
  assert.deepEqual(c.tlb.removed, ['1:pcid0:0x11']);
  assert.deepEqual(c.locks.added, ['ioctl:write']);
  assert.deepEqual(c.locks.removed, ['vcpu1:read']);
});

test('splice of id lists', () => {
  assert.deepEqual(spliceOf([3, 2, 1], [4, 3, 2, 1]), { start: 0, del: 0, ins: [4] });
  assert.deepEqual(spliceOf([3, 2, 1], [3, 1]), { start: 1, del: 1, ins: [] });
  assert.equal(spliceOf([1], [1]), null);
});

test('generation point counts and marks', () => {
  const p = summarizeGeneration(tdpAfter(), tdpStep(), 0);
  assert.equal(p.gen, 1);
  assert.equal(p.live, 1);
  assert.equal(p.obsolete, 5);
  assert.ok(p.marks.includes('fast-zap'));
  assert.ok(p.marks.includes('gen-change'));
});

test('name parsing', () => {
  assert.equal(parseSpRef('sp#12'), 12);
  assert.equal(parseSpRef('12'), 12);
  assert.equal(parseSpRef('hpa 0x1000'), null);
  assert.deepEqual(parseSptep('sp#4[18]'), { sp: 4, index: 18 });
  assert.deepEqual(parseSptep('sp4:3'), { sp: 4, index: 3 });
  assert.equal(parseSptep('garbage'), null);
  assert.equal(parseGfn('0x1a'), 26);
  assert.equal(parseGfn('26'), 26);
  assert.equal(parseGfn('1a'), 26);
  assert.equal(parseGfn('zz'), null);
});
