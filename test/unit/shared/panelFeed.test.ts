import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { PanelFeed, type FeedClient, type FeedSource } from '../../../src/extension/panel/feed';
import { applyDelta, normalizeState } from '../../../src/shared/delta';
import { parseHostMessage } from '../../../src/shared/protocol';
import type { StateView, StepRecord } from '../../../src/engine/api';
import { tdpAfter, tdpBefore, tdpStep, tdpViolation } from '../../browser/fixtures/states';

function fakeSource(states: StateView[]) {
  let pos = 0;
  const src: FeedSource & { goto(n: number): void } = {
    current: () => states[pos],
    previous: () => (pos > 0 ? states[pos - 1] : undefined),
    currentStep: (): StepRecord | undefined => (pos > 0 ? { ...tdpStep(), index: pos } : undefined),
    historyLength: () => states.length - 1,
    violations: () => (pos > 0 ? [tdpViolation()] : []),
    goto: (n) => (pos = n),
  };
  return src;
}

const roundTrip = <T>(m: T): T => JSON.parse(JSON.stringify(m));

test('snapshot first, then deltas that reproduce the state; stepping back works', () => {
  const a = { ...tdpBefore(), step: 0 };
  const b = { ...tdpAfter(), step: 1 };
  const src = fakeSource([a, b]);
  const feed = new PanelFeed(src);
  const client: FeedClient = { shown: undefined, genKey: '' };
  const snap = roundTrip(feed.snapshot(client));
  assert.ok(parseHostMessage(snap).ok);
  assert.equal(snap.method, 'snapshot');
  const shown = normalizeState((snap.params as { state: StateView }).state);
  assert.equal(feed.update(client), null, 'nothing changed');
  src.goto(1);
  const up = roundTrip(feed.update(client)!);
  assert.ok(parseHostMessage(up).ok, JSON.stringify(parseHostMessage(up)));
  assert.equal(up.method, 'update');
  if (up.method !== 'update') return;
  assert.equal(up.params.delta.fromStep, 0);
  assert.deepEqual(up.params.changes.shadowPages.added, [6]);
  assert.equal(up.params.generations?.length, 2);
  applyDelta(shown, up.params.delta);
  assert.deepEqual(roundTrip(shown), roundTrip(normalizeState(b)));
  src.goto(0);
  const back = roundTrip(feed.update(client)!);
  assert.equal(back.method, 'update');
  if (back.method !== 'update') return;
  assert.deepEqual(back.params.delta.shadowPages?.remove, [6]);
  assert.equal(back.params.generations, undefined, 'timeline unchanged when stepping back');
});

test('no scenario: one empty message, then a snapshot when it starts', () => {
  const states: StateView[] = [];
  const src = fakeSource(states);
  const feed = new PanelFeed(src);
  const client: FeedClient = { shown: undefined, genKey: '' };
  assert.equal(feed.update(client)?.method, 'empty');
  assert.equal(feed.update(client), null);
  states.push(tdpBefore());
  assert.equal(feed.update(client)?.method, 'snapshot');
});
