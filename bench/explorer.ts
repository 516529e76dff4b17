/**
 * Interleaving-explorer benchmark. `run()` returns the figures; it prints nothing.
 *
 * For each seed race (demo/scenarios/explore/*.kvmmmu.yaml) two searches run after one warm-up:
 *  - the buggy form: secondsToCounterexample = wall time of the search until the first violation;
 *  - the fix (--bug none): distinctStatesPerSec = distinct states / seconds of the exhaustive search,
 *    with statesExplored, distinctStates, seconds and exhaustive alongside.
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

export async function run(): Promise<Record<string, unknown>> {
  const dir = path.join(findRoot(), 'demo', 'scenarios', 'explore');
  const out: Record<string, unknown> = {};
  for (const [bug, file] of Object.entries(CASES)) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    explore(prepareExploration(text, { bug: 'none' }).options); // warm-up (JIT)
    const buggy = explore(prepareExploration(text, {}).options);
    const fixed = explore(prepareExploration(text, { bug: 'none' }).options);
    out[bug] = {
      distinctStatesPerSec: Math.round(fixed.distinctStates / fixed.seconds),
      secondsToCounterexample: buggy.counterexample ? Math.round(buggy.seconds * 1000) / 1000 : null,
      counterexample: buggy.counterexample?.violation.id ?? null,
      fix: { verdict: fixed.verdict, statesExplored: fixed.statesExplored, distinctStates: fixed.distinctStates, seconds: Math.round(fixed.seconds * 1000) / 1000, exhaustive: fixed.exhaustive },
    };
  }
  for (const [name, file] of Object.entries(FIX_ONLY)) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    explore(prepareExploration(text, { bug: 'none' }).options); // warm-up (JIT)
    const fixed = explore(prepareExploration(text, { bug: 'none' }).options);
    out[name] = {
      distinctStatesPerSec: Math.round(fixed.distinctStates / fixed.seconds),
      fix: { verdict: fixed.verdict, statesExplored: fixed.statesExplored, distinctStates: fixed.distinctStates, seconds: Math.round(fixed.seconds * 1000) / 1000, exhaustive: fixed.exhaustive },
    };
  }
  return { explorer: out };
}
