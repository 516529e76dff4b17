/**
 * The rename table (domain §12.3) as the knowledge base uses it, both ways: old name → successors,
 * new name → predecessors. A thin view over `renames.ts`, the one table shared with the kernel index.
 * Presence strings use the sample labels of versions.ts.
 */
import { presenceOf, RENAME_ROWS, validateTable } from './renames';
import { presenceToLabels, SAMPLE_LABELS } from './versions';

export interface Rename {
  /** The older identifier. */
  old: string;
  /** Sampled presence of the old identifier. */
  oldPresence: string;
  /** The identifier(s) that took over; the first one is the knowledge-base entry to show. */
  successors: string[];
  /** First sampled version with the successor. */
  since: string;
  note: string;
}

/** The knowledge-base renames: a view of the one table in renames.ts (rows marked `hover: false` left out). */
export const RENAMES: readonly Rename[] = RENAME_ROWS.filter((r) => r.hover !== false).map((r) => ({
  old: r.old,
  oldPresence: presenceOf(r.old),
  successors: [...r.successors],
  since: r.since,
  note: r.note,
}));

const byOld = new Map<string, Rename[]>();
const byNew = new Map<string, Rename[]>();
for (const r of RENAMES) {
  byOld.set(r.old, [...(byOld.get(r.old) ?? []), r]);
  for (const s of r.successors) byNew.set(s, [...(byNew.get(s) ?? []), r]);
}

/** Renames where `name` is the old identifier. */
export function renamesFrom(name: string): Rename[] {
  return byOld.get(name) ?? [];
}
/** Renames where `name` is one of the successors. */
export function renamesTo(name: string): Rename[] {
  return byNew.get(name) ?? [];
}

/** Follow old → successor (first successor) transitively; returns the chain, starting with `name`. */
export function successorChain(name: string): string[] {
  const chain = [name];
  const seen = new Set(chain);
  let cur = name;
  for (;;) {
    const r = byOld.get(cur)?.[0];
    const next = r?.successors[0];
    if (!next || seen.has(next)) return chain;
    chain.push(next);
    seen.add(next);
    cur = next;
  }
}

/** Sanity helper for tests: every presence string parses and `since` is a sample label. */
export function validateRenames(): string[] {
  const errors: string[] = validateTable();
  for (const r of RENAMES) {
    try {
      presenceToLabels(r.oldPresence);
    } catch (e) {
      errors.push(`${r.old}: ${(e as Error).message}`);
    }
    if (!(SAMPLE_LABELS as readonly string[]).includes(r.since)) errors.push(`${r.old}: since "${r.since}" is not a sample label`);
  }
  return errors;
}
