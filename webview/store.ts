/** The webview's model: the normalised state, what the current step changed, and indexes for lookups. */
import type { ShadowPageView, StateView, StepRecord, Violation } from '../src/engine/api';
import { applyDelta, emptyChanges, normalizeState, parseSpRef, type ChangeSummary, type GenerationPoint, type StateDelta } from '../src/shared/delta';
import type { SnapshotParams, UpdateParams } from '../src/shared/protocol';
import type { ChangeKind } from './dom';

class IdChangeIndex<K extends string | number> {
  readonly kind = new Map<K, ChangeKind>();
  fields = new Map<K, Set<string>>();
  removed: K[] = [];
  reset(ch: { added: K[]; removed: K[]; modified: K[] }, fields?: Array<[K, string[]]>): void {
    this.kind.clear();
    for (const k of ch.modified) this.kind.set(k, 'modified');
    for (const k of ch.added) this.kind.set(k, 'added');
    for (const k of ch.removed) this.kind.set(k, 'removed');
    this.removed = ch.removed.slice();
    this.fields = new Map((fields ?? []).map(([k, f]) => [k, new Set(f)]));
  }
  of(k: K): ChangeKind {
    return this.kind.get(k) ?? null;
  }
  get count(): number {
    return this.kind.size;
  }
}

export class Store {
  state: StateView | null = null;
  record: StepRecord | null = null;
  violations: Violation[] = [];
  generations: GenerationPoint[] = [];
  historyLength = 0;
  scenario: string | undefined;
  changes: ChangeSummary = emptyChanges();
  emptyReason = 'Start a scenario to see the MMU state.';
  /** Bumped when the shadow-page graph changes (adds, removes, sptes, parents). */
  spVersion = 0;
  rmapVersion = 0;
  genVersion = 0;
  readonly spById = new Map<number, ShadowPageView>();
  /** Pages that look like roots (a root reference, or a top-level page without parents), kept incrementally. */
  readonly rootish = new Set<number>();
  readonly sps = new IdChangeIndex<number>();
  readonly vcpus = new IdChangeIndex<number>();
  readonly roots = new IdChangeIndex<string>();
  readonly rmaps = new IdChangeIndex<string>();
  readonly tlb = new IdChangeIndex<string>();
  readonly requests = new IdChangeIndex<string>();
  readonly locks = new IdChangeIndex<string>();
  readonly threads = new IdChangeIndex<string>();
  vmFields = new Set<string>();
  /** Shadow pages removed by the current step (kept for the "removed" strip). */
  removedSps = new Map<number, ShadowPageView>();

  snapshot(p: SnapshotParams): void {
    this.state = normalizeState(p.state);
    this.spById.clear();
    this.rootish.clear();
    for (const sp of this.state.shadowPages) {
      this.spById.set(sp.id, sp);
      this.noteRoot(sp);
    }
    this.record = p.record;
    this.status(p);
    this.generations = p.generations;
    this.genVersion++;
    this.setChanges(p.changes ?? emptyChanges(this.state.step));
    this.removedSps.clear();
    this.spVersion++;
    this.rmapVersion++;
  }

  /** Apply an update; returns false when the delta does not start from the state shown (resync needed). */
  update(p: UpdateParams): boolean {
    if (!this.state || p.delta.fromStep !== this.state.step) return false;
    this.applyDelta(p.delta);
    this.record = p.record;
    this.status(p);
    if (p.generations) {
      this.generations = p.generations;
      this.genVersion++;
    }
    this.setChanges(p.changes);
    return true;
  }

  private applyDelta(d: StateDelta): void {
    const st = this.state!;
    const res = applyDelta(st, d);
    this.removedSps.clear();
    for (const sp of res.shadowPages.removed) {
      this.spById.delete(sp.id);
      this.removedSps.set(sp.id, sp);
    }
    for (const sp of res.shadowPages.removed) this.rootish.delete(sp.id);
    for (const sp of res.shadowPages.added) {
      this.spById.set(sp.id, sp);
      this.noteRoot(sp);
    }
    for (const m of res.shadowPages.modified) {
      this.spById.set(m.after.id, m.after);
      this.noteRoot(m.after);
    }
    if (res.shadowPages.added.length || res.shadowPages.removed.length || res.shadowPages.modified.length) this.spVersion++;
    if (res.rmaps.length || res.memslots.added.length || res.memslots.removed.length || res.memslots.modified.length) this.rmapVersion++;
  }

  private noteRoot(sp: ShadowPageView): void {
    if (sp.rootCount > 0 || (sp.parentPtes.length === 0 && sp.level >= 4)) this.rootish.add(sp.id);
    else this.rootish.delete(sp.id);
  }

  private status(p: { historyLength: number; violations: Violation[]; scenario?: string }): void {
    this.historyLength = p.historyLength;
    this.violations = p.violations;
    this.scenario = p.scenario;
  }

  private setChanges(c: ChangeSummary): void {
    this.changes = c;
    this.sps.reset(c.shadowPages, c.spFields);
    this.vcpus.reset(c.vcpus, c.vcpuFields);
    this.roots.reset(c.roots);
    this.rmaps.reset(c.rmaps);
    this.tlb.reset(c.tlb);
    this.requests.reset(c.requests);
    this.locks.reset(c.locks);
    this.threads.reset(c.threads);
    this.vmFields = new Set(c.vm);
  }

  clear(reason: string): void {
    this.state = null;
    this.emptyReason = reason;
    this.spById.clear();
    this.rootish.clear();
    this.spVersion++;
    this.rmapVersion++;
  }

  sp(ref: string | number | null | undefined): ShadowPageView | undefined {
    const id = typeof ref === 'number' ? ref : parseSpRef(ref);
    return id === null ? undefined : this.spById.get(id);
  }

  /** valid / invalid / obsolete, as the kernel would judge the page. */
  spStatus(sp: ShadowPageView): 'valid' | 'invalid' | 'obsolete' | 'freed' | 'zapped' {
    if (sp.lifetime === 'freed') return 'freed';
    if (sp.lifetime === 'invalid-list') return 'zapped';
    if (sp.invalid || sp.role.invalid === true || sp.role.invalid === 1) return 'invalid';
    if (sp.obsolete) return 'obsolete';
    return 'valid';
  }
}
