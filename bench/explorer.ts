/**
 * Interleaving-explorer benchmark. `run()` returns the figures; it prints nothing.
 *
 * For each seed race (demo/scenarios/explore/*.kvmmmu.yaml), after warm-up runs (JIT):
 *  - the buggy form: secondsToCounterexample = median wall time of 5 searches until the first violation;
 *  - the fix (--bug none): distinctStatesPerSec = steady-state throughput of the exhaustive search, i.e.
 *    the search repeated until at least 0.5 s have been spent, total distinct states / total seconds
 *    (the bundled searches are small, 70-800 states, so one run is a few milliseconds); statesExplored,
 *    distinctStates, seconds (one run) and exhaustive alongside.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { explore } from '../src/explorer/explorer';
import { prepareExploration } from '../src/explorer/scenario';

const CASES: Record<string, string> = {
  'yield-before-free-request': 'fast-zap-yield-open.kvmmmu.yaml',
  'gup-no-seq-retry': 'gup-race-open.kvmmmu.yaml',
  'notifier-skips-invalid-roots': 'notifier-invalid-roots-open.kvmmmu.yaml',
  'hash-walk-zaps-saved-next': 'hash-walk-open.kvmmmu.yaml',
};

function findRoot(): string {
  let d = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(d, 'demo', 'scenarios', 'explore'))) return d;
    d = path.dirname(d);
  }
  return process.cwd();
}

/** Races explored only in their fixed form (no bundled bug variant for them). */
const FIX_ONLY: Record<string, string> = {
  'async-zap-worker (fix only)': 'async-zap-worker-open.kvmmmu.yaml',
};

function steadyRate(text: string): { rate: number; fixed: ReturnType<typeof explore> } {
  let distinct = 0, seconds = 0, fixed: ReturnType<typeof explore> | undefined;
  for (let i = 0; i < 3; i++) explore(prepareExploration(text, { bug: 'none' }).options); // warm-up (JIT)
  while (seconds < 0.5) {
    fixed = explore(prepareExploration(text, { bug: 'none' }).options);
    distinct += fixed.distinctStates;
    seconds += fixed.seconds;
  }
  return { rate: Math.round(distinct / seconds), fixed: fixed! };
}

function medianSecondsToCounterexample(text: string): { seconds: number | null; id: string | null } {
  explore(prepareExploration(text, {}).options); // warm-up
  const runs = Array.from({ length: 5 }, () => explore(prepareExploration(text, {}).options));
  const found = runs.filter((r) => r.counterexample);
  if (found.length < runs.length) return { seconds: null, id: null };
  const s = runs.map((r) => r.seconds).sort((a, b) => a - b)[2]!;
  return { seconds: Math.round(s * 10000) / 10000, id: runs[0]!.counterexample!.violation.id };
}

export async function run(): Promise<Record<string, unknown>> {
  const dir = path.join(findRoot(), 'demo', 'scenarios', 'explore');
  const out: Record<string, unknown> = {};
  for (const [bug, file] of Object.entries(CASES)) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    const cx = medianSecondsToCounterexample(text);
    const { rate, fixed } = steadyRate(text);
    out[bug] = {
      distinctStatesPerSec: rate,
      secondsToCounterexample: cx.seconds,
      counterexample: cx.id,
      fix: { verdict: fixed.verdict, statesExplored: fixed.statesExplored, distinctStates: fixed.distinctStates, seconds: Math.round(fixed.seconds * 10000) / 10000, exhaustive: fixed.exhaustive },
    };
  }
  for (const [name, file] of Object.entries(FIX_ONLY)) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    const { rate, fixed } = steadyRate(text);
    out[name] = {
      distinctStatesPerSec: rate,
      fix: { verdict: fixed.verdict, statesExplored: fixed.statesExplored, distinctStates: fixed.distinctStates, seconds: Math.round(fixed.seconds * 10000) / 10000, exhaustive: fixed.exhaustive },
    };
  }
  return { explorer: out };
}
