import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseScenario } from '../../../src/scenario/parser';
import { ScenarioSession, runScenario, runScenarioAll, pointMatches } from '../../../src/scenario/runner';
import { loadEngine } from '../../../src/scenario/engine-loader';
import { MINIMAL } from './helpers';

function scenario(text: string) {
  const r = parseScenario(text);
  assert.ok(r.scenario, JSON.stringify(r.diagnostics));
  return r.scenario;
}
function factory() {
  const e = loadEngine();
  assert.ok(e.factory, e.error);
  return e.factory;
}

const TDP = `# t
scenario: t
vm: { era: "5.18", mmu: tdp, vcpus: 1, memslots: [{ id: 0, baseGfn: 0x0, npages: 512, hva: 0x7f0000000000 }] }
threads:
  vcpu0: [ enter_guest, { page_fault: { gfn: 0x10 }, label: mapped }, { enter_guest: null, label: back } ]
  ioctl: [ { zap_all_fast: null, label: zapped } ]
`;

test('sequential run with step labels and matchers', () => {
  const s = scenario(TDP + `expect:
  violations: []
  at:
    - after: mapped
      assert: { "gfn[0x10].mapped": true, "vm.mmu_valid_gen": 0, "roots.count": { ge: 1 }, "vcpus[0].root": { ne: null } }
    - after: zapped
      assert: { "vm.mmu_valid_gen": 1, "violations": [] }
    - after: end
      assert: { "threads": { length: 3 }, "era": "5.18", "step": { gt: 5 } }
`);
  const r = runScenario(s, factory());
  assert.equal(r.verdict, 'pass', r.failedExpectations.join('; '));
  assert.equal(r.expectations.length, 10);
  assert.match(r.traceHash, /./);
});

test('failing assertions and unexpected violations are reported, not thrown', () => {
  const s = scenario(TDP + `expect:
  violations: [RT-6]
  at:
    - after: mapped
      assert: { "gfn[0x10].mapped": false, "vcpus[0].tlb": { length: 7 } }
`);
  const r = runScenario(s, factory());
  assert.equal(r.verdict, 'fail');
  assert.ok(r.failedExpectations.some((f) => /RT-6 never appeared/.test(f)));
  assert.ok(r.failedExpectations.some((f) => /gfn\[0x10\]\.mapped == false — expected false, got true/.test(f)));
  assert.ok(r.failedExpectations.some((f) => /expected length 7/.test(f)));
});

test('explicit schedule: a point never reached and a blocked slice fail the schedule expectation', () => {
  const s = scenario(TDP + `schedule:
  - { thread: vcpu0, until: "no_such_function:nowhere" }
expect: { violations: [] }
`);
  const r = runScenario(s, factory());
  assert.equal(r.verdict, 'fail');
  assert.equal(r.expectations[0]!.id, 'schedule');
  assert.match(r.error ?? '', /finished without reaching point 'no_such_function:nowhere'/);
  const s2 = scenario(TDP.replace('[ { zap_all_fast: null, label: zapped } ]', '[ { wait: { threadDone: vcpu0 } }, zap_all_fast ]') + `schedule:
  - { thread: ioctl, until: done }
expect: { violations: [] }
`);
  const r2 = runScenario(s2, factory());
  assert.equal(r2.verdict, 'fail');
  assert.match(r2.error ?? '', /cannot run now/);
});

test('never-reached labels fail their assertions', () => {
  const s = scenario(TDP + `schedule: { slices: [ { thread: vcpu0, until: op } ], finish: false }
expect:
  at:
    - after: back
      assert: { "vcpus[0].root": { ne: null } }
`);
  const r = runScenario(s, factory());
  assert.equal(r.verdict, 'fail');
  assert.match(r.failedExpectations.join(), /label 'back' was never reached/);
});

test('variants, --profile and --bug overrides', () => {
  const s = scenario(TDP + `expect: { violations: [] }
variants:
  other-era: { era: "6.19", expect: { violations: [] } }
`);
  const all = runScenarioAll(s, factory());
  assert.deepEqual(all.map((r) => [r.variant, r.era, r.verdict]), [[undefined, '5.18', 'pass'], ['other-era', '6.19', 'pass']]);
  const over = runScenarioAll(s, factory(), { era: '6.1' });
  assert.deepEqual(over.map((r) => r.era), ['6.1', '6.1']);
  const bug = runScenarioAll(s, factory(), { bug: 'yield-before-free-request' });
  assert.equal(bug.length, 1);
  assert.equal(bug[0]!.bug, 'yield-before-free-request');
  assert.equal(runScenario(s, factory(), { variant: 'nope' }).verdict, 'fail');
});

test('session: step, step back, goto, run to violation, reset, listeners', () => {
  const s = scenario(MINIMAL);
  const session = new ScenarioSession(s, factory());
  const seen: number[] = [];
  const sub = session.onStep((e) => seen.push(e.position));
  const a = session.step();
  const b = session.step();
  assert.equal(a?.index, 0);
  assert.equal(b?.index, 1);
  assert.equal(session.position, 2);
  assert.ok(session.stepBack());
  assert.equal(session.position, 1);
  assert.equal(session.step()?.index, 1);
  session.goto(3);
  assert.equal(session.position, 3);
  assert.equal(session.runToViolation(), undefined);
  assert.ok(session.finished);
  const end = session.position;
  session.reset();
  assert.equal(session.position, 0);
  session.runToEnd();
  assert.equal(session.position, end);
  sub.dispose();
  assert.ok(seen.length >= 6);
});

test('point matching', () => {
  assert.ok(pointMatches('kvm_zap_obsolete_pages:yield', 'kvm_zap_obsolete_pages:yield'));
  assert.ok(pointMatches('kvm_zap_obsolete_pages:yield', 'yield'));
  assert.ok(pointMatches('kvm_zap_obsolete_pages:yield', 'kvm_zap_obsolete_pages'));
  assert.ok(pointMatches('FNAME(page_fault):after faultin', 'after faultin'));
  assert.ok(!pointMatches('kvm_zap_obsolete_pages:yield', 'kvm_mmu_zap_all_fast:yield'));
});
