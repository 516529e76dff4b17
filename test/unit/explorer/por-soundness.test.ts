// Partial-order reduction rests on the engine's access masks (engine/access.ts). These tests check the
// masks against the model itself rather than against expectations written by hand:
//  - completeness of writes: over random interleavings in several eras, every state category whose
//    contents changed in a step is among the step's recorded writes;
//  - independence is real: whenever two enabled steps' footprints are independent, running them in
//    either order is possible and reaches the same state key;
//  - the reduced search finds the same violations as the unreduced one, and the same verdicts.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createEngine } from '../../../src/engine';
import type { EraId, MmuKind, ThreadSpec } from '../../../src/engine';
import { SPT_ENTRIES, type VmState } from '../../../src/engine/state';
import type { EngineInternals } from '../../../src/engine/engine';
import { ACC } from '../../../src/engine/access';
import { footprintOf, independent } from '../../../src/explorer/footprint';
import { explore } from '../../../src/explorer/explorer';
import { prepareExploration } from '../../../src/explorer/scenario';
import { vm, hvaOf, shadowGuest, T2A, rng, shadowRaceThreads } from '../engine/helpers';

const G = 0x1234;
const tdpThreads = (): ThreadSpec[] => [
  { id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: [{ op: 'enter_guest' }, { op: 'page_fault', gfn: G, write: true }, { op: 'page_fault', gfn: G + 1, write: false }, { op: 'guest_access', gfn: G }] },
  { id: 'ioctl', kind: 'ioctl', ops: [{ op: 'zap_all_fast' }, { op: 'zap_gfn_range', start: G, end: G + 2 }] },
  { id: 'mm', kind: 'notifier', ops: [{ op: 'invalidate_range_start', hva: hvaOf(G), npages: 2 }, { op: 'invalidate_range_end', hva: hvaOf(G), npages: 2 }, { op: 'clear_young', hva: hvaOf(G), npages: 2 }] },
];
const slotThreads = (): ThreadSpec[] => [
  { id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: [{ op: 'enter_guest' }, { op: 'page_fault', gfn: G, write: true }] },
  { id: 'ioctl', kind: 'ioctl', ops: [{ op: 'memslot_delete', id: 0 }] },
  { id: 'mm', kind: 'notifier', ops: [{ op: 'host_unmap', hva: hvaOf(G) }, { op: 'test_young', hva: hvaOf(G) }] },
];

const CASES: Array<{ era: EraId; mmu: MmuKind; threads: () => ThreadSpec[]; shadow?: boolean }> = [
  { era: '5.18', mmu: 'tdp', threads: tdpThreads },
  { era: '6.19', mmu: 'tdp', threads: tdpThreads },
  { era: '5.15', mmu: 'tdp', threads: slotThreads },
  { era: '6.1', mmu: 'tdp', threads: slotThreads },
  { era: '3.11', mmu: 'direct-shadow', threads: tdpThreads },
  { era: '6.1', mmu: 'shadow', threads: shadowRaceThreads, shadow: true },
  { era: '2.6.34', mmu: 'shadow', threads: shadowRaceThreads, shadow: true },
];


const configOf = (c: (typeof CASES)[number]) => vm(c.era, c.mmu, c.shadow ? { guestPageTables: shadowGuest(), guestCr3: [T2A] } : {});
const engineFor = (c: (typeof CASES)[number], trace: 'full' | 'explore' = 'full'): EngineInternals => createEngine({ config: configOf(c), threads: c.threads(), trace });

/**
 * Plain JSON of any state part (Maps, Sets and typed arrays included). Left out: the holder count of
 * SPTE tables (copy-on-write bookkeeping: the engine's own snapshot after a step raises it without any
 * write to the state).
 */
const json = (x: unknown): string => JSON.stringify(x, (k, v: unknown) => {
  if (v instanceof Map) return { map: [...v.entries()] };
  if (v instanceof Set) return { set: [...v] };
  if (k === 'spt' && v instanceof Float64Array) return Array.from(v.subarray(0, SPT_ENTRIES));
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  return v;
});

/** Each access category's part of the plain state, as text. Bookkeeping (stats, lockOps) is left out. */
function categories(s: VmState, workerBusy: boolean): Map<number, string> {
  return new Map<number, string>([
    [ACC.GEN, json(s.gen)],
    [ACC.SPS, json([s.sps, s.nextSpId, s.activeHead, s.activeTail, s.hash, s.hashBuckets, s.zappedObsolete, s.nUsed, s.nMax, s.indirectShadowPages, s.shadowRootAllocated])],
    [ACC.TDP_ROOTS, json(s.tdpRoots)],
    [ACC.NOTIFIER, json([s.inProgress, s.rangeStart, s.rangeEnd])],
    [ACC.SEQ, json(s.seq)],
    [ACC.LOCK, json(s.lock)],
    [ACC.SLOTS, json([s.memslots, s.descs, s.nextDescId])],
    [ACC.HOST, json(s.host)],
    [ACC.VCPUS, json(s.vcpus)],
    [ACC.GUEST_PT, json(s.guestPt)],
    [ACC.WORKQ, json([s.workQueue, workerBusy])],
    [ACC.RT3, json(s.rt3Window)],
    [ACC.SRCU, json(s.srcuReaders)],
    [ACC.FLUSH, json(s.flushPending)],
    [ACC.NX, json(s.nxHugePages)],
    [ACC.DESTROYED, json(s.destroyed)],
  ]);
}

const NAMES = new Map<number, string>(Object.entries(ACC).map(([k, v]) => [v, k]));

for (const c of CASES) {
  for (const trace of ['full', 'explore'] as const) test(`${c.era} ${c.mmu}: every state category a step changes is among its recorded writes (trace ${trace})`, () => {
    let steps = 0;
    const cats = new Set<number>();
    for (let seed = 1; seed <= 12; seed++) {
      const e = engineFor(c, trace);
      const next = rng(seed);
      while (!e.isDone() && e.position < 120) {
        const r = e.runnableThreads();
        if (!r.length) break;
        const before = categories(e.kvm.raw, e.kvm.workerBusy);
        const rec = e.step(r[Math.floor(next() * r.length)]!);
        assert.ok(rec.access, 'a step carries access masks');
        const after = categories(e.kvm.raw, e.kvm.workerBusy);
        for (const [cat, text] of after) {
          if (text === before.get(cat)) continue;
          cats.add(cat);
          assert.ok(rec.access.wr & cat, `seed ${seed} step ${rec.index} (${rec.thread} -> ${rec.stoppedAt}) changed ${NAMES.get(cat)} without recording the write`);
        }
        steps++;
      }
    }
    assert.ok(steps > 100, `only ${steps} steps`);
    assert.ok(cats.size >= 3, `only ${[...cats].map((x) => NAMES.get(x)).join(', ')} changed`);
  });

  test(`${c.era} ${c.mmu}: untraced ('explore') steps record the same masks and reach the same states as traced ones`, () => {
    let steps = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const traced = engineFor(c, 'full'), quiet = engineFor(c, 'explore');
      const next = rng(seed * 13);
      while (!traced.isDone() && traced.position < 120) {
        const r = traced.runnableThreads();
        assert.deepEqual(quiet.runnableThreads(), r);
        if (!r.length) break;
        const t = r[Math.floor(next() * r.length)]!;
        const a = traced.step(t), b = quiet.step(t);
        assert.equal(b.events.length, 0, 'explore mode builds no events');
        assert.deepEqual(b.access, a.access, `seed ${seed} step ${a.index} (${t} -> ${a.stoppedAt})`);
        assert.equal(b.stoppedAt, a.stoppedAt);
        assert.deepEqual(b.violations.map((v) => v.id), a.violations.map((v) => v.id));
        assert.equal(quiet.stateKey(), traced.stateKey(), `seed ${seed} step ${a.index}`);
        steps++;
      }
    }
    assert.ok(steps > 100, `only ${steps} steps`);
  });

  test(`${c.era} ${c.mmu}: steps whose footprints are independent commute`, () => {
    let pairs = 0, independentPairs = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const e = engineFor(c);
      const next = rng(seed * 7);
      while (!e.isDone() && e.position < 80) {
        const here = e.position;
        const runnable = e.runnableThreads();
        if (!runnable.length) break;
        for (let i = 0; i < runnable.length; i++) {
          for (let j = i + 1; j < runnable.length; j++) {
            const u = runnable[i]!, t = runnable[j]!;
            e.goto(here); const fu = footprintOf(e.step(u));
            e.goto(here); const ft = footprintOf(e.step(t));
            pairs++;
            if (!independent(fu, ft)) continue;
            independentPairs++;
            e.goto(here); e.step(u);
            assert.ok(e.runnableThreads().includes(t), `${t} disabled by ${u} at step ${here} (seed ${seed})`);
            e.step(t);
            const k1 = e.stateKey();
            e.goto(here); e.step(t);
            assert.ok(e.runnableThreads().includes(u), `${u} disabled by ${t} at step ${here} (seed ${seed})`);
            e.step(u);
            assert.equal(e.stateKey(), k1, `${u};${t} and ${t};${u} differ at step ${here} (seed ${seed}):\n${e.canonicalText()}`);
          }
        }
        e.goto(here);
        e.step(runnable[Math.floor(next() * runnable.length)]!);
      }
    }
    assert.ok(pairs > 20, `only ${pairs} pairs`);
    assert.ok(independentPairs > 0, 'no independent pair met: the check checked nothing');
  });

  test(`${c.era} ${c.mmu}: the reduced search finds the violations and verdict of the unreduced one`, () => {
    const options = { engine: { config: configOf(c), threads: c.threads() }, create: createEngine, maxDepth: 60, maxPreemptions: 2, all: true, maxCounterexamples: 1e6 };
    const full = explore({ ...options, por: false });
    const reduced = explore({ ...options, por: true });
    const ids = (r: typeof full) => [...new Set(r.counterexamples.flatMap((x) => x.violationIds.length ? x.violationIds : [x.violation.id]))].sort();
    assert.deepEqual(ids(reduced), ids(full));
    assert.equal(reduced.verdict, full.verdict);
    assert.equal(reduced.exhaustive, full.exhaustive);
    assert.ok(reduced.statesExplored <= full.statesExplored, `${reduced.statesExplored} > ${full.statesExplored}`);
  });
}

const dir = path.join(__dirname, '..', '..', '..', '..', 'demo', 'scenarios', 'explore');
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.kvmmmu.yaml'))) {
  test(`${file}: reduced and unreduced searches agree on the bug and on the fix`, () => {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const bug of [undefined, 'none'] as const) {
      const prepared = prepareExploration(text, bug ? { bug, all: true } : { all: true });
      const full = explore({ ...prepared.options, por: false, maxCounterexamples: 1e6 });
      const reduced = explore({ ...prepared.options, por: true, maxCounterexamples: 1e6 });
      const ids = (r: typeof full) => [...new Set(r.counterexamples.map((x) => x.violation.id))].sort();
      assert.deepEqual(ids(reduced), ids(full), `${bug ?? 'as written'}`);
      assert.equal(reduced.verdict, full.verdict);
      assert.equal(reduced.exhaustive, full.exhaustive);
      if (full.statesExplored > 200) assert.ok(reduced.statesExplored < full.statesExplored * 0.8, `${bug ?? 'as written'}: reduction pruned too little (${reduced.statesExplored} of ${full.statesExplored})`);
    }
  });
}

// The bundled seed scenarios cover the remaining operations (aging, swap, memslot moves, nested, unsync
// pages, prev roots): random schedules of each, writes checked the same way.
const scenarios = path.join(dir, '..');
for (const file of fs.readdirSync(scenarios).filter((f) => f.endsWith('.kvmmmu.yaml'))) {
  test(`${file}: every state category a step changes is among its recorded writes (random schedules, traced and untraced)`, () => {
    const { options } = prepareExploration(fs.readFileSync(path.join(scenarios, file), 'utf8'));
    let steps = 0;
    for (let seed = 1; seed <= 4; seed++) {
      const e = createEngine({ ...options.engine, audit: 'events', trace: seed % 2 ? 'full' : 'explore' });
      const next = rng(seed * 31);
      while (!e.isDone() && e.position < 200) {
        const r = e.runnableThreads();
        if (!r.length) break;
        const before = categories(e.kvm.raw, e.kvm.workerBusy);
        const rec = e.step(r[Math.floor(next() * r.length)]!);
        const after = categories(e.kvm.raw, e.kvm.workerBusy);
        for (const [cat, text] of after) {
          if (text !== before.get(cat)) assert.ok(rec.access!.wr & cat, `seed ${seed} step ${rec.index} (${rec.thread} -> ${rec.stoppedAt}) changed ${NAMES.get(cat)} without recording the write`);
        }
        steps++;
      }
    }
    assert.ok(steps > 4, `only ${steps} steps`);
  });
}
