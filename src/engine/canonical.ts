/**
 * The canonical form of an engine state, defined once and consumed by two sinks:
 *  - HashSink folds it into two independent 32-bit hashes with no string building (the explorer asks for
 *    a state key after every step, so this is on its hottest path);
 *  - TextSink writes it as readable text (tests and debugging: two states have equal keys exactly when
 *    their texts are equal, up to hash collisions).
 *
 * What is in it: everything that can change what happens next, and nothing else. Shadow-page ids are
 * renumbered densely in ascending id order (sptep values and root/parent references included), so two
 * paths that allocated and freed a different number of pages on the way meet in one state. Bookkeeping
 * that never feeds back into behaviour (statistics, the lock-held op counter used by the benchmark) is
 * left out; so are values derived from others (nPresent, host.maps, host.mapped).
 */
import type { Kvm } from './kvm';
import { ACC, ACC_ALL } from './access';
import { DESC_BASE, PFN_FIRST, SP_PFN_BASE, sptePfn, type HostRegion, type Slot, type Sp, type GuestPageTables } from './state';

export interface CanonicalSink {
  /** A number (integers up to 2^53, negative allowed). */
  n(x: number): void;
  /** A string or null (interned names: threads, points, requests, lock modes). */
  s(x: string | null): void;
  /** Start of a section (one letter): keeps adjacent variable-length lists unambiguous. */
  tag(c: string): void;
  /** The sink accepts sub-hashes of whole tables (answered from the version caches) instead of their entries. */
  readonly cached: boolean;
}

/** Per-thread scheduler state the engine adds to the VM state. */
export interface CanonicalThread {
  id: string;
  opIndex: number;
  /** The preemption point the thread is parked at, or null between operations. */
  pending: string | null;
  /** Frames, outermost first: function and last point reached (hidden frames, fn '', are skipped). */
  frames: ReadonlyArray<{ fn: string; point?: string }>;
  held: string | null;
}

// Renumbering scratch: rank of each live shadow-page id (ids are small dense integers).
let rankOf = new Int32Array(256);

/**
 * Ranks the live page ids into rankOf. Returns null when the map already iterates in ascending id
 * order (pages are inserted as they are allocated, and copies keep the order), else the sorted ids.
 */
function renumber(kvm: Kvm): number[] | null {
  const sps = kvm.raw.sps;
  let sorted = true, prev = -1;
  for (const id of sps.keys()) { if (id < prev) { sorted = false; break; } prev = id; }
  if (kvm.raw.nextSpId > rankOf.length) rankOf = new Int32Array(Math.max(kvm.raw.nextSpId, rankOf.length * 2));
  if (sorted) {
    let k = 0;
    for (const id of sps.keys()) rankOf[id] = k++;
    return null;
  }
  const ids = [...sps.keys()].sort((x, y) => x - y);
  for (let k = 0; k < ids.length; k++) rankOf[ids[k]!] = k;
  return ids;
}

/** Renumbered shadow-page id (-1 for none, -2 for an id that is not live). */
function ren(kvm: Kvm, id: number): number {
  if (id < 0) return -1;
  return kvm.raw.sps.has(id) ? rankOf[id]! : -2;
}

/** A sptep (address of an SPTE inside a shadow page's table) with its page renumbered. */
function renSptep(kvm: Kvm, sptep: number): number {
  const spId = Math.floor(sptep / 4096) - SP_PFN_BASE;
  return ren(kvm, spId) * 512 + (sptep % 4096) / 8;
}

/** A pte_list head word (rmap or parent_ptes): its entries in order, and the shape of its desc chain. */
function emitList(kvm: Kvm, head: number, sink: CanonicalSink): void {
  if (head === 0) { sink.n(0); return; }
  if (head % 2 === 0) { sink.n(1); sink.n(renSptep(kvm, head)); return; }
  let id = (head - 1 - DESC_BASE) / 128;
  let descs = 0;
  for (let d = id; d > 0; d = kvm.raw.descs.get(d)!.more) descs++;
  sink.n(2 + descs);
  for (; id > 0;) {
    const d = kvm.raw.descs.get(id)!;
    sink.n(d.sptes.length);
    for (const e of d.sptes) sink.n(renSptep(kvm, e));
    id = d.more;
  }
}

function emitSp(kvm: Kvm, sp: Sp, sink: CanonicalSink): void {
  sink.tag('S');
  sink.n(sp.gfn); sink.n(sp.role); sink.n(sp.level);
  sink.n((sp.tdp ? 1 : 0) | (sp.direct ? 2 : 0) | (sp.nested ? 4 : 0) | (sp.unsync ? 8 : 0) | (sp.invalid ? 16 : 0)
    | (sp.inHash ? 32 : 0) | (sp.scheduledToZap ? 64 : 0) | (sp.onActive ? 128 : 0));
  sink.n(sp.unsyncChildren); sink.n(sp.rootCount); sink.n(sp.gen); sink.n(sp.life); sink.n(sp.writeFlooding);
  sink.n(ren(kvm, sp.rootId));
  sink.n(sp.unsyncBitmap.length);
  for (const b of sp.unsyncBitmap) sink.n(b);
  emitList(kvm, sp.parentPtes, sink);
  if (sp.gfns) {
    sink.n(sp.gfns.size);
    for (const [i, g] of sp.gfns) { sink.n(i); sink.n(g); }
  } else sink.n(-1);
  const spt = sp.spt;
  if (!spt) { sink.n(-1); return; }
  if (sink.cached) {
    // leaf entries: the hash kept on the page (Kvm.setSpte); non-leaf entries name a page,
    // renumbered on every walk, listed by the page's kept index
    sink.n(sp.lh1); sink.n(sp.lh2);
    const nl = sp.nonLeafIdx;
    for (let k = 0; k < nl.length; k++) {
      const i = nl[k]!, v = spt[i]!;
      sink.n(i); sink.n(-3); sink.n(ren(kvm, sptePfn(v) - SP_PFN_BASE)); sink.n(v % 4096);
    }
    sink.n(-4);
    return;
  }
  for (let i = 0; i < 512; i++) {
    const v = spt[i]!;
    if (v === 0) continue;
    sink.n(i);
    if (kvm.isLeaf(sp, v)) sink.n(v);
    else { sink.n(-3); sink.n(ren(kvm, sptePfn(v) - SP_PFN_BASE)); sink.n(v % 4096); }
  }
  sink.n(-4);
}

// -------------------------------------------------------------------------------------------------
// Scan caches, keyed by content version (state.ts writeVersion): a state differs from the previous one
// in a few arrays, so most scans of rmap arrays are answered from here.
// -------------------------------------------------------------------------------------------------

const rmapScans = new Map<number, number[]>();
const MAX_CACHED = 200_000;

/** Forget every cached scan (tests: a key computed after this must equal the cached one). */
export function clearCanonicalCaches(): void {
  rmapScans.clear();
  guestPtHashes = new WeakMap();
}

function bounded<K, V>(m: Map<K, V>): Map<K, V> { if (m.size >= MAX_CACHED) m.clear(); return m; }

function emitRegion(r: HostRegion, sink: CanonicalSink): void {
  // the hash sink takes the region's incrementally kept hash (state.ts setHostEntry)
  if (sink.cached) { sink.n(r.zh1); sink.n(r.zh2); return; }
  for (let k = 0; k < r.n; k++) {
    if (r.pte[k] !== 0 || r.last[k] !== 0) { sink.n(k); sink.n(r.pte[k]!); sink.n(r.last[k]!); }
  }
}

/** Positions (level index, array index) of the non-empty rmap heads of a slot (cached by content version). */
export function rmapHeads(m: Slot): number[] {
  const c = m.rver > 0 ? rmapScans.get(m.rver) : undefined;
  if (c) return c;
  const out: number[] = [];
  for (let li = 0; li < m.rmap.length; li++) {
    const a = m.rmap[li];
    if (!a) continue;
    for (let k = 0; k < a.length; k++) if (a[k] !== 0) out.push(li, k);
  }
  if (m.rver > 0) bounded(rmapScans).set(m.rver, out);
  return out;
}

/**
 * A map's keys in ascending order: its own key iterator when insertion order already is ascending (the
 * usual case for guest page tables, written once at start-up), else a sorted copy.
 */
function ascendingKeys(m: ReadonlyMap<number, unknown>): Iterable<number> {
  let prev = -Infinity;
  for (const k of m.keys()) { if (k < prev) return [...m.keys()].sort((a, b) => a - b); prev = k; }
  return m.keys();
}

/**
 * Sections of the canonical form that the hash sink takes as sub-hashes, each with the access
 * categories (access.ts) whose writes can change it. Renumbered page ids appear in all but the host
 * section, so those depend on SPS too; parent_ptes chains live in the descriptor table (SLOTS).
 */
const SECTION_PAGES = 0, SECTION_VCPUS = 1, SECTION_SLOTS = 2, SECTION_HOST = 3, SECTIONS = 4;
const SECTION_DEPS = [ACC.SPS | ACC.SLOTS | ACC.TDP_ROOTS | ACC.WORKQ, ACC.VCPUS | ACC.SPS, ACC.SLOTS | ACC.SPS, ACC.HOST];

/**
 * One engine's section sub-hashes between two keys. The engine ORs every step's written categories into
 * `dirty` (ACC_ALL after a restore); a section is hashed again only when a category it depends on was
 * written. Whether a section comes from here or is hashed afresh, the key is the same function of the
 * state (the tests compare cached keys with fresh ones along random paths).
 */
export class SectionCache {
  dirty = ACC_ALL;
  readonly h = new Int32Array(2 * SECTIONS);
}

/** The sink sections are hashed into (made on first use: HashSink is declared further down). */
let scratchSink: HashSink | null = null;

/** A section: in full to a text sink, as a (cached or fresh) sub-hash to a hash sink. */
function emitSection(kvm: Kvm, sink: CanonicalSink, ids: readonly number[] | null, section: number, cache: SectionCache | undefined): void {
  if (!sink.cached) { writeSection(kvm, sink, ids, section); return; }
  if (cache === undefined || (cache.dirty & SECTION_DEPS[section]!) !== 0) {
    const sub = scratchSink ??= new HashSink();
    sub.reset();
    writeSection(kvm, sub, ids, section);
    if (cache === undefined) { sink.n(sub.h1); sink.n(sub.h2); return; }
    cache.h[2 * section] = sub.h1; cache.h[2 * section + 1] = sub.h2;
  }
  sink.n(cache.h[2 * section]!); sink.n(cache.h[2 * section + 1]!);
}

function writeSection(kvm: Kvm, sink: CanonicalSink, ids: readonly number[] | null, section: number): void {
  const s = kvm.raw;
  switch (section) {
    case SECTION_PAGES:
      sink.tag('A');
      for (let id = s.activeHead; id >= 0; id = s.sps.get(id)!.nextA) sink.n(ren(kvm, id));
      sink.tag('T');
      for (const id of s.tdpRoots) sink.n(ren(kvm, id));
      sink.tag('W');
      for (const id of s.workQueue) sink.n(ren(kvm, id));
      sink.tag('Z');
      for (const id of s.zappedObsolete) sink.n(ren(kvm, id));
      if (ids) for (const id of ids) emitSp(kvm, s.sps.get(id)!, sink);
      else for (const sp of s.sps.values()) emitSp(kvm, sp, sink);
      return;
    case SECTION_VCPUS:
      for (const v of s.vcpus) {
        sink.tag('C');
        sink.n(ren(kvm, v.root)); sink.n(v.rootPgd); sink.n(ren(kvm, v.l2Root)); sink.n(v.cr3);
        sink.n((v.inGuest ? 1 : 0) | (v.guestMode ? 2 : 0) | (v.loadFlushPending ? 4 : 0));
        for (const p of v.prev) { sink.n(ren(kvm, p.hpa)); sink.n(p.pgd); }
        sink.n(v.requests.length);
        for (const r of v.requests) sink.s(r);
        sink.n(v.tlb.length);
        for (const e of v.tlb) { sink.n(ren(kvm, e.tag)); sink.n(e.key); sink.n(e.pfn); sink.n(e.w ? 1 : 0); }
        for (const k in v.modeBits) { if (v.modeBits[k]) sink.s(k); }
      }
      return;
    case SECTION_SLOTS:
      for (const m of s.memslots) {
        sink.tag('M');
        sink.n(m.id); sink.n(m.baseGfn); sink.n(m.npages); sink.n(m.invalid ? 1 : 0);
        sink.tag('L');
        const heads = rmapHeads(m);
        for (let j = 0; j < heads.length; j += 2) {
          const li = heads[j]!, k = heads[j + 1]!;
          sink.n(li); sink.n(k);
          emitList(kvm, m.rmap[li]![k]!, sink);
        }
        sink.tag('P');
        for (let li = 0; li < m.lpage.length; li++) {
          const a = m.lpage[li]!;
          for (let k = 0; k < a.length; k++) if (a[k] !== 0) { sink.n(li); sink.n(k); sink.n(a[k]!); }
        }
      }
      return;
    case SECTION_HOST: {
      sink.tag('H');
      for (const r of s.host.regions) {
        sink.n(r.base); sink.n(r.n);
        emitRegion(r, sink);
        sink.n(-1);
      }
      sink.tag('R');
      const h = s.host;
      sink.n(h.nextPfn);
      for (let k = 0; k < h.nextPfn - PFN_FIRST; k++) { sink.n(h.ref[k]!); sink.n(h.state[k]!); }
      return;
    }
  }
}

/**
 * Walk the canonical form of the VM state (and the threads, when given) into `sink`. With `cache`
 * (hash sinks only), sections no write has touched since the last walk are taken from it.
 */
export function walkCanonical(kvm: Kvm, sink: CanonicalSink, threads?: readonly CanonicalThread[], cache?: SectionCache): void {
  const s = kvm.raw;
  const ids = renumber(kvm);
  sink.tag('V');
  sink.n(s.gen); sink.n(s.nUsed); sink.n(s.nMax); sink.n(s.seq); sink.n(s.inProgress); sink.n(s.rangeStart); sink.n(s.rangeEnd);
  sink.n(s.indirectShadowPages); sink.n(s.srcuReaders);
  sink.n((s.flushPending ? 1 : 0) | (s.nxHugePages ? 2 : 0) | (s.destroyed ? 4 : 0) | (s.shadowRootAllocated ? 8 : 0) | (kvm.workerBusy ? 16 : 0));
  sink.s(s.rt3Window);
  sink.s(s.lock.writer); sink.s(s.lock.writerMode);
  sink.n(s.lock.readers.length);
  for (const r of s.lock.readers) sink.s(r);
  for (let section = 0; section < SECTIONS; section++) emitSection(kvm, sink, ids, section, cache);
  if (cache) cache.dirty = 0;
  if (s.guestPt.size) {
    sink.tag('G');
    emitGuestPageTables(s.guestPt, sink);
  }
  if (threads) for (const t of threads) { sink.tag('t'); emitThread(t, sink); }
}

let guestPtHashes = new WeakMap<GuestPageTables, [number, number]>();

/**
 * The guest page tables; the hash sink takes their sub-hash, cached by identity (the tables are
 * immutable and shared by copies of the state, and most steps do not write them).
 */
function emitGuestPageTables(gpt: GuestPageTables, sink: CanonicalSink): void {
  if (sink.cached) {
    let h = guestPtHashes.get(gpt);
    if (h === undefined) {
      const sub = new HashSink();
      writeGuestPageTables(gpt, sub);
      h = [sub.h1, sub.h2];
      guestPtHashes.set(gpt, h);
    }
    sink.n(h[0]); sink.n(h[1]);
    return;
  }
  writeGuestPageTables(gpt, sink);
}

function writeGuestPageTables(gpt: GuestPageTables, sink: CanonicalSink): void {
  for (const gfn of ascendingKeys(gpt)) {
    const pt = gpt.get(gfn)!;
    sink.n(gfn); sink.n(pt.level);
    for (const i of ascendingKeys(pt.entries)) {
      const e = pt.entries.get(i)!;
      sink.n(i); sink.n(e.gfn); sink.n((e.present ? 1 : 0) | (e.writable ? 2 : 0) | (e.user ? 4 : 0) | (e.huge ? 8 : 0));
    }
    sink.n(-1);
  }
}

/** One thread's scheduler state (the engine hashes it once per step of that thread and caches it). */
export function emitThread(t: CanonicalThread, sink: CanonicalSink): void {
  sink.s(t.id); sink.n(t.opIndex); sink.s(t.pending); sink.s(t.held);
  let reported = 0;
  for (const f of t.frames) if (f.fn !== '') reported++;
  sink.n(reported);
  for (const f of t.frames) if (f.fn !== '') { sink.s(f.fn); sink.s(f.point ?? null); }
}

// -------------------------------------------------------------------------------------------------
// Sinks
// -------------------------------------------------------------------------------------------------

const MARK_WIDE = 0x5f3759df;
const strHashes = new Map<string, number>();

function hashString(x: string): number {
  let h = strHashes.get(x);
  if (h === undefined) {
    h = 0x811c9dc5 ^ x.length;
    for (let i = 0; i < x.length; i++) { h ^= x.charCodeAt(i); h = Math.imul(h, 16777619); }
    h |= 0;
    // names come from a fixed vocabulary (functions, points, threads, requests); the bound only keeps
    // a pathological scenario from growing the cache without limit
    if (strHashes.size > 50_000) strHashes.clear();
    strHashes.set(x, h);
  }
  return h;
}

/** Two independent murmur3-style lanes over the 32-bit words of the canonical form. */
export class HashSink implements CanonicalSink {
  readonly cached = true;
  h1 = 0x9747b28c | 0;
  h2 = 0x2545f491 | 0;

  reset(): void { this.h1 = 0x9747b28c | 0; this.h2 = 0x2545f491 | 0; }

  private word(w: number): void {
    let k = Math.imul(w, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    let h = this.h1 ^ k;
    h = (h << 13) | (h >>> 19);
    this.h1 = (Math.imul(h, 5) + 0xe6546b64) | 0;
    let j = Math.imul(w ^ 0x7feb352d, 0x846ca68b);
    j ^= j >>> 16;
    this.h2 = Math.imul(this.h2 ^ j, 0x01000193) + 0x3c6ef372 | 0;
  }

  n(x: number): void {
    if ((x | 0) === x) { this.word(x); return; }
    // wider than 32 bits (SPTE values, pfns in SPTEs): low word, high word, marker
    this.word(x >>> 0);
    this.word(Math.floor(x / 4294967296) | 0);
    this.word(MARK_WIDE);
  }

  s(x: string | null): void { this.word(x === null ? 0x1b56c4e9 : hashString(x)); }

  tag(c: string): void { this.word(0x27d4eb2f ^ c.charCodeAt(0)); }

  /** Both lanes folded into 53 bits: a Map key without a string. */
  key(): number { return (this.h1 >>> 0) * 2097152 + (this.h2 >>> 11); }

  hex(): string { return (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0'); }
}

/** Readable text of the canonical form (one section per line). */
export class TextSink implements CanonicalSink {
  readonly cached = false;
  private out: string[] = [];
  n(x: number): void { this.out.push(String(x)); }
  s(x: string | null): void { this.out.push(x === null ? '~' : JSON.stringify(x)); }
  tag(c: string): void { this.out.push('\n' + c); }
  text(): string { return this.out.join(' ').replace(/ \n/g, '\n').replace(/^\n/, ''); }
}
