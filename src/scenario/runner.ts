/**
 * The runner: drives the engine through a scenario's schedule, checks the expectations, and exposes a
 * steppable session (step, step back, run to the next violation, reset) for the editor.
 */
import type { BugId, EngineOptions, Engine, EraId, Frame, ScheduleSlice, StateView, StepRecord, ThreadId, Violation, VmConfig } from '../engine/api';
import { checkMatcher, describeMatcher, resolvePath } from './expectations';
import type { AtBlock, Expectations, Range, Scenario } from './types';

export type EngineFactory = (options: EngineOptions) => Engine;

export interface RunOptions {
  /** Named variant to run (see `variants:`); undefined = the base run. */
  variant?: string;
  /** --profile / --bug overrides (already applied by the parser when given there). */
  era?: EraId;
  bug?: BugId | 'none';
  maxSteps?: number;
}

export interface ExpectationResult {
  /** Stable id within the run, e.g. "violations:RT-3", "at:0:vm.mmu_valid_gen". */
  id: string;
  label: string;
  passed: boolean;
  message?: string;
  range: Range;
  /** Kernel function the engine attributes the relevant violation to. */
  kernelFunction?: { fn: string; file: string };
}

export interface ViolationSummary { id: string; step: number; thread: ThreadId; function: string | null; message: string; file?: string }

export interface RunResult {
  scenario: string;
  variant?: string;
  era: EraId;
  bug?: BugId;
  verdict: 'pass' | 'fail';
  violations: ViolationSummary[];
  expectations: ExpectationResult[];
  failedExpectations: string[];
  steps: number;
  traceHash: string;
  /** Schedule problem (blocked thread, point never reached, step limit, engine exception). */
  error?: string;
}

// ---------------------------------------------------------------------------------------------
// Schedule driver
// ---------------------------------------------------------------------------------------------

interface DriverState {
  slice: number;
  inSlice: number;        // steps taken in the current slice
  seen: number;           // point occurrences seen in the current slice
  finishing: boolean;
  rr: number;             // round-robin cursor
}

/** Thread order and stepping policy for one scenario; pure function of the engine's state + its own state. */
export class ScheduleDriver {
  private state: DriverState = { slice: 0, inSlice: 0, seen: 0, finishing: false, rr: 0 };
  private readonly snapshots: DriverState[] = [];
  /** Set when the schedule cannot continue (message for the user). */
  error?: string;
  /** Slice indices completed by the last step (for `after: N` / slice labels). */
  completedSlices: number[] = [];

  constructor(private readonly scenario: Scenario, private readonly engine: Engine) {}

  reset(): void {
    this.state = { slice: 0, inSlice: 0, seen: 0, finishing: false, rr: 0 };
    this.snapshots.length = 0;
    this.error = undefined;
    this.completedSlices = [];
  }

  private orderCache?: ThreadId[];
  /** Scenario threads in declaration order, then threads the engine adds itself (e.g. a zap worker). */
  private get order(): ThreadId[] {
    if (!this.orderCache) {
      const own = this.scenario.threads.map((t) => t.id);
      let extra: ThreadId[] = [];
      try {
        extra = this.engine.view().threads.map((t) => t.id).filter((id) => !own.includes(id));
      } catch {
        extra = [];
      }
      this.orderCache = [...own, ...extra];
    }
    return this.orderCache;
  }

  private slices(): ScheduleSlice[] {
    const s = this.scenario.schedule.schedule;
    return s.kind === 'explicit' ? s.slices : [];
  }

  private threadDone(id: ThreadId, view?: StateView): boolean {
    const v = view ?? this.engine.view();
    return v.threads.find((t) => t.id === id)?.done ?? true;
  }

  private blockedMessage(): string {
    const v = this.engine.view();
    const blocked = v.threads.filter((t) => !t.done).map((t) => `${t.id}${t.blockedOn ? ` (blocked on ${t.blockedOn})` : ''}`);
    return blocked.length ? `deadlock: no thread can run; waiting: ${blocked.join(', ')}` : 'no thread can run';
  }

  /** Skip finished slices; return the next thread to step, or undefined when the schedule is over. */
  private pick(): ThreadId | undefined {
    const kind = this.scenario.schedule.schedule.kind;
    const runnable = this.engine.runnableThreads();
    if (kind === 'explicit' && !this.state.finishing) {
      const slices = this.slices();
      while (this.state.slice < slices.length) {
        const sl = slices[this.state.slice]!;
        if (this.threadDone(sl.thread)) {
          const u = sl.until;
          if (!this.scenario.threads.some((x) => x.id === sl.thread) && !(u && 'done' in u)) {
            // a thread the engine adds itself (the tdp_mmu_zap_wq worker) is idle until work is queued:
            // a slice naming it then pins a step that cannot happen here
            this.error = `schedule slice ${this.state.slice}: engine thread '${sl.thread}' has no queued work here`;
            return undefined;
          }
          if (u && 'point' in u) {
            this.error = `schedule slice ${this.state.slice}: thread '${sl.thread}' finished without reaching point '${u.point}'${u.occurrence ? ` (occurrence ${u.occurrence})` : ''}`;
            return undefined;
          }
          this.advanceSlice();
          continue;
        }
        if (!runnable.includes(sl.thread)) {
          // the slice's thread waits on a thread the engine runs itself (e.g. the tdp_mmu_zap_wq worker): let it run
          const own = new Set(this.scenario.threads.map((x) => x.id));
          const helper = this.order.find((id) => !own.has(id) && runnable.includes(id));
          if (helper) return helper;
          this.error = `schedule slice ${this.state.slice}: thread '${sl.thread}' cannot run now (${this.engine.view().threads.find((t) => t.id === sl.thread)?.blockedOn ?? 'blocked'})`;
          return undefined;
        }
        return sl.thread;
      }
      if (!this.scenario.schedule.finish) return undefined;
      this.state.finishing = true;
    }
    if (this.engine.isDone()) return undefined;
    if (runnable.length === 0) {
      this.error = this.blockedMessage();
      return undefined;
    }
    if (kind === 'round-robin') {
      const order = this.order;
      for (let i = 0; i < order.length; i++) {
        const t = order[(this.state.rr + i) % order.length]!;
        if (runnable.includes(t)) {
          this.state.rr = (this.state.rr + i + 1) % order.length;
          return t;
        }
      }
      return undefined;
    }
    return this.order.find((t) => runnable.includes(t));
  }

  private advanceSlice(): void {
    this.completedSlices.push(this.state.slice);
    this.state.slice++;
    this.state.inSlice = 0;
    this.state.seen = 0;
  }

  /** Take one engine step following the schedule; undefined when the schedule is finished (or stuck). */
  step(): StepRecord | undefined {
    this.completedSlices = [];
    const before = { ...this.state };
    const t = this.pick();
    if (t === undefined) return undefined;
    this.snapshots.push(before);
    const rec = this.engine.step(t);
    if (this.scenario.schedule.schedule.kind === 'explicit' && !this.state.finishing) {
      const sl = this.slices()[this.state.slice];
      if (sl && sl.thread === t) {
        this.state.inSlice++;
        const u = sl.until;
        let done = false;
        if (!u) done = true;
        else if ('steps' in u) done = this.state.inSlice >= u.steps;
        else if ('point' in u) {
          if (stepReachedPoint(rec, u.point)) this.state.seen++;
          done = this.state.seen >= (u.occurrence ?? 1);
        } else if ('opDone' in u) done = opFinished(this.engine, rec);
        else if ('done' in u) done = this.threadDone(t);
        if (done) this.advanceSlice();
      }
    }
    return rec;
  }

  /** Undo the last step of the driver (the engine is rewound by the caller). */
  back(): void {
    const s = this.snapshots.pop();
    if (s) this.state = s;
    this.error = undefined;
  }

  get position(): { slice: number; finishing: boolean } {
    return { slice: this.state.slice, finishing: this.state.finishing };
  }
}

/** The step stopped at (or passed through) the named preemption point. */
export function stepReachedPoint(rec: StepRecord, point: string): boolean {
  if (pointMatches(rec.stoppedAt, point)) return true;
  return rec.events.some((e) => e.kind === 'point' && pointMatches(`${e.frame.fn}:${e.frame.point ?? ''}`, point));
}

export function pointMatches(stoppedAt: string, point: string): boolean {
  if (stoppedAt === point || stoppedAt.endsWith(':' + point)) return true;
  // "fn" alone matches any point inside fn; "fn:point" matches case-insensitively and ignoring separators
  if (!point.includes(':')) return stoppedAt.startsWith(point + ':');
  const norm = (s: string): string => s.toLowerCase().replace(/[\s_-]+/g, '-');
  return norm(stoppedAt) === norm(point);
}

function opFinished(engine: Engine, rec: StepRecord): boolean {
  if (rec.stoppedAt === 'op-done' || rec.stoppedAt === 'done' || rec.stoppedAt === 'thread-done') return true;
  const t = engine.view().threads.find((x) => x.id === rec.thread);
  return !t || t.done || t.opIndex > rec.opIndex;
}

// ---------------------------------------------------------------------------------------------
// Session (interactive) and run (batch)
// ---------------------------------------------------------------------------------------------

export function effectiveConfig(scenario: Scenario, options: RunOptions = {}): { config: VmConfig; expect: Expectations; variant?: string } {
  const config: VmConfig = JSON.parse(JSON.stringify(scenario.config)) as VmConfig;
  let expect = scenario.expect;
  let variant: string | undefined;
  if (options.variant) {
    const v = scenario.variants.find((x) => x.name === options.variant);
    if (!v) throw new Error(`no variant named '${options.variant}' (have: ${scenario.variants.map((x) => x.name).join(', ') || 'none'})`);
    variant = v.name;
    if (v.bug) config.bug = v.bug;
    if (v.era) config.era = v.era;
    expect = v.expect;
  }
  if (options.era) config.era = options.era;
  if (options.bug === 'none') delete config.bug;
  else if (options.bug) config.bug = options.bug;
  return { config, expect, variant };
}

export interface StepEvent { record?: StepRecord; position: number; violations: Violation[] }

/** A steppable run of one scenario (variant) for the editor and the debugger. */
export class ScenarioSession {
  engine: Engine;
  driver: ScheduleDriver;
  readonly config: VmConfig;
  readonly expect: Expectations;
  readonly variant?: string;
  private readonly listeners = new Set<(e: StepEvent) => void>();

  constructor(readonly scenario: Scenario, private readonly factory: EngineFactory, options: RunOptions = {}) {
    const eff = effectiveConfig(scenario, options);
    this.config = eff.config;
    this.expect = eff.expect;
    this.variant = eff.variant;
    this.engine = this.create();
    this.driver = new ScheduleDriver(scenario, this.engine);
  }

  private create(): Engine {
    return this.factory({ config: JSON.parse(JSON.stringify(this.config)) as VmConfig, threads: this.scenario.threads.map((t) => ({ id: t.id, kind: t.kind, vcpu: t.vcpu, ops: t.ops })) });
  }

  onStep(listener: (e: StepEvent) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private emit(record?: StepRecord): void {
    const e: StepEvent = { record, position: this.engine.position, violations: record?.violations ?? [] };
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        /* a listener must not break stepping */
      }
    }
  }

  get position(): number {
    return this.engine.position;
  }
  get finished(): boolean {
    return this.engine.isDone() || this.driver.error !== undefined;
  }

  step(): StepRecord | undefined {
    const rec = this.driver.step();
    this.emit(rec);
    return rec;
  }

  stepBack(): boolean {
    if (this.engine.position === 0) return false;
    this.engine.stepBack();
    this.driver.back();
    this.emit(undefined);
    return true;
  }

  /** Run until a step reports a violation (returns it) or the schedule ends. */
  runToViolation(maxSteps = 10000): StepRecord | undefined {
    for (let i = 0; i < maxSteps; i++) {
      const rec = this.driver.step();
      if (!rec) break;
      if (rec.violations.length) {
        this.emit(rec);
        return rec;
      }
    }
    this.emit(undefined);
    return undefined;
  }

  runToEnd(maxSteps = 10000): void {
    for (let i = 0; i < maxSteps && this.driver.step(); i++) {
      /* keep stepping */
    }
    this.emit(undefined);
  }

  /** Go to step `index` by replaying the schedule from the start (keeps driver and engine in sync). */
  goto(index: number): void {
    this.resetSilently();
    for (let i = 0; i < index && this.driver.step(); i++) {
      /* replay */
    }
    this.emit(undefined);
  }

  reset(): void {
    this.resetSilently();
    this.emit(undefined);
  }

  private resetSilently(): void {
    this.engine = this.create();
    this.driver = new ScheduleDriver(this.scenario, this.engine);
  }
}

/** Run one scenario (or one of its variants) to the end and check its expectations. */
export function runScenario(scenario: Scenario, factory: EngineFactory, options: RunOptions = {}): RunResult {
  const maxSteps = options.maxSteps ?? 20000;
  let eff: ReturnType<typeof effectiveConfig>;
  try {
    eff = effectiveConfig(scenario, options);
  } catch (e) {
    return failed(scenario, options, e instanceof Error ? e.message : String(e));
  }
  const { config, expect } = eff;
  let engine: Engine;
  try {
    engine = factory({ config: JSON.parse(JSON.stringify(config)) as VmConfig, threads: scenario.threads.map((t) => ({ id: t.id, kind: t.kind, vcpu: t.vcpu, ops: t.ops })) });
  } catch (e) {
    return failed(scenario, options, `the engine refused the scenario: ${e instanceof Error ? e.message : String(e)}`, config);
  }
  const driver = new ScheduleDriver(scenario, engine);
  const results: ExpectationResult[] = [];
  const pending: Array<{ block: AtBlock; index: number }> = expect.at.map((block, index) => ({ block, index }));
  const labelOfOp = new Map<string, string>();
  for (const l of scenario.labels) labelOfOp.set(`${l.thread}#${l.opIndex}`, l.label);
  const reached = new Set<string>();
  let error: string | undefined;

  const evaluate = (filter: (b: AtBlock) => boolean): void => {
    const due = pending.filter((p) => filter(p.block));
    if (!due.length) return;
    const view = engine.view();
    const violations = engine.violations();
    for (const p of due) {
      pending.splice(pending.indexOf(p), 1);
      checkBlock(p.block, p.index, view, violations, results);
    }
  };

  let steps = 0;
  try {
    evaluate((b) => b.point.kind === 'step' && b.point.index === 0);
    for (;;) {
      if (steps >= maxSteps) {
        error = `stopped after ${maxSteps} steps (step limit); is a thread spinning?`;
        break;
      }
      const rec = driver.step();
      if (!rec) {
        error = driver.error;
        break;
      }
      steps++;
      // step labels: the op completed in this step
      const label = labelOfOp.get(`${rec.thread}#${rec.opIndex}`);
      if (label && !reached.has(label) && opFinished(engine, rec)) reached.add(label);
      for (const si of driver.completedSlices) {
        const sl = scenario.schedule.sliceLabels[si];
        if (sl) reached.add(sl);
      }
      const completed = driver.completedSlices;
      evaluate((b) => (b.point.kind === 'label' && reached.has(b.point.label)) || (b.point.kind === 'slice' && completed.includes(b.point.index)) || (b.point.kind === 'step' && b.point.index === engine.position));
    }
  } catch (e) {
    error = `engine error at step ${engine.position}: ${e instanceof Error ? e.message : String(e)}`;
  }

  const violations = safe(() => engine.violations(), []);
  // 'end' blocks, then anything never reached
  try {
    evaluate((b) => b.point.kind === 'end');
  } catch (e) {
    error = error ?? `engine error reading the final state: ${e instanceof Error ? e.message : String(e)}`;
  }
  for (const p of pending) {
    const where = p.block.point.kind === 'label' ? `label '${p.block.point.label}'` : p.block.point.kind === 'slice' ? `slice ${p.block.point.index}` : p.block.point.kind === 'step' ? `step ${p.block.point.index}` : 'end';
    for (const a of p.block.assertions) {
      results.push({ id: `at:${p.index}:${a.path}`, label: `after ${where}: ${describeMatcher(a.path, a.matcher)}`, passed: false, message: `${where} was never reached`, range: a.range });
    }
  }
  checkViolations(expect, violations, results);
  if (error) results.unshift({ id: 'schedule', label: 'schedule runs to completion', passed: false, message: error, range: scenario.schedule.range });

  const failedExpectations = results.filter((r) => !r.passed).map((r) => `${r.label}${r.message ? ` — ${r.message}` : ''}`);
  return {
    scenario: scenario.name,
    variant: eff.variant,
    era: config.era,
    bug: config.bug,
    verdict: failedExpectations.length ? 'fail' : 'pass',
    violations: summarize(violations),
    expectations: results,
    failedExpectations,
    steps: engine.position,
    traceHash: safe(() => engine.traceHash(), ''),
    error,
  };
}

/** Run the base scenario and every variant; the file passes when all of them pass. */
export function runScenarioAll(scenario: Scenario, factory: EngineFactory, options: RunOptions = {}): RunResult[] {
  if (options.variant !== undefined || options.bug !== undefined) return [runScenario(scenario, factory, options)];
  return [runScenario(scenario, factory, options), ...scenario.variants.map((v) => runScenario(scenario, factory, { ...options, variant: v.name }))];
}

function checkBlock(block: AtBlock, index: number, view: StateView, violations: Violation[], out: ExpectationResult[]): void {
  const where = block.point.kind === 'end' ? 'end' : block.point.kind === 'label' ? block.point.label : block.point.kind === 'slice' ? `slice ${block.point.index}` : `step ${block.point.index}`;
  for (const a of block.assertions) {
    let message: string | undefined;
    try {
      message = checkMatcher(a.matcher, resolvePath(view, a.path, violations));
    } catch (e) {
      message = `cannot evaluate: ${e instanceof Error ? e.message : String(e)}`;
    }
    out.push({ id: `at:${index}:${a.path}`, label: `after ${where}: ${describeMatcher(a.path, a.matcher)}`, passed: message === undefined, message, range: a.range });
  }
}

function frameOf(v: Violation): { fn: string; file: string } | undefined {
  const f: Frame | undefined = v.frame;
  return f ? { fn: f.fn, file: f.file } : undefined;
}

function checkViolations(expect: Expectations, violations: Violation[], out: ExpectationResult[]): void {
  const range = expect.violationsRange ?? expect.range;
  const ids = [...new Set(violations.map((v) => v.id))];
  const firstOf = (id: string): Violation | undefined => violations.find((v) => v.id === id);
  const describe = (v: Violation): string => `${v.id} at step ${v.step} (${v.thread}${v.frame ? `, ${v.frame.fn}` : ''}): ${v.message}`;
  if (expect.violations) {
    if (expect.violations.length === 0) {
      const v = violations[0];
      out.push({ id: 'violations:none', label: 'no invariant violations', passed: !v, message: v ? `unexpected ${describe(v)}${violations.length > 1 ? ` (+${violations.length - 1} more)` : ''}` : undefined, range, kernelFunction: v ? frameOf(v) : undefined });
    } else {
      for (const id of expect.violations) {
        const v = firstOf(id);
        out.push({ id: `violations:${id}`, label: `violation ${id} appears`, passed: !!v, message: v ? undefined : `${id} never appeared${ids.length ? ` (saw ${ids.join(', ')})` : ' (no violations at all)'}`, range, kernelFunction: v ? frameOf(v) : undefined });
      }
      if (!expect.allowExtra) {
        const extra = violations.filter((v) => !expect.violations!.includes(v.id));
        out.push({ id: 'violations:only', label: `no violations other than ${expect.violations.join(', ')}`, passed: extra.length === 0, message: extra.length ? `unexpected ${describe(extra[0]!)}` : undefined, range, kernelFunction: extra[0] ? frameOf(extra[0]) : undefined });
      }
    }
  }
  for (const id of expect.absent ?? []) {
    const v = firstOf(id);
    out.push({ id: `absent:${id}`, label: `violation ${id} does not appear`, passed: !v, message: v ? `unexpected ${describe(v)}` : undefined, range, kernelFunction: v ? frameOf(v) : undefined });
  }
}

function summarize(violations: Violation[]): ViolationSummary[] {
  return violations.map((v) => ({ id: v.id, step: v.step, thread: v.thread, function: v.frame?.fn ?? null, message: v.message, file: v.frame?.file }));
}

function failed(scenario: Scenario, options: RunOptions, message: string, config?: VmConfig): RunResult {
  return {
    scenario: scenario.name,
    variant: options.variant,
    era: config?.era ?? options.era ?? scenario.config.era,
    bug: config?.bug,
    verdict: 'fail',
    violations: [],
    expectations: [{ id: 'schedule', label: 'scenario runs', passed: false, message, range: scenario.ranges.scenario }],
    failedExpectations: [message],
    steps: 0,
    traceHash: '',
    error: message,
  };
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}
