/** The parsed, validated scenario model (what the runner consumes). Positions are kept for reporting. */
import type { BugId, EraId, Op, Schedule, ThreadSpec, VmConfig } from '../engine/api';

export interface Position { line: number; character: number } // 0-based
export interface Range { start: Position; end: Position }

export type Severity = 'error' | 'warning' | 'info';

export interface Diagnostic {
  severity: Severity;
  message: string;
  range: Range;
  /** Stable code, e.g. "unknown-step", "bad-gfn", "unknown-thread", "era-field". */
  code: string;
}

/** A comparison in an assertion: a literal (deep equality) or one operator object. */
export type Matcher =
  | { kind: 'eq'; value: unknown }
  | { kind: 'op'; op: MatcherOp; value: unknown };
export type MatcherOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'contains' | 'notContains' | 'length' | 'exists' | 'in';
export const MATCHER_OPS: readonly MatcherOp[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'contains', 'notContains', 'length', 'exists', 'in'];

export interface Assertion {
  path: string;
  matcher: Matcher;
  range: Range;
}

/** Where a group of assertions is checked. */
export type AtPoint =
  | { kind: 'end' }
  | { kind: 'label'; label: string }   // a step label or a schedule-slice label
  | { kind: 'slice'; index: number }   // after explicit schedule slice N (0-based)
  | { kind: 'step'; index: number };   // after N engine steps

export interface AtBlock {
  point: AtPoint;
  assertions: Assertion[];
  range: Range;
}

export interface Expectations {
  /** undefined = not checked; [] = none may appear; otherwise every listed id must appear. */
  violations?: string[];
  /** Violations that may appear without failing `violations: []` / exact lists. */
  allowExtra?: boolean;
  /** Ids that must NOT appear. */
  absent?: string[];
  at: AtBlock[];
  range: Range;
  violationsRange?: Range;
}

export interface StepLabel { thread: string; opIndex: number; label: string; range: Range }

export interface ScenarioThread extends ThreadSpec {
  /** Range of each op in the source, parallel to `ops`. */
  opRanges: Range[];
  range: Range;
}

export interface ScheduleInfo {
  schedule: Schedule;
  /** Labels of explicit slices (parallel to slices). */
  sliceLabels: Array<string | undefined>;
  sliceRanges: Range[];
  /** After the explicit slices, run any unfinished threads to completion in declaration order. */
  finish: boolean;
  range: Range;
}

export interface ScenarioVariant {
  name: string;
  bug?: BugId;
  era?: EraId;
  expect: Expectations;
  range: Range;
}

export interface Scenario {
  file?: string;
  name: string;
  description?: string;
  /** The header comment (leading # lines). */
  header: string;
  config: VmConfig;
  threads: ScenarioThread[];
  schedule: ScheduleInfo;
  expect: Expectations;
  labels: StepLabel[];
  /** Additional named runs (bug/era overrides with their own expectations). */
  variants: ScenarioVariant[];
  ranges: { scenario: Range; vm: Range; bug?: Range; era?: Range };
  /** Source ops, for hovers/traces. */
  ops: Op[][];
}

export interface ParseOptions {
  file?: string;
  /** --profile: override the era. */
  era?: EraId;
  /** --bug: override the bug variant ("none" clears it). */
  bug?: BugId | 'none';
}

export interface ParseResult {
  scenario?: Scenario;
  diagnostics: Diagnostic[];
}
