/**
 * State deltas between two StateViews, keyed by stable ids, so that the per-step message to the panel carries
 * the change and not the whole state. Pure functions, used by the host (compute) and the webview (apply).
 *
 * The webview keeps a *normalised* state (every keyed collection sorted by its key) so that applying a delta is
 * a handful of binary searches, independent of the state's size.
 */
import type {
  MemslotConfig,
  RequestName,
  RmapHeadView,
  ShadowPageView,
  SpteView,
  StateView,
  StepRecord,
  VcpuView,
} from '../engine/api';

export type Key = number | string | [number, number];

/** Changes to one keyed collection: whole new items, field patches of existing ones, removed keys. */
export interface KeyedDelta<T> {
  add?: T[];
  /** `set` holds the changed top-level fields (whole values); `unset` lists fields that disappeared. */
  patch?: Array<{ key: Key; set: Partial<T>; unset?: string[]; sptes?: KeyedDelta<SpteView> }>;
  remove?: Key[];
}

/** Replace `del` elements at `start` by `ins` (common prefix/suffix diff of a list of ids). */
export interface ArraySplice {
  start: number;
  del: number;
  ins: number[];
}

export type VmView = StateView['vm'];
export type MemslotView = StateView['memslots'][number];
export type MemslotHeader = Omit<MemslotView, 'rmaps'>;
export type HostPteView = StateView['host']['ptes'][number];
export type HostPageView = StateView['host']['pages'][number];
export type ThreadView = StateView['threads'][number];

export const VM_ID_LISTS = ['active_mmu_pages', 'zapped_obsolete_pages', 'tdp_mmu_roots'] as const;
export type VmIdList = (typeof VM_ID_LISTS)[number];

export interface StateDelta {
  fromStep: number;
  toStep: number;
  /** Top-level scalars (era, mmu, bug, step); `null` for bug means "no bug". */
  top?: { era?: StateView['era']; mmu?: StateView['mmu']; bug?: StateView['bug'] | null; step?: number };
  vm?: { set?: Partial<VmView>; splice?: Partial<Record<VmIdList, ArraySplice>> };
  vcpus?: KeyedDelta<VcpuView>;
  shadowPages?: KeyedDelta<ShadowPageView>;
  /** Memslot headers (config, lpageDisallow); an added memslot carries its rmaps. */
  memslots?: KeyedDelta<MemslotView>;
  /** Rmap heads of memslots present on both sides, keyed by [level, gfn]. */
  rmaps?: Array<{ slot: number; delta: KeyedDelta<RmapHeadView> }>;
  hostPtes?: KeyedDelta<HostPteView>;
  hostPages?: KeyedDelta<HostPageView>;
  /** Threads are few: the whole list when anything changed. */
  threads?: ThreadView[];
}

// ---------------------------------------------------------------------------------------------
// Keys and ordering
// ---------------------------------------------------------------------------------------------

export function cmpKey(a: Key, b: Key): number {
  if (Array.isArray(a) && Array.isArray(b)) return a[0] - b[0] || a[1] - b[1];
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

export function keyString(k: Key): string {
  return Array.isArray(k) ? `${k[0]}:${k[1]}` : String(k);
}

interface Coll<T> {
  key(t: T): Key;
}
function byId<T extends { id: number }>(): Coll<T> {
  return { key: (t) => t.id };
}
const BY_ID = { key: (t: { id: number }) => t.id };
const RMAP: Coll<RmapHeadView> = { key: (r) => [r.level, r.gfn] };
const PTE: Coll<HostPteView> = { key: (p) => p.hva };
const PAGE: Coll<HostPageView> = { key: (p) => p.pfn };
const SPTE: Coll<SpteView> = { key: (x) => x.index };

/** Rmap identity as used by highlighting and the webview: "slot:level:gfn". */
export function rmapId(slot: number, level: number, gfn: number): string {
  return `${slot}:${level}:${gfn}`;
}

function sortedBy<T>(list: readonly T[], c: Coll<T>): T[] {
  const out = list.slice();
  out.sort((a, b) => cmpKey(c.key(a), c.key(b)));
  return out;
}

function isSortedByIndex(list: readonly SpteView[]): boolean {
  for (let i = 1; i < list.length; i++) if (list[i - 1].index > list[i].index) return false;
  return true;
}

/** A copy of the state with every keyed collection sorted by key (shares the item objects). */
export function normalizeState(s: StateView): StateView {
  return {
    ...s,
    vm: { ...s.vm },
    vcpus: sortedBy(s.vcpus, byId<VcpuView>()),
    shadowPages: sortedBy(s.shadowPages, byId<ShadowPageView>()).map((p) => (isSortedByIndex(p.sptes) ? p : { ...p, sptes: sortedBy(p.sptes, SPTE) })),
    memslots: sortedBy(s.memslots, byId<MemslotView>()).map((m) => ({ ...m, rmaps: sortedBy(m.rmaps, RMAP) })),
    host: { ptes: sortedBy(s.host.ptes, PTE), pages: sortedBy(s.host.pages, PAGE) },
    threads: s.threads.slice(),
  };
}

// ---------------------------------------------------------------------------------------------
// Equality
// ---------------------------------------------------------------------------------------------

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra);
  if (ka.length !== Object.keys(rb).length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(rb, k)) return false;
    if (!deepEqual(ra[k], rb[k])) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Compute
// ---------------------------------------------------------------------------------------------

type FieldPatch<T> = { set: Partial<T>; unset?: string[]; sptes?: KeyedDelta<SpteView> };

function isObjectArray(v: unknown): v is object[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'object' && x !== null);
}

function diffFields<T extends object>(a: T, b: T, skip?: string): FieldPatch<T> | null {
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const set: Record<string, unknown> = {};
  let changed = false;
  let unset: string[] | undefined;
  let sptes: KeyedDelta<SpteView> | undefined;
  for (const k of Object.keys(rb)) {
    if (k === skip) continue;
    if (k === 'sptes' && isObjectArray(ra[k]) && isObjectArray(rb[k])) {
      // Page tables hold up to 512 entries: send the entries that changed, keyed by index. (An rmap head's
      // `sptes` is a list of sptep strings, not SpteViews: it is compared and sent whole, below.)
      sptes = diffKeyed(ra[k] as SpteView[], rb[k] as SpteView[], SPTE);
      if (sptes) changed = true;
      continue;
    }
    if (!deepEqual(ra[k], rb[k])) {
      set[k] = rb[k];
      changed = true;
    }
  }
  for (const k of Object.keys(ra)) {
    if (k === skip) continue;
    if (!Object.prototype.hasOwnProperty.call(rb, k)) {
      (unset ??= []).push(k);
      changed = true;
    }
  }
  if (!changed) return null;
  const out: FieldPatch<T> = { set: set as Partial<T> };
  if (unset) out.unset = unset;
  if (sptes) out.sptes = sptes;
  return out;
}

function diffKeyed<T extends object>(prev: readonly T[], next: readonly T[], c: Coll<T>, skip?: string): KeyedDelta<T> | undefined {
  if (prev === next) return undefined;
  const before = new Map<string, T>();
  for (const t of prev) before.set(keyString(c.key(t)), t);
  const add: T[] = [];
  const patch: NonNullable<KeyedDelta<T>['patch']> = [];
  for (const t of next) {
    const k = c.key(t);
    const ks = keyString(k);
    const old = before.get(ks);
    if (old === undefined) add.push(t);
    else {
      before.delete(ks);
      if (old === t) continue;
      const d = diffFields(old, t, skip);
      if (d) patch.push({ key: k, ...d });
    }
  }
  const remove: Key[] = [];
  for (const t of before.values()) remove.push(c.key(t));
  if (!add.length && !patch.length && !remove.length) return undefined;
  const out: KeyedDelta<T> = {};
  if (add.length) out.add = add;
  if (patch.length) out.patch = patch;
  if (remove.length) out.remove = remove;
  return out;
}

export function spliceOf(a: readonly number[], b: readonly number[]): ArraySplice | null {
  if (a === b) return null;
  let start = 0;
  const min = Math.min(a.length, b.length);
  while (start < min && a[start] === b[start]) start++;
  if (start === a.length && start === b.length) return null;
  let tail = 0;
  while (tail < min - start && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  return { start, del: a.length - start - tail, ins: b.slice(start, b.length - tail) };
}

/** The change from `prev` to `next` (either may be un-normalised). */
export function computeDelta(prev: StateView, next: StateView): StateDelta {
  const d: StateDelta = { fromStep: prev.step, toStep: next.step };
  const top: NonNullable<StateDelta['top']> = {};
  if (prev.era !== next.era) top.era = next.era;
  if (prev.mmu !== next.mmu) top.mmu = next.mmu;
  if (prev.bug !== next.bug) top.bug = next.bug ?? null;
  if (prev.step !== next.step) top.step = next.step;
  if (Object.keys(top).length) d.top = top;

  if (prev.vm !== next.vm) {
    const set: Record<string, unknown> = {};
    const splice: Partial<Record<VmIdList, ArraySplice>> = {};
    const pv = prev.vm as unknown as Record<string, unknown>;
    const nv = next.vm as unknown as Record<string, unknown>;
    for (const k of Object.keys(nv)) {
      if ((VM_ID_LISTS as readonly string[]).includes(k) && Array.isArray(pv[k])) {
        const s = spliceOf(pv[k] as number[], nv[k] as number[]);
        if (s) splice[k as VmIdList] = s;
      } else if (!deepEqual(pv[k], nv[k])) set[k] = nv[k];
    }
    const vm: NonNullable<StateDelta['vm']> = {};
    if (Object.keys(set).length) vm.set = set as Partial<VmView>;
    if (Object.keys(splice).length) vm.splice = splice;
    if (vm.set || vm.splice) d.vm = vm;
  }

  const vcpus = diffKeyed(prev.vcpus, next.vcpus, byId<VcpuView>());
  if (vcpus) d.vcpus = vcpus;
  const sps = diffKeyed(prev.shadowPages, next.shadowPages, byId<ShadowPageView>());
  if (sps) d.shadowPages = sps;
  const memslots = diffKeyed(prev.memslots, next.memslots, byId<MemslotView>(), 'rmaps');
  if (memslots) d.memslots = memslots;
  if (prev.memslots !== next.memslots) {
    const before = new Map(prev.memslots.map((m) => [m.id, m]));
    const rmaps: NonNullable<StateDelta['rmaps']> = [];
    for (const m of next.memslots) {
      const old = before.get(m.id);
      if (!old) continue;
      const r = diffKeyed(old.rmaps, m.rmaps, RMAP);
      if (r) rmaps.push({ slot: m.id, delta: r });
    }
    if (rmaps.length) d.rmaps = rmaps;
  }
  if (prev.host !== next.host) {
    const ptes = diffKeyed(prev.host.ptes, next.host.ptes, PTE);
    if (ptes) d.hostPtes = ptes;
    const pages = diffKeyed(prev.host.pages, next.host.pages, PAGE);
    if (pages) d.hostPages = pages;
  }
  if (prev.threads !== next.threads && !deepEqual(prev.threads, next.threads)) d.threads = next.threads;
  return d;
}

export function isEmptyDelta(d: StateDelta): boolean {
  return Object.keys(d).every((k) => k === 'fromStep' || k === 'toStep');
}

// ---------------------------------------------------------------------------------------------
// Apply (in place, on a normalised state)
// ---------------------------------------------------------------------------------------------

/** Index of `k` in `list` (sorted by key), or `-(insertion point) - 1`. */
export function searchKeyed<T>(list: readonly T[], k: Key, key: (t: T) => Key): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = cmpKey(key(list[mid]), k);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

export interface KeyedApplied<T> {
  added: T[];
  removed: T[];
  modified: Array<{ before: T; after: T; fields: string[] }>;
}

function applyKeyed<T extends object>(list: T[], d: KeyedDelta<T> | undefined, c: Coll<T>): KeyedApplied<T> {
  const res: KeyedApplied<T> = { added: [], removed: [], modified: [] };
  if (!d) return res;
  for (const k of d.remove ?? []) {
    const i = searchKeyed(list, k, c.key);
    if (i >= 0) res.removed.push(...list.splice(i, 1));
  }
  for (const p of d.patch ?? []) {
    const i = searchKeyed(list, p.key, c.key);
    if (i < 0) continue;
    const before = list[i];
    const after = { ...before, ...p.set } as Record<string, unknown>;
    for (const u of p.unset ?? []) delete after[u];
    const fields = [...Object.keys(p.set), ...(p.unset ?? [])];
    if (p.sptes && Array.isArray(after.sptes)) {
      const sptes = (after.sptes as SpteView[]).slice();
      applyKeyed(sptes, p.sptes, SPTE);
      after.sptes = sptes;
      fields.push('sptes');
    }
    list[i] = after as T;
    res.modified.push({ before, after: after as T, fields });
  }
  for (const t of d.add ?? []) {
    const i = searchKeyed(list, c.key(t), c.key);
    if (i >= 0) list[i] = t;
    else list.splice(-i - 1, 0, t);
    res.added.push(t);
  }
  return res;
}

function applySplice(list: number[], s: ArraySplice): number[] {
  const out = list.slice();
  out.splice(s.start, s.del, ...s.ins);
  return out;
}

export interface AppliedDelta {
  vmFields: string[];
  vcpus: KeyedApplied<VcpuView>;
  shadowPages: KeyedApplied<ShadowPageView>;
  memslots: KeyedApplied<MemslotView>;
  rmaps: Array<{ slot: number } & KeyedApplied<RmapHeadView>>;
}

/**
 * Apply `d` to the normalised state `s` in place (new objects replace patched items, so references to the old
 * items stay valid). Returns what was added, removed and modified.
 */
export function applyDelta(s: StateView, d: StateDelta): AppliedDelta {
  if (d.top) {
    if (d.top.era !== undefined) s.era = d.top.era;
    if (d.top.mmu !== undefined) s.mmu = d.top.mmu;
    if (d.top.bug !== undefined) {
      if (d.top.bug === null) delete s.bug;
      else s.bug = d.top.bug;
    }
    if (d.top.step !== undefined) s.step = d.top.step;
  }
  const vmFields: string[] = [];
  if (d.vm) {
    const vm = { ...s.vm } as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(d.vm.set ?? {})) {
      vm[k] = v;
      vmFields.push(k);
    }
    for (const [k, sp] of Object.entries(d.vm.splice ?? {})) {
      if (!sp) continue;
      vm[k] = applySplice(Array.isArray(vm[k]) ? (vm[k] as number[]) : [], sp);
      vmFields.push(k);
    }
    s.vm = vm as unknown as VmView;
  }
  const vcpus = applyKeyed(s.vcpus, d.vcpus, byId<VcpuView>());
  const shadowPages = applyKeyed(s.shadowPages, d.shadowPages, byId<ShadowPageView>());
  // Added memslots arrive whole: sort their rmaps.
  if (d.memslots?.add) d.memslots.add = d.memslots.add.map((m) => ({ ...m, rmaps: sortedBy(m.rmaps, RMAP) }));
  const memslots = applyKeyed(s.memslots, d.memslots, byId<MemslotView>());
  const rmaps: AppliedDelta['rmaps'] = [];
  for (const r of d.rmaps ?? []) {
    const i = searchKeyed(s.memslots, r.slot, BY_ID.key);
    if (i < 0) continue;
    const m = { ...s.memslots[i], rmaps: s.memslots[i].rmaps };
    s.memslots[i] = m;
    rmaps.push({ slot: r.slot, ...applyKeyed(m.rmaps, r.delta, RMAP) });
  }
  if (d.hostPtes || d.hostPages) {
    s.host = { ptes: s.host.ptes, pages: s.host.pages };
    applyKeyed(s.host.ptes, d.hostPtes, PTE);
    applyKeyed(s.host.pages, d.hostPages, PAGE);
  }
  if (d.threads) s.threads = d.threads.slice();
  return { vmFields, vcpus, shadowPages, memslots, rmaps };
}

// ---------------------------------------------------------------------------------------------
// Change summary: what one step changed, by stable id, for highlighting in every section.
// ---------------------------------------------------------------------------------------------

export interface IdChanges<K extends string | number> {
  added: K[];
  removed: K[];
  modified: K[];
}

export interface ChangeSummary {
  fromStep: number;
  toStep: number;
  /** vm fields whose value changed (mmu_valid_gen, tdp_mmu_roots, mmu_lock ...). */
  vm: string[];
  vcpus: IdChanges<number>;
  /** Changed fields of modified vCPUs: [vcpu id, fields]. */
  vcpuFields: Array<[number, string[]]>;
  /** vCPU root slots: "vcpu:current" or "vcpu:prev0". */
  roots: IdChanges<string>;
  shadowPages: IdChanges<number>;
  spFields: Array<[number, string[]]>;
  /** "slot:level:gfn". */
  rmaps: IdChanges<string>;
  memslots: IdChanges<number>;
  /** "vcpu:tag". */
  tlb: IdChanges<string>;
  /** "vcpu:KVM_REQ_...". */
  requests: IdChanges<string>;
  /** mmu_lock holders: "thread:mode". */
  locks: IdChanges<string>;
  threads: IdChanges<string>;
}

function emptyIds<K extends string | number>(): IdChanges<K> {
  return { added: [], removed: [], modified: [] };
}

export function emptyChanges(step = 0): ChangeSummary {
  return {
    fromStep: step,
    toStep: step,
    vm: [],
    vcpus: emptyIds(),
    vcpuFields: [],
    roots: emptyIds(),
    shadowPages: emptyIds(),
    spFields: [],
    rmaps: emptyIds(),
    memslots: emptyIds(),
    tlb: emptyIds(),
    requests: emptyIds(),
    locks: emptyIds(),
    threads: emptyIds(),
  };
}

function setDiff<K extends string | number>(out: IdChanges<K>, before: Map<K, unknown>, after: Map<K, unknown>): void {
  for (const [k, v] of after) {
    if (!before.has(k)) out.added.push(k);
    else if (!deepEqual(before.get(k), v)) out.modified.push(k);
  }
  for (const k of before.keys()) if (!after.has(k)) out.removed.push(k);
}

function vcpuMaps(vcpus: readonly VcpuView[]) {
  const roots = new Map<string, unknown>();
  const tlb = new Map<string, unknown>();
  const reqs = new Map<string, unknown>();
  for (const v of vcpus) {
    if (v.root !== null) roots.set(`${v.id}:current`, v.root);
    v.prevRoots.forEach((r, i) => {
      if (r !== null) roots.set(`${v.id}:prev${i}`, r);
    });
    for (const t of v.tlb) tlb.set(`${v.id}:${t.tag}`, t);
    for (const r of v.requests) reqs.set(`${v.id}:${r as RequestName}`, true);
  }
  return { roots, tlb, reqs };
}

/** What changed from `prev` to `next`, by stable id. `delta` may be passed when already computed for the pair. */
export function summarizeChanges(prev: StateView, next: StateView, delta: StateDelta = computeDelta(prev, next)): ChangeSummary {
  const c = emptyChanges(next.step);
  c.fromStep = prev.step;
  c.vm = [...Object.keys(delta.vm?.set ?? {}), ...Object.keys(delta.vm?.splice ?? {})];
  const keyed = <T, K extends string | number>(d: KeyedDelta<T> | undefined, key: (t: T) => K, out: IdChanges<K>, fields?: Array<[K, string[]]>) => {
    if (!d) return;
    for (const t of d.add ?? []) out.added.push(key(t));
    for (const k of d.remove ?? []) out.removed.push(k as K);
    for (const p of d.patch ?? []) {
      out.modified.push(p.key as K);
      fields?.push([p.key as K, [...Object.keys(p.set), ...(p.unset ?? []), ...(p.sptes ? ['sptes'] : [])]]);
    }
  };
  keyed(delta.vcpus, (v) => v.id, c.vcpus, c.vcpuFields);
  keyed(delta.shadowPages, (s) => s.id, c.shadowPages, c.spFields);
  keyed(delta.memslots, (m) => m.id, c.memslots);
  for (const r of delta.rmaps ?? []) {
    const d = r.delta;
    for (const t of d.add ?? []) c.rmaps.added.push(rmapId(r.slot, t.level, t.gfn));
    for (const k of d.remove ?? []) if (Array.isArray(k)) c.rmaps.removed.push(rmapId(r.slot, k[0], k[1]));
    for (const p of d.patch ?? []) if (Array.isArray(p.key)) c.rmaps.modified.push(rmapId(r.slot, p.key[0], p.key[1]));
  }
  for (const m of delta.memslots?.add ?? []) for (const r of m.rmaps) c.rmaps.added.push(rmapId(m.id, r.level, r.gfn));
  for (const id of delta.memslots?.remove ?? []) {
    const m = prev.memslots.find((x) => x.id === id);
    for (const r of m?.rmaps ?? []) c.rmaps.removed.push(rmapId(m!.id, r.level, r.gfn));
  }
  if (delta.vcpus) {
    const a = vcpuMaps(prev.vcpus);
    const b = vcpuMaps(next.vcpus);
    setDiff(c.roots, a.roots, b.roots);
    setDiff(c.tlb, a.tlb, b.tlb);
    setDiff(c.requests, a.reqs, b.reqs);
  }
  if (delta.vm?.set?.mmu_lock) {
    const m = (l: VmView['mmu_lock']) => new Map<string, unknown>(l.holders.map((h) => [`${h.thread}:${h.mode}`, true]));
    setDiff(c.locks, m(prev.vm.mmu_lock), m(next.vm.mmu_lock));
  }
  if (delta.threads) {
    const m = (t: readonly ThreadView[]) => new Map<string, unknown>(t.map((x) => [x.id, x]));
    setDiff(c.threads, m(prev.threads), m(next.threads));
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Generations timeline
// ---------------------------------------------------------------------------------------------

export type GenerationMark = 'fast-zap' | 'commit' | 'gen-change';

export interface GenerationPoint {
  step: number;
  gen: number;
  /** Live pages of the current generation. */
  live: number;
  /** Pages still allocated but obsolete or invalid. */
  obsolete: number;
  /** Pages zapped and waiting to be freed (invalid list / zapped_obsolete_pages). */
  zapped: number;
  marks: GenerationMark[];
}

const FAST_ZAP_FNS = new Set(['kvm_mmu_zap_all_fast', 'kvm_mmu_invalidate_zap_all_pages', 'kvm_zap_obsolete_pages']);
const COMMIT_FNS = new Set(['kvm_mmu_commit_zap_page', 'kvm_mmu_free_roots', 'kvm_tdp_mmu_zap_invalidated_roots']);

/** One point of the generation timeline for the state after `record` (host side, per step). */
export function summarizeGeneration(state: StateView, record?: StepRecord | null, prevGen?: number): GenerationPoint {
  let live = 0;
  let obsolete = 0;
  let zapped = 0;
  for (const sp of state.shadowPages) {
    if (sp.lifetime === 'invalid-list') zapped++;
    else if (sp.lifetime === 'live') {
      if (sp.obsolete || sp.invalid) obsolete++;
      else live++;
    }
  }
  zapped = Math.max(zapped, state.vm.zapped_obsolete_pages.length);
  const marks = new Set<GenerationMark>();
  for (const e of record?.events ?? []) {
    if (e.kind === 'call' || e.kind === 'point') {
      if (FAST_ZAP_FNS.has(e.frame.fn)) marks.add('fast-zap');
      if (COMMIT_FNS.has(e.frame.fn)) marks.add('commit');
    } else if (e.kind === 'effect') {
      if (e.effect.kind === 'vm-field' && e.effect.field === 'mmu_valid_gen') marks.add('gen-change');
      if (e.effect.kind === 'sp-state' && e.effect.to === 'freed') marks.add('commit');
    }
  }
  if (prevGen !== undefined && prevGen !== state.vm.mmu_valid_gen) marks.add('gen-change');
  return { step: state.step, gen: state.vm.mmu_valid_gen, live, obsolete, zapped, marks: [...marks] };
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/** Shadow page id named by a root or object string ("sp#12", "sp12", "12"), or null. */
export function parseSpRef(s: string | null | undefined): number | null {
  if (s === null || s === undefined) return null;
  const m = /^\s*(?:sp\s*#?\s*)?(\d+)\s*$/i.exec(s);
  return m ? Number(m[1]) : null;
}

/** The shadow page and index an sptep string names ("sp#12[3]", "sp12[3]", "sp#12:3", "12/3"), or null. */
export function parseSptep(s: string): { sp: number; index: number } | null {
  const m = /^\s*(?:sp\s*#?\s*)?(\d+)\s*(?:\[\s*(\d+)\s*\]|[:/.]\s*(\d+))\s*$/i.exec(s);
  if (!m) return null;
  return { sp: Number(m[1]), index: Number(m[2] ?? m[3]) };
}

export function hex(n: number): string {
  return '0x' + n.toString(16);
}

/** Parse a gfn typed by the user: "0x1a", "1aH"? no: hex needs 0x or a-f letters; plain digits are decimal. */
export function parseGfn(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (/^0x[0-9a-f]{1,13}$/.test(t)) return parseInt(t.slice(2), 16);
  if (/^[0-9]{1,15}$/.test(t)) return Number(t);
  if (/^[0-9a-f]{1,13}$/.test(t)) return parseInt(t, 16);
  return null;
}

export type { MemslotConfig };
