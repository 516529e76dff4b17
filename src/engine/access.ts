/**
 * Which parts of the VM state a step read and wrote, as bitmasks over a few categories. The explorer's
 * partial-order reduction needs them: two steps commute when neither writes a category the other reads
 * or writes.
 *
 * The model code in kvm.ts reaches all shared state through `this.s`, which is a TrackedVm: every field
 * access goes through an accessor that ORs the field's category into `rd` (get) or `wr` (set). Writes
 * nested inside a field (an SPTE, an rmap array, the lock's owner) do not pass a setter; the engine
 * adds the categories of the step's trace effects instead (effectAccess), since every model mutation
 * is recorded as an effect. The access tests check both halves: a category whose contents changed in a
 * step is always among its writes, and steps the masks call independent really commute.
 */
import type { Effect } from './api';
import type { VmState } from './state';

/** Access categories. Statistics and the lock-hold counter are bookkeeping outside the state key. */
export const ACC = {
  GEN: 1 << 0,          // mmu_valid_gen
  SPS: 1 << 1,          // shadow pages and everything indexing them (hash, active list, page counts)
  TDP_ROOTS: 1 << 2,    // tdp_mmu_roots
  NOTIFIER: 1 << 3,     // mmu_invalidate_in_progress and the recorded range
  LOCK: 1 << 4,         // mmu_lock
  SLOTS: 1 << 5,        // memslots, their rmaps and lpage counters, rmap descriptors
  HOST: 1 << 6,         // host page tables and pages
  VCPUS: 1 << 7,        // vCPU roots, requests, TLBs, mode bits
  GUEST_PT: 1 << 8,     // guest page tables
  WORKQ: 1 << 9,        // tdp_mmu_zap_wq queue and the worker's busy flag
  RT3: 1 << 10,         // the auditor's RT-3 window
  SRCU: 1 << 11,        // kvm->srcu readers
  FLUSH: 1 << 12,       // remote flush pending
  NX: 1 << 13,          // nx_huge_pages
  DESTROYED: 1 << 14,   // VM destroyed
  /** Another thread's position (scenario waits on a thread's point or completion). */
  THREADS: 1 << 15,
  /**
   * mmu_invalidate_seq, apart from in_progress: a fault's sequence snapshot reads only the sequence,
   * and a range_start writes only the count and the range, so the two commute.
   */
  SEQ: 1 << 16,
} as const;

export const ACC_ALL = (1 << 17) - 1;

/**
 * Categories whose objects a generator can keep in a local across a preemption point and read later
 * without touching `this.s` again (a shadow page, a vCPU, a memslot, the lock...). A step is charged
 * with every such category its operation has read so far. Scalars (generation, sequence counts) are
 * copied into locals by value, so an earlier read of them cannot observe later writes.
 */
export const ACC_HELD = ACC.SPS | ACC.TDP_ROOTS | ACC.LOCK | ACC.SLOTS | ACC.HOST | ACC.VCPUS | ACC.GUEST_PT | ACC.WORKQ;

/** The categories an effect writes (0: bookkeeping). */
export function effectAccess(e: Effect): number {
  switch (e.kind) {
    case 'spte-write': case 'parent-pte-add': case 'parent-pte-remove': case 'sp-alloc': case 'sp-state': case 'sp-field': case 'root-ref':
      return ACC.SPS;
    case 'rmap-add': case 'rmap-remove': case 'memslot':
      return ACC.SLOTS;
    case 'vcpu-root': case 'request-set': case 'request-clear': case 'tlb-fill': case 'tlb-flush':
      return ACC.VCPUS;
    case 'lock': return ACC.LOCK;
    case 'host-pte': case 'host-page': return ACC.HOST;
    case 'vm-field': return vmFieldAccess(e.field);
    case 'stat': case 'note': return 0;
  }
}

const fieldAccess = new Map<string, number>();

/** The category of a VM field named in a 'vm-field' effect (cached: the untraced path asks per write). */
export function vmFieldAccess(field: string): number {
  let a = fieldAccess.get(field);
  if (a === undefined) { a = vmFieldCategory(field); fieldAccess.set(field, a); }
  return a;
}

function vmFieldCategory(field: string): number {
  if (field === 'mmu_valid_gen') return ACC.GEN;
  if (field === 'tdp_mmu_roots') return ACC.TDP_ROOTS;
  if (field === 'tdp_mmu_zap_wq') return ACC.WORKQ;
  if (/^n_(used|max|free|alloc)_mmu_pages$/.test(field)) return ACC.SPS;
  if (/(notifier|invalidate)_seq$/.test(field)) return ACC.SEQ;
  if (/notifier|invalidate/.test(field)) return ACC.NOTIFIER;
  return ACC_ALL; // a field this table does not know: conflicts with everything
}

/**
 * The VM state seen through accessors that record access categories. `t` is the plain state (snapshots
 * copy and replace it); `rd`/`wr` accumulate until the engine resets them at the start of a step.
 */
export class TrackedVm implements VmState {
  rd = 0;
  wr = 0;
  constructor(public t: VmState) {}

  get gen() { this.rd |= ACC.GEN; return this.t.gen; }
  set gen(v) { this.wr |= ACC.GEN; this.t.gen = v; }
  get sps() { this.rd |= ACC.SPS; return this.t.sps; }
  set sps(v) { this.wr |= ACC.SPS; this.t.sps = v; }
  get nextSpId() { this.rd |= ACC.SPS; return this.t.nextSpId; }
  set nextSpId(v) { this.wr |= ACC.SPS; this.t.nextSpId = v; }
  get activeHead() { this.rd |= ACC.SPS; return this.t.activeHead; }
  set activeHead(v) { this.wr |= ACC.SPS; this.t.activeHead = v; }
  get activeTail() { this.rd |= ACC.SPS; return this.t.activeTail; }
  set activeTail(v) { this.wr |= ACC.SPS; this.t.activeTail = v; }
  get hash() { this.rd |= ACC.SPS; return this.t.hash; }
  set hash(v) { this.wr |= ACC.SPS; this.t.hash = v; }
  get hashBuckets() { this.rd |= ACC.SPS; return this.t.hashBuckets; }
  set hashBuckets(v) { this.wr |= ACC.SPS; this.t.hashBuckets = v; }
  get zappedObsolete() { this.rd |= ACC.SPS; return this.t.zappedObsolete; }
  set zappedObsolete(v) { this.wr |= ACC.SPS; this.t.zappedObsolete = v; }
  get tdpRoots() { this.rd |= ACC.TDP_ROOTS; return this.t.tdpRoots; }
  set tdpRoots(v) { this.wr |= ACC.TDP_ROOTS; this.t.tdpRoots = v; }
  get nUsed() { this.rd |= ACC.SPS; return this.t.nUsed; }
  set nUsed(v) { this.wr |= ACC.SPS; this.t.nUsed = v; }
  get nMax() { this.rd |= ACC.SPS; return this.t.nMax; }
  set nMax(v) { this.wr |= ACC.SPS; this.t.nMax = v; }
  get seq() { this.rd |= ACC.SEQ; return this.t.seq; }
  set seq(v) { this.wr |= ACC.SEQ; this.t.seq = v; }
  get inProgress() { this.rd |= ACC.NOTIFIER; return this.t.inProgress; }
  set inProgress(v) { this.wr |= ACC.NOTIFIER; this.t.inProgress = v; }
  get rangeStart() { this.rd |= ACC.NOTIFIER; return this.t.rangeStart; }
  set rangeStart(v) { this.wr |= ACC.NOTIFIER; this.t.rangeStart = v; }
  get rangeEnd() { this.rd |= ACC.NOTIFIER; return this.t.rangeEnd; }
  set rangeEnd(v) { this.wr |= ACC.NOTIFIER; this.t.rangeEnd = v; }
  get indirectShadowPages() { this.rd |= ACC.SPS; return this.t.indirectShadowPages; }
  set indirectShadowPages(v) { this.wr |= ACC.SPS; this.t.indirectShadowPages = v; }
  get lock() { this.rd |= ACC.LOCK; return this.t.lock; }
  set lock(v) { this.wr |= ACC.LOCK; this.t.lock = v; }
  get stats() { return this.t.stats; }
  set stats(v) { this.t.stats = v; }
  get memslots() { this.rd |= ACC.SLOTS; return this.t.memslots; }
  set memslots(v) { this.wr |= ACC.SLOTS; this.t.memslots = v; }
  get descs() { this.rd |= ACC.SLOTS; return this.t.descs; }
  set descs(v) { this.wr |= ACC.SLOTS; this.t.descs = v; }
  get nextDescId() { this.rd |= ACC.SLOTS; return this.t.nextDescId; }
  set nextDescId(v) { this.wr |= ACC.SLOTS; this.t.nextDescId = v; }
  get host() { this.rd |= ACC.HOST; return this.t.host; }
  set host(v) { this.wr |= ACC.HOST; this.t.host = v; }
  get vcpus() { this.rd |= ACC.VCPUS; return this.t.vcpus; }
  set vcpus(v) { this.wr |= ACC.VCPUS; this.t.vcpus = v; }
  get guestPt() { this.rd |= ACC.GUEST_PT; return this.t.guestPt; }
  set guestPt(v) { this.wr |= ACC.GUEST_PT; this.t.guestPt = v; }
  get workQueue() { this.rd |= ACC.WORKQ; return this.t.workQueue; }
  set workQueue(v) { this.wr |= ACC.WORKQ; this.t.workQueue = v; }
  get shadowRootAllocated() { this.rd |= ACC.SPS; return this.t.shadowRootAllocated; }
  set shadowRootAllocated(v) { this.wr |= ACC.SPS; this.t.shadowRootAllocated = v; }
  get rt3Window() { this.rd |= ACC.RT3; return this.t.rt3Window; }
  set rt3Window(v) { this.wr |= ACC.RT3; this.t.rt3Window = v; }
  get srcuReaders() { this.rd |= ACC.SRCU; return this.t.srcuReaders; }
  set srcuReaders(v) { this.wr |= ACC.SRCU; this.t.srcuReaders = v; }
  get flushPending() { this.rd |= ACC.FLUSH; return this.t.flushPending; }
  set flushPending(v) { this.wr |= ACC.FLUSH; this.t.flushPending = v; }
  get nxHugePages() { this.rd |= ACC.NX; return this.t.nxHugePages; }
  set nxHugePages(v) { this.wr |= ACC.NX; this.t.nxHugePages = v; }
  get lockOps() { return this.t.lockOps; }
  set lockOps(v) { this.t.lockOps = v; }
  get destroyed() { this.rd |= ACC.DESTROYED; return this.t.destroyed; }
  set destroyed(v) { this.wr |= ACC.DESTROYED; this.t.destroyed = v; }
}
