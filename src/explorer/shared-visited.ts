/**
 * The explorer's visited table shared between worker threads: open addressing (linear probing) in a
 * SharedArrayBuffer, read and written only through Atomics.
 *
 * Layout (Int32 words): a header [count, maxEntries, slots, generation] then one entry of ENTRY_WORDS per
 * slot:
 *   tag   generation << 3 | flags. A slot of another generation is empty (reset() starts a new generation,
 *         so a pool reuses one table without clearing it: its pages are already mapped); flags:
 *         PUB = the key words are written (they never change afterwards); LOCK = an update
 *         (or the insert) is in progress; GONE = the state was forgotten (an audit failed) and counts as
 *         absent. The tag is the entry's lock word (Atomics.compareExchange); critical sections are a few
 *         loads and stores, so waiting is a spin (with a short sleep when the holder was descheduled).
 *   lo hi the 53-bit state key as two 32-bit words (key 0 is valid; occupancy is the tag)
 *   p d   preemptions and depth of the visit that was last explored in full (see explorer.ts VisitedStore)
 *   sleep the intersection of the sleep sets of the visits (bitmask of thread numbers)
 * The table holds at most maxEntries states in a power-of-two number of slots >= maxEntries * 4/3, so a
 * probe always ends at an empty slot; when count reaches maxEntries, visit() of a new key is VISIT_FULL.
 */
import { VISIT_EXPLORE, VISIT_FRESH, VISIT_FULL, type VisitedStore } from './explorer';

const HEADER = 4;
const H_COUNT = 0;
const H_MAX = 1;
const H_SLOTS = 2;
const H_GEN = 3;
const FLAGS = 7;
const MAX_GEN = 1 << 27;
export const ENTRY_WORDS = 6;
const PUB = 1;
const LOCK = 2;
const GONE = 4;
const TWO32 = 4294967296;

/** Default capacity: 2^20 states (about 48 MiB of address space; pages are touched only when used). */
export const DEFAULT_CAPACITY = 1 << 20;

export interface SharedVisitedEntry { key: number; p: number; d: number; sleep: number }

export class SharedVisited implements VisitedStore {
  private readonly w: Int32Array;
  private readonly mask: number;
  private readonly max: number;
  /** This generation's tag bits. */
  private g: number;

  private constructor(readonly buffer: SharedArrayBuffer) {
    this.w = new Int32Array(buffer);
    const slots = Atomics.load(this.w, H_SLOTS);
    if (slots <= 0 || (slots & (slots - 1)) !== 0 || this.w.length < HEADER + slots * ENTRY_WORDS) throw new Error('SharedVisited: not a visited-table buffer');
    this.mask = slots - 1;
    this.max = Atomics.load(this.w, H_MAX);
    this.g = Atomics.load(this.w, H_GEN) << 3;
  }

  /** A new, empty table for up to `capacity` states. */
  static create(capacity = DEFAULT_CAPACITY): SharedVisited {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 26) throw new Error(`SharedVisited: capacity must be an integer in 1..${1 << 26} (got ${capacity})`);
    let slots = 4;
    while (slots < Math.ceil(capacity * 4 / 3) + 1) slots *= 2;
    const buffer = new SharedArrayBuffer((HEADER + slots * ENTRY_WORDS) * 4);
    const w = new Int32Array(buffer);
    w[H_MAX] = capacity;
    w[H_SLOTS] = slots;
    w[H_GEN] = 1;
    return new SharedVisited(buffer);
  }

  /**
   * Empties the table for the next search by starting a new generation. Only while no other thread uses
   * it; they attach() again afterwards.
   */
  reset(): void {
    const w = this.w;
    let gen = Atomics.load(w, H_GEN) + 1;
    if (gen >= MAX_GEN) { w.fill(0, HEADER); gen = 1; }
    Atomics.store(w, H_GEN, gen);
    Atomics.store(w, H_COUNT, 0);
    this.g = gen << 3;
  }

  /** The same table seen from another thread (the buffer was posted to it). */
  static attach(buffer: SharedArrayBuffer): SharedVisited { return new SharedVisited(buffer); }

  get size(): number { return Atomics.load(this.w, H_COUNT); }
  get capacity(): number { return this.max; }
  get slots(): number { return this.mask + 1; }

  visit(key: number, p: number, d: number, sleep: number): number {
    const at = this.find(key, true);
    if (at < 0) return VISIT_FULL;
    const w = this.w;
    const tag = this.lock(at);
    if (tag & GONE || !(tag & PUB)) {
      // a fresh insert (tag was claimed by find) or a forgotten state coming back: (re)initialise
      if (tag & GONE) {
        if (Atomics.add(w, H_COUNT, 1) >= this.max) { Atomics.sub(w, H_COUNT, 1); Atomics.store(w, at, tag); return VISIT_FULL; }
      }
      Atomics.store(w, at + 3, p);
      Atomics.store(w, at + 4, d);
      Atomics.store(w, at + 5, sleep);
      Atomics.store(w, at, this.g | PUB);
      return VISIT_FRESH;
    }
    const sp = Atomics.load(w, at + 3);
    const sd = Atomics.load(w, at + 4);
    const ss = Atomics.load(w, at + 5);
    Atomics.store(w, at + 5, ss & sleep);
    let out: number;
    if (p >= sp && d >= sd) out = (ss & ~sleep) >>> 0;
    else {
      // keep the budgets of this visit (explored in full): the per-coordinate minimum of two
      // incomparable visits is a budget no visit had, and would wrongly dominate later arrivals
      Atomics.store(w, at + 3, p);
      Atomics.store(w, at + 4, d);
      out = VISIT_EXPLORE;
    }
    Atomics.store(w, at, tag);
    return out;
  }

  forget(key: number): void {
    const at = this.find(key, false);
    if (at < 0) return;
    const tag = this.lock(at);
    if (!(tag & GONE)) Atomics.sub(this.w, H_COUNT, 1);
    Atomics.store(this.w, at, tag | GONE);
  }

  has(key: number): boolean {
    const at = this.find(key, false);
    return at >= 0 && !(Atomics.load(this.w, at) & GONE);
  }

  get(key: number): SharedVisitedEntry | undefined {
    const at = this.find(key, false);
    if (at < 0) return undefined;
    const tag = this.lock(at);
    const e = tag & GONE ? undefined : { key, p: Atomics.load(this.w, at + 3), d: Atomics.load(this.w, at + 4), sleep: Atomics.load(this.w, at + 5) >>> 0 };
    Atomics.store(this.w, at, tag);
    return e;
  }

  /** Every present entry (a snapshot; for tests and diagnostics, not while workers write). */
  *entries(): IterableIterator<SharedVisitedEntry> {
    const w = this.w;
    for (let s = 0; s <= this.mask; s++) {
      const at = HEADER + s * ENTRY_WORDS;
      const tag = Atomics.load(w, at);
      if ((tag & ~FLAGS) !== this.g || !(tag & PUB) || tag & GONE) continue;
      yield { key: (Atomics.load(w, at + 2) >>> 0) * TWO32 + (Atomics.load(w, at + 1) >>> 0), p: Atomics.load(w, at + 3), d: Atomics.load(w, at + 4), sleep: Atomics.load(w, at + 5) >>> 0 };
    }
  }

  /**
   * The entry index of `key`. With `claim`, an absent key gets a new entry, returned locked and not yet
   * published (the caller fills it in); -1 when it is absent and (with claim) the table is full.
   */
  private find(key: number, claim: boolean): number {
    if (!(key >= 0 && key < 2 ** 53) || key !== Math.floor(key)) throw new Error(`SharedVisited: key must be an integer in [0, 2^53) (got ${key})`);
    const lo = key >>> 0;
    const hi = (key - lo) / TWO32;
    const w = this.w;
    const g = this.g;
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    let s = (h ^ (h >>> 16)) & this.mask;
    for (let probes = 0; probes <= this.mask; probes++, s = (s + 1) & this.mask) {
      const at = HEADER + s * ENTRY_WORDS;
      let tag = Atomics.load(w, at);
      if ((tag & ~FLAGS) !== g) {
        // empty in this generation
        if (!claim) return -1;
        if (Atomics.load(w, H_COUNT) >= this.max) return -1;
        if (Atomics.compareExchange(w, at, tag, g | LOCK) === tag) {
          if (Atomics.add(w, H_COUNT, 1) >= this.max) {
            // lost the race for the last entries: give the slot back
            Atomics.sub(w, H_COUNT, 1);
            Atomics.store(w, at, tag);
            return -1;
          }
          Atomics.store(w, at + 1, lo);
          Atomics.store(w, at + 2, hi);
          // still locked and unpublished: visit() fills it in and publishes it
          return at;
        }
        tag = Atomics.load(w, at);
      }
      // claimed by another thread: wait until its key is written (or the claim was given back)
      for (let spins = 0; (tag & ~FLAGS) === g && !(tag & PUB); spins++) { pause(w, at, tag, spins); tag = Atomics.load(w, at); }
      if ((tag & ~FLAGS) !== g) { s = (s - 1) & this.mask; probes--; continue; }
      if (Atomics.load(w, at + 1) === (lo | 0) && Atomics.load(w, at + 2) === hi) return at;
    }
    return -1;
  }

  /** Locks a published entry (or returns the caller's own claimed one as is); returns its tag without LOCK. */
  private lock(at: number): number {
    const w = this.w;
    for (let spins = 0; ; spins++) {
      const tag = Atomics.load(w, at);
      if (tag === (this.g | LOCK)) {
        // find() just claimed it for us: it is unpublished and ours
        // (others wait on !(tag & PUB) in find() and never lock an unpublished entry)
        return this.g;
      }
      if (!(tag & LOCK) && Atomics.compareExchange(w, at, tag, tag | LOCK) === tag) return tag;
      pause(w, at, tag, spins);
    }
  }
}

/** Spin briefly, then sleep a few microseconds so that a descheduled lock holder can run. */
function pause(w: Int32Array, at: number, tag: number, spins: number): void {
  if (spins > 64) Atomics.wait(w, at, tag, 0.02);
}
