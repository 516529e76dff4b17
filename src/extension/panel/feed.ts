/**
 * What the panel host sends to each webview (pure, no `vscode`): a snapshot on (re)load, then per change one
 * update carrying the StateDelta from the state that webview shows, the current step's change summary, and the
 * generation timeline when it changed.
 */
import type { StateView, StepRecord, Violation } from '../../engine/api';
import { computeDelta, emptyChanges, isEmptyDelta, summarizeChanges, summarizeGeneration, type ChangeSummary, type GenerationPoint } from '../../shared/delta';
import { hostMessage, type HostMessage } from '../../shared/protocol';

/** The data half of PanelSource: what the panel shows of the running scenario. */
export interface FeedSource {
  /** State after the current step; undefined when no scenario is loaded. */
  current(): StateView | undefined;
  /** State before the current step (for "what this step changed"); undefined at step 0. */
  previous(): StateView | undefined;
  /** The record of the step that produced `current()` (undefined at step 0). */
  currentStep(): StepRecord | undefined;
  /** Number of steps in the history (the current position is `current().step`). */
  historyLength(): number;
  /** Every violation found so far. */
  violations(): readonly Violation[];
  /** Per-step timeline of mmu_valid_gen (see `summarizeGeneration` in src/shared/delta). Optional: if absent the
   *  panel builds it from the states it is shown. */
  generations?(): readonly GenerationPoint[];
  /** Scenario name for the header. */
  scenarioName?(): string | undefined;
}

export interface FeedClient {
  /** The state the webview shows now (base of the next delta). */
  shown: StateView | undefined;
  genKey: string;
}

export const EMPTY_REASON = 'No scenario is running. Open a scenario and start stepping to see the MMU state.';

export class PanelFeed {
  private readonly genCache = new Map<number, GenerationPoint>();
  private changesCache: { prev: StateView | undefined; cur: StateView; changes: ChangeSummary } | undefined;
  private genMemo: { cur: StateView | undefined; len: number; points: GenerationPoint[] } | undefined;

  constructor(private readonly source: FeedSource) {}

  private changes(cur: StateView): ChangeSummary {
    const prev = this.source.previous();
    if (this.changesCache && this.changesCache.prev === prev && this.changesCache.cur === cur) return this.changesCache.changes;
    const changes = prev ? summarizeChanges(prev, cur) : emptyChanges(cur.step);
    this.changesCache = { prev, cur, changes };
    return changes;
  }

  /** The timeline: the source's own, or one built from the states seen (dropping steps beyond the history). */
  generations(): GenerationPoint[] {
    if (this.source.generations) return [...this.source.generations()];
    const cur = this.source.current();
    const len = this.source.historyLength();
    if (this.genMemo && this.genMemo.cur === cur && this.genMemo.len === len) return this.genMemo.points;
    if (!cur) {
      this.genCache.clear();
      return [];
    }
    for (const k of [...this.genCache.keys()]) if (k > len) this.genCache.delete(k);
    const before = this.genCache.get(cur.step - 1);
    this.genCache.set(cur.step, summarizeGeneration(cur, this.source.currentStep(), before?.gen));
    const points = [...this.genCache.values()].sort((a, b) => a.step - b.step);
    this.genMemo = { cur, len, points };
    return points;
  }

  private status() {
    const name = this.source.scenarioName?.();
    return { historyLength: this.source.historyLength(), violations: [...this.source.violations()], ...(name ? { scenario: name } : {}) };
  }

  /** Full state for a webview that (re)loaded or asked for it. */
  snapshot(client: FeedClient): HostMessage {
    const cur = this.source.current();
    if (!cur) {
      client.shown = undefined;
      client.genKey = '';
      return hostMessage('empty', { reason: EMPTY_REASON });
    }
    const generations = this.generations();
    client.genKey = genKey(generations);
    client.shown = cur;
    return hostMessage('snapshot', { state: cur, changes: this.changes(cur), record: this.source.currentStep() ?? null, generations, ...this.status() });
  }

  /** The message that brings `client` up to date, or null when nothing changed. */
  update(client: FeedClient): HostMessage | null {
    const cur = this.source.current();
    if (!cur || !client.shown) {
      if (!cur && !client.shown && client.genKey === 'empty') return null;
      const m = this.snapshot(client);
      if (!cur) client.genKey = 'empty';
      return m;
    }
    const generations = this.generations();
    const key = genKey(generations);
    if (client.shown === cur && key === client.genKey) return null;
    const delta = computeDelta(client.shown, cur);
    const genChanged = key !== client.genKey;
    if (isEmptyDelta(delta) && !genChanged && client.shown.step === cur.step) {
      client.shown = cur;
      return null;
    }
    client.genKey = key;
    client.shown = cur;
    return hostMessage('update', { delta, changes: this.changes(cur), record: this.source.currentStep() ?? null, ...(genChanged ? { generations } : {}), ...this.status() });
  }
}

function genKey(g: readonly GenerationPoint[]): string {
  const last = g[g.length - 1];
  return last ? `${g.length}:${last.step}:${last.gen}:${last.live}:${last.obsolete}:${last.zapped}:${last.marks.join(',')}` : '0';
}
