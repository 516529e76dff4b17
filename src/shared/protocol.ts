/**
 * The one host <-> webview protocol of the KVM MMU Lab panel. Every message is `{ method, params }`.
 * Both sides validate on arrival (`parseHostMessage` in the webview, `parseWebviewMessage` in the host);
 * a malformed message is logged and ignored.
 */
import type { Frame, StateView, StepRecord, Violation } from '../engine/api';
import type { ChangeSummary, GenerationPoint, StateDelta } from './delta';
import {
  arr,
  bool,
  int,
  isPlainObject,
  lit,
  nonNegInt,
  nullable,
  num,
  obj,
  oneOf,
  optional,
  rec,
  str,
  tuple,
  type Check,
} from './validate';

export type { ChangeSummary, GenerationPoint, StateDelta };

/** Common header of the panel: which scenario, where in its history. */
export interface PanelStatus {
  /** Scenario name or file, if any. */
  scenario?: string;
  /** Steps taken so far (the history's length); the current position is `state.step`. */
  historyLength: number;
  /** Every violation found so far. */
  violations: Violation[];
}

export interface SnapshotParams extends PanelStatus {
  /** Full state (first load, restore, or when the webview asked for it). */
  state: StateView;
  /** What the current step changed (for highlighting), if known. */
  changes: ChangeSummary | null;
  /** The record of the step that produced `state` (null at step 0). */
  record: StepRecord | null;
  generations: GenerationPoint[];
}

export interface UpdateParams extends PanelStatus {
  /** From the state the webview shows now (`delta.fromStep`) to the new state. */
  delta: StateDelta;
  changes: ChangeSummary;
  record: StepRecord | null;
  /** Present when the timeline changed. */
  generations?: GenerationPoint[];
}

export interface SourceLocation {
  file: string;
  fn: string;
  point?: string;
}

/** host -> webview messages. */
export interface HostToWebview {
  /** host -> webview: whole state (first load, restore, resync). */
  snapshot: SnapshotParams;
  /** host -> webview: one step's change. */
  update: UpdateParams;
  /** host -> webview: no scenario is running (the panel shows a hint). */
  empty: { reason: string };
  /** host -> webview: reveal an object (sp id, rmap gfn) in its section. */
  reveal: { section: PanelSection; id: string };
}

export type PanelSection = 'roots' | 'generations' | 'rmaps' | 'shadowPages' | 'locks' | 'events';
export const PANEL_SECTIONS: readonly PanelSection[] = ['roots', 'generations', 'rmaps', 'shadowPages', 'locks', 'events'];

/** webview -> host messages. */
export interface WebviewToHost {
  /** webview -> host: the page loaded (or reloaded); the host answers with `snapshot` or `empty`. */
  ready: { restored: boolean };
  /** webview -> host: the webview cannot apply a delta (base mismatch): send a snapshot. */
  requestSnapshot: { reason: string };
  /** webview -> host: go to the state after `step` steps. */
  gotoStep: { step: number };
  /** webview -> host: open the kernel source for a frame (the host resolves the line via the kernel index). */
  openSource: SourceLocation;
  /** webview -> host: a diagnostic for the output channel (malformed message, render error). */
  log: { level: 'info' | 'warn' | 'error'; message: string };
}

export type Message<M> = { [K in keyof M]: { method: K; params: M[K] } }[keyof M];
export type HostMessage = Message<HostToWebview>;
export type WebviewMessage = Message<WebviewToHost>;

// ---------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------

const s = str();
const short = str(256);
const scalar = oneOf(s, num, bool);
const hexish = str(64);

const frame: Check = obj({ fn: short, file: str(1024), point: optional(str(512)), args: optional(rec(scalar)) });
const lockMode = lit('write', 'read', 'spin');
const request = short;

const effect: Check = (v, p) => {
  if (!isPlainObject(v) || typeof v.kind !== 'string') return `${p}: expected effect`;
  // Effects carry scalars and small unknown values; kind-specific shape is the engine's business.
  return obj({ kind: short })(v, p);
};

const traceEvent: Check = (v, p) => {
  if (!isPlainObject(v)) return `${p}: expected event`;
  const base = { thread: short, depth: nonNegInt };
  if (v.kind === 'effect') return obj({ kind: lit('effect'), ...base, effect })(v, p);
  return obj({ kind: lit('call', 'return', 'point'), ...base, frame })(v, p);
};

export const violationCheck: Check = obj({
  id: short,
  message: s,
  step: nonNegInt,
  thread: short,
  frame: optional(frame),
  objects: arr(s, 1000),
});

const stepRecord: Check = obj({
  index: nonNegInt,
  thread: short,
  opIndex: nonNegInt,
  op: obj({ op: short }),
  stoppedAt: s,
  events: arr(traceEvent, 100_000),
  stack: arr(frame, 1000),
  violations: arr(violationCheck, 10_000),
});

const spteFields: Record<string, Check> = {
  index: nonNegInt,
  value: hexish,
  present: bool,
  writable: bool,
  accessed: bool,
  dirty: bool,
  huge: bool,
  mmio: bool,
  leaf: bool,
  pfn: optional(num),
  child: optional(int),
};
const spte = obj(spteFields);
const lifetime = lit('live', 'invalid-list', 'freed');
const spFields: Record<string, Check> = {
  id: int,
  gfn: num,
  role: rec(oneOf(num, bool)),
  roleWord: hexish,
  level: int,
  tdp: bool,
  unsync: bool,
  unsyncChildren: num,
  unsyncChildBitmap: arr(num, 4096),
  rootCount: num,
  mmuValidGen: num,
  obsolete: bool,
  invalid: bool,
  lifetime,
  parentPtes: arr(s, 100_000),
  sptes: arr(spte, 4096),
  onActiveList: bool,
  inHash: bool,
};
const shadowPage = obj(spFields);
const rmapFields: Record<string, Check> = { slot: int, level: int, gfn: num, head: s, sptes: arr(s, 100_000), descs: arr(arr(s, 1000), 100_000) };
const rmapHead = obj(rmapFields);
const tlbEntry = obj({ tag: short, gfn: num, pfn: num, writable: bool, stale: bool });
const vcpuFields: Record<string, Check> = {
  id: int,
  root: nullable(short),
  prevRoots: arr(nullable(short), 64),
  guestMode: bool,
  inGuest: bool,
  requests: arr(request, 64),
  tlb: arr(tlbEntry, 100_000),
  cr3: optional(num),
  modeBits: rec(bool),
};
const vcpu = obj(vcpuFields);
const memslotFields = {
  id: int,
  baseGfn: num,
  npages: num,
  hva: num,
  flags: optional(arr(short, 16)),
  lpageDisallow: arr(obj({ level: int, index: num, count: num }), 1_000_000),
};
const memslot = obj({ ...memslotFields, rmaps: arr(rmapHead) });
const idList = arr(int);
const vmFields: Record<string, Check> = {
  mmu_valid_gen: num,
  active_mmu_pages: idList,
  zapped_obsolete_pages: idList,
  tdp_mmu_roots: idList,
  n_used_mmu_pages: num,
  n_max_mmu_pages: num,
  mmu_invalidate_seq: num,
  mmu_invalidate_in_progress: num,
  mmu_invalidate_range: nullable(tuple(num, num)),
  indirect_shadow_pages: num,
  mmu_lock: obj({ type: lit('spinlock', 'rwlock'), holders: arr(obj({ thread: short, mode: lockMode }), 1000) }),
  stats: rec(num, 1024),
  names: rec(short),
};
const threadView = obj({
  id: short,
  kind: short,
  opIndex: int,
  done: bool,
  stack: arr(frame, 1000),
  blockedOn: optional(s),
});
const hostPte = obj({ hva: num, pfn: nullable(num), young: bool, dirty: bool });
const hostPage = obj({ pfn: num, refcount: num, state: short });

export const stateViewCheck: Check = obj({
  era: short,
  mmu: short,
  bug: optional(short),
  step: nonNegInt,
  vm: obj(vmFields),
  vcpus: arr(vcpu, 4096),
  shadowPages: arr(shadowPage),
  memslots: arr(memslot, 4096),
  host: obj({ ptes: arr(hostPte), pages: arr(hostPage) }),
  threads: arr(threadView, 4096),
});

/** Partial object: only the listed fields, each optional, nothing else. */
function partialOf(fields: Record<string, Check>): Check {
  const opt: Record<string, Check> = {};
  for (const [k, c] of Object.entries(fields)) opt[k] = optional(c);
  return obj(opt, { strict: true });
}

const key: Check = oneOf(int, short, tuple(num, num));
const spteDelta: Check = obj(
  {
    add: optional(arr(spte, 4096)),
    patch: optional(arr(obj({ key: int, set: partialOf(spteFields) }, { strict: true }), 4096)),
    remove: optional(arr(int, 4096)),
  },
  { strict: true },
);
function keyed(item: Check, fields: Record<string, Check>): Check {
  return obj(
    {
      add: optional(arr(item)),
      patch: optional(arr(obj({ key, set: partialOf(fields), unset: optional(arr(short, 64)), sptes: optional(spteDelta) }, { strict: true }))),
      remove: optional(arr(key)),
    },
    { strict: true },
  );
}
const splice = obj({ start: nonNegInt, del: nonNegInt, ins: idList }, { strict: true });

export const stateDeltaCheck: Check = obj(
  {
    fromStep: nonNegInt,
    toStep: nonNegInt,
    top: optional(partialOf({ era: short, mmu: short, bug: nullable(short), step: nonNegInt })),
    vm: optional(
      obj(
        {
          set: optional(partialOf(vmFields)),
          splice: optional(partialOf({ active_mmu_pages: splice, zapped_obsolete_pages: splice, tdp_mmu_roots: splice })),
        },
        { strict: true },
      ),
    ),
    vcpus: optional(keyed(vcpu, vcpuFields)),
    shadowPages: optional(keyed(shadowPage, spFields)),
    memslots: optional(keyed(memslot, { ...memslotFields, flags: arr(short, 16) })),
    rmaps: optional(arr(obj({ slot: int, delta: keyed(rmapHead, rmapFields) }, { strict: true }), 4096)),
    hostPtes: optional(keyed(hostPte, { hva: num, pfn: nullable(num), young: bool, dirty: bool })),
    hostPages: optional(keyed(hostPage, { pfn: num, refcount: num, state: short })),
    threads: optional(arr(threadView, 4096)),
  },
  { strict: true },
);

const ids = (c: Check) => obj({ added: arr(c), removed: arr(c), modified: arr(c) }, { strict: true });
const fieldList = arr(tuple(int, arr(short, 64)));
export const changeSummaryCheck: Check = obj(
  {
    fromStep: nonNegInt,
    toStep: nonNegInt,
    vm: arr(short, 256),
    vcpus: ids(int),
    vcpuFields: fieldList,
    roots: ids(short),
    shadowPages: ids(int),
    spFields: fieldList,
    rmaps: ids(short),
    memslots: ids(int),
    tlb: ids(short),
    requests: ids(short),
    locks: ids(short),
    threads: ids(short),
  },
  { strict: true },
);

const generationPoint = obj({
  step: nonNegInt,
  gen: num,
  live: nonNegInt,
  obsolete: nonNegInt,
  zapped: nonNegInt,
  marks: arr(lit('fast-zap', 'commit', 'gen-change'), 8),
});
const status = {
  scenario: optional(str(1024)),
  historyLength: nonNegInt,
  violations: arr(violationCheck, 10_000),
};
const section = lit(...PANEL_SECTIONS);

const hostParams: { [K in keyof HostToWebview]: Check } = {
  snapshot: obj(
    {
      ...status,
      state: stateViewCheck,
      changes: nullable(changeSummaryCheck),
      record: nullable(stepRecord),
      generations: arr(generationPoint),
    },
    { strict: true },
  ),
  update: obj(
    {
      ...status,
      delta: stateDeltaCheck,
      changes: changeSummaryCheck,
      record: nullable(stepRecord),
      generations: optional(arr(generationPoint)),
    },
    { strict: true },
  ),
  empty: obj({ reason: s }, { strict: true }),
  reveal: obj({ section, id: short }, { strict: true }),
};

const webviewParams: { [K in keyof WebviewToHost]: Check } = {
  ready: obj({ restored: bool }, { strict: true }),
  requestSnapshot: obj({ reason: str(512) }, { strict: true }),
  gotoStep: obj({ step: nonNegInt }, { strict: true }),
  openSource: obj({ file: str(1024), fn: short, point: optional(str(512)) }, { strict: true }),
  log: obj({ level: lit('info', 'warn', 'error'), message: str(2000) }, { strict: true }),
};

export type Parsed<T> = { ok: true; message: T } | { ok: false; error: string };

function parseWith<T>(table: Record<string, Check>, v: unknown): Parsed<T> {
  if (!isPlainObject(v)) return { ok: false, error: 'message: expected object' };
  const keys = Object.keys(v);
  if (keys.some((k) => k !== 'method' && k !== 'params')) return { ok: false, error: 'message: unexpected field' };
  const method = v.method;
  if (typeof method !== 'string' || method.length > 64) return { ok: false, error: 'message: bad method' };
  if (!Object.prototype.hasOwnProperty.call(table, method)) return { ok: false, error: `message: unknown method ${method}` };
  const e = table[method](v.params, method);
  return e ? { ok: false, error: e } : { ok: true, message: v as T };
}

/** Validate a message arriving in the webview. */
export function parseHostMessage(v: unknown): Parsed<HostMessage> {
  return parseWith<HostMessage>(hostParams, v);
}

/** Validate a message arriving in the extension host. */
export function parseWebviewMessage(v: unknown): Parsed<WebviewMessage> {
  return parseWith<WebviewMessage>(webviewParams, v);
}

export function hostMessage<K extends keyof HostToWebview>(method: K, params: HostToWebview[K]): HostMessage {
  return { method, params } as HostMessage;
}

export function webviewMessage<K extends keyof WebviewToHost>(method: K, params: WebviewToHost[K]): WebviewMessage {
  return { method, params } as WebviewMessage;
}

/** UI state the webview keeps in `vscode.setState` (and the editor-panel serializer restores). */
export interface PanelUiState {
  version: 1;
  open: Partial<Record<PanelSection, boolean>>;
  expandedSps: string[];
  expandedRmapGroups: string[];
  rmapSearch: string;
  scroll: Partial<Record<string, number>>;
  pageScroll: number;
}

export const panelUiStateCheck: Check = obj({
  version: lit(1),
  open: rec(bool, 16),
  expandedSps: arr(short, 100_000),
  expandedRmapGroups: arr(short, 100_000),
  rmapSearch: str(256),
  scroll: rec(num, 64),
  pageScroll: num,
});

export type { Frame };
