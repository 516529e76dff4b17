// Property: random operation sequences on random interleavings never violate an invariant on a
// correct (bug-free) profile.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { createEngine, PROFILES } from '../../../src/engine';
import type { BugId, EraId, MmuKind, Op, ThreadSpec } from '../../../src/engine';
import { BUGS, KERNEL_SYMBOLS } from '../../../src/engine';
import { vm, hvaOf, shadowGuest, T2A, T2B, T1, EMPTY, BASE } from './helpers';

const GFNS = [BASE, BASE + 1, BASE + 2, BASE + 0x200, BASE + 0x201, BASE + 0x5ff];
const gfnArb = fc.constantFrom(...GFNS);

function vcpuOp(mmu: MmuKind): fc.Arbitrary<Op> {
  const common: Array<fc.Arbitrary<Op>> = [
    fc.record({ op: fc.constant('enter_guest' as const) }),
    fc.record({ op: fc.constant('exit_guest' as const) }),
    fc.record({ op: fc.constant('tlb_flush_guest' as const) }),
  ];
  if (mmu === 'shadow') {
    return fc.oneof(...common,
      fc.record({ op: fc.constant('page_fault' as const), gva: fc.constantFrom(0, 1), write: fc.boolean() }),
      fc.record({ op: fc.constant('guest_access' as const), gva: fc.constantFrom(0, 1), write: fc.boolean() }),
      fc.record({ op: fc.constant('load_cr3' as const), gfn: fc.constantFrom(T2A, T2B, EMPTY) }),
      fc.record({ op: fc.constant('invlpg' as const), gva: fc.constantFrom(0, 1) }),
      fc.record({ op: fc.constant('set_cr4' as const), bits: fc.record({ cr4_pge: fc.boolean() }) }),
      fc.record({ op: fc.constant('guest_pt_write' as const), gfn: fc.constant(T1), index: fc.constantFrom(0, 1, 2), value: fc.option(fc.record({ gfn: fc.constantFrom(T1, 0x1050, 0x1060), writable: fc.boolean() }), { nil: null }) }),
    );
  }
  const ops: Array<fc.Arbitrary<Op>> = [...common,
    fc.record({ op: fc.constant('page_fault' as const), gfn: gfnArb, write: fc.boolean() }),
    fc.record({ op: fc.constant('guest_access' as const), gfn: gfnArb, write: fc.boolean() }),
  ];
  if (mmu === 'nested') ops.push(fc.record({ op: fc.constant('enter_guest_mode' as const), l2: fc.boolean() }));
  return fc.oneof(...ops);
}

const ioctlOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('zap_all_fast' as const) }),
  fc.record({ op: fc.constant('zap_all' as const) }),
  fc.record({ op: fc.constant('change_mmu_pages' as const), pages: fc.constantFrom(2, 5, 64) }),
  fc.record({ op: fc.constant('unprotect_page' as const), gfn: fc.constantFrom(T2A, T2B, T1) }),
  fc.record({ op: fc.constant('zap_gfn_range' as const), start: fc.constant(BASE), end: fc.constantFrom(BASE + 2, BASE + 0x600) }),
  fc.record({ op: fc.constant('set_nx_huge_pages' as const), enabled: fc.boolean() }),
  fc.record({ op: fc.constant('memslot_move' as const), id: fc.constant(0), baseGfn: fc.constantFrom(BASE, BASE + 0x200) }),
  fc.record({ op: fc.constant('memslot_create' as const), slot: fc.constant({ id: 1, baseGfn: 0x8000, npages: 16, hva: 0x7e0000000000 }) }),
);

const notifierOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('host_unmap' as const), hva: gfnArb.map((g) => hvaOf(g)) }),
  fc.record({ op: fc.constant('clear_young' as const), hva: gfnArb.map((g) => hvaOf(g)), fastOnly: fc.boolean() }),
  fc.record({ op: fc.constant('test_young' as const), hva: gfnArb.map((g) => hvaOf(g)) }),
  fc.record({ op: fc.constant('clear_flush_young' as const), hva: gfnArb.map((g) => hvaOf(g)) }),
);

const reclaimOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('swap_out' as const), hva: gfnArb.map((g) => hvaOf(g)) }),
  fc.record({ op: fc.constant('age_lru' as const), hva: gfnArb.map((g) => hvaOf(g)), fastOnly: fc.boolean() }),
  fc.record({ op: fc.constant('host_free' as const), hva: gfnArb.map((g) => hvaOf(g)) }),
  fc.record({ op: fc.constant('gup' as const), hva: gfnArb.map((g) => hvaOf(g)) }),
);

function scenario(mmu: MmuKind) {
  return fc.record({
    v0: fc.array(vcpuOp(mmu), { minLength: 2, maxLength: 8 }),
    v1: fc.array(vcpuOp(mmu), { minLength: 0, maxLength: 5 }),
    io: fc.array(ioctlOp, { minLength: 0, maxLength: 3 }),
    mn: fc.array(fc.oneof(notifierOp.map((o) => [o]), gfnArb.map((g): Op[] => [{ op: 'invalidate_range_start', hva: hvaOf(g), npages: 2 }, { op: 'invalidate_range_end', hva: hvaOf(g), npages: 2 }])), { minLength: 0, maxLength: 3 }).map((xs) => xs.flat()),
    rc: fc.array(reclaimOp, { minLength: 0, maxLength: 2 }),
    choices: fc.array(fc.nat(7), { minLength: 0, maxLength: 200 }),
  });
}

type Sc = ReturnType<typeof scenario> extends fc.Arbitrary<infer T> ? T : never;

/** An engine running the generated scenario's five threads on two vCPUs. */
function engineFor(era: EraId, mmu: MmuKind, sc: Sc, bug?: BugId, hashBuckets?: number) {
  const threads: ThreadSpec[] = [
    { id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: sc.v0 },
    { id: 'vcpu1', kind: 'vcpu', vcpu: 1, ops: sc.v1 },
    { id: 'ioctl', kind: 'ioctl', ops: sc.io },
    { id: 'mmu_notifier', kind: 'notifier', ops: sc.mn },
    { id: 'reclaim', kind: 'reclaim', ops: sc.rc },
  ];
  const base = mmu === 'shadow' ? vm(era, mmu, { vcpus: 2, guestPageTables: shadowGuest(), guestCr3: [T2A, T2B], hashBuckets }) : vm(era, mmu, { vcpus: 2 });
  return createEngine({ config: bug ? { ...base, bug } : base, threads });
}

function runScenario(era: EraId, mmu: MmuKind, sc: Sc, bug?: BugId, hashBuckets?: number) {
  const e = engineFor(era, mmu, sc, bug, hashBuckets);
  let k = 0;
  for (let n = 0; n < 2000 && !e.isDone(); n++) {
    const r = e.runnableThreads();
    if (!r.length) break;
    e.step(r[(sc.choices[k++ % Math.max(1, sc.choices.length)] ?? 0) % r.length]);
  }
  return e;
}

function check(era: EraId, mmu: MmuKind, runs: number): void {
  fc.assert(fc.property(scenario(mmu), (sc) => {
    const e = engineFor(era, mmu, sc);
    let k = 0;
    for (let n = 0; n < 2000 && !e.isDone(); n++) {
      const r = e.runnableThreads();
      assert.ok(r.length > 0, 'deadlock');
      e.step(r[(sc.choices[k++ % Math.max(1, sc.choices.length)] ?? 0) % r.length]);
    }
    assert.ok(e.isDone(), 'did not finish');
    const v = e.violations();
    assert.deepEqual(v.map((x) => `${x.id} @${x.step} ${x.thread}: ${x.message} [${x.frame?.fn}]`), []);
  }), { numRuns: runs, seed: Number(process.env.KVM_PROP_SEED ?? 42), endOnFailure: true });
}

const MATRIX: Array<[EraId, MmuKind]> = [];
for (const era of Object.keys(PROFILES) as EraId[]) {
  MATRIX.push([era, 'direct-shadow'], [era, 'shadow']);
  if (PROFILES[era].tdpMmu) MATRIX.push([era, 'tdp']);
}
MATRIX.push(['6.19', 'nested'], ['5.18', 'nested']);

for (const [era, mmu] of MATRIX) {
  test(`no violation on random schedules: ${era} ${mmu}`, () => check(era, mmu, Number(process.env.KVM_PROP_RUNS ?? 25)));
}

// The same random search finds each bug variant (mutation check of the property + auditor).
// (hash-walk-zaps-saved-next needs a specific bucket order and is covered by bugs.test.ts.)
const BUG_SEARCH: Array<[BugId, EraId, MmuKind, number?]> = [
  ['unsync-zap-miscount', '2.6.35', 'shadow'],
  ['gup-no-seq-retry', '6.19', 'tdp'],
  ['yield-before-free-request', '5.18', 'tdp'],
  ['notifier-skips-invalid-roots', '5.17', 'tdp'],
  ['prev-roots-not-freed', '5.18', 'shadow'],
  ['fast-aging-skips-shadow', '6.19', 'nested'],
];
for (const [bug, era, mmu, buckets] of BUG_SEARCH) {
  test(`random schedules find ${bug} (${era} ${mmu})`, () => {
    const want = new Set(BUGS[bug].invariants);
    const r = fc.check(fc.property(scenario(mmu), (sc) => !runScenario(era, mmu, sc, bug, buckets).violations().some((v) => want.has(v.id))), { numRuns: 3000, seed: 42 });
    assert.ok(r.failed, `${bug} not found in ${r.numRuns} runs`);
  });
}

// Every kernel name that random runs emit (frames, "calls X" points, fields, stats, requests) is in
// KERNEL_SYMBOLS for the era, with the same file as the frame.
test('random runs emit only kernel symbols of their era', () => {
  const byName = new Map(KERNEL_SYMBOLS.map((k) => [k.name, k]));
  const missing = new Set<string>();
  let checked = 0;
  for (const [era, mmu] of MATRIX) {
    for (const sc of fc.sample(scenario(mmu), { numRuns: 15, seed: 7 })) {
      const e = runScenario(era, mmu, sc);
      const need = (name: string, file?: string) => {
        const k = byName.get(name);
        if (!k || !k.files[era]) missing.add(`${name}@${era}`);
        else if (file !== undefined && k.files[era] !== file) missing.add(`${name}@${era} file ${file}`);
      };
      for (const h of e.history) for (const ev of h.events) {
        if (ev.kind === 'call') { need(ev.frame.fn, ev.frame.file); checked++; }
        else if (ev.kind === 'point' && ev.frame.point?.startsWith('calls ')) need(ev.frame.point.slice(6));
        else if (ev.kind === 'effect') {
          const f = ev.effect;
          if (f.kind === 'vm-field' || f.kind === 'sp-field') need(f.field.split('.')[0]);
          else if (f.kind === 'stat') need(f.stat);
          else if (f.kind === 'request-set' || f.kind === 'request-clear') need(f.request);
        }
      }
    }
  }
  assert.deepEqual([...missing].sort(), []);
  assert.ok(checked > 5000, `only ${checked} frames checked`);
});
