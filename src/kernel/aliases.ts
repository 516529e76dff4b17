/**
 * Version-aware rename groups for the kernel index and the debugger (domain §12.3 and §3): a thin view
 * over `src/knowledge/renames.ts`, the one rename table shared with the hovers. Each group lists the
 * names one object had over time, oldest first, with the eras in which each name is current (see the
 * era rule in renames.ts). Resolution tries the asked name first, then the group member that is current
 * in the tree's era, then the other members.
 */
import type { EraId } from '../engine/api';
import { eraRangeOf, NAMES, RENAME_ROWS } from '../knowledge/renames';
import { eraKey } from './version';

export interface AliasName {
  name: string;
  /** First era (inclusive) in which this name is current. */
  from?: EraId;
  /** Last era (inclusive) in which this name is current. */
  to?: EraId;
}

export type AliasGroup = readonly AliasName[];

/**
 * Groups: names joined by "same object, new name" edges (`same` in the table), one set of groups for
 * bare names and one for `struct.field` names. Rows that share a successor (two hva hooks both becoming
 * kvm_unmap_gfn_range) end up in one group.
 */
function buildGroups(): AliasGroup[] {
  const parent = new Map<string, string>();
  const order: string[] = [];
  const bare = new Map<string, string>(); // qualified or bare form → bare name (for presence and eras)
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  const add = (x: string, b: string): void => {
    if (!parent.has(x)) {
      parent.set(x, x);
      order.push(x);
      bare.set(x, b);
    }
  };
  const union = (a: string, b: string): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(rb, ra);
  };
  for (const r of RENAME_ROWS) {
    if (!r.same?.length) continue;
    const forms: Array<(n: string) => string> = [];
    if (!r.qualifiedOnly) forms.push((n) => n);
    if (r.struct) forms.push((n) => `${r.struct}.${n}`);
    for (const q of forms) {
      add(q(r.old), r.old);
      for (const s of r.same) {
        add(q(s), s);
        union(q(r.old), q(s));
      }
    }
  }
  const members = new Map<string, string[]>();
  for (const x of order) {
    const root = find(x);
    members.set(root, [...(members.get(root) ?? []), x]);
  }
  const firstSample = (x: string): number => {
    const p = NAMES[bare.get(x)!]!.presence;
    const [from] = eraRangeOf(bare.get(x)!);
    return from ? eraKey(from) : p.startsWith('2.6.27') ? -1 : 0;
  };
  return [...members.values()].map((names) =>
    names
      .map((n, i) => ({ n, i, k: firstSample(n) }))
      .sort((a, b) => a.k - b.k || a.i - b.i)
      .map(({ n }) => {
        const [from, to] = eraRangeOf(bare.get(n)!);
        return { name: n, ...(from ? { from } : {}), ...(to ? { to } : {}) };
      }),
  );
}

/** Rename groups. Field names are written `struct.field` where the struct matters, bare otherwise. */
export const ALIAS_GROUPS: readonly AliasGroup[] = buildGroups();

const byName = new Map<string, AliasGroup[]>();
for (const group of ALIAS_GROUPS) {
  for (const n of group) {
    const list = byName.get(n.name) ?? [];
    list.push(group);
    byName.set(n.name, list);
  }
}

function current(n: AliasName, era: EraId | undefined): boolean {
  if (!era) return false;
  const k = eraKey(era);
  return (!n.from || eraKey(n.from) <= k) && (!n.to || k <= eraKey(n.to));
}

/**
 * Other names for `name`, best first for `era`: names current in that era, then the rest (newest first).
 * Does not include `name` itself.
 */
export function aliasesOf(name: string, era?: EraId): string[] {
  const groups = byName.get(name);
  if (!groups) return [];
  const now: string[] = [];
  const rest: string[] = [];
  for (const group of groups) {
    for (let i = group.length - 1; i >= 0; i--) {
      const n = group[i]!;
      if (n.name === name || now.includes(n.name) || rest.includes(n.name)) continue;
      (current(n, era) ? now : rest).push(n.name);
    }
  }
  return [...now, ...rest.filter((x) => !now.includes(x))];
}

/** True if `name` is listed with an era range that excludes `era` (i.e. it was renamed away or not yet born). */
export function isOutOfEra(name: string, era: EraId): boolean {
  const groups = byName.get(name);
  if (!groups) return false;
  return groups.every((group) => group.filter((n) => n.name === name).every((n) => (n.from || n.to) && !current(n, era)));
}
