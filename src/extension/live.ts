/**
 * One source of "the run the developer is looking at", for the panel and the hovers.
 *
 * Two things can drive the engine: the scenario stepping commands (ScenarioService) and a
 * `kvm-mmu-lab` debug session (DebuggerApi). The most recently active one wins, so the panel and the
 * hovers always agree with whatever the developer last stepped.
 */
import * as vscode from 'vscode';
import type { StateView, StepRecord, Violation } from '../engine/api';
import { buildLiveValues, type LiveValues } from '../knowledge/hover';
import { summarizeGeneration, type GenerationPoint } from '../shared/delta';
import type { PanelSource } from './panel/index';
import type { ScenarioService } from './scenario/index';
import type { DebuggerApi } from './debug/index';
import type { KernelIndexService } from './kernel/index';

type Driver = 'scenario' | 'debug';

interface Snapshot {
  driver: Driver;
  name?: string;
  state: StateView;
  record?: StepRecord;
  history: readonly StepRecord[];
  position: number;
  violations: readonly Violation[];
}

export class LiveRunHub implements PanelSource, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  private snapshot: Snapshot | undefined;
  private previousState: StateView | undefined;
  /** Generation timeline per step, filled as steps are seen (keyed by step index). */
  private timeline = new Map<number, GenerationPoint>();
  private timelineOwner: string | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly scenarios: ScenarioService,
    private readonly debuggerApi: DebuggerApi,
    private readonly kernel: KernelIndexService,
  ) {
    this.disposables.push(
      scenarios.onDidStep(() => this.refresh('scenario')),
      scenarios.onDidChangeActive(() => this.refresh('scenario')),
      debuggerApi.onDidChangeLive(() => this.refresh('debug')),
    );
  }

  private refresh(driver: Driver): void {
    const next = this.read(driver);
    if (!next && this.snapshot && this.snapshot.driver !== driver) return; // the other driver still owns the view
    const owner = next ? `${next.driver}:${next.name ?? ''}` : undefined;
    if (owner !== this.timelineOwner) {
      this.timeline.clear();
      this.timelineOwner = owner;
      this.previousState = undefined;
    } else {
      this.previousState = this.snapshot?.state;
    }
    this.snapshot = next;
    if (next) {
      const prevGen = this.timeline.get(next.position - 1)?.gen;
      this.timeline.set(next.position, summarizeGeneration(next.state, next.record ?? null, prevGen));
    }
    this.emitter.fire();
  }

  private read(driver: Driver): Snapshot | undefined {
    if (driver === 'debug') {
      const live = this.debuggerApi.live();
      if (!live) return undefined;
      return {
        driver,
        name: live.scenario,
        state: live.state,
        record: live.record,
        history: [],
        position: live.step,
        violations: live.violations,
      };
    }
    const active = this.scenarios.active;
    if (!active) return undefined;
    const position = active.position;
    return {
      driver,
      name: active.scenario.name,
      state: active.view(),
      record: position > 0 ? active.history[position - 1] : undefined,
      history: active.history,
      position,
      violations: active.engine.violations(),
    };
  }

  // --- PanelSource ---------------------------------------------------------------------------
  current(): StateView | undefined {
    return this.snapshot?.state;
  }
  previous(): StateView | undefined {
    return this.previousState;
  }
  currentStep(): StepRecord | undefined {
    return this.snapshot?.record;
  }
  historyLength(): number {
    return Math.max(this.snapshot?.history.length ?? 0, this.snapshot?.position ?? 0);
  }
  violations(): readonly Violation[] {
    return this.snapshot?.violations ?? [];
  }
  generations(): readonly GenerationPoint[] {
    return [...this.timeline.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
  }
  scenarioName(): string | undefined {
    return this.snapshot?.name;
  }
  async gotoStep(n: number): Promise<void> {
    if (this.snapshot?.driver === 'debug') await this.debuggerApi.gotoStep(n);
    else this.scenarios.goto(n);
  }
  async openSource(loc: { file: string; fn: string; point?: string }): Promise<void> {
    const location = this.kernel.frameLocation({ fn: loc.fn, file: loc.file, point: loc.point });
    if (!location) {
      void vscode.window.showWarningMessage(`KVM MMU Lab: ${loc.fn} was not found in the kernel tree (see the Kernel Index output).`);
      this.kernel.showOutput();
      return;
    }
    const editor = await vscode.window.showTextDocument(location.uri, { preview: true });
    editor.selection = new vscode.Selection(location.range.start, location.range.start);
    editor.revealRange(location.range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  // --- hovers ------------------------------------------------------------------------------------
  liveValues(): LiveValues | undefined {
    const snap = this.snapshot;
    if (!snap) return undefined;
    if (snap.driver === 'debug') {
      const live = this.debuggerApi.live();
      if (!live) return undefined;
      return { state: live.state, functionEntries: live.functionEntries, step: live.step, scenario: live.scenario };
    }
    return buildLiveValues(snap.state, snap.history, snap.position, snap.name);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.emitter.dispose();
  }
}
