// The explorer's state identity: the fast snapshot copy and the canonical state key.
//  - cloneVmState is a deep copy: equal to structuredClone's, sharing no object with the original
//    except SPTE tables, which are copy-on-write (flagged on both sides; later writes leave the copy as it was);
//  - stateKey() identifies exactly the states canonicalText() identifies (no merge of different
//    states, no split of equal ones) over many random interleavings in several eras;
//  - the version-keyed scan caches never go stale: a key recomputed with empty caches is the same.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { createEngine } from '../../../src/engine';
import type { EraId, MmuKind, ThreadSpec } from '../../../src/engine';
import fc from 'fast-check';
import { cloneVmState, ArrayPool, setHostEntry, regionHashFromScratch, SPT_ENTRIES, SPT_HOLDERS, isPresent, type HostRegion } from '../../../src/engine/state';
import { clearCanonicalCaches } from '../../../src/engine/canonical';
import { sptLeafHashFromScratch } from '../../../src/engine/state';
import { vm, hvaOf, shadowGuest, T2A, rng, shadowRaceThreads } from './helpers';

const G = 0x1234;
function tdpThreads(): ThreadSpec[] {
  return [
    { id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: [{ op: 'enter_guest' }, { op: 'page_fault', gfn: G, write: true }, { op: 'page_fault', gfn: G + 1, write: false }, { op: 'enter_guest' }, { op: 'guest_access', gfn: G }] },
    { id: 'ioctl', kind: 'ioctl', ops: [{ op: 'zap_all_fast' }, { op: 'zap_gfn_range', start: G, end: G + 2 }] },
    { id: 'mm', kind: 'notifier', ops: [{ op: 'host_unmap', hva: hvaOf(G) }, { op: 'clear_young', hva: hvaOf(G), npages: 2 }] },
  ];
}

const CASES: Array<{ era: EraId; mmu: MmuKind; threads: () => ThreadSpec[]; shadow?: boolean }> = [
  { era: '5.18', mmu: 'tdp', threads: tdpThreads },
  { era: '6.19', mmu: 'tdp', threads: tdpThreads },
  { era: '3.11', mmu: 'direct-shadow', threads: tdpThreads },
  { era: '6.1', mmu: 'shadow', threads: shadowRaceThreads, shadow: true },
  { era: '2.6.34', mmu: 'shadow', threads: shadowRaceThreads, shadow: true },
];


function engineFor(c: (typeof CASES)[number], trace: 'full' | 'explore' = 'full') {
  const config = vm(c.era, c.mmu, c.shadow ? { guestPageTables: shadowGuest(), guestCr3: [T2A] } : {});
  return createEngine({ config, threads: c.threads(), trace });
}

/** Every object reachable from `a` that is also reachable from `b` (primitives aside). */
function sharedObjects(a: unknown, b: unknown): string[] {
  const seen = new Set<unknown>();
  const collect = (x: unknown): void => {
    if (x === null || typeof x !== 'object' || seen.has(x)) return;
    seen.add(x);
    if (x instanceof Map) for (const [k, v] of x) { collect(k); collect(v); }
    else if (x instanceof Set) for (const v of x) collect(v);
    else if (!ArrayBuffer.isView(x)) for (const v of Object.values(x)) collect(v);
  };
  collect(a);
  const shared: string[] = [];
  const walk = (x: unknown, path: string, done: Set<unknown>): void => {
    if (x === null || typeof x !== 'object' || done.has(x)) return;
    done.add(x);
    if (seen.has(x)) shared.push(path);
    if (x instanceof Map) for (const [k, v] of x) walk(v, `${path}.get(${String(k)})`, done);
    else if (x instanceof Set) return;
    else if (!ArrayBuffer.isView(x)) for (const [k, v] of Object.entries(x)) walk(v, `${path}.${k}`, done);
  };
  walk(b, 's', new Set());
  return shared;
}

/**
 * The shared paths that are not shared by design: SPTE tables whose holder count says they are shared
 * (copy-on-write), the immutable guest page tables, and the pages' immutable scan caches.
 */
function notCopyOnWrite(a: ReturnType<typeof cloneVmState>, b: ReturnType<typeof cloneVmState>, paths: string[]): string[] {
  return paths.filter((p) => {
    if (p.startsWith('s.guestPt') || /^s\.sps\.get\(\d+\)\.(presentIdx|nonLeafIdx)$/.test(p)) return false;
    const m = /^s\.sps\.get\((\d+)\)\.spt$/.exec(p);
    if (!m) return true;
    const id = Number(m[1]);
    const t = a.sps.get(id)!.spt;
    return !(t !== null && t === b.sps.get(id)!.spt && t[SPT_HOLDERS]! >= 2);
  });
}

/** A state with each SPTE table cut to its entries (the holder count changes whenever a copy is taken or dropped). */
function entriesOnly(s: ReturnType<typeof cloneVmState>): unknown {
  const c = structuredClone(s);
  for (const sp of c.sps.values()) if (sp.spt) sp.spt = sp.spt.slice(0, SPT_ENTRIES);
  return c;
}

for (const c of CASES) {
  test(`${c.era} ${c.mmu}: copies of the state keep their contents while the engine writes on (copy-on-write tables)`, () => {
    const e = engineFor(c);
    const next = rng(23);
    const copies: Array<{ copy: ReturnType<typeof cloneVmState>; frozen: unknown; at: number }> = [];
    let tables = 0;
    while (!e.isDone() && e.position < 60) {
      const r = e.runnableThreads();
      if (!r.length) break;
      e.step(r[Math.floor(next() * r.length)]!);
      const copy = cloneVmState(e.kvm.raw, new ArrayPool());
      for (const sp of copy.sps.values()) if (sp.spt) tables++;
      copies.push({ copy, frozen: entriesOnly(copy), at: e.position });
    }
    assert.ok(tables > 0, 'no SPTE table was ever shared');
    for (const { copy, frozen, at } of copies) assert.ok(isDeepStrictEqual(entriesOnly(copy), frozen), `the copy taken at step ${at} changed later`);
    // the engine's own snapshots too: going back replays to the same state key
    const key = e.stateKey();
    const end = e.position;
    e.goto(0);
    e.goto(end);
    assert.equal(e.stateKey(), key);
  });

  test(`${c.era} ${c.mmu}: cloneVmState equals structuredClone and shares nothing with the original`, () => {
    const e = engineFor(c);
    const pool = new ArrayPool();
    const next = rng(11);
    let checked = 0;
    while (!e.isDone() && checked < 40) {
      const r = e.runnableThreads();
      if (!r.length) break;
      e.step(r[Math.floor(next() * r.length)]!);
      const s = e.kvm.raw;
      const copy = cloneVmState(s);
      assert.ok(isDeepStrictEqual(copy, structuredClone(s)), `deep copy differs at step ${e.position}`);
      assert.deepEqual(notCopyOnWrite(s, copy, sharedObjects(s, copy)), [], `shared objects at step ${e.position}`);
      // a pooled copy reuses released arrays but is still an independent, equal copy
      pool.release(cloneVmState(s));
      const pooled = cloneVmState(s, pool);
      assert.ok(isDeepStrictEqual(pooled, copy));
      assert.deepEqual(notCopyOnWrite(s, pooled, sharedObjects(s, pooled)), []);
      checked++;
    }
    assert.ok(checked > 10, `only ${checked} steps checked`);
  });

  test(`${c.era} ${c.mmu}: stateKey identifies exactly the states canonicalText identifies; caches never go stale`, () => {
    const byKey = new Map<number, string>();
    const byText = new Map<string, number>();
    let states = 0;
    for (let run = 0; run < 30; run++) {
      // both ways of learning a step's writes: trace effects ('full') and the untraced marks ('explore')
      const e = engineFor(c, run % 2 ? 'explore' : 'full');
      const next = rng(run * 7919 + 1);
      for (let guard = 0; guard < 400; guard++) {
        const key = e.stateKey();
        const text = e.canonicalText();
        states++;
        if (byKey.has(key)) assert.equal(byKey.get(key), text, 'two different states share a key');
        else byKey.set(key, text);
        if (byText.has(text)) assert.equal(byText.get(text), key, 'one state got two keys');
        else byText.set(text, key);
        if (guard % 5 === 0) { clearCanonicalCaches(); assert.equal(e.stateKey(), key, 'a cached scan was stale'); }
        // the section and thread sub-hashes the engine keeps between keys
        assert.equal(e.freshStateKey(), key, 'a kept section hash was stale');
        for (const sp of e.kvm.raw.sps.values()) {
          assert.deepEqual([sp.lh1, sp.lh2], sptLeafHashFromScratch(sp, (p, v) => e.kvm.isLeaf(p, v)), `sp#${sp.id}: kept leaf hash differs from a full scan`);
          const present: number[] = [], nonLeaf: number[] = [];
          if (sp.spt) for (let i = 0; i < SPT_ENTRIES; i++) {
            const v = sp.spt[i]!;
            if (isPresent(v)) present.push(i);
            if (v !== 0 && !e.kvm.isLeaf(sp, v)) nonLeaf.push(i);
          }
          assert.deepEqual(sp.presentIdx, present, `sp#${sp.id}: kept present indices differ from a full scan`);
          assert.deepEqual(sp.nonLeafIdx, nonLeaf, `sp#${sp.id}: kept non-leaf indices differ from a full scan`);
        }
        // back and forth through history: restored snapshots must key as they did
        if (guard % 9 === 8 && e.position > 3) {
          const p = e.position;
          e.goto(p - 3);
          e.goto(p);
          assert.equal(e.stateKey(), key, 'key changed after goto round trip');
        }
        if (e.isDone()) break;
        const r = e.runnableThreads();
        if (!r.length) break;
        e.step(r[Math.floor(next() * r.length)]!);
      }
    }
    assert.ok(states > 200, `${states} states`);
    // the runs really did meet in shared states and also spread out
    assert.ok(byKey.size > 20 && byKey.size < states, `${byKey.size} distinct of ${states}`);
  });
}

test('stateKey renumbers shadow pages: a state reached after an extra allocate-and-free keys like one without it', () => {
  // canonical renumbering is ranked by id: two engines whose page ids differ only by an offset agree
  const a = createEngine({ config: vm('5.18', 'tdp'), threads: [{ id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: [{ op: 'page_fault', gfn: G, write: true }] }] });
  const b = createEngine({ config: vm('5.18', 'tdp'), threads: [{ id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: [{ op: 'page_fault', gfn: G, write: true }] }] });
  b.kvm.s.nextSpId += 17; // as if 17 pages had been allocated and freed before
  while (!a.isDone()) a.step('vcpu0');
  while (!b.isDone()) b.step('vcpu0');
  assert.notDeepEqual([...a.kvm.s.sps.keys()], [...b.kvm.s.sps.keys()]);
  assert.equal(a.stateKey(), b.stateKey());
  assert.equal(a.stateHash(), b.stateHash());
});

test('a host region\'s incremental hash always equals the hash of its entries computed from scratch', () => {
  const entry = fc.record({ k: fc.integer({ min: 0, max: 15 }), pte: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 41 })), last: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 39 })) });
  fc.assert(fc.property(fc.array(entry, { maxLength: 60 }), (writes) => {
    const r: HostRegion = { base: 0, n: 16, pte: new Float64Array(16), last: new Float64Array(16), zh1: 0, zh2: 0 };
    for (const w of writes) {
      setHostEntry(r, w.k, w.pte, w.last);
      assert.deepEqual([r.zh1, r.zh2], regionHashFromScratch(r));
    }
  }), { numRuns: 300 });
});
