/**
 * Scenario glue for the explorer: parse a scenario file, take its open schedule (or treat any other
 * schedule as open), turn its expectations into path checks, and turn a counterexample back into a
 * scenario with the schedule pinned as explicit slices.
 */
import type { BugId, EngineOptions, EraId, ScheduleSlice, ThreadId, VmConfig } from '../engine/api';
import { createEngine } from '../engine';
import { parseScenario } from '../scenario/parser';
import { effectiveConfig, runScenario, type RunResult } from '../scenario/runner';
import { checkMatcher, describeMatcher, resolvePath } from '../scenario/expectations';
import type { Diagnostic, Expectations, Scenario } from '../scenario/types';
import { explore, type Counterexample, type ExploreOptions, type ExploreResult, type PathCheck } from './explorer';

export interface ScenarioExploreOptions {
  /** File name (for diagnostics and the saved scenario's header). */
  file?: string;
  maxDepth?: number;
  maxPreemptions?: number;
  all?: boolean;
  bug?: BugId | 'none';
  profile?: EraId;
  variant?: string;
  por?: boolean;
  /** Engine-added threads as ordinary choices ['interleave'] or only when nothing else can run ('last'). */
  helpers?: 'interleave' | 'last';
  audit?: 'full' | 'events';
  timeLimitSeconds?: number;
  onProgress?: ExploreOptions['onProgress'];
  progressEveryMs?: number;
  isCancelled?: () => boolean;
}

export interface PreparedExploration {
  scenario: Scenario;
  config: VmConfig;
  expect: Expectations;
  options: ExploreOptions;
  /** The scenario's schedule was not `open` and is explored as if it were. */
  scheduleWasOpen: boolean;
}

export class ScenarioError extends Error {
  constructor(message: string, readonly diagnostics: Diagnostic[] = []) { super(message); }
}

function fmtDiag(file: string | undefined, d: Diagnostic): string {
  return `${file ?? '<scenario>'}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.message}`;
}

/** Parse and prepare; throws ScenarioError on invalid input. */
export function prepareExploration(text: string, o: ScenarioExploreOptions = {}): PreparedExploration {
  const parsed = parseScenario(text, { file: o.file, era: o.profile, bug: o.bug });
  if (!parsed.scenario) {
    const errs = parsed.diagnostics.filter((d) => d.severity === 'error');
    throw new ScenarioError(errs.map((d) => fmtDiag(o.file, d)).join('\n') || 'invalid scenario', errs);
  }
  const scenario = parsed.scenario;
  let eff: ReturnType<typeof effectiveConfig>;
  try {
    eff = effectiveConfig(scenario, { variant: o.variant, era: o.profile, bug: o.bug });
  } catch (e) {
    throw new ScenarioError(e instanceof Error ? e.message : String(e));
  }
  const sched = scenario.schedule.schedule;
  const open = sched.kind === 'open' ? sched : undefined;
  const engine: EngineOptions = {
    config: JSON.parse(JSON.stringify(eff.config)) as VmConfig,
    threads: scenario.threads.map((t) => ({ id: t.id, kind: t.kind, vcpu: t.vcpu, ops: t.ops })),
  };
  const options: ExploreOptions = {
    engine,
    create: createEngine,
    threads: open?.threads,
    maxDepth: o.maxDepth ?? open?.maxDepth,
    maxPreemptions: o.maxPreemptions ?? open?.maxPreemptions,
    all: o.all,
    por: o.por,
    helpers: o.helpers,
    audit: o.audit,
    checks: pathChecks(scenario, eff.expect),
    timeLimitSeconds: o.timeLimitSeconds,
    onProgress: o.onProgress,
    progressEveryMs: o.progressEveryMs,
    isCancelled: o.isCancelled,
  };
  return { scenario, config: eff.config, expect: eff.expect, options, scheduleWasOpen: !!open };
}

/**
 * Expectations as path checks. Invariant violations are always counterexamples. Of `expect`, the
 * explorer checks `absent` and `at` blocks after step labels, after step N and at the end (every
 * completed path). Slice labels and `violations: [ids]` lists are schedule-specific and ignored.
 */
export function pathChecks(scenario: Scenario, expect: Expectations): PathCheck[] {
  const out: PathCheck[] = [];
  for (const block of expect.at) {
    let when: PathCheck['when'] | undefined;
    const p = block.point;
    if (p.kind === 'end') when = { kind: 'end' };
    else if (p.kind === 'step') when = { kind: 'step', index: p.index };
    else if (p.kind === 'label') {
      const l = scenario.labels.find((x) => x.label === p.label);
      if (l) when = { kind: 'op', thread: l.thread, opIndex: l.opIndex };
    }
    if (!when) continue;
    for (const a of block.assertions) {
      const where = p.kind === 'label' ? p.label : p.kind === 'step' ? `step ${p.index}` : 'end';
      out.push({
        when,
        describe: `after ${where}: ${describeMatcher(a.path, a.matcher)}`,
        check: (view, violations) => {
          try { return checkMatcher(a.matcher, resolvePath(view, a.path, violations)); } catch (e) { return `cannot evaluate: ${e instanceof Error ? e.message : String(e)}`; }
        },
      });
    }
  }
  // `absent` ids are invariant violations, already counterexamples when they appear.
  return out;
}

export function exploreScenarioText(text: string, o: ScenarioExploreOptions = {}): { prepared: PreparedExploration; result: ExploreResult } {
  const prepared = prepareExploration(text, o);
  return { prepared, result: explore(prepared.options) };
}

// ---------------------------------------------------------------------------------------------
// Counterexample -> pinned schedule -> scenario text
// ---------------------------------------------------------------------------------------------

/**
 * Consecutive steps of one thread become one slice `{ thread, until: N }`. Every thread is pinned,
 * including those the engine adds itself (the tdp_mmu_zap_wq worker; the validator accepts them in the
 * eras that have them). With `only`, steps of other threads are left to the runner instead (it runs an
 * engine thread when the slice's thread waits on it).
 */
export function choicesToSlices(choices: readonly ThreadId[], only?: readonly ThreadId[]): ScheduleSlice[] {
  const keep = only ? new Set(only) : null;
  const out: ScheduleSlice[] = [];
  for (const t of choices) {
    if (keep && !keep.has(t)) continue;
    const last = out[out.length - 1];
    if (last && last.thread === t && last.until && 'steps' in last.until) last.until = { steps: last.until.steps + 1 };
    else out.push({ thread: t, until: { steps: 1 } });
  }
  return out;
}

const TOP_KEY = /^([A-Za-z_][\w-]*)\s*:/;

/** Split YAML text into top-level blocks (a key at column 0 and its indented/comment lines). */
function topBlocks(text: string): { head: string[]; blocks: Array<{ key: string; lines: string[] }> } {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const head: string[] = [];
  const blocks: Array<{ key: string; lines: string[] }> = [];
  for (const line of lines) {
    const m = TOP_KEY.exec(line);
    if (m) blocks.push({ key: m[1]!, lines: [line] });
    else if (blocks.length) blocks[blocks.length - 1]!.lines.push(line);
    else head.push(line);
  }
  return { head, blocks };
}

function yamlSlice(s: ScheduleSlice): string {
  const u = s.until;
  const until = !u ? '' : 'steps' in u ? `, until: ${u.steps}` : 'done' in u ? ', until: done' : 'opDone' in u ? ', until: op' : `, until: ${JSON.stringify(u.point)}`;
  return `  - { thread: ${s.thread}${until} }`;
}

export interface SaveOptions {
  /** Source file name, mentioned in the header. */
  sourceFile?: string;
  bug?: BugId | null;
  era?: EraId;
}

/**
 * The counterexample as a scenario: the source text with its `schedule` pinned to explicit slices, the
 * effective bug and era written out, `variants` dropped and `expect` replaced so that `kvm-mmu-lab run`
 * passes exactly when the violation replays.
 */
export function counterexampleScenario(sourceText: string, prepared: PreparedExploration, cx: Counterexample, save: SaveOptions = {}): string {
  const { head, blocks } = topBlocks(sourceText);
  const slices = choicesToSlices(cx.choices);
  const bug = save.bug !== undefined ? save.bug : prepared.config.bug ?? null;
  const era = save.era ?? prepared.config.era;
  const header = [
    `# Counterexample found by \`kvm-mmu-lab explore\`${save.sourceFile ? ` in ${save.sourceFile}` : ''}: ${cx.violation.id}`,
    `# ${cx.violation.message.replace(/\n/g, ' ')}`,
    `# at step ${cx.violation.step} in ${cx.violation.thread}${cx.violation.function ? ` (${cx.violation.function})` : ''}; ${cx.choices.length} steps, ${cx.preemptions} preemption(s).`,
    `# The schedule below is pinned (one slice per run of consecutive steps of a thread); replay it with`,
    `# \`kvm-mmu-lab run\` or step it in the debugger.`,
    '#',
  ];
  const out: string[] = [...header, ...head.filter((l, i) => !(i === head.length - 1 && l === ''))];
  for (const b of blocks) {
    if (b.key === 'schedule' || b.key === 'expect' || b.key === 'variants' || b.key === 'bug') continue;
    if (b.key === 'scenario') {
      out.push(`scenario: ${prepared.scenario.name}-counterexample`);
      continue;
    }
    if (b.key === 'vm') {
      // pin the era actually explored
      out.push(...b.lines.map((l) => (/^\s+era\s*:/.test(l) ? l.replace(/era\s*:\s*("[^"]*"|'[^']*'|[^\s#]+)/, `era: "${era}"`) : l)));
      if (bug) out.push(`bug: ${bug}`, '');
      continue;
    }
    out.push(...b.lines);
  }
  while (out.length && out[out.length - 1] === '') out.pop();
  out.push('schedule:', ...slices.map(yamlSlice));
  out.push('expect:');
  if (cx.kind === 'violation') {
    out.push(`  violations: [${cx.violation.id}]`, '  allowExtra: true');
  } else {
    out.push(`  # the explorer found: ${cx.violation.message.replace(/\n/g, ' ')}`);
    const exp = blocks.find((b) => b.key === 'expect');
    if (exp) out.push(...exp.lines.slice(1).filter((l) => l.trim() !== ''));
  }
  return out.join('\n') + '\n';
}

export interface ReplayCheck { replays: boolean; run: RunResult; message: string }

/** Run a saved counterexample scenario through the scenario runner and check that it replays the violation. */
export function replayCounterexample(text: string, cx: Counterexample): ReplayCheck {
  const parsed = parseScenario(text, {});
  if (!parsed.scenario) {
    const run: RunResult = { scenario: '', era: '6.19', verdict: 'fail', violations: [], expectations: [], failedExpectations: ['invalid scenario'], steps: 0, traceHash: '' };
    return { replays: false, run, message: parsed.diagnostics.filter((d) => d.severity === 'error').map((d) => fmtDiag(undefined, d)).join('\n') };
  }
  const run = runScenario(parsed.scenario, (o) => createEngine(o));
  const replays = cx.kind === 'violation' ? run.violations.some((v) => v.id === cx.violation.id) : run.verdict === 'fail';
  return { replays, run, message: replays ? `replays ${cx.violation.id}` : `does not replay ${cx.violation.id}: ${run.failedExpectations.join('; ')}` };
}
