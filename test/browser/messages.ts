/** Host messages built from fixture states, the way the panel host builds them. */
import type { StateView, StepRecord, Violation } from '../../src/engine/api';
import { computeDelta, summarizeChanges, type GenerationPoint } from '../../src/shared/delta';
import { hostMessage, type HostMessage } from '../../src/shared/protocol';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

export function snapshotMsg(state: StateView, o: { prev?: StateView; record?: StepRecord | null; violations?: Violation[]; generations?: GenerationPoint[]; historyLength?: number } = {}): HostMessage {
  return clone(
    hostMessage('snapshot', {
      state,
      changes: o.prev ? summarizeChanges(o.prev, state) : null,
      record: o.record ?? null,
      violations: o.violations ?? [],
      generations: o.generations ?? [],
      historyLength: o.historyLength ?? state.step,
      scenario: 'fixture',
    }),
  );
}

export function updateMsg(shown: StateView, next: StateView, o: { prev?: StateView; record?: StepRecord | null; violations?: Violation[]; generations?: GenerationPoint[]; historyLength?: number } = {}): HostMessage {
  const delta = computeDelta(shown, next);
  const prev = o.prev ?? shown;
  return clone(
    hostMessage('update', {
      delta,
      changes: summarizeChanges(prev, next, prev === shown ? delta : undefined),
      record: o.record ?? null,
      violations: o.violations ?? [],
      ...(o.generations ? { generations: o.generations } : {}),
      historyLength: o.historyLength ?? next.step,
      scenario: 'fixture',
    }),
  );
}
