// Parallel exploration (src/explorer/parallel.ts): worker threads over one shared visited table reach the
// same verdicts as the sequential search on every bundled open-schedule scenario, visit exactly the same
// states without POR, report counterexamples that replay, cancel, and leave no thread behind on errors.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { explore } from '../../../src/explorer/explorer';
import { counterexampleScenario, prepareExploration, replayCounterexample } from '../../../src/explorer/scenario';
import { ExplorerPool, exploreParallel, ParallelExploreError } from '../../../src/explorer/parallel';
import { exploreCommand } from '../../../src/cli/explore-command';

const root = path.resolve(__dirname, '..', '..', '..', '..');
const dir = path.join(root, 'demo', 'scenarios', 'explore');
const read = (f: string): string => fs.readFileSync(path.join(dir, f), 'utf8');
const FILES = fs.readdirSync(dir).filter((f) => f.endsWith('-open.kvmmmu.yaml')).sort();
/** Files whose scenario is a bug variant (the rest are explored as they are and in their fixed form only). */
const BUGGY = FILES.filter((f) => prepareExploration(read(f)).config.bug);

let pool: ExplorerPool;
before(async () => { pool = await ExplorerPool.start(2); });
after(async () => { await pool.close(); });

test('the bundled scenarios: 5 open schedules, 4 of them bug variants', () => {
  assert.equal(FILES.length, 5, FILES.join(', '));
  assert.equal(BUGGY.length, 4, BUGGY.join(', '));
});

for (const f of FILES) {
  test(`${f}: the fix ({bug: 'none'}) finds nothing, exhaustively, in parallel; without POR exactly the sequential states`, async () => {
    const text = read(f);
    const par = await pool.run(text, { bug: 'none' });
    assert.equal(par.workers, 2);
    assert.equal(par.result.verdict, 'nothing-found', JSON.stringify(par.result.counterexample));
    assert.equal(par.result.exhaustive, true);
    assert.equal(par.result.stoppedBecause, undefined);
    assert.ok(par.result.completedPaths > 0);
    assert.equal(par.counterexampleText, null);
    // without POR the visited set is every state reachable within the depth bound, whatever the order
    const seq = explore(prepareExploration(text, { bug: 'none', por: false }).options);
    const noPor = await pool.run(text, { bug: 'none', por: false });
    assert.equal(noPor.result.exhaustive, true);
    assert.equal(noPor.result.distinctStates, seq.distinctStates);
  });
}

for (const f of BUGGY) {
  test(`${f}: the buggy form gives the sequential verdict and violation id in parallel, and the counterexample replays`, async () => {
    const text = read(f);
    const prepared = prepareExploration(text, { file: f });
    const seq = explore(prepared.options);
    const par = await pool.run(text, { file: f });
    assert.equal(par.result.verdict, 'violation');
    assert.equal(par.result.counterexample!.violation.id, seq.counterexample!.violation.id);
    assert.equal(par.result.stoppedBecause, 'counterexample');
    assert.equal(par.result.exhaustive, false);
    assert.deepEqual(par.result.counterexamples, [par.result.counterexample]);
    assert.ok(par.counterexampleText?.includes('schedule:'));
    assert.equal(par.replays, true);
    assert.equal(replayCounterexample(par.counterexampleText!, par.result.counterexample!).replays, true);
  });

  test(`${f}: with all, every counterexample of a parallel search replays and the violation ids are the sequential ones`, async () => {
    const text = read(f);
    const prepared = prepareExploration(text, { all: true });
    const seqIds = [...new Set(explore(prepareExploration(text, { all: true, por: false }).options).counterexamples.map((c) => c.violation.id))].sort();
    const par = await pool.run(text, { all: true });
    assert.equal(par.result.verdict, 'violation');
    assert.equal(par.result.counterexample, par.result.counterexamples[0]);
    assert.deepEqual([...new Set(par.result.counterexamples.map((c) => c.violation.id))].sort(), seqIds);
    const keys = par.result.counterexamples.map((c) => c.choices.join(','));
    assert.equal(new Set(keys).size, keys.length, 'duplicate counterexamples');
    for (const cx of par.result.counterexamples) {
      assert.equal(replayCounterexample(counterexampleScenario(text, prepared, cx), cx).replays, true, `${cx.violation.id} via ${cx.choices.join(' ')}`);
    }
  });
}

test('the pool forwards summed progress', async () => {
  const seen: number[] = [];
  const r = await pool.run(read('async-zap-worker-open.kvmmmu.yaml'), { bug: 'none', por: false, progressEveryMs: 0, onProgress: (p) => seen.push(p.distinctStates) });
  assert.ok(seen.length > 0);
  assert.ok(seen.every((d) => d <= r.result.distinctStates));
});

test('cancellation stops every worker; the pool runs the next search normally', async () => {
  const text = read('async-zap-worker-open.kvmmmu.yaml');
  const full = await pool.run(text, { bug: 'none', por: false });
  const ac = new AbortController();
  ac.abort();
  const c = await pool.run(text, { bug: 'none', por: false, signal: ac.signal });
  assert.equal(c.result.stoppedBecause, 'cancelled');
  assert.equal(c.result.exhaustive, false);
  // each worker polls every 64 steps: both stopped at their first poll
  assert.ok(c.result.statesExplored <= 2 * 64, `${c.result.statesExplored} states explored`);
  assert.ok(full.result.statesExplored > 2 * 64);
  // cancelled mid-search: at the first progress report (after 64 steps of one worker)
  const ac2 = new AbortController();
  const p = pool.run(text, { bug: 'none', por: false, progressEveryMs: 0, onProgress: () => ac2.abort(), signal: ac2.signal });
  const c2 = await p;
  assert.equal(c2.result.stoppedBecause, 'cancelled');
  assert.ok(c2.result.statesExplored < full.result.statesExplored);
  const again = await pool.run(text, { bug: 'none', por: false });
  assert.equal(again.result.exhaustive, true);
  assert.equal(again.result.distinctStates, full.result.distinctStates);
  assert.equal(pool.liveWorkers, 2);
});

test('a full shared table stops the search as table-full, not exhaustive', async () => {
  const r = await pool.run(read('notifier-invalid-roots-open.kvmmmu.yaml'), { bug: 'none', capacity: 50 });
  assert.equal(r.result.stoppedBecause, 'table-full');
  assert.equal(r.result.exhaustive, false);
  assert.ok(r.result.distinctStates <= 50);
});

test('invalid input: a clear error, the pool stays usable', async () => {
  await assert.rejects(pool.run('scenario: b\nvm: { era: "9.9" }\n', {}), (e: unknown) => e instanceof ParallelExploreError && e.invalidInput);
  const r = await pool.run(read('gup-race-open.kvmmmu.yaml'), { bug: 'none' });
  assert.equal(r.result.verdict, 'nothing-found');
});

test('exploreParallel: one-shot pool; its threads are gone afterwards, also when a worker throws', async () => {
  const base = ExplorerPool.liveThreads;
  const r = await exploreParallel(read('gup-race-open.kvmmmu.yaml'), {}, 2);
  assert.equal(r.result.verdict, 'violation');
  assert.equal(r.workers, 2);
  assert.equal(ExplorerPool.liveThreads, base);
  // worker 1 throws on its search; worker 0 is busy with a long one
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kvm-par-'));
  try {
    const bad = path.join(tmp, 'bad-worker.js');
    const real = path.resolve(__dirname, '..', '..', '..', 'src', 'explorer', 'worker.js');
    fs.writeFileSync(bad, `const { workerData, parentPort } = require('node:worker_threads');
if (workerData.index === 1) {
  parentPort.on('message', () => { throw new Error('boom in worker 1'); });
  parentPort.postMessage({ type: 'ready', index: 1 });
} else require(${JSON.stringify(real)});
`);
    await assert.rejects(exploreParallel(read('async-zap-worker-open.kvmmmu.yaml'), { bug: 'none', por: false }, 2, bad), /explorer worker 1 failed: boom in worker 1/);
    assert.equal(ExplorerPool.liveThreads, base);
    // a worker file that cannot start
    const broken = path.join(tmp, 'broken-worker.js');
    fs.writeFileSync(broken, 'throw new Error("cannot start");\n');
    await assert.rejects(ExplorerPool.start(2, broken), /cannot start/);
    assert.equal(ExplorerPool.liveThreads, base);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('the CLI: explore --workers 2 --json reports the workers and the sequential verdicts', async () => {
  const io = (): { out: string[]; err: string[]; io: { out: (t: string) => void; err: (t: string) => void } } => {
    const out: string[] = [], err: string[] = [];
    return { out, err, io: { out: (t) => out.push(t), err: (t) => err.push(t) } };
  };
  const x = io();
  assert.equal(await exploreCommand([path.join(dir, 'gup-race-open.kvmmmu.yaml'), '--workers', '2', '--json'], x.io), 1, x.err.join(''));
  const rep = JSON.parse(x.out.join('')) as { workers: number; verdict: string; counterexample: { violation: { id: string } } };
  assert.equal(rep.workers, 2);
  assert.equal(rep.verdict, 'violation');
  assert.equal(rep.counterexample.violation.id, 'MN-1');
  const y = io();
  assert.equal(await exploreCommand([path.join(dir, 'gup-race-open.kvmmmu.yaml'), '--bug', 'none', '--workers=2', '--json'], y.io), 0, y.err.join(''));
  const fix = JSON.parse(y.out.join('')) as { workers: number; verdict: string; exhaustive: boolean };
  assert.deepEqual([fix.workers, fix.verdict, fix.exhaustive], [2, 'nothing-found', true]);
  const z = io();
  assert.equal(await exploreCommand([path.join(dir, 'gup-race-open.kvmmmu.yaml'), '--json'], z.io), 1);
  assert.equal((JSON.parse(z.out.join('')) as { workers: number }).workers, 1);
  assert.equal(await exploreCommand([path.join(dir, 'gup-race-open.kvmmmu.yaml'), '--workers', '0'], io().io), 2);
  assert.equal(await exploreCommand([path.join(dir, 'gup-race-open.kvmmmu.yaml'), '--workers', 'many'], io().io), 2);
  const a = io();
  assert.equal(await exploreCommand([path.join(dir, 'gup-race-open.kvmmmu.yaml'), '--workers', 'auto', '--json', '--bug', 'none'], a.io), 0, a.err.join(''));
  assert.equal((JSON.parse(a.out.join('')) as { workers: number }).workers, os.availableParallelism());
});
