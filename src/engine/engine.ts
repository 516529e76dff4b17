/**
 * Threads, scheduling, history (snapshots + replay), hashing and the Engine object.
 */
import type { Engine, EngineOptions, Frame, Op, Schedule, StateView, StepRecord, ThreadId, ThreadKind, ThreadSpec, Violation } from './api';
import { Kvm, Pt, ThreadCtx } from './kvm';
import { PROFILES } from './profiles';
import { Auditor } from './invariants';
import { buildView } from './view';
import { HashSink, SectionCache, TextSink, emitThread, walkCanonical, type CanonicalThread } from './canonical';
import { ArrayPool, cloneVmState, type VmState } from './state';
import { ACC, ACC_ALL, ACC_HELD, effectAccess } from './access';

/** Extra knobs beyond the contract's EngineOptions (all optional, defaults in brackets). */
export interface EngineTuning {
  /**
   * 'full': events with frames and effects [default]; 'count': only counts (benchmarks); 'explore': no
   * events, per-thread frames without arguments, and access masks on every step (the explorer: its
   * footprints come from the masks, its state keys from the stacks; building events and formatting
   * their values was a third of a step).
   */
  trace?: 'full' | 'count' | 'explore';
  /** 'full': event checks + whole-state audit after every step [default]; 'events': event checks only; 'off'. */
  audit?: 'full' | 'events' | 'off';
  /** Keep StepRecords (needed for stepBack/goto) [true]. */
  history?: boolean;
  /** Take a snapshot at the first quiescent step at least this many steps after the previous one [64]. */
  snapshotEvery?: number;
  /** Keep the running trace hash over every step's events [true]. The explorer turns it off: it
   * never reads traceHash(), and stringifying each step's events is most of a step's own cost. With
   * false, traceHash() mixes only the thread, stop point and event count (still deterministic). */
  traceHash?: boolean;
}

export type FullEngineOptions = EngineOptions & EngineTuning;

interface ThreadState {
  spec: ThreadSpec;
  ctx: ThreadCtx;
  opIndex: number;
  gen: Generator<Pt, unknown, void> | null;
  pending: Pt | null;
  /** Worker threads get their ops queued at run time. */
  dynamic: boolean;
  index: number;
  /** Access categories the current operation has read so far (its locals may hold those objects). */
  opRd: number;
  /**
   * The thread's part of the state key (emitThread), hashed once and kept until the thread steps or a
   * snapshot is restored: only the stepping thread's position changes in a step.
   */
  keyValid: boolean;
  kh1: number;
  kh2: number;
}

interface Snapshot { pos: number; kvm: VmState; threads: Array<{ opIndex: number }>; hash: number; viol: number; nEff: number; kvmStep: number; audit: string[] }

/**
 * The scalar state categories' values before a step. A step that leaves such a value as it found it
 * did not write it, as far as any other step can tell: steps are atomic, so a value set and restored
 * within one (an RT-3 window opened and closed under the lock, a pending flush done before the unlock)
 * is never observed. Such writes are dropped from the step's mask, like a lock taken and released.
 */
interface Scalars {
  gen: number; seq: number; inProgress: number; rangeStart: number; rangeEnd: number; rt3Window: string | null;
  srcuReaders: number; flushPending: boolean; nxHugePages: boolean; destroyed: boolean;
}

function saveScalars(s: VmState, o: Scalars): void {
  o.gen = s.gen; o.seq = s.seq; o.inProgress = s.inProgress; o.rangeStart = s.rangeStart; o.rangeEnd = s.rangeEnd;
  o.rt3Window = s.rt3Window; o.srcuReaders = s.srcuReaders; o.flushPending = s.flushPending; o.nxHugePages = s.nxHugePages; o.destroyed = s.destroyed;
}

/** The scalar categories whose values are those saved (mask of ACC bits). */
function unchangedScalars(s: VmState, o: Scalars): number {
  let m = 0;
  if (s.gen === o.gen) m |= ACC.GEN;
  if (s.seq === o.seq) m |= ACC.SEQ;
  if (s.inProgress === o.inProgress && s.rangeStart === o.rangeStart && s.rangeEnd === o.rangeEnd) m |= ACC.NOTIFIER;
  if (s.rt3Window === o.rt3Window) m |= ACC.RT3;
  if (s.srcuReaders === o.srcuReaders) m |= ACC.SRCU;
  if (s.flushPending === o.flushPending) m |= ACC.FLUSH;
  if (s.nxHugePages === o.nxHugePages) m |= ACC.NX;
  if (s.destroyed === o.destroyed) m |= ACC.DESTROYED;
  return m;
}

/** Arrays released by any engine of this thread, for any other to reuse (see ArrayPool). */
const ARRAY_POOL = new ArrayPool();

/** FNV-1a over a string, folded into a running 32-bit hash. */
export function fnv(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619) >>> 0; }
  return h >>> 0;
}

export interface EngineInternals extends Engine {
  kvm: Kvm;
  options: FullEngineOptions;
  /** Explorer hook: the thread ids that could take a step now (same as runnableThreads). */
  enabledChoices(): ThreadId[];
  /** A new engine at the same position (replays the choices). */
  fork(): EngineInternals;
  /** Choices made so far (thread per step), for replay. */
  choices(): ThreadId[];
  /**
   * The canonical state (ids renumbered, threads included) as a 53-bit number: what stateHash() shows
   * as hex, without building a string. `extra` is mixed in (the explorer adds the running thread).
   */
  stateKey(extra?: number): number;
  /** stateKey() computed from scratch, without the kept section and per-thread sub-hashes (tests: the two must agree). */
  freshStateKey(extra?: number): number;
  /** The canonical form as text, threads included (tests, debugging). */
  canonicalText(): string;
  /**
   * Run the whole-state audit now (for engines created with audit: 'events', which check only events
   * while stepping; the explorer audits each distinct state once instead of after every step). Every
   * state violation that holds is returned and added to violations().
   */
  auditState(): Violation[];
  currentOp(thread: ThreadId): Op | undefined;
}

export class EngineImpl implements EngineInternals {
  readonly config;
  readonly options: FullEngineOptions;
  kvm!: Kvm;
  private threads: ThreadState[] = [];
  private byId = new Map<ThreadId, ThreadState>();
  private records: StepRecord[] = [];
  /** records[0..nRecords) is the history; entries past it are left over from a dropped future. */
  private nRecords = 0;
  private pos = 0;
  private hash = 2166136261;
  private hashes: number[] = [];
  private snapshots: Snapshot[] = [];
  private lastSnap = 0;
  private allViolations: Violation[] = [];
  private auditor!: Auditor;
  private readonly keepHistory: boolean;
  private readonly fullTraceHash: boolean;
  /** Steps carry access masks (trace 'full' or 'explore'). */
  private readonly masks: boolean;
  /** StepRecord.stack holds the innermost frame only (trace 'explore'). */
  private readonly innermostOnly: boolean;
  private readonly scratch: StepRecord;
  private readonly scalarsBefore: Scalars = { gen: 0, seq: 0, inProgress: 0, rangeStart: 0, rangeEnd: 0, rt3Window: null, srcuReaders: 0, flushPending: false, nxHugePages: false, destroyed: false };
  /** Shared by the engines of a thread: an explorer creates one per search, and a fresh pool starts empty. */
  private readonly pool = ARRAY_POOL;

  constructor(options: FullEngineOptions) {
    this.options = options;
    this.config = options.config;
    this.keepHistory = options.history !== false;
    this.fullTraceHash = options.traceHash !== false;
    this.masks = (options.trace ?? 'full') !== 'count';
    this.innermostOnly = options.trace === 'explore';
    this.scratch = { index: 0, thread: '', opIndex: 0, op: { op: 'exit_guest' }, stoppedAt: '', events: [], stack: [], violations: [] };
    this.reset();
  }

  private reset(): void {
    const p = PROFILES[this.config.era];
    if (!p) throw new Error(`unknown era ${this.config.era}`);
    const audit = this.options.audit ?? 'full';
    const trace = this.options.trace ?? 'full';
    this.kvm = new Kvm(this.config, p, { trace: trace === 'full', auditEvents: audit !== 'off', frames: trace === 'full' ? 'args' : trace === 'explore' ? 'plain' : 'shared' });
    this.auditor = new Auditor(this.kvm, audit === 'full');
    this.threads = [];
    this.byId.clear();
    const specs = [...this.options.threads];
    if (p.tdpRootModel === '5.18' && this.kvm.tdpOn && !specs.some((s) => s.id === 'tdp_mmu_zap_wq')) {
      specs.push({ id: 'tdp_mmu_zap_wq', kind: 'worker', ops: [] });
    }
    for (const spec of specs) {
      const ts: ThreadState = {
        spec: { ...spec, ops: [...spec.ops] },
        ctx: { id: spec.id, kind: spec.kind, vcpu: spec.vcpu ?? 0, stack: [], held: null },
        opIndex: 0, gen: null, pending: null, dynamic: spec.id === 'tdp_mmu_zap_wq', index: this.threads.length, opRd: 0, keyValid: false, kh1: 0, kh2: 0,
      };
      this.threads.push(ts);
      this.byId.set(spec.id, ts);
    }
    this.kvm.waitHook = (c) => this.waitHolds(c);
    this.keyCache = new SectionCache();
    this.kvm.arrays = this.pool;
    this.pos = 0;
    this.hash = 2166136261;
    this.hashes = [this.hash];
    this.allViolations = [];
    this.snapshots = [this.snapshot()];
    this.lastSnap = 0;
  }

  private waitHolds(c: unknown): boolean {
    const w = c as { threadDone?: ThreadId; point?: string; thread?: ThreadId };
    if (w.threadDone || w.thread) this.kvm.s.rd |= ACC.THREADS;
    if (w.threadDone) { const t = this.byId.get(w.threadDone); return !t || this.threadDone(t); }
    if (w.point && w.thread) { const t = this.byId.get(w.thread); return !!t && !!t.pending && t.pending.point === w.point; }
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Threads
  // ---------------------------------------------------------------------------------------------
  private opsLeft(t: ThreadState): boolean {
    if (t.dynamic) return this.kvm.s.workQueue.length > 0 && !this.kvm.workerBusy;
    return t.opIndex < t.spec.ops.length;
  }

  private threadDone(t: ThreadState): boolean { return t.gen === null && !this.opsLeft(t); }

  private canRun(t: ThreadState): boolean {
    if (t.gen === null) return this.opsLeft(t);
    const p = t.pending;
    if (!p) return true;
    if (p.acquire && !this.kvm.canGrant(p.acquire)) return false;
    if (p.wait && !p.wait()) return false;
    return true;
  }

  runnableThreads(): ThreadId[] {
    const out: ThreadId[] = [];
    for (const t of this.threads) if (this.canRun(t)) out.push(t.spec.id);
    return out;
  }

  enabledChoices(): ThreadId[] { return this.runnableThreads(); }

  isDone(): boolean { return this.threads.every((t) => this.threadDone(t)); }

  currentOp(thread: ThreadId): Op | undefined {
    const t = this.byId.get(thread);
    return t ? t.spec.ops[t.opIndex] : undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Stepping
  // ---------------------------------------------------------------------------------------------
  step(thread: ThreadId): StepRecord {
    if (this.keepHistory && this.pos < this.nRecords) {
      // a new step after going back drops the recorded future: records and hashes past this point are
      // overwritten (the arrays are cut only when history is read), snapshots past it are released
      this.nRecords = this.pos;
      const snaps = this.snapshots;
      let keep = snaps.length;
      while (keep > 1 && snaps[keep - 1]!.pos > this.pos) this.pool.release(snaps[--keep]!.kvm);
      if (keep !== snaps.length) snaps.length = keep;
      this.lastSnap = snaps[keep - 1]!.pos;
    }
    const rec = this.doStep(thread);
    if (this.keepHistory) this.records[this.nRecords++] = rec;
    return rec;
  }

  /**
   * One step of `thread`. With `replay` (goto's replay of a recorded choice) the step is the one
   * already recorded at this position: the engine is deterministic, so its trace hash and StepRecord
   * are the stored ones and are reused instead of being rebuilt (the state, the auditor and the
   * violations are still regenerated by running the model).
   */
  private doStep(thread: ThreadId, replay?: StepRecord): StepRecord {
    const t = this.threadById(thread);
    if (!t) throw new Error(`no thread ${thread}`);
    const kvm = this.kvm;
    const vm = kvm.s;
    // access recording starts before the enabling check: what enabled the step is part of its reads
    vm.rd = 0; vm.wr = 0;
    if (!this.canRun(t)) throw new Error(`thread ${thread} is not runnable`);
    t.keyValid = false;
    // a replayed step's access masks are already in its record: only a new step saves what they compare with
    const masks = this.masks && replay === undefined;
    const lk = kvm.raw.lock, lockWriter = lk.writer, lockMode = lk.writerMode;
    const lockReaders = masks && lk.readers.length ? lk.readers.join() : '';
    if (masks) saveScalars(kvm.raw, this.scalarsBefore);
    if (kvm.tr || kvm.events.length) kvm.events = [];
    // fresh for a new step (its StepRecord keeps the array); a replayed step's record already has its own
    if (replay === undefined) kvm.violations = [];
    else { kvm.violations = this.replayViolations; if (this.replayViolations.length) this.replayViolations.length = 0; }
    kvm.step = this.pos + 1;
    kvm.cur = t.ctx;
    kvm.lastFrame = null;
    const effBefore = kvm.nEff;
    let opIndex = t.opIndex;
    if (t.gen === null) {
      if (t.dynamic) t.spec.ops.push({ op: '__tdp_zap_root_work' } as unknown as Op);
      opIndex = t.opIndex;
      t.gen = kvm.runOp(t.ctx, t.spec.ops[t.opIndex]) as Generator<Pt, unknown, void>;
      t.pending = null;
    }
    if (t.pending && t.pending.acquire) kvm.grant(t.ctx, t.pending.acquire);
    // a replayed step's events are already in its stored record: run it without building them again
    const quiet = replay !== undefined && kvm.tr;
    if (quiet) kvm.tr = false;
    let r: IteratorResult<Pt, unknown>;
    try {
      r = t.gen.next();
    } catch (e) {
      this.keyCache.dirty = ACC_ALL; // the step stopped half way: rehash everything
      throw e;
    } finally { if (quiet) kvm.tr = true; }
    const stepRd = vm.rd;
    let stepWr = vm.wr;
    const opRd = t.opRd;
    t.opRd = r.done ? 0 : opRd | stepRd;
    let stoppedAt: string;
    if (r.done) {
      if (t.ctx.held) kvm.unlock(t.ctx);
      t.gen = null; t.pending = null; t.ctx.stack = [];
      t.opIndex++;
      stoppedAt = 'op-done';
    } else {
      t.pending = r.value;
      stoppedAt = r.value.point;
    }
    // what the step may have changed, for the key's section cache (a traced step's nested writes are its effects)
    let dirty = vm.wr;
    if (kvm.tr && !quiet) for (const ev of kvm.events) if (ev.kind === 'effect') dirty |= effectAccess(ev.effect);
    this.keyCache.dirty |= dirty;
    this.auditor.afterStep(kvm.events.length > 0 || kvm.nEff !== effBefore);
    const op = t.spec.ops[opIndex];
    const violations = kvm.violations;
    for (const v of violations) this.allViolations.push(v);
    this.pos++;
    // trace hash: full mode hashes the step outline and its events; count mode mixes the thread
    // index, the stop point's length and the effect count (cheap, still deterministic)
    let rec: StepRecord;
    if (replay) {
      // this.hashes still holds every recorded step's hash (only step() truncates it)
      this.hash = this.hashes[this.pos]!;
      rec = replay;
    } else {
      let h: number;
      if (kvm.tr && this.fullTraceHash) h = fnv(fnv(this.hash, thread + '|' + stoppedAt + '|'), JSON.stringify(kvm.events));
      else {
        h = Math.imul(this.hash ^ (t.index * 7919 + stoppedAt.length * 131 + (kvm.tr ? kvm.events.length : kvm.nEff - effBefore)), 16777619) >>> 0;
      }
      for (const v of violations) h = fnv(h, v.id);
      this.hash = h;
      if (this.keepHistory) this.hashes[this.pos] = h;
      rec = this.keepHistory
        ? { index: this.pos - 1, thread, opIndex, op, stoppedAt, events: kvm.events, stack: this.stackCopy(t.ctx.stack), violations }
        : this.fillScratch(this.pos - 1, thread, opIndex, op, stoppedAt, kvm.events, violations);
      if (this.masks) {
        // traced: nested writes come from the effects; untraced ('explore'), kvm.quiet() added them
        if (kvm.tr) for (const ev of kvm.events) if (ev.kind === 'effect') stepWr |= effectAccess(ev.effect);
        const l = kvm.raw.lock;
        if (l.writer === lockWriter && l.writerMode === lockMode && (l.readers.length ? l.readers.join() : '') === lockReaders) stepWr &= ~ACC.LOCK;
        stepWr &= ~unchangedScalars(kvm.raw, this.scalarsBefore);
        rec.access = { rd: stepRd | (opRd & ACC_HELD), wr: stepWr };
      } else rec.access = undefined;
    }
    kvm.cur = null;
    if (this.keepHistory && this.pos - this.lastSnap >= (this.options.snapshotEvery ?? 64) && this.quiescent()) {
      this.snapshots.push(this.snapshot());
      this.lastSnap = this.pos;
    }
    return rec;
  }

  /** The reported frames of a stack, copied; in 'explore' mode only the innermost (all the explorer reads). */
  private stackCopy(stack: Frame[]): Frame[] {
    if (!this.innermostOnly) return stack.filter((f) => f.fn !== '').map((f) => ({ ...f }));
    for (let i = stack.length - 1; i >= 0; i--) if (stack[i]!.fn !== '') return [{ ...stack[i]! }];
    return [];
  }

  private fillScratch(index: number, thread: ThreadId, opIndex: number, op: Op, stoppedAt: string, events: StepRecord['events'], violations: Violation[]): StepRecord {
    const r = this.scratch as { -readonly [K in keyof StepRecord]: StepRecord[K] };
    r.index = index; r.thread = thread; r.opIndex = opIndex; r.op = op; r.stoppedAt = stoppedAt; r.events = events; r.violations = violations;
    return r;
  }

  private quiescent(): boolean {
    for (const t of this.threads) if (t.gen !== null) return false;
    return true;
  }

  /** A scenario has a handful of threads: a scan beats hashing the id on every step. */
  private threadById(id: ThreadId): ThreadState | undefined {
    for (const t of this.threads) if (t.spec.id === id) return t;
    return undefined;
  }

  private snapshot(): Snapshot {
    return {
      pos: this.pos, kvm: cloneVmState(this.kvm.raw, this.pool), threads: this.threads.map((t) => ({ opIndex: t.opIndex })),
      hash: this.hash, viol: this.allViolations.length, nEff: this.kvm.nEff, kvmStep: this.kvm.step,
      audit: this.auditor.saveState(),
    };
  }

  private restore(s: Snapshot): void {
    // the replaced state is unreachable once overwritten (views and records hold copies): recycle it
    const old = this.kvm.raw;
    this.kvm.raw = cloneVmState(s.kvm, this.pool);
    this.pool.release(old);
    this.kvm.nEff = s.nEff;
    this.kvm.workerBusy = false;
    this.threads.forEach((t, i) => {
      t.opIndex = s.threads[i].opIndex; t.gen = null; t.pending = null; t.ctx.stack = []; t.ctx.held = null; t.opRd = 0; t.keyValid = false;
      if (t.dynamic) t.spec.ops.length = t.opIndex;
    });
    this.pos = s.pos;
    this.hash = s.hash;
    if (this.allViolations.length !== s.viol) this.allViolations.length = s.viol;
    this.auditor.loadState(s.audit);
    this.keyCache.dirty = ACC_ALL;
  }

  stepBack(): void {
    if (this.pos === 0) return;
    this.goto(this.pos - 1);
  }

  goto(index: number): void {
    if (!this.keepHistory) throw new Error('history is disabled for this engine');
    if (index < 0 || index > this.nRecords) throw new Error(`goto(${index}) outside 0..${this.nRecords}`);
    if (index === this.pos) return;
    if (index < this.pos) {
      let snap = this.snapshots[0];
      for (const s of this.snapshots) if (s.pos <= index && s.pos >= snap.pos) snap = s;
      this.restore(snap);
    }
    while (this.pos < index) {
      const want = this.records[this.pos]!;
      this.doStep(want.thread, want);
    }
  }

  get history(): readonly StepRecord[] {
    if (this.records.length !== this.nRecords) this.records.length = this.nRecords;
    return this.records;
  }
  get position(): number { return this.pos; }

  choices(): ThreadId[] { return this.records.slice(0, this.pos).map((r) => r.thread); }

  fork(): EngineInternals {
    const e = new EngineImpl(this.options);
    for (const c of this.choices()) e.step(c);
    return e;
  }

  view(): StateView {
    return buildView(this.kvm, this.pos, this.threads.map((t) => ({
      id: t.spec.id, kind: t.spec.kind as ThreadKind, opIndex: t.opIndex, done: this.threadDone(t),
      stack: t.ctx.stack.filter((f: Frame) => f.fn !== '').map((f: Frame) => ({ ...f })),
      blockedOn: t.gen && t.pending && !this.canRun(t) ? (t.pending.acquire ? `mmu_lock (${t.pending.acquire})` : t.pending.point) : undefined,
    })));
  }

  private readonly hashSink = new HashSink();
  /** Section sub-hashes of the last key; doStep marks what each step wrote, restore() marks everything. */
  private keyCache = new SectionCache();

  /** The thread's scheduler state; emitThread skips the hidden frames of `frames` itself. */
  private canonicalThread(t: ThreadState): CanonicalThread {
    return { id: t.spec.id, opIndex: t.opIndex, pending: t.pending ? t.pending.point : null, held: t.ctx.held, frames: t.ctx.stack };
  }

  private canonicalThreads(): CanonicalThread[] { return this.threads.map((t) => this.canonicalThread(t)); }

  private readonly threadSink = new HashSink();
  private readonly replayViolations: Violation[] = [];

  private digest(extra: number): HashSink {
    const h = this.hashSink;
    h.reset();
    walkCanonical(this.kvm, h, undefined, this.keyCache);
    for (const t of this.threads) {
      if (!t.keyValid) {
        const th = this.threadSink;
        th.reset();
        emitThread(this.canonicalThread(t), th);
        t.kh1 = th.h1; t.kh2 = th.h2; t.keyValid = true;
      }
      h.tag('t'); h.n(t.kh1); h.n(t.kh2);
    }
    if (extra !== 0) { h.tag('x'); h.n(extra); }
    return h;
  }

  stateKey(extra = 0): number { return this.digest(extra).key(); }

  freshStateKey(extra = 0): number {
    this.keyCache.dirty = ACC_ALL;
    for (const t of this.threads) t.keyValid = false;
    return this.digest(extra).key();
  }

  stateHash(): string { return this.digest(0).hex(); }

  /** The canonical form as text, threads included: equal texts exactly when equal stateKey()s. */
  canonicalText(): string {
    const sink = new TextSink();
    walkCanonical(this.kvm, sink, this.canonicalThreads());
    return sink.text();
  }

  auditState(): Violation[] {
    const kvm = this.kvm;
    const last = this.pos > 0 ? this.records[this.pos - 1] : undefined;
    const before = kvm.violations.length;
    kvm.cur = last ? this.byId.get(last.thread)!.ctx : null;
    kvm.step = this.pos;
    try { this.auditor.auditNow(); } finally { kvm.cur = null; }
    const found = kvm.violations.slice(before);
    for (const v of found) this.allViolations.push(v);
    return found;
  }

  traceHash(): string { return this.hash.toString(16).padStart(8, '0') + ':' + this.pos; }

  violations(): Violation[] { return [...this.allViolations]; }
}

// -------------------------------------------------------------------------------------------------
// Schedules
// -------------------------------------------------------------------------------------------------

export interface RunResult { completed: boolean; stoppedBecause?: string }

/** Run a schedule to completion (or until it cannot continue). */
export function runSchedule(engine: Engine, schedule: Schedule, maxSteps = 10_000_000): RunResult {
  let steps = 0;
  switch (schedule.kind) {
    case 'sequential': {
      // keep running the first runnable thread in declaration order; blocked threads let others run
      while (!engine.isDone()) {
        const r = engine.runnableThreads();
        if (!r.length) return { completed: false, stoppedBecause: 'deadlock: no runnable thread' };
        engine.step(r[0]);
        if (++steps > maxSteps) return { completed: false, stoppedBecause: 'step limit' };
      }
      return { completed: true };
    }
    case 'round-robin': {
      let k = 0;
      while (!engine.isDone()) {
        const r = engine.runnableThreads();
        if (!r.length) return { completed: false, stoppedBecause: 'deadlock: no runnable thread' };
        engine.step(r[k % r.length]);
        k++;
        if (++steps > maxSteps) return { completed: false, stoppedBecause: 'step limit' };
      }
      return { completed: true };
    }
    case 'explicit': {
      for (const [n, slice] of schedule.slices.entries()) {
        const u = slice.until;
        const startOp = opIndexOf(engine, slice.thread);
        let count = 0, occ = 0;
        for (;;) {
          if (!engine.runnableThreads().includes(slice.thread)) {
            if (isThreadDone(engine, slice.thread) && (!u || 'done' in u || 'opDone' in u)) break;
            return { completed: false, stoppedBecause: `slice ${n}: thread ${slice.thread} is not runnable` };
          }
          const rec = engine.step(slice.thread);
          count++;
          if (++steps > maxSteps) return { completed: false, stoppedBecause: 'step limit' };
          if (!u) break;
          if ('steps' in u) { if (count >= u.steps) break; }
          else if ('opDone' in u) { if (rec.stoppedAt === 'op-done' && opIndexOf(engine, slice.thread) > startOp) break; }
          else if ('done' in u) { if (isThreadDone(engine, slice.thread)) break; }
          else if ('point' in u) {
            if (rec.stoppedAt === u.point || rec.stoppedAt.endsWith(':' + u.point) || rec.events.some((e) => e.kind === 'point' && `${e.frame.fn}:${e.frame.point}` === u.point)) {
              occ++;
              if (occ >= (u.occurrence ?? 1)) break;
            }
            if (isThreadDone(engine, slice.thread)) return { completed: false, stoppedBecause: `slice ${n}: point ${u.point} never reached` };
          }
        }
      }
      return engine.isDone() ? { completed: true } : { completed: false, stoppedBecause: 'schedule exhausted before every thread finished' };
    }
    case 'open': {
      // The explorer drives open schedules itself through enabledChoices()/step()/fork(); run here
      // means "take the first enabled choice" so the schedule still terminates.
      const limit = schedule.maxDepth ?? maxSteps;
      while (!engine.isDone()) {
        const r = engine.runnableThreads().filter((x) => !schedule.threads || schedule.threads.includes(x));
        if (!r.length) return { completed: false, stoppedBecause: 'no enabled choice' };
        engine.step(r[0]);
        if (++steps >= limit) return { completed: false, stoppedBecause: 'maxDepth' };
      }
      return { completed: true };
    }
  }
}

function opIndexOf(engine: Engine, thread: ThreadId): number {
  const h = engine.history;
  for (let i = Math.min(engine.position, h.length) - 1; i >= 0; i--) {
    const r = h[i];
    if (r.thread === thread) return r.stoppedAt === 'op-done' ? r.opIndex + 1 : r.opIndex;
  }
  return 0;
}

function isThreadDone(engine: Engine, thread: ThreadId): boolean {
  return engine.view().threads.find((t) => t.id === thread)?.done ?? true;
}
