/**
 * The `kvm-mmu-lab` debug adapter: steps a scenario through the engine with breakpoints on kernel
 * source lines. Runs inline in the extension host (DebugAdapterInlineImplementation) or as a socket
 * server for the DAP tests; it never imports `vscode`.
 *
 * Position model: (atomic step index, event index in that step's events), see timeline.ts. Variables
 * always show the engine state after the current atomic step.
 */
import * as path from 'node:path';
import {
  Breakpoint,
  BreakpointEvent,
  Event,
  InitializedEvent,
  LoggingDebugSession,
  OutputEvent,
  Scope,
  Source,
  StackFrame,
  StoppedEvent,
  TerminatedEvent,
  Thread,
  ThreadEvent,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { BugId, Effect, EraId, Frame, Op, StateView, ThreadId, Violation } from '../engine/api';
import { isLoadError, type DebugDeps, type LoadedScenario, type SourceLocation } from './deps';
import { cursorStepper } from './schedule-cursor';
import { ENTRY, Timeline, comparePos, type Position, type Stop } from './timeline';
import {
  VariableStore,
  argumentVariables,
  effectTouches,
  memslotVariables,
  shadowPageVariables,
  threadVariables,
  vcpuVariables,
  violationVariables,
  vmVariables,
} from './variables';
import { formatScalar } from './format';
import { pointCalls } from './fallback-resolver';
import { aliasesOf } from '../kernel/aliases';
import { describeOptions, displayValue, hitMatches, parseBpOptions, renderLog, stopEnv, testCondition, type BpOptions } from './breakpoints';
import { ExprSyntaxError, evaluate, parseExpression, type Env } from './expression';

export const DEBUG_TYPE = 'kvm-mmu-lab';
/** Atomic steps a `continue` examines before it yields to the event loop (and honours `pause`). */
const RUN_SLICE = 200;
export const VIOLATION_FILTER = 'invariant';
/** Custom event sent after every stop so the editor side can highlight the line and refresh CodeLenses. */
export const POSITION_EVENT = 'kvmMmuLab.position';

export interface LaunchArgs extends DebugProtocol.LaunchRequestArguments {
  scenario: string;
  era?: EraId;
  bug?: BugId;
  /** A named variant from the scenario's `variants:` block. */
  variant?: string;
  stopOnEntry?: boolean;
}

/**
 * Hit counts of a breakpoint with a hit condition. The count at a stop is the ordinal of that hit in
 * the run: the number of stops from the start of the scenario up to and including it where the
 * breakpoint's location matches and its condition is true. So it depends only on the position, not on
 * how the session got there: counts are assigned on forward execution (catching up over steps the user
 * stepped or jumped over), a step back or reverse continue reuses them, re-running the same steps after
 * rewinding does not count them twice, a breakpoint set late counts from the start too, and a new
 * session (restart) starts from zero. Stepping never stops at breakpoints, so it never needs a count.
 */
interface HitCounter {
  /** Every stop up to here has been examined. */
  scanned: Position;
  count: number;
  /** "step:event" -> ordinal of the hit there. */
  ordinals: Map<string, number>;
  /** "step:event" -> whether the condition was true there (conditions are evaluated once per stop). */
  conds: Map<string, boolean>;
}

/** What conditional / hit-count / log breakpoints share (source, scenario and function breakpoints). */
interface CondBp {
  id: number;
  opts: BpOptions;
  counter?: HitCounter;
}

interface SourceBp extends CondBp {
  id: number;
  /** Kernel C file: function (and call site) covered; scenario file: the op line. */
  fn?: string;
  /** Names of `fn` the engine may use (fn and its era aliases). */
  names?: string[];
  callee?: string;
  line: number;
  requestedLine: number;
  verified: boolean;
  message?: string;
  scenario: boolean;
}

type FrameRef = { thread: ThreadId; kind: 'kernel'; frame: Frame } | { thread: ThreadId; kind: 'scenario'; opIndex: number; op?: Op };

type Motion = 'in' | 'over' | 'out';

export interface PositionInfo {
  step: number;
  event: number;
  thread: ThreadId;
  kind: Stop['kind'];
  fn?: string;
  location?: SourceLocation;
  scenarioLocation?: SourceLocation;
}

export class KvmMmuDebugSession extends LoggingDebugSession {
  private scenario: LoadedScenario | undefined;
  private timeline: Timeline | undefined;
  private scenarioPath = '';
  private pos: Position = ENTRY;
  private threads: ThreadId[] = [];
  private readonly sourceBps = new Map<string, SourceBp[]>();
  private fnBps: Array<CondBp & { name: string; names: string[] }> = [];
  /** The state view after one atomic step, for conditions (views are a pure function of the step). */
  private condView: { step: number; view: StateView } | undefined;
  private dataBps: Array<{ id: number; dataId: string }> = [];
  private breakOnViolation = true;
  private nextBpId = 1;
  private readonly store = new VariableStore();
  private frames = new Map<number, FrameRef>();
  private nextFrameId = 1;
  private viewCache: StateView | undefined;
  private configurationDone!: () => void;
  private readonly configured = new Promise<void>((resolve) => (this.configurationDone = resolve));
  private terminated = false;
  private running = false;
  private readonly threadKinds = new Map<ThreadId, string>();
  private pauseRequested = false;
  private wholeRunEntries: Record<string, { count: number; lastStep: number }> | undefined;

  constructor(private readonly deps: DebugDeps) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  // ------------------------------------------------------------------------------------------
  // lifecycle

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      ...response.body,
      supportsConfigurationDoneRequest: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsDataBreakpoints: true,
      supportsStepBack: true,
      supportsExceptionInfoRequest: true,
      supportsTerminateRequest: true,
      supportsEvaluateForHovers: true,
      supportsDelayedStackTraceLoading: false,
      supportsSingleThreadExecutionRequests: false,
      exceptionBreakpointFilters: [
        { filter: VIOLATION_FILTER, label: 'Invariant violated', description: 'Stop at the atomic step where the engine reports an invariant violation', default: true },
      ],
    };
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.configurationDone();
    this.sendResponse(response);
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: LaunchArgs): Promise<void> {
    try {
      if (!args.scenario) throw new Error('launch: "scenario" (path of a .kvmmmu.yaml file) is required');
      this.scenarioPath = path.resolve(args.scenario);
      const result = await this.deps.loadScenario(this.scenarioPath, { era: args.era, bug: args.bug, variant: args.variant });
      if (isLoadError(result)) {
        const text = result.errors.map((e) => `${this.scenarioPath}:${e.line}:${e.col}: ${e.message}`).join('\n');
        this.sendErrorResponse(response, { id: 1001, format: `Scenario has errors:\n${text}`.replace(/[{}]/g, ''), showUser: true });
        return;
      }
      this.scenario = result;
      const engine = result.engine;
      this.threads = engine.view().threads.map((t) => t.id);
      this.timeline = new Timeline(engine, result.nextStep ? () => result.nextStep!() : cursorStepper(engine, result.schedule, this.threads));
      this.verifyScenarioBps();
    } catch (e) {
      this.sendErrorResponse(response, { id: 1002, format: `Cannot launch: ${String(e instanceof Error ? e.message : e)}`.replace(/[{}]/g, ''), showUser: true });
      return;
    }
    // wait for the client to configure breakpoints (configurationDone), but not forever
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.configured, new Promise((r) => (timer = setTimeout(r, 5000)))]);
    clearTimeout(timer);
    this.sendResponse(response);
    this.sendEvent(new OutputEvent(`KVM MMU Lab: ${this.scenario.name} (${this.scenario.engine.config.era}, ${this.scenario.engine.config.mmu}${this.scenario.engine.config.bug ? `, bug ${this.scenario.engine.config.bug}` : ''})\n`, 'console'));
    if (args.stopOnEntry) this.stopHere(this.timeline.entryStop(this.threads[0] ?? ''), 'entry', 'start of scenario');
    else this.runForward();
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    this.terminated = true; // a running continue stops at its next slice
    this.sendResponse(response);
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.sendResponse(response);
    this.terminate();
  }

  private terminate(): void {
    if (this.terminated) return;
    this.terminated = true;
    this.sendEvent(new TerminatedEvent());
  }

  // ------------------------------------------------------------------------------------------
  // breakpoints

  protected override async setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): Promise<void> {
    const file = args.source.path ? path.resolve(this.convertClientPathToDebugger(args.source.path)) : '';
    const scenario = /\.ya?ml$/i.test(file);
    const bps: SourceBp[] = [];
    for (const req of args.breakpoints ?? []) {
      const line = this.convertClientLineToDebugger(req.line);
      const bp: SourceBp = { id: this.nextBpId++, line, requestedLine: line, verified: false, scenario, opts: parseBpOptions(req) };
      if (scenario) {
        this.verifyScenarioBp(file, bp);
      } else {
        let found;
        try {
          found = (await this.deps.functionsAtLine(file, line))[0];
        } catch (e) {
          bp.message = `kernel index error: ${String(e)}`;
        }
        if (found) {
          bp.fn = found.fn;
          bp.names = [found.fn, ...(found.aliases ?? [])];
          bp.callee = found.callee;
          bp.verified = true;
          bp.line = found.callee ? line : found.line;
          bp.message = found.callee ? `stops when ${found.fn} reaches its call to ${found.callee}` : `stops when the simulator enters ${found.fn}`;
        } else bp.message ??= 'No simulated kernel function covers this line';
        this.applyOptions(bp);
      }
      bps.push(bp);
    }
    this.sourceBps.set(file, bps);
    response.body = { breakpoints: bps.map((b) => this.toDapBp(b, args.source)) };
    this.sendResponse(response);
  }

  /** A condition, hit condition or log message that does not parse leaves the breakpoint unverified, saying why. */
  private applyOptions(bp: SourceBp): void {
    if (bp.opts.error) {
      bp.verified = false;
      bp.message = bp.opts.error;
    } else if (bp.verified && bp.message) bp.message = describeOptions(bp.opts, bp.message);
  }

  private toDapBp(b: SourceBp, source?: DebugProtocol.Source): DebugProtocol.Breakpoint {
    const bp = new Breakpoint(b.verified, this.convertDebuggerLineToClient(b.line)) as DebugProtocol.Breakpoint;
    bp.id = b.id;
    if (b.message) bp.message = b.message;
    if (source) bp.source = source;
    return bp;
  }

  private verifyScenarioBp(file: string, bp: SourceBp): void {
    if (!this.scenario) {
      bp.message = 'Verified when the scenario is loaded';
      this.applyOptions(bp);
      return;
    }
    if (path.resolve(file) !== this.scenarioPath) {
      bp.verified = false;
      bp.message = 'Not the scenario being debugged';
      return;
    }
    const hit = this.opAtLine(bp.line);
    bp.verified = hit !== undefined;
    bp.message = hit ? `stops when ${hit.thread} starts op ${hit.opIndex}` : 'No scenario op on this line';
    this.applyOptions(bp);
  }

  private verifyScenarioBps(): void {
    for (const [file, bps] of this.sourceBps) {
      for (const bp of bps.filter((b) => b.scenario)) {
        this.verifyScenarioBp(file, bp);
        this.sendEvent(new BreakpointEvent('changed', this.toDapBp(bp)));
      }
    }
  }

  /** The op written on `line` of the scenario file (probing op locations thread by thread). */
  private opAtLine(line: number): { thread: ThreadId; opIndex: number } | undefined {
    const sc = this.scenario;
    if (!sc) return undefined;
    for (const thread of this.threads) {
      const count = sc.threads?.find((t) => t.id === thread)?.ops.length ?? 256;
      for (let i = 0; i < count; i++) {
        const loc = sc.stepLocation(thread, i);
        if (!loc) break;
        if (loc.line === line) return { thread, opIndex: i };
      }
    }
    return undefined;
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    const known = this.deps.isSimulated;
    const all = args.breakpoints.map((b) => {
      const name = b.name.trim().replace(/\(\)$/, '');
      // the name of any era matches (kvm_mmu_invalidate_zap_all_pages also stops in kvm_mmu_zap_all_fast)
      const names = [name, ...aliasesOf(name)];
      const simulated = !known || names.some(known);
      const opts = parseBpOptions(b);
      return { id: this.nextBpId++, name, names, simulated, verified: simulated && !opts.error, opts };
    });
    this.fnBps = all.filter((b) => b.verified);
    response.body = {
      breakpoints: all.map((b) => {
        const bp = new Breakpoint(b.verified) as DebugProtocol.Breakpoint;
        bp.id = b.id;
        bp.message = !b.simulated
          ? `${b.name} is not a kernel function the simulator runs`
          : b.opts.error ?? describeOptions(b.opts, `stops when the simulator enters ${b.name}`);
        return bp;
      }),
    };
    this.sendResponse(response);
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    this.breakOnViolation = args.filters.includes(VIOLATION_FILTER) || (args.filterOptions ?? []).some((f) => f.filterId === VIOLATION_FILTER);
    response.body = { breakpoints: [] };
    this.sendResponse(response);
  }

  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): void {
    const target = args.variablesReference !== undefined ? this.store.dataTarget(args.variablesReference, args.name) : undefined;
    response.body = target
      ? { dataId: target.dataId, description: target.description, accessTypes: ['write'], canPersist: true }
      : { dataId: null, description: `${args.name} cannot be watched (watch a VM field, a vCPU, a shadow page, an rmap head, mmu_lock or a stat)` };
    this.sendResponse(response);
  }

  protected override setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): void {
    this.dataBps = args.breakpoints.map((b) => ({ id: this.nextBpId++, dataId: b.dataId }));
    response.body = {
      breakpoints: this.dataBps.map((b) => {
        const bp = new Breakpoint(true) as DebugProtocol.Breakpoint;
        bp.id = b.id;
        return bp;
      }),
    };
    this.sendResponse(response);
  }

  /** Data breakpoints at an effect stop: the watched objects the effect changes. */
  private dataHits(st: Stop): { ids: number[]; reason: string; text: string } | undefined {
    const ev = this.timeline!.records[st.step]?.events[st.event];
    if (!ev || ev.kind !== 'effect') return undefined;
    const ids = this.dataBps.filter((b) => effectTouches(ev.effect, b.dataId)).map((b) => b.id);
    return ids.length ? { ids, reason: 'data breakpoint', text: describeEffect(ev.effect) } : undefined;
  }

  /**
   * Breakpoints hit at a stop: their ids and the stop reason. Source, scenario and function breakpoints
   * whose location is the stop then pass through their condition, hit condition and log message
   * (`admit`); `dir` says whether the search runs forward (logpoints log) or backward (they do not).
   */
  private hits(st: Stop, dir: 'forward' | 'reverse' = 'forward'): { ids: number[]; reason: string; text?: string } | undefined {
    if (st.kind === 'effect') return this.dataHits(st);
    if (st.kind === 'end' && this.breakOnViolation) {
      const v = this.timeline!.records[st.step]?.violations ?? [];
      if (v.length) return { ids: [], reason: 'exception', text: v.map((x) => `${x.id}: ${x.message}`).join('\n') };
    }
    const ids: number[] = [];
    let reason = 'breakpoint';
    const errors: string[] = [];
    for (const { bp, fn } of this.located(st)) {
      const r = this.admit(bp, st, dir);
      if (r === false) continue;
      if (r !== true) errors.push(r.error);
      if (!ids.length && fn) reason = 'function breakpoint';
      ids.push(bp.id);
    }
    if (!ids.length) return undefined;
    if (!errors.length) return { ids, reason };
    const text = errors.join('\n');
    this.sendEvent(new OutputEvent(`KVM MMU Lab: ${text}\n`, 'stderr'));
    return { ids, reason, text };
  }

  /** The verified breakpoints whose location is this stop, before any condition (`fn`: a function breakpoint). */
  private located(st: Stop): Array<{ bp: CondBp; fn: boolean }> {
    const out: Array<{ bp: CondBp; fn: boolean }> = [];
    const tl = this.timeline!;
    if (st.kind === 'call' && st.frame) {
      const fn = st.frame.fn;
      const caller = st.stack[st.stack.length - 2];
      const prev = tl.stopsOf(st.step).filter((x) => x.event < st.event).pop();
      for (const bps of this.sourceBps.values()) {
        for (const b of bps) {
          if (!b.verified || b.scenario) continue;
          if (!b.callee && b.names?.includes(fn)) out.push({ bp: b, fn: false });
          else if (b.callee === fn && caller && b.names?.includes(caller.fn)) {
            const viaPoint = prev?.kind === 'point' && prev.frame && b.names.includes(prev.frame.fn) && pointCalls(prev.frame.point, fn);
            if (!viaPoint) out.push({ bp: b, fn: false });
          }
        }
      }
      for (const b of this.fnBps) if (b.names.includes(fn)) out.push({ bp: b, fn: true });
    } else if (st.kind === 'point' && st.frame) {
      for (const bps of this.sourceBps.values()) {
        for (const b of bps) if (b.verified && b.callee && b.names?.includes(st.frame.fn) && pointCalls(st.frame.point, b.callee)) out.push({ bp: b, fn: false });
      }
    }
    // scenario breakpoints: the first stop of the first step of an op
    if (st.kind !== 'entry' && this.hasScenarioBps() && this.isFirstStopOfOp(st)) {
      const loc = this.scenario?.stepLocation(st.thread, tl.records[st.step]!.opIndex);
      for (const [file, bps] of this.sourceBps) {
        if (file !== this.scenarioPath || !loc) continue;
        for (const b of bps) if (b.scenario && b.verified && b.line === loc.line) out.push({ bp: b, fn: false });
      }
    }
    return out;
  }

  /**
   * Whether a breakpoint located at `st` stops there: its condition is true, its hit count matches, and
   * it is not a logpoint (a logpoint writes its message on forward execution and never stops). A
   * condition that fails at run time (unknown name, a field of NULL, comparing a list) stops, so the
   * user sees it, with the error as the stop text and on stderr; such a hit does not count.
   */
  private admit(bp: CondBp, st: Stop, dir: 'forward' | 'reverse'): boolean | { error: string } {
    const o = bp.opts;
    if (o.hit) bp.counter ??= { scanned: ENTRY, count: 0, ordinals: new Map(), conds: new Map() };
    if (o.condition) {
      const r = this.conditionAt(bp, st);
      if (r !== true && r !== false) return { error: `breakpoint condition "${o.conditionText}" could not be evaluated: ${r.error}` };
      if (!r) return false;
    }
    if (o.hit) {
      const n = this.hitOrdinal(bp, st);
      if (n === undefined || !hitMatches(o.hit, n)) return false;
    }
    if (o.log) {
      if (dir === 'forward') this.sendEvent(new OutputEvent(`${renderLog(o.log, this.envAt(st))}\n`, 'console'));
      return false;
    }
    return true;
  }

  private conditionAt(bp: CondBp, st: Stop): boolean | { error: string } {
    const key = posKey(st);
    const cached = bp.counter?.conds.get(key);
    if (cached !== undefined) return cached;
    const r = testCondition(bp.opts.condition!, this.envAt(st));
    if (bp.counter && typeof r === 'boolean') bp.counter.conds.set(key, r);
    return r;
  }

  /** The ordinal of the hit at `st` (see HitCounter), counting any stops not yet examined first. */
  private hitOrdinal(bp: CondBp, st: Stop): number | undefined {
    const c = (bp.counter ??= { scanned: ENTRY, count: 0, ordinals: new Map(), conds: new Map() });
    if (comparePos(st, c.scanned) > 0) {
      const tl = this.timeline!;
      for (let s = Math.max(0, c.scanned.step); s <= st.step && tl.ensure(s); s++) {
        for (const x of tl.stopsOf(s)) {
          if (comparePos(x, c.scanned) <= 0 || comparePos(x, st) > 0) continue;
          if (this.located(x).some((m) => m.bp === bp) && (!bp.opts.condition || this.conditionAt(bp, x) === true)) {
            c.count++;
            c.ordinals.set(posKey(x), c.count);
          }
          c.scanned = { step: x.step, event: x.event };
        }
      }
    }
    return c.ordinals.get(posKey(st));
  }

  /** The names a condition or log message reads at a stop: the state after the stop's atomic step, the frame's arguments. */
  private envAt(st: Stop): Env {
    return stopEnv(() => this.viewAfter(st.step), st);
  }

  private viewAfter(step: number): StateView {
    if (this.condView?.step !== step) {
      this.timeline!.sync(step + 1);
      this.condView = { step, view: this.timeline!.engine.view() };
    }
    return this.condView.view;
  }

  private hasScenarioBps(): boolean {
    return (this.sourceBps.get(this.scenarioPath) ?? []).some((b) => b.verified);
  }

  private isFirstStopOfOp(st: Stop): boolean {
    const tl = this.timeline!;
    const rec = tl.records[st.step];
    if (!rec || tl.stopsOf(st.step)[0]?.event !== st.event) return false;
    for (let k = st.step - 1; k >= 0; k--) {
      const r = tl.records[k]!;
      if (r.thread === rec.thread) return r.opIndex !== rec.opIndex;
    }
    return true;
  }

  // ------------------------------------------------------------------------------------------
  // execution control

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    response.body = { allThreadsContinued: true };
    this.sendResponse(response);
    this.runForward();
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    this.sendResponse(response);
    this.guarded('reverse continue', () => this.reverseContinueUnguarded());
  }

  private reverseContinueUnguarded(): void {
    const tl = this.timeline;
    if (!tl) return;
    let hit: { ids: number[]; reason: string; text?: string } | undefined;
    const st = tl.findPrev(this.pos, (x) => (hit = this.hits(x, 'reverse')) !== undefined, this.dataBps.length > 0);
    if (st && hit) this.stopHere(st, hit.reason, hit.text, hit.ids);
    else this.stopHere(tl.entryStop(this.threads[0] ?? ''), 'entry', 'start of scenario (reverse continue)');
  }

  /**
   * Runs a motion; if the engine throws (a bug in the simulator), the user gets a stop at the last good
   * position with the error instead of a hung session.
   */
  private guarded(what: string, motion: () => void | Promise<void>): void {
    const fail = (e: unknown): void => {
      const text = `engine error during ${what}: ${e instanceof Error ? e.message : String(e)}`;
      this.sendEvent(new OutputEvent(`KVM MMU Lab: ${text}\n${e instanceof Error && e.stack ? e.stack + '\n' : ''}`, 'stderr'));
      const tl = this.timeline;
      let here: Stop | undefined;
      if (tl) {
        // the run ends where the engine failed; rewind the engine so no half-done step stays applied
        tl.endStep ??= tl.records.length;
        try {
          tl.engine.goto(0);
        } catch {
          /* replays will tell */
        }
        const last = tl.records.length ? tl.stopsOf(tl.records.length - 1).at(-1) : undefined;
        here = last && comparePos(last, this.pos) > 0 ? last : this.currentStopSafe();
      }
      if (here) this.stopHere(here, 'exception', text);
      else this.terminate();
    };
    try {
      const done = motion();
      if (done instanceof Promise) done.catch(fail);
    } catch (e) {
      fail(e);
    }
  }

  private currentStopSafe(): Stop | undefined {
    try {
      return this.currentStop();
    } catch {
      return this.timeline?.entryStop(this.threads[0] ?? '');
    }
  }

  private runForward(): void {
    this.guarded('continue', () => this.runForwardUnguarded());
  }

  /**
   * Continue: searches forward in slices of RUN_SLICE atomic steps and yields to the event loop between
   * slices, so a long run neither freezes the extension host nor ignores a `pause`.
   */
  private async runForwardUnguarded(): Promise<void> {
    const tl = this.timeline;
    if (!tl) return;
    let hit: { ids: number[]; reason: string; text?: string } | undefined;
    const pred = (x: Stop): boolean => (hit = this.hits(x, 'forward')) !== undefined;
    let from: Position = this.pos;
    this.running = true;
    this.pauseRequested = false;
    try {
      for (;;) {
        const limit = Math.max(0, from.step) + RUN_SLICE;
        const st = tl.findNext(from, pred, this.dataBps.length > 0, limit);
        if (st && hit) {
          this.stopHere(st, hit.reason, hit.text, hit.ids);
          return;
        }
        if (tl.endStep !== undefined && tl.records.length <= limit) break; // the run is over
        from = { step: limit - 1, event: Number.MAX_SAFE_INTEGER };
        if (this.pauseRequested || this.terminated) {
          const here = tl.stopsOf(limit - 1).at(-1);
          if (here && !this.terminated) this.stopHere(here, 'pause', `paused after step ${limit - 1}`);
          return;
        }
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.running = false;
    }
    const last = tl.lastStop();
    if (last) this.setPos(last);
    const why = this.scenario?.scheduleError?.();
    if (why) this.sendEvent(new OutputEvent(`KVM MMU Lab: the schedule stopped early: ${why}\n`, 'stderr'));
    this.sendEvent(new OutputEvent(`KVM MMU Lab: scenario finished after ${tl.records.length} atomic steps, ${tl.engine.violations().length} violation(s)\n`, 'console'));
    this.terminate();
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    this.sendResponse(response);
    this.stepForward('over', args.threadId);
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void {
    this.sendResponse(response);
    this.stepForward('in', args.threadId);
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): void {
    this.sendResponse(response);
    this.stepForward('out', args.threadId);
  }

  protected override stepBackRequest(response: DebugProtocol.StepBackResponse, args: DebugProtocol.StepBackArguments): void {
    this.sendResponse(response);
    this.guarded('step back', () => this.stepBackUnguarded(args));
  }

  private stepBackUnguarded(args: DebugProtocol.StepBackArguments): void {
    const tl = this.timeline;
    if (!tl) return;
    const cur = this.currentStop();
    const thread = this.threads[args.threadId - 1] ?? cur?.thread;
    const level = cur && cur.thread === thread && cur.kind !== 'entry' ? cur.level : Infinity;
    const st =
      tl.findPrev(this.pos, (x) => x.thread === thread && x.level <= level) ??
      tl.findPrev(this.pos, (x) => x.thread === thread) ??
      tl.findPrev(this.pos, () => true);
    if (st) this.stopHere(st, 'step');
    else this.stopHere(tl.entryStop(this.threads[0] ?? ''), 'entry', 'start of scenario');
  }

  private stepForward(motion: Motion, threadId: number): void {
    this.guarded(`step ${motion}`, () => this.stepForwardUnguarded(motion, threadId));
  }

  private stepForwardUnguarded(motion: Motion, threadId: number): void {
    const tl = this.timeline;
    if (!tl) return;
    const cur = this.currentStop();
    const thread = this.threads[threadId - 1] ?? cur?.thread;
    const same = cur !== undefined && cur.kind !== 'entry' && cur.thread === thread;
    const level = same ? cur.level : Infinity;
    let pred: (x: Stop) => boolean;
    if (motion === 'in') pred = (x) => x.thread === thread && (x.kind === 'call' || !same);
    else if (motion === 'over') pred = (x) => x.thread === thread && x.level <= level;
    else pred = (x) => x.thread === thread && x.level < level; // the first such stop is the current function's return
    const st = tl.findNext(this.pos, pred) ?? tl.findNext(this.pos, (x) => x.thread === thread);
    if (st) {
      this.stopHere(st, 'step');
      return;
    }
    // the thread has nothing more to do: stop at the end of the run
    const last = tl.lastStop();
    if (last && comparePos(last, this.pos) > 0) this.stopHere(last, 'step', `${thread} has finished; end of scenario`);
    else this.terminate();
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.sendResponse(response);
    if (this.running) {
      this.pauseRequested = true; // the running continue stops at its next slice boundary
      return;
    }
    const st = this.currentStop();
    if (st) this.stopHere(st, 'pause');
  }

  // ------------------------------------------------------------------------------------------
  // stops

  private currentStop(): Stop | undefined {
    return this.timeline?.stopAt(this.pos, this.threads[0] ?? '');
  }

  private setPos(st: Stop): void {
    this.pos = { step: st.step, event: st.event };
    this.viewCache = undefined;
    this.store.reset();
    this.frames.clear();
    this.nextFrameId = 1;
    this.timeline?.sync(st.step + 1);
  }

  private stopHere(st: Stop, reason: string, text?: string, hitIds?: number[]): void {
    this.setPos(st);
    const ev = new StoppedEvent(reason, this.threadId(st.thread), text) as DebugProtocol.StoppedEvent;
    ev.body.allThreadsStopped = true;
    ev.body.description = text ?? describeStop(st);
    if (hitIds?.length) ev.body.hitBreakpointIds = hitIds;
    void this.sendPositionEvent(st);
    this.sendEvent(ev);
  }

  /** DAP id of a scenario thread; threads the engine creates on the way (workqueue workers) are added. */
  private threadId(t: ThreadId): number {
    let i = this.threads.indexOf(t);
    if (i < 0 && t) {
      this.threads.push(t);
      i = this.threads.length - 1;
      this.sendEvent(new ThreadEvent('started', i + 1));
    }
    return Math.max(1, i + 1);
  }

  private async sendPositionEvent(st: Stop): Promise<void> {
    const info = await this.positionInfo(st);
    this.sendEvent(new Event(POSITION_EVENT, info));
  }

  private async positionInfo(st: Stop): Promise<PositionInfo> {
    const top = st.stack[st.stack.length - 1];
    const location = top ? await this.resolve(top) : undefined;
    const opIndex = st.step >= 0 ? this.timeline!.records[st.step]!.opIndex : 0;
    return {
      step: st.step,
      event: st.event,
      thread: st.thread,
      kind: st.kind,
      fn: top?.fn,
      location,
      scenarioLocation: this.scenario?.stepLocation(st.thread, opIndex),
    };
  }

  private async resolve(frame: Frame): Promise<SourceLocation | undefined> {
    try {
      return await this.deps.resolveFrame(frame);
    } catch {
      return undefined;
    }
  }

  private view(): StateView {
    if (!this.viewCache) {
      this.timeline!.sync(this.pos.step + 1);
      this.viewCache = this.timeline!.engine.view();
    }
    return this.viewCache;
  }

  // ------------------------------------------------------------------------------------------
  // threads, stack, variables

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    // while a continue runs, do not rewind the engine to the old position just to name threads
    const live = this.timeline && !this.running ? this.view().threads : [];
    for (const t of live) if (!this.threads.includes(t.id)) this.threadId(t.id);
    for (const t of live) this.threadKinds.set(t.id, t.kind);
    const kinds = this.threadKinds;
    response.body = { threads: this.threads.map((t, i) => new Thread(i + 1, kinds.has(t) ? `${t} (${kinds.get(t)})` : t)) };
    this.sendResponse(response);
  }

  protected override async stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): Promise<void> {
    const tl = this.timeline;
    const thread = this.threads[args.threadId - 1];
    if (!tl || thread === undefined) {
      response.body = { stackFrames: [], totalFrames: 0 };
      this.sendResponse(response);
      return;
    }
    const st = this.currentStop();
    let stack: Frame[];
    let opIndex: number;
    let op: Op | undefined;
    if (st && st.kind !== 'entry' && st.thread === thread) {
      stack = st.stack;
      const rec = tl.records[st.step]!;
      opIndex = rec.opIndex;
      op = rec.op;
    } else {
      const next = this.pos.step + 1;
      stack = tl.stackBefore(next, thread);
      const last = [...tl.records.slice(0, Math.max(0, next))].reverse().find((r) => r.thread === thread);
      const tv = this.view().threads.find((t) => t.id === thread);
      opIndex = tv?.opIndex ?? last?.opIndex ?? 0;
      op = last && last.opIndex === opIndex ? last.op : this.scenario?.threads?.find((t) => t.id === thread)?.ops[opIndex];
    }
    const frames: DebugProtocol.StackFrame[] = [];
    for (let i = stack.length - 1; i >= 0; i--) {
      const f = stack[i]!;
      const id = this.nextFrameId++;
      this.frames.set(id, { thread, kind: 'kernel', frame: f });
      const loc = await this.resolve(f);
      let source: DebugProtocol.Source;
      if (loc) source = new Source(path.basename(loc.path), this.convertDebuggerPathToClient(loc.path));
      else {
        // not in the user's tree nor the demo tree: name the file, do not pretend it can be opened
        source = new Source(f.file);
        source.presentationHint = 'deemphasize';
        source.origin = `${f.fn} not found in the kernel tree`;
      }
      const sf = new StackFrame(id, f.point && f.point !== 'entry' ? `${f.fn} [${f.point}]` : f.fn, source as Source, loc ? this.convertDebuggerLineToClient(loc.line) : 0, 1) as DebugProtocol.StackFrame;
      if (!loc) sf.presentationHint = 'subtle';
      frames.push(sf);
    }
    const id = this.nextFrameId++;
    this.frames.set(id, { thread, kind: 'scenario', opIndex, op });
    const sloc = this.scenario?.stepLocation(thread, opIndex);
    const bottom = new StackFrame(
      id,
      `scenario: ${thread} op ${opIndex}${op ? ` ${describeOp(op)}` : ''}`,
      sloc ? new Source(path.basename(sloc.path), this.convertDebuggerPathToClient(sloc.path)) : undefined,
      sloc ? this.convertDebuggerLineToClient(sloc.line) : 0,
      1,
    ) as DebugProtocol.StackFrame;
    bottom.presentationHint = 'label';
    frames.push(bottom);
    const start = args.startFrame ?? 0;
    const levels = args.levels && args.levels > 0 ? args.levels : frames.length;
    response.body = { stackFrames: frames.slice(start, start + levels), totalFrames: frames.length };
    this.sendResponse(response);
  }

  private stateLabel(): string {
    return this.pos.step < 0 ? 'initial' : `after step ${this.pos.step}`;
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    const ref = this.frames.get(args.frameId);
    const scopes: DebugProtocol.Scope[] = [];
    const s = this.store;
    if (ref?.kind === 'kernel') {
      const f = ref.frame;
      scopes.push(new Scope(`Arguments: ${f.fn}`, s.add(() => argumentVariables(s, f)), false));
    } else if (ref?.kind === 'scenario') {
      const op = ref.op;
      scopes.push(new Scope(`Scenario op (${ref.thread} #${ref.opIndex})`, s.add(() => (op ? Object.entries(op).map(([k, v]) => s.value(k, v)) : [])), false));
    }
    if (this.timeline) {
      const label = this.stateLabel();
      const view = (): StateView => this.view();
      scopes.push(new Scope(`VM (${label})`, s.add(() => vmVariables(s, view())), false));
      scopes.push(new Scope(`vCPUs (${label})`, s.add(() => vcpuVariables(s, view())), false));
      const sps = this.view().shadowPages.length;
      const sp = new Scope(`Shadow pages: ${sps} (${label})`, s.add(() => shadowPageVariables(s, view())), true) as DebugProtocol.Scope;
      sp.indexedVariables = sps;
      scopes.push(sp);
      scopes.push(new Scope(`Memslots & rmaps (${label})`, s.add(() => memslotVariables(s, view())), true));
      scopes.push(new Scope(`Threads & locks (${label})`, s.add(() => threadVariables(s, view())), false));
      const vs = this.violationsSoFar();
      if (vs.length) scopes.push(new Scope(`Violations: ${vs.length}`, s.add(() => violationVariables(s, vs)), false));
    }
    response.body = { scopes };
    this.sendResponse(response);
  }

  private violationsSoFar(): Violation[] {
    const tl = this.timeline;
    if (!tl) return [];
    return tl.records.slice(0, this.pos.step + 1).flatMap((r) => r.violations);
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    let vars = this.store.expand(args.variablesReference);
    if (args.filter === 'named') vars = vars.filter((v) => !/^\[/.test(v.name));
    if (args.start !== undefined || args.count !== undefined) {
      const start = args.start ?? 0;
      vars = vars.slice(start, args.count ? start + args.count : undefined);
    }
    response.body = { variables: vars };
    this.sendResponse(response);
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const rec = this.timeline?.records[this.pos.step];
    const v = rec?.violations ?? [];
    response.body = {
      exceptionId: v.map((x) => x.id).join(', ') || 'none',
      description: v.map((x) => `${x.id}: ${x.message}${x.objects.length ? ` [${x.objects.join(', ')}]` : ''}`).join('\n') || 'No violation at this step',
      breakMode: 'always',
      details: v[0] ? { message: v[0].message, typeName: `invariant ${v[0].id}`, stackTrace: v[0].frame ? `${v[0].frame.fn} (${v[0].frame.file})` : undefined } : undefined,
    };
    this.sendResponse(response);
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    const expr = args.expression.trim();
    const ref = args.frameId !== undefined ? this.frames.get(args.frameId) : undefined;
    const argsOf = ref?.kind === 'kernel' ? ref.frame.args ?? {} : {};
    if (expr in argsOf) {
      response.body = { result: formatScalar(expr, argsOf[expr]), variablesReference: 0 };
    } else if (this.timeline) {
      const view = this.view();
      const sp = /^sp\s*#?\s*(\d+)$/i.exec(expr);
      const vcpu = /^vcpu\s*(\d+)$/i.exec(expr);
      const vmField = (view.vm as unknown as Record<string, unknown>)[expr.replace(/^kvm->arch\./, '')];
      if (sp) {
        const v = this.store.value(expr, view.shadowPages.find((p) => p.id === Number(sp[1])) ?? null);
        response.body = { result: v.value, variablesReference: v.variablesReference };
      } else if (vcpu) {
        const v = this.store.value(expr, view.vcpus.find((c) => c.id === Number(vcpu[1])) ?? null);
        response.body = { result: v.value, variablesReference: v.variablesReference };
      } else if (vmField !== undefined) {
        const v = this.store.value(expr, vmField);
        response.body = { result: v.value, variablesReference: v.variablesReference };
      } else {
        response.body = this.evaluateExpression(expr);
      }
    } else {
      response.body = { result: '', variablesReference: 0 };
    }
    this.sendResponse(response);
  }

  /**
   * The Debug Console and watches also take the breakpoint-condition language (`sp[3].root_count > 0`,
   * `kvm.stats.pages_4k`), evaluated at the current stop, so a condition can be tried out there first.
   */
  private evaluateExpression(expr: string): { result: string; variablesReference: number } {
    const st = this.currentStop();
    if (!st) return { result: `(not a simulated name: ${expr})`, variablesReference: 0 };
    let parsed;
    try {
      parsed = parseExpression(expr);
    } catch (e) {
      const col = e instanceof ExprSyntaxError ? ` at column ${e.column + 1}` : '';
      return { result: `(not an expression${col}: ${e instanceof Error ? e.message : String(e)})`, variablesReference: 0 };
    }
    const env = stopEnv(() => this.view(), st);
    try {
      const value = evaluate(parsed, env);
      if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(Object.getPrototypeOf(value) === Object.prototype)) {
        return { result: displayValue(expr, value), variablesReference: 0 };
      }
      const v = this.store.value(expr, value);
      return { result: v.value, variablesReference: v.variablesReference };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      return { result: /^unknown name/.test(msg) && /^[A-Za-z_]\w*$/.test(expr) ? `(not a simulated name: ${expr})` : `(${msg})`, variablesReference: 0 };
    }
  }

  // ------------------------------------------------------------------------------------------
  // custom requests: gotoStep, state, functionEntries, position

  protected override async customRequest(command: string, response: DebugProtocol.Response, args: unknown): Promise<void> {
    const tl = this.timeline;
    const a = (args ?? {}) as Record<string, unknown>;
    if (!tl) {
      this.sendErrorResponse(response, 1100, 'no scenario is running');
      return;
    }
    switch (command) {
      case 'gotoStep': {
        const step = Number(a.step);
        let exists = false;
        try {
          exists = Number.isInteger(step) && step >= -1 && (step < 0 || tl.ensure(step));
        } catch (e) {
          this.sendErrorResponse(response, 1102, `engine error: ${e instanceof Error ? e.message : String(e)}`.replace(/[{}]/g, ''));
          return;
        }
        if (!exists) {
          this.sendErrorResponse(response, 1101, `no step ${String(a.step)} in this run`);
          return;
        }
        const fn = typeof a.fn === 'string' ? a.fn : undefined;
        const stops = step < 0 ? [] : tl.stopsOf(step);
        const st = step < 0 ? tl.entryStop(this.threads[0] ?? '') : (fn && stops.find((x) => x.kind === 'call' && x.frame?.fn === fn)) || stops[stops.length - 1]!;
        response.body = { step, event: st.event, thread: st.thread };
        this.sendResponse(response);
        this.stopHere(st, 'goto', `step ${step}${fn ? ` (${fn})` : ''}`);
        return;
      }
      case 'state': {
        const st = this.currentStop();
        response.body = {
          step: this.pos.step,
          event: this.pos.event,
          thread: st?.thread,
          view: this.view(),
          record: this.pos.step >= 0 ? tl.records[this.pos.step] : undefined,
          violations: this.violationsSoFar(),
          scenario: this.scenario?.name,
        };
        this.sendResponse(response);
        return;
      }
      case 'functionEntries': {
        // all: the whole run (runs the schedule to its end first); default: up to the current position
        response.body = { entries: this.functionEntries(a.all === true) };
        this.sendResponse(response);
        return;
      }
      case 'position': {
        const st = this.currentStop();
        response.body = st ? await this.positionInfo(st) : {};
        this.sendResponse(response);
        return;
      }
      default:
        super.customRequest(command, response, args);
    }
  }

  /** How often each kernel function was entered up to the current position, and the last step that did. */
  functionEntries(wholeRun = false): Record<string, { count: number; lastStep: number }> {
    const out: Record<string, { count: number; lastStep: number }> = {};
    const tl = this.timeline;
    if (!tl) return out;
    if (wholeRun && this.wholeRunEntries) return this.wholeRunEntries;
    if (wholeRun) tl.lastStop();
    const upTo = wholeRun ? tl.records.length - 1 : this.pos.step;
    for (let s = 0; s <= upTo && s < tl.records.length; s++) {
      tl.records[s]!.events.forEach((ev, i) => {
        if (ev.kind !== 'call' || (!wholeRun && s === this.pos.step && i > this.pos.event)) return;
        const e = (out[ev.frame.fn] ??= { count: 0, lastStep: s });
        e.count++;
        e.lastStep = s;
      });
    }
    if (wholeRun && tl.endStep !== undefined) this.wholeRunEntries = out;
    return out;
  }
}

const posKey = (p: Position): string => `${p.step}:${p.event}`;

/** One effect as a kernel developer would say it, e.g. "sp#3 spte[5] 0x0 -> 0x1234067". */
export function describeEffect(e: Effect): string {
  switch (e.kind) {
    case 'spte-write':
      return `sp#${e.sp} spte[${e.index}] ${e.old} -> ${e.new}`;
    case 'sp-field':
      return `sp#${e.sp} ${e.field} ${JSON.stringify(e.old)} -> ${JSON.stringify(e.new)}`;
    case 'sp-state':
      return `sp#${e.sp} ${e.from} -> ${e.to}`;
    case 'sp-alloc':
      return `sp#${e.sp} allocated for gfn ${formatScalar('gfn', e.gfn)} (role ${e.role})`;
    case 'root-ref':
      return `sp#${e.sp} ${e.field} ${e.old} -> ${e.new}${e.holder ? ` (${e.holder})` : ''}`;
    case 'parent-pte-add':
    case 'parent-pte-remove':
      return `sp#${e.sp} parent ${e.kind === 'parent-pte-add' ? '+' : '-'}${e.sptep}`;
    case 'vcpu-root':
      return `vcpu${e.vcpu} ${e.slot} root ${e.old ?? 'NULL'} -> ${e.new ?? 'NULL'}`;
    case 'request-set':
    case 'request-clear':
      return `vcpu${e.vcpu} ${e.kind === 'request-set' ? 'gets' : 'clears'} ${e.request}`;
    case 'tlb-fill':
      return `vcpu${e.vcpu} TLB fill gfn ${formatScalar('gfn', e.gfn)} -> pfn ${formatScalar('pfn', e.pfn)}`;
    case 'tlb-flush':
      return `TLB flush (${e.vcpu === 'all' ? 'all vCPUs' : `vcpu${e.vcpu}`}, ${e.scope}, ${e.entries} entries)`;
    case 'lock':
      return `${e.thread} ${e.action}s ${e.lock} (${e.mode})`;
    case 'vm-field':
      return `kvm->arch.${e.field} ${JSON.stringify(e.old)} -> ${JSON.stringify(e.new)}`;
    case 'stat':
      return `stat ${e.stat} ${e.old} -> ${e.new}`;
    case 'rmap-add':
    case 'rmap-remove':
      return `rmap L${e.level} gfn ${formatScalar('gfn', e.gfn)} ${e.kind === 'rmap-add' ? '+' : '-'}${e.sptep} (${e.count})`;
    default:
      return e.kind;
  }
}

function describeOp(op: Op): string {
  const { op: name, ...rest } = op as Op & Record<string, unknown>;
  const parts = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : formatScalar(k, v)}`);
  return parts.length ? `${name}(${parts.join(', ')})` : name;
}

function describeStop(st: Stop): string {
  switch (st.kind) {
    case 'entry':
      return 'start of scenario';
    case 'call':
      return `${st.thread} enters ${st.frame?.fn}`;
    case 'return':
      return `${st.thread}: ${st.frame?.fn} returned`;
    case 'point':
      return `${st.thread} at ${st.frame?.fn}${st.frame?.point ? ` (${st.frame.point})` : ''}`;
    case 'effect':
      return `${st.thread} changed the simulated state`;
    case 'end':
      return `${st.thread} paused at the end of step ${st.step}`;
  }
}
