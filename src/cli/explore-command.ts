import * as fs from 'node:fs';
import type { CliIo } from './main';
import { BUG_IDS, ERAS } from '../scenario/vocabulary';
import type { BugId, EraId } from '../engine/api';
import { choicesToSlices, counterexampleScenario, prepareExploration, replayCounterexample, ScenarioError, type ScenarioExploreOptions } from '../explorer/scenario';
import { explore, type ExploreResult } from '../explorer/explorer';
import { exploreParallel, workerCount } from '../explorer/parallel';

const USAGE = `usage: kvm-mmu-lab explore FILE [--json] [--max-depth N] [--max-preemptions N] [--all]
                          [--save FILE] [--bug BUG|none] [--profile ERA] [--variant NAME] [--no-por]
                          [--helpers-last] [--time-limit SECONDS] [--workers N|auto]
  Searches the interleavings of the scenario's open schedule (\`schedule: { open: { threads, maxDepth,
  maxPreemptions } }\`; any other schedule is explored as if it were open) and stops at the first
  invariant violation or failed expectation.
  --max-depth N        bound on the steps of one interleaving (default: the scenario's, else 500)
  --max-preemptions N  bound on switches away from a runnable thread in the middle of an operation
  --all                collect every counterexample instead of stopping at the first
  --save FILE          write the (first) counterexample as a scenario with the schedule pinned
  --bug BUG            explore a bug variant (${BUG_IDS.join(', ')}) or 'none' for the fix
  --profile ERA        explore on another kernel era (${ERAS.join(', ')})
  --no-por             disable partial-order reduction (sleep sets)
  --workers N|auto     search with N worker threads sharing one visited table (default 1: the
                       sequential, deterministic search; auto: one per available core)
  --helpers-last       run threads the engine adds itself (tdp_mmu_zap_wq) only when no scenario thread
                       can run (default: they interleave like any other thread)
exit status: 0 nothing found, 1 a violation was found, 2 invalid input or usage
`;

export interface ExploreReport {
  file: string;
  scenario: string;
  /** Worker threads that searched (1: the sequential search in this thread). */
  workers: number;
  verdict: 'violation' | 'nothing-found';
  statesExplored: number;
  distinctStates: number;
  seconds: number;
  exhaustive: boolean;
  counterexample: null | {
    schedule: Array<{ thread: string; until: number }>;
    choices: string[];
    violation: { id: string; message: string; step: number; thread: string; function: string | null };
    preemptions: number;
    saved?: string;
    replays?: boolean;
  };
  counterexamples?: number;
  bounds: ExploreResult['bounds'];
  stoppedBecause?: string;
  maxDepthReached: number;
  cutByDepth: number;
  cutByPreemptions: number;
  sleepSetPruned: number;
  deadlocks: number;
  era: string;
  bug: string | null;
}

function intArg(name: string, v: string | undefined, io: CliIo): number | undefined | null {
  if (v === undefined || !/^\d+$/.test(v)) {
    io.err(`kvm-mmu-lab explore: ${name} needs a non-negative integer${v !== undefined ? ` (got '${v}')` : ''}\n`);
    return null;
  }
  return Number(v);
}

/** `kvm-mmu-lab explore FILE`: search the interleavings of an open schedule. */
export async function exploreCommand(args: string[], io: CliIo): Promise<number> {
  let file: string | undefined;
  let json = false;
  let save: string | undefined;
  let workers = 1;
  const o: ScenarioExploreOptions = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string | undefined => {
      const eq = a.indexOf('=');
      if (a.startsWith('--') && eq > 0) return a.slice(eq + 1);
      return args[++i];
    };
    const opt = a.replace(/=.*$/, '');
    if (a === '--json') json = true;
    else if (a === '--help' || a === '-h') { io.out(USAGE); return 0; }
    else if (a === '--all') o.all = true;
    else if (a === '--no-por') o.por = false;
    else if (a === '--helpers-last') o.helpers = 'last';
    else if (opt === '--max-depth') {
      const n = intArg('--max-depth', value(), io);
      if (n === null || n === undefined || n < 1) { if (n !== null) io.err('kvm-mmu-lab explore: --max-depth must be at least 1\n'); return 2; }
      o.maxDepth = n;
    } else if (opt === '--max-preemptions') {
      const n = intArg('--max-preemptions', value(), io);
      if (n === null || n === undefined) return 2;
      o.maxPreemptions = n;
    } else if (opt === '--time-limit') {
      const v = value();
      const n = v !== undefined ? Number(v) : NaN;
      if (!(n > 0)) { io.err(`kvm-mmu-lab explore: --time-limit needs a positive number of seconds\n`); return 2; }
      o.timeLimitSeconds = n;
    } else if (opt === '--workers') {
      const v = value();
      try {
        workers = workerCount(v === 'auto' ? 'auto' : v !== undefined && /^\d+$/.test(v) ? Number(v) : NaN);
      } catch {
        io.err(`kvm-mmu-lab explore: --workers needs 'auto' or an integer in 1..64${v !== undefined ? ` (got '${v}')` : ''}\n`);
        return 2;
      }
    } else if (opt === '--save') {
      save = value();
      if (!save) { io.err('kvm-mmu-lab explore: --save needs a file name\n'); return 2; }
    } else if (opt === '--bug') {
      const v = value();
      if (!v || (v !== 'none' && !(BUG_IDS as readonly string[]).includes(v))) {
        io.err(`kvm-mmu-lab explore: --bug needs 'none' or one of ${BUG_IDS.join(', ')}${v ? ` (got '${v}')` : ''}\n`);
        return 2;
      }
      o.bug = v as BugId | 'none';
    } else if (opt === '--profile') {
      const v = value();
      if (!v || !(ERAS as readonly string[]).includes(v)) {
        io.err(`kvm-mmu-lab explore: --profile needs one of ${ERAS.join(', ')}${v ? ` (got '${v}')` : ''}\n`);
        return 2;
      }
      o.profile = v as EraId;
    } else if (opt === '--variant') {
      o.variant = value();
      if (!o.variant) { io.err('kvm-mmu-lab explore: --variant needs a name\n'); return 2; }
    } else if (a.startsWith('-')) {
      io.err(`kvm-mmu-lab explore: unknown option '${a}'\n${USAGE}`);
      return 2;
    } else if (file === undefined) file = a;
    else { io.err(`kvm-mmu-lab explore: one FILE at a time (got '${file}' and '${a}')\n`); return 2; }
  }
  if (!file) { io.err(USAGE); return 2; }
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    io.err(`${file}: cannot read: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  o.file = file;
  let prepared;
  try {
    prepared = prepareExploration(text, o);
  } catch (e) {
    io.err((e instanceof ScenarioError ? e.message : `${file}: ${e instanceof Error ? e.message : String(e)}`) + '\n');
    return 2;
  }
  if (!prepared.scheduleWasOpen && !json) io.err(`note: ${file} has a ${prepared.scenario.schedule.schedule.kind} schedule; exploring it as open (all threads free)\n`);
  let result: ExploreResult;
  let parallelText: string | null = null;
  let parallelReplays: boolean | null = null;
  if (workers > 1) {
    try {
      const par = await exploreParallel(text, { ...o, save: !!save }, workers);
      result = par.result;
      parallelText = par.counterexampleText;
      parallelReplays = par.replays;
    } catch (e) {
      io.err(`kvm-mmu-lab explore: ${file}: ${e instanceof Error ? e.message : String(e)}\n`);
      return 2;
    }
  } else result = explore(prepared.options);
  const cx = result.counterexample;
  const report: ExploreReport = {
    file,
    scenario: prepared.scenario.name,
    workers,
    verdict: result.verdict,
    statesExplored: result.statesExplored,
    distinctStates: result.distinctStates,
    seconds: Math.round(result.seconds * 1000) / 1000,
    exhaustive: result.exhaustive,
    counterexample: null,
    bounds: result.bounds,
    stoppedBecause: result.stoppedBecause,
    maxDepthReached: result.maxDepthReached,
    cutByDepth: result.cutByDepth,
    cutByPreemptions: result.cutByPreemptions,
    sleepSetPruned: result.sleepSetPruned,
    deadlocks: result.deadlocks,
    era: prepared.config.era,
    bug: prepared.config.bug ?? null,
  };
  if (o.all) report.counterexamples = result.counterexamples.length;
  if (cx) {
    report.counterexample = {
      schedule: choicesToSlices(cx.choices).map((s) => ({ thread: s.thread, until: s.until && 'steps' in s.until ? s.until.steps : 1 })),
      choices: cx.choices,
      violation: { id: cx.violation.id, message: cx.violation.message, step: cx.violation.step, thread: cx.violation.thread, function: cx.violation.function },
      preemptions: cx.preemptions,
    };
    if (save) {
      const out = parallelText ?? counterexampleScenario(text, prepared, cx, { sourceFile: file });
      try {
        fs.writeFileSync(save, out);
      } catch (e) {
        io.err(`kvm-mmu-lab explore: cannot write ${save}: ${e instanceof Error ? e.message : String(e)}\n`);
        return 2;
      }
      report.counterexample.saved = save;
      report.counterexample.replays = parallelText !== null && parallelReplays !== null ? parallelReplays : replayCounterexample(out, cx).replays;
    }
  }
  if (json) io.out(JSON.stringify(report, null, 2) + '\n');
  else io.out(readable(report, result));
  return result.verdict === 'violation' ? 1 : 0;
}

function readable(r: ExploreReport, res: ExploreResult): string {
  const lines: string[] = [];
  const bounds = `max depth ${r.bounds.maxDepth}, max preemptions ${r.bounds.maxPreemptions ?? 'unbounded'}${r.bounds.threads ? `, free threads ${r.bounds.threads.join(', ')}` : ''}${r.bounds.por ? ', POR on' : ', POR off'}`;
  const stats = `${r.statesExplored} states explored, ${r.distinctStates} distinct, ${r.seconds.toFixed(2)} s${r.workers > 1 ? ` with ${r.workers} workers` : ''} (${bounds})`;
  if (r.counterexample) {
    const v = r.counterexample.violation;
    lines.push(`VIOLATION ${v.id} in ${r.file} (${r.scenario}, era ${r.era}${r.bug ? `, bug ${r.bug}` : ''})`);
    lines.push(`  ${v.message}`);
    lines.push(`  at step ${v.step} in ${v.thread}${v.function ? ` (${v.function})` : ''}, ${r.counterexample.preemptions} preemption(s)`);
    lines.push(`  schedule: ${r.counterexample.schedule.map((s) => `${s.thread}×${s.until}`).join(' → ')}`);
    if (r.counterexample.saved) lines.push(`  saved to ${r.counterexample.saved}${r.counterexample.replays ? ' (replays with kvm-mmu-lab run)' : ' (WARNING: the saved schedule does not replay the violation)'}`);
    if (res.counterexamples.length > 1) lines.push(`  ${res.counterexamples.length} counterexamples: ${[...new Set(res.counterexamples.map((c) => c.violation.id))].join(', ')}`);
    lines.push(`  ${stats}`);
  } else {
    lines.push(`NOTHING FOUND in ${r.file} (${r.scenario}, era ${r.era}${r.bug ? `, bug ${r.bug}` : ''}) within the bounds`);
    lines.push(`  ${stats}`);
    lines.push(r.exhaustive ? '  the search was exhaustive: every interleaving was covered'
      : `  the search was NOT exhaustive: ${r.stoppedBecause ? `stopped (${r.stoppedBecause})` : `${r.cutByDepth} branch(es) cut by the depth bound, ${r.cutByPreemptions} by the preemption bound`}`);
  }
  return lines.join('\n') + '\n';
}
