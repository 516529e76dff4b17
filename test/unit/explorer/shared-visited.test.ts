// The shared visited table (src/explorer/shared-visited.ts): the same answers as the in-process Map store
// for any sequence of visits and forgets, a clear stop when it is full, and no lost or duplicated keys
// or updates when two real worker threads insert and update the same keys at once.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { MapVisited, VISIT_FRESH, VISIT_FULL, explore } from '../../../src/explorer/explorer';
import { SharedVisited } from '../../../src/explorer/shared-visited';
import { prepareExploration } from '../../../src/explorer/scenario';
import * as fs from 'node:fs';

const root = path.resolve(__dirname, '..', '..', '..', '..');
const dir = path.join(root, 'demo', 'scenarios', 'explore');

type Op = { kind: 'visit'; key: number; p: number; d: number; sleep: number } | { kind: 'forget'; key: number };

// few distinct keys (so that revisits are common), including 0 and keys that differ only in the high word
const KEYS = [0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 2 ** 32, 2 ** 32 + 1, 2 ** 52 + 3, 2 ** 53 - 1, 123456789012345];
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('visit' as const), key: fc.constantFrom(...KEYS), p: fc.nat(4), d: fc.nat(20), sleep: fc.integer({ min: 0, max: 0x7fffffff }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('forget' as const), key: fc.constantFrom(...KEYS) }) },
);

test('SharedVisited answers every visit and forget like the Map store (fast-check model)', () => {
  fc.assert(fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
    const model = new MapVisited();
    const table = SharedVisited.create(64);
    const seen = new Map<number, { p: number; d: number; sleep: number }>();
    for (const op of ops) {
      if (op.kind === 'forget') {
        model.forget(op.key);
        table.forget(op.key);
        seen.delete(op.key);
      } else {
        assert.equal(table.visit(op.key, op.p, op.d, op.sleep), model.visit(op.key, op.p, op.d, op.sleep));
        const s = seen.get(op.key);
        if (!s) seen.set(op.key, { p: op.p, d: op.d, sleep: op.sleep });
        else { if (!(op.p >= s.p && op.d >= s.d)) { s.p = op.p; s.d = op.d; } s.sleep &= op.sleep; }
      }
      assert.equal(table.size, model.size);
    }
    const entries = [...table.entries()].sort((a, b) => a.key - b.key);
    assert.deepEqual(entries.map((e) => e.key), [...seen.keys()].sort((a, b) => a - b));
    for (const e of entries) {
      const s = seen.get(e.key)!;
      assert.deepEqual({ p: e.p, d: e.d, sleep: e.sleep }, { p: s.p, d: s.d, sleep: s.sleep >>> 0 });
      assert.equal(table.has(e.key), true);
    }
  }), { numRuns: 300 });
});

test('MapVisited (open addressing, grown when half full) answers like a plain Map model over thousands of keys', () => {
  const keyArb = fc.oneof(fc.constantFrom(...KEYS), fc.integer({ min: 0, max: 4095 }), fc.maxSafeNat().map((k) => k % 2 ** 53));
  const many = fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('visit' as const), key: keyArb, p: fc.nat(4), d: fc.nat(20), sleep: fc.integer({ min: 0, max: 0x7fffffff }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('forget' as const), key: keyArb }) },
  );
  fc.assert(fc.property(fc.array(many, { minLength: 500, maxLength: 5000 }), (ops) => {
    const store = new MapVisited();
    const seen = new Map<number, { p: number; d: number; sleep: number }>();
    for (const op of ops) {
      if (op.kind === 'forget') { store.forget(op.key); seen.delete(op.key); continue; }
      const s = seen.get(op.key);
      let want: number;
      if (!s) { seen.set(op.key, { p: op.p, d: op.d, sleep: op.sleep }); want = VISIT_FRESH; }
      else if (op.p >= s.p && op.d >= s.d) { want = (s.sleep & ~op.sleep) >>> 0; s.sleep &= op.sleep; }
      else { s.p = op.p; s.d = op.d; s.sleep &= op.sleep; want = -2; }
      assert.equal(store.visit(op.key, op.p, op.d, op.sleep), want);
      assert.equal(store.size, seen.size);
    }
  }), { numRuns: 40 });
});

test('SharedVisited: the visit decision (fresh, dominated with the awakened transitions, not dominated)', () => {
  const t = SharedVisited.create(16);
  assert.equal(t.visit(5, 1, 10, 0b110), VISIT_FRESH);
  // dominated: the transitions asleep before (bits 1, 2) and awake now (bit 2) are returned
  assert.equal(t.visit(5, 1, 12, 0b010), 0b100);
  assert.deepEqual(t.get(5), { key: 5, p: 1, d: 10, sleep: 0b010 });
  assert.equal(t.visit(5, 2, 10, 0b010), 0);
  // fewer preemptions: explore again with this visit's budgets, sleep intersected
  assert.equal(t.visit(5, 0, 11, 0b011), -2);
  assert.deepEqual(t.get(5), { key: 5, p: 0, d: 11, sleep: 0b010 });
  assert.equal(t.has(6), false);
  assert.throws(() => t.visit(-1, 0, 0, 0), /integer in \[0, 2\^53\)/);
  assert.throws(() => t.visit(2 ** 53, 0, 0, 0), /integer/);
  assert.throws(() => t.visit(1.5, 0, 0, 0), /integer/);
  assert.throws(() => SharedVisited.create(0), /capacity/);
});

test('SharedVisited: when full, new keys get VISIT_FULL, known keys still work, nothing is corrupted', () => {
  const t = SharedVisited.create(8);
  for (let k = 0; k < 8; k++) assert.equal(t.visit(k * 2 ** 33 + k, 0, k, 0), VISIT_FRESH);
  assert.equal(t.size, 8);
  assert.equal(t.visit(999, 0, 0, 0), VISIT_FULL);
  assert.equal(t.visit(999, 0, 0, 0), VISIT_FULL);
  assert.equal(t.size, 8);
  assert.equal(t.visit(3 * 2 ** 33 + 3, 0, 5, 0), 0);
  // a forgotten entry frees room for a count, and its own key can come back
  t.forget(0);
  assert.equal(t.size, 7);
  assert.equal(t.visit(0, 0, 0, 0), VISIT_FRESH);
  assert.equal(t.size, 8);
  assert.equal(t.visit(1000, 0, 0, 0), VISIT_FULL);
  assert.equal([...t.entries()].length, 8);
});

test('explore() over a SharedVisited in one thread is exactly the Map search; a tiny table stops it as table-full', () => {
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('-open.kvmmmu.yaml'))) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    for (const o of [{}, { bug: 'none' as const }, { bug: 'none' as const, por: false }, { all: true }]) {
      const a = explore(prepareExploration(text, o).options);
      const b = explore({ ...prepareExploration(text, o).options, visited: SharedVisited.create(1 << 14) });
      assert.deepEqual({ ...b, seconds: 0 }, { ...a, seconds: 0 }, `${f} ${JSON.stringify(o)}`);
    }
    const full = explore({ ...prepareExploration(text, { bug: 'none' }).options, visited: SharedVisited.create(10) });
    assert.equal(full.stoppedBecause, 'table-full', f);
    assert.equal(full.exhaustive, false);
    assert.ok(full.distinctStates <= 10);
  }
});

// Two threads visit the same keys in the same order at the same time (a barrier before each small batch of
// keys keeps them in step), each key three times with different (p, d, sleep): every key must end up
// once, inserted (VISIT_FRESH) by exactly one thread, with p/d the minimum and sleep the intersection of
// all six visits (a lost update leaves a bit set).
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const { SharedVisited } = require(workerData.module);
const t = SharedVisited.attach(workerData.buffer);
const go = new Int32Array(workerData.go);
const { w, batches, batch } = workerData;
const fresh = [];
for (let b = 0; b < batches; b++) {
  Atomics.add(go, 0, 1);
  for (let spins = 0; Atomics.load(go, 0) < 2 * (b + 1); spins++) if (spins > 1000) Atomics.wait(go, 0, Atomics.load(go, 0), 1);
  for (let j = 0; j < batch; j++) {
    const i = b * batch + j;
    for (let round = 0; round < 3; round++) {
      const key = i * 4294967311;
      const q = (i + w + round) % 5;
      const v = t.visit(key, q, 3 * q + (i % 3), ~(1 << ((i + 2 * w + 3 * round) % 31)));
      if (v === -1) fresh.push(key);
    }
  }
}
parentPort.postMessage(fresh);
`;

const expectedFor = (i: number): { p: number; d: number; sleep: number } => {
  let p = Infinity, d = Infinity, sleep = -1;
  for (let w = 0; w < 2; w++) for (let round = 0; round < 3; round++) {
    // the (p, d) pairs of one key are totally ordered, so the surviving pair is the least whatever
    // the interleaving of the two threads
    p = Math.min(p, (i + w + round) % 5);
    d = 3 * p + (i % 3);
    sleep &= ~(1 << ((i + 2 * w + 3 * round) % 31));
  }
  return { p, d, sleep: sleep >>> 0 };
};

test('SharedVisited: concurrent inserts and updates from 2 worker threads lose and duplicate nothing', async () => {
  const batches = 5000, batch = 4, n = batches * batch;
  const t = SharedVisited.create(n);
  const go = new SharedArrayBuffer(4);
  const module = path.resolve(__dirname, '..', '..', '..', 'src', 'explorer', 'shared-visited.js');
  const run = (w: number): Promise<number[]> => new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { eval: true, workerData: { module, buffer: t.buffer, go, w, batches, batch } });
    worker.once('message', (m: number[]) => { resolve(m); void worker.terminate(); });
    worker.once('error', reject);
  });
  const [a, b] = await Promise.all([run(0), run(1)]);
  const keys = Array.from({ length: n }, (_, i) => i * 4294967311);
  const fresh = [...a!, ...b!];
  assert.equal(new Set(fresh).size, fresh.length, 'a key inserted twice');
  assert.equal(fresh.length, n, 'each key inserted exactly once');
  assert.ok(a!.length > 0 && b!.length > 0, 'both threads inserted');
  assert.equal(t.size, n);
  const entries = [...t.entries()];
  assert.equal(entries.length, n);
  const byKey = new Map(entries.map((e) => [e.key, e]));
  assert.equal(byKey.size, n, 'no key stored twice');
  let wrong = 0;
  keys.forEach((k, i) => {
    const e = byKey.get(k);
    assert.ok(e, `key ${k} lost`);
    const x = expectedFor(i);
    if (e.p !== x.p || e.d !== x.d || e.sleep !== x.sleep) wrong++;
  });
  assert.equal(wrong, 0, 'entries with a lost update');
  // the table is now exactly full
  assert.equal(t.visit(1, 0, 0, 0), VISIT_FULL);
});

test('SharedVisited.reset() empties the table for the next search (a new generation; the wrap clears it)', () => {
  const t = SharedVisited.create(16);
  for (let k = 0; k < 16; k++) t.visit(k, 1, 1, 1);
  assert.equal(t.visit(99, 0, 0, 0), VISIT_FULL);
  t.reset();
  assert.equal(t.size, 0);
  assert.deepEqual([...t.entries()], []);
  assert.equal(t.has(3), false);
  assert.equal(t.visit(3, 2, 2, 2), VISIT_FRESH);
  assert.deepEqual(t.get(3), { key: 3, p: 2, d: 2, sleep: 2 });
  // an attached view of another thread sees the same generation
  assert.equal(SharedVisited.attach(t.buffer).visit(3, 2, 3, 2), 0);
  // the generation counter wraps: the table is cleared and stays consistent
  new Int32Array(t.buffer)[3] = 2 ** 27 - 1;
  const u = SharedVisited.attach(t.buffer);
  u.reset();
  assert.equal(u.size, 0);
  assert.deepEqual([...u.entries()], []);
  for (let k = 0; k < 16; k++) assert.equal(u.visit(k * 7, 0, k, 0), VISIT_FRESH);
  assert.equal(u.visit(1000, 0, 0, 0), VISIT_FULL);
  assert.equal([...u.entries()].length, 16);
});

test('both stores: a visit is dominated only by one earlier visit with no more preemptions and no more depth', () => {
  // (p 2, d 10) then (p 3, d 5) are incomparable; (p 2, d 8) has more budget than each of them in one
  // coordinate, so it must be explored: the per-coordinate minimum (p 2, d 5) was never a real visit
  for (const store of [new MapVisited(), SharedVisited.create(16)]) {
    assert.equal(store.visit(9, 2, 10, 0), VISIT_FRESH);
    assert.equal(store.visit(9, 3, 5, 0), -2);
    assert.equal(store.visit(9, 2, 8, 0), -2, store.constructor.name);
    assert.equal(store.visit(9, 2, 9, 0), 0, `${store.constructor.name}: dominated by (2, 8)`);
  }
});
