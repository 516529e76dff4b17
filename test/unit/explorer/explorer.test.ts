// The interleaving explorer on the bundled open-schedule scenarios: verdicts, bounds, POR soundness
// against the unreduced search, counterexamples that replay through `kvm-mmu-lab run`, the CLI contract.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { explore } from '../../../src/explorer/explorer';
import { choicesToSlices, counterexampleScenario, prepareExploration, replayCounterexample } from '../../../src/explorer/scenario';
import { independent, footprintOf } from '../../../src/explorer/footprint';
import { ACC } from '../../../src/engine/access';
import { runRequest } from '../../../src/explorer/worker';
import type { WorkerMessage } from '../../../src/explorer/protocol';
import { exploreCommand } from '../../../src/cli/explore-command';
import { runCommand } from '../../../src/cli/run-command';
import { checkCommand } from '../../../src/cli/check-command';
import type { StepRecord } from '../../../src/engine/api';

const root = path.resolve(__dirname, '..', '..', '..', '..');
const dir = path.join(root, 'demo', 'scenarios', 'explore');
const read = (f: string): string => fs.readFileSync(path.join(dir, f), 'utf8');

const CASES: Array<{ file: string; bug: string; ids: string[] }> = [
  { file: 'fast-zap-yield-open.kvmmmu.yaml', bug: 'yield-before-free-request', ids: ['RT-3', 'RT-1', 'FZ-1'] },
  { file: 'gup-race-open.kvmmmu.yaml', bug: 'gup-no-seq-retry', ids: ['MN-1'] },
  { file: 'notifier-invalid-roots-open.kvmmmu.yaml', bug: 'notifier-skips-invalid-roots', ids: ['RT-5', 'MN-4'] },
  { file: 'hash-walk-open.kvmmmu.yaml', bug: 'hash-walk-zaps-saved-next', ids: ['IT-1', 'HS-1'] },
];

function io(): { out: string[]; err: string[]; io: { out: (t: string) => void; err: (t: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t) => out.push(t), err: (t) => err.push(t) } };
}

for (const c of CASES) {
  test(`${c.file}: the buggy form (${c.bug}) yields a counterexample that replays with kvm-mmu-lab run`, async () => {
    const text = read(c.file);
    const prepared = prepareExploration(text, { file: c.file });
    assert.equal(prepared.config.bug, c.bug);
    assert.ok(prepared.scheduleWasOpen);
    const r = explore(prepared.options);
    assert.equal(r.verdict, 'violation');
    const cx = r.counterexample!;
    assert.ok(c.ids.includes(cx.violation.id), `found ${cx.violation.id}`);
    assert.ok(r.seconds < 2, `counterexample after ${r.seconds} s`);
    // saved with the schedule pinned, it replays through the CLI's run command
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kvm-explore-'));
    try {
      const saved = path.join(tmp, 'cx.kvmmmu.yaml');
      const x = io();
      const code = await exploreCommand([path.join(dir, c.file), '--json', '--save', saved], x.io);
      assert.equal(code, 1, x.err.join(''));
      const report = JSON.parse(x.out.join('')) as { verdict: string; counterexample: { violation: { id: string }; schedule: unknown[]; replays: boolean }; statesExplored: number; distinctStates: number; seconds: number; exhaustive: boolean };
      assert.equal(report.verdict, 'violation');
      assert.equal(report.exhaustive, false);
      assert.ok(report.counterexample.schedule.length > 0);
      assert.equal(report.counterexample.replays, true);
      const y = io();
      const runCode = await runCommand([saved, '--json'], y.io);
      const run = JSON.parse(y.out.join('')) as { verdict: string; violations: Array<{ id: string }> };
      assert.equal(runCode, 0, y.out.join('') + y.err.join(''));
      assert.equal(run.verdict, 'pass');
      assert.ok(run.violations.some((v) => v.id === report.counterexample.violation.id));
      assert.equal(replayCounterexample(fs.readFileSync(saved, 'utf8'), cx).replays, true);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test(`${c.file}: the fix finds nothing, exhaustively, and POR agrees with the unreduced search`, () => {
    const text = read(c.file);
    const withPor = explore(prepareExploration(text, { bug: 'none' }).options);
    assert.equal(withPor.verdict, 'nothing-found');
    assert.equal(withPor.exhaustive, true);
    assert.ok(withPor.completedPaths > 0);
    const noPor = explore(prepareExploration(text, { bug: 'none', por: false }).options);
    assert.equal(noPor.verdict, 'nothing-found');
    assert.ok(withPor.statesExplored <= noPor.statesExplored);
    // soundness check: every violation id reachable without POR is reachable with it
    const all = (por: boolean): string[] => [...new Set(explore(prepareExploration(text, { all: true, por }).options).counterexamples.map((x) => x.violation.id))].sort();
    assert.deepEqual(all(true), all(false));
  });
}

test('the bundled open-schedule scenarios are valid for check and pass run (sequential order)', async () => {
  const files = CASES.map((c) => path.join(dir, c.file));
  const x = io();
  assert.equal(await checkCommand(files, x.io), 0, x.out.join('') + x.err.join(''));
  const y = io();
  assert.equal(await runCommand(files, y.io), 0, y.out.join('') + y.err.join(''));
});

test('bounds: the gup race needs one preemption; with none the search is not exhaustive', () => {
  const r = explore(prepareExploration(read('gup-race-open.kvmmmu.yaml'), { maxPreemptions: 0 }).options);
  assert.equal(r.verdict, 'nothing-found');
  assert.equal(r.exhaustive, false);
  assert.ok(r.cutByPreemptions > 0);
  const d = explore(prepareExploration(read('gup-race-open.kvmmmu.yaml'), { bug: 'none', maxDepth: 3 }).options);
  assert.equal(d.exhaustive, false);
  assert.ok(d.cutByDepth > 0);
  assert.ok(d.maxDepthReached <= 3);
});

test('--all collects several counterexamples; cancellation stops the search', () => {
  const r = explore(prepareExploration(read('notifier-invalid-roots-open.kvmmmu.yaml'), { all: true }).options);
  assert.ok(r.counterexamples.length > 1);
  assert.equal(r.counterexample, r.counterexamples[0]);
  let polls = 0;
  const c = explore({ ...prepareExploration(read('notifier-invalid-roots-open.kvmmmu.yaml'), { bug: 'none' }).options, isCancelled: () => ++polls > 2 });
  assert.equal(c.stoppedBecause, 'cancelled');
  assert.equal(c.exhaustive, false);
});

test('failed expectations are counterexamples too', () => {
  const text = read('gup-race-open.kvmmmu.yaml').replace('schedule:', 'expect:\n  at:\n    - after: end\n      assert: { "gfn[0x10].mapped": false }\nschedule:');
  const prepared = prepareExploration(text, { bug: 'none' });
  const r = explore(prepared.options);
  assert.equal(r.verdict, 'violation');
  assert.equal(r.counterexample!.kind, 'expectation');
  const saved = counterexampleScenario(text, prepared, r.counterexample!);
  assert.equal(replayCounterexample(saved, r.counterexample!).replays, true);
});

test('the CLI: exit 0 when nothing is found, 2 on bad input', async () => {
  const x = io();
  assert.equal(await exploreCommand([path.join(dir, 'gup-race-open.kvmmmu.yaml'), '--bug', 'none', '--json'], x.io), 0);
  const rep = JSON.parse(x.out.join('')) as Record<string, unknown>;
  for (const k of ['verdict', 'statesExplored', 'distinctStates', 'seconds', 'exhaustive', 'counterexample']) assert.ok(k in rep, k);
  assert.equal(rep.verdict, 'nothing-found');
  assert.equal(rep.exhaustive, true);
  assert.equal(rep.counterexample, null);
  assert.equal(await exploreCommand(['/nonexistent.kvmmmu.yaml'], io().io), 2);
  assert.equal(await exploreCommand([path.join(dir, 'gup-race-open.kvmmmu.yaml'), '--max-depth', 'x'], io().io), 2);
  assert.equal(await exploreCommand([path.join(dir, 'gup-race-open.kvmmmu.yaml'), '--bug', 'nope'], io().io), 2);
  assert.equal(await exploreCommand([], io().io), 2);
  const bad = fs.mkdtempSync(path.join(os.tmpdir(), 'kvm-explore-'));
  try {
    fs.writeFileSync(path.join(bad, 'b.kvmmmu.yaml'), 'scenario: b\nvm: { era: "9.9" }\n');
    assert.equal(await exploreCommand([path.join(bad, 'b.kvmmmu.yaml')], io().io), 2);
  } finally {
    fs.rmSync(bad, { recursive: true, force: true });
  }
});

test('the worker entry posts progress and one result', () => {
  const msgs: WorkerMessage[] = [];
  runRequest({ text: read('gup-race-open.kvmmmu.yaml'), options: {}, cancel: new SharedArrayBuffer(4) }, (m) => msgs.push(m));
  assert.ok(msgs.some((m) => m.type === 'progress'));
  const done = msgs.find((m) => m.type === 'done');
  assert.ok(done && done.type === 'done' && done.result.verdict === 'violation' && done.counterexampleText && done.replays === true);
  const err: WorkerMessage[] = [];
  runRequest({ text: 'nope: 1', options: {}, cancel: new SharedArrayBuffer(4) }, (m) => err.push(m));
  assert.ok(err[0]?.type === 'error' && err[0].invalidInput);
});

test('footprints: steps commute unless one writes a category the other reads or writes', () => {
  const rec = (access?: { rd: number; wr: number }): StepRecord => ({ index: 0, thread: 't', opIndex: 0, op: { op: 'exit_guest' }, stoppedAt: 'x', events: [], stack: [], violations: [], access });
  const local = footprintOf(rec({ rd: 0, wr: 0 }));
  const spWriter = footprintOf(rec({ rd: ACC.SPS | ACC.LOCK, wr: ACC.SPS }));
  const spReader = footprintOf(rec({ rd: ACC.SPS | ACC.LOCK, wr: 0 }));
  const hostWriter = footprintOf(rec({ rd: ACC.HOST | ACC.SLOTS, wr: ACC.HOST }));
  const lockHolder = footprintOf(rec({ rd: ACC.LOCK, wr: ACC.LOCK }));
  const watcher = footprintOf(rec({ rd: ACC.THREADS, wr: 0 }));
  const untraced = footprintOf(rec(undefined));
  assert.ok(independent(local, spWriter));
  assert.ok(independent(spReader, spReader));
  assert.ok(!independent(spReader, spWriter));
  assert.ok(!independent(spWriter, spWriter));
  assert.ok(independent(spWriter, hostWriter), 'disjoint categories commute');
  assert.ok(!independent(lockHolder, spReader), 'a step that keeps the lock conflicts with one that needs it');
  assert.ok(!independent(watcher, local), 'a wait on another thread depends on every step');
  assert.ok(!independent(untraced, local) && !independent(local, untraced), 'a step without masks conflicts with everything');
});

test('choicesToSlices merges runs of one thread and leaves engine helper threads to the runner', () => {
  assert.deepEqual(choicesToSlices(['a', 'a', 'tdp_mmu_zap_wq', 'b', 'a', 'a'], ['a', 'b']), [
    { thread: 'a', until: { steps: 2 } }, { thread: 'b', until: { steps: 1 } }, { thread: 'a', until: { steps: 2 } },
  ]);
});

test('choicesToSlices pins engine helper threads by default', () => {
  assert.deepEqual(choicesToSlices(['a', 'a', 'tdp_mmu_zap_wq', 'b', 'a', 'a']), [
    { thread: 'a', until: { steps: 2 } }, { thread: 'tdp_mmu_zap_wq', until: { steps: 1 } }, { thread: 'b', until: { steps: 1 } }, { thread: 'a', until: { steps: 2 } },
  ]);
});

// The 5.18 async root zapper (the engine's tdp_mmu_zap_wq thread) racing a vCPU fault and a notifier unmap.
const ASYNC = 'async-zap-worker-open.kvmmmu.yaml';

test(`${ASYNC}: the fixed 5.18 profile is explored exhaustively with nothing found, the worker interleaved`, () => {
  const text = read(ASYNC);
  const prepared = prepareExploration(text, { bug: 'none' });
  assert.equal(prepared.config.era, '5.18');
  assert.ok(prepared.options.threads?.includes('tdp_mmu_zap_wq'));
  const r = explore(prepared.options);
  assert.equal(r.verdict, 'nothing-found', JSON.stringify(r.counterexample));
  assert.equal(r.exhaustive, true);
  assert.ok(r.completedPaths > 0);
  // the worker only as a last resort (the older policy) reaches strictly fewer states: the new ones are
  // the interleavings of the worker with the vCPU and the notifier
  const last = explore(prepareExploration(text, { bug: 'none', helpers: 'last' }).options);
  assert.equal(last.verdict, 'nothing-found');
  assert.equal(last.exhaustive, true);
  assert.ok(r.distinctStates > last.distinctStates, `${r.distinctStates} vs ${last.distinctStates}`);
  assert.ok(r.statesExplored > last.statesExplored);
  // 6.1 runs the same async worker
  const r61 = explore(prepareExploration(text, { bug: 'none', profile: '6.1' }).options);
  assert.equal(r61.verdict, 'nothing-found');
  assert.equal(r61.exhaustive, true);
});

test(`${ASYNC}: counterexamples pin the worker as slices and replay with kvm-mmu-lab run`, async () => {
  // the 5.17 notifier bug (skip invalid roots) transplanted onto 5.18: some counterexamples need the
  // worker to have run part of its zap before the notifier walks past the invalid root
  const text = read(ASYNC);
  const prepared = prepareExploration(text, { bug: 'notifier-skips-invalid-roots', all: true });
  // unreduced: with partial-order reduction a worker step that commutes with the notifier's is left out
  // of the counterexamples (each class of equivalent orders has one representative)
  const r = explore({ ...prepared.options, por: false });
  assert.equal(r.verdict, 'violation');
  const cx = r.counterexamples.find((c) => c.choices.includes('tdp_mmu_zap_wq'));
  assert.ok(cx, 'no counterexample runs the worker');
  const saved = counterexampleScenario(text, prepared, cx);
  assert.match(saved, /\{ thread: tdp_mmu_zap_wq, until: \d+ \}/);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kvm-explore-'));
  try {
    const file = path.join(tmp, 'cx.kvmmmu.yaml');
    fs.writeFileSync(file, saved);
    const y = io();
    const code = await runCommand([file, '--json'], y.io);
    assert.equal(code, 0, y.out.join('') + y.err.join(''));
    const run = JSON.parse(y.out.join('')) as { verdict: string; violations: Array<{ id: string }>; steps: number };
    assert.equal(run.verdict, 'pass');
    assert.ok(run.violations.some((v) => v.id === cx.violation.id));
    assert.equal(replayCounterexample(saved, cx).replays, true);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test(`${ASYNC}: is valid for check and passes run`, async () => {
  const x = io();
  assert.equal(await checkCommand([path.join(dir, ASYNC)], x.io), 0, x.out.join('') + x.err.join(''));
  const y = io();
  assert.equal(await runCommand([path.join(dir, ASYNC)], y.io), 0, y.out.join('') + y.err.join(''));
});
