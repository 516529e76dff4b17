/**
 * Assertion paths against the engine's StateView (plus computed conveniences) and the matchers.
 */
import type { ShadowPageView, SpteView, StateView, Violation } from '../engine/api';
import { splitPath } from './parser';
import type { Matcher } from './types';

export interface Resolved { found: boolean; value: unknown }

/** The value of an assertion path in a state (and the violations found so far). */
export function resolvePath(view: StateView, path: string, violations: readonly Violation[]): Resolved {
  const segs = splitPath(path);
  if (!segs) return { found: false, value: undefined };
  const [root, ...rest] = segs;
  let base: unknown;
  switch (root) {
    case 'stats':
      base = view.vm.stats;
      break;
    case 'roots':
      base = computeRoots(view);
      break;
    case 'pages':
      base = computePages(view);
      break;
    case 'violations':
      base = [...new Set(violations.map((v) => v.id))];
      break;
    case 'sp': {
      const id = rest.shift();
      base = typeof id === 'number' ? view.shadowPages.find((p) => p.id === id) : undefined;
      if (base === undefined) return { found: false, value: undefined };
      break;
    }
    case 'gfn': {
      const g = rest.shift();
      if (typeof g !== 'number') return { found: false, value: undefined };
      base = computeGfn(view, g);
      break;
    }
    default:
      base = (view as unknown as Record<string, unknown>)[String(root)];
  }
  return walk(base, rest);
}

function walk(base: unknown, segs: Array<string | number>): Resolved {
  let cur: unknown = base;
  for (const s of segs) {
    if (cur === null || cur === undefined) return { found: false, value: undefined };
    if (typeof s === 'number') {
      if (!Array.isArray(cur) || s >= cur.length) return { found: false, value: undefined };
      cur = cur[s];
    } else if (s === 'length' && (Array.isArray(cur) || typeof cur === 'string')) {
      cur = cur.length;
    } else if (typeof cur === 'object' && Object.prototype.hasOwnProperty.call(cur, s)) {
      cur = (cur as Record<string, unknown>)[s];
    } else return { found: false, value: undefined };
  }
  return { found: true, value: cur };
}

export function isRoot(view: StateView, sp: ShadowPageView): boolean {
  if (sp.lifetime === 'freed') return false;
  if (view.vm.tdp_mmu_roots.includes(sp.id)) return true;
  return sp.rootCount > 0;
}

function computeRoots(view: StateView): Record<string, unknown> {
  const roots = view.shadowPages.filter((sp) => isRoot(view, sp));
  const valid = roots.filter((r) => !r.invalid && !r.obsolete);
  return {
    count: roots.length,
    valid: valid.length,
    invalid: roots.filter((r) => r.invalid).length,
    obsolete: roots.filter((r) => r.obsolete).length,
    tdp: roots.filter((r) => r.tdp).length,
    ids: roots.map((r) => r.id),
    list: roots.map((r) => ({ id: r.id, gfn: r.gfn, level: r.level, rootCount: r.rootCount, invalid: r.invalid, obsolete: r.obsolete, tdp: r.tdp })),
  };
}

function computePages(view: StateView): Record<string, number> {
  const sps = view.shadowPages;
  return {
    count: sps.length,
    live: sps.filter((s) => s.lifetime === 'live').length,
    freed: sps.filter((s) => s.lifetime === 'freed').length,
    invalidList: sps.filter((s) => s.lifetime === 'invalid-list').length,
    obsolete: sps.filter((s) => s.obsolete && s.lifetime !== 'freed').length,
    unsync: sps.filter((s) => s.unsync && s.lifetime !== 'freed').length,
  };
}

/** gfn a leaf SPTE of a direct page maps: base gfn + index * 512^(level-1). */
function directGfn(sp: ShadowPageView, spte: SpteView): number {
  return sp.gfn + spte.index * Math.pow(512, sp.level - 1);
}

function isDirect(sp: ShadowPageView): boolean {
  return sp.tdp || sp.role.direct === true || sp.role.direct === 1 || sp.role.metaphysical === true || sp.role.metaphysical === 1;
}

/** An rmap entry ("sp#ID[index]" or the engine's hex sptep: (0x10000000 + sp id) pages + index * 8). */
function decodeSptep(entry: string): { sp: number; index: number } | undefined {
  const m = /sp#(\d+)\[(\d+)\]/.exec(entry);
  if (m) return { sp: Number(m[1]), index: Number(m[2]) };
  if (!/^0x[0-9a-f]+$/i.test(entry)) return undefined;
  const v = Number(entry);
  const page = Math.floor(v / 4096);
  if (page < 0x10000000) return undefined;
  return { sp: page - 0x10000000, index: (v % 4096) / 8 };
}

function computeGfn(view: StateView, gfn: number): Record<string, unknown> {
  const sptes: Array<SpteView & { sp: number }> = [];
  const rmap: string[] = [];
  for (const slot of view.memslots) {
    for (const r of slot.rmaps) if (r.gfn === gfn || (r.level > 1 && gfn >= r.gfn && gfn < r.gfn + Math.pow(512, r.level - 1))) rmap.push(...r.sptes);
  }
  for (const sp of view.shadowPages) {
    if (sp.lifetime === 'freed' || !isDirect(sp)) continue;
    for (const s of sp.sptes) {
      if (!s.leaf || !s.present) continue;
      const base = directGfn(sp, s);
      const span = Math.pow(512, sp.level - 1);
      if (gfn >= base && gfn < base + span) sptes.push({ ...s, sp: sp.id });
    }
  }
  // leaf SPTEs named by the rmap (indirect pages, and direct ones the formula missed)
  for (const entry of rmap) {
    const loc = decodeSptep(entry);
    if (!loc || sptes.some((x) => x.sp === loc.sp && x.index === loc.index)) continue;
    const sp = view.shadowPages.find((p) => p.id === loc.sp && p.lifetime !== 'freed');
    const s = sp?.sptes.find((x) => x.index === loc.index);
    if (sp && s && s.present) sptes.push({ ...s, sp: sp.id });
  }
  const slot = view.memslots.find((m) => gfn >= m.baseGfn && gfn < m.baseGfn + m.npages);
  const hva = slot ? slot.hva + (gfn - slot.baseGfn) * 4096 : undefined;
  const hostPte = hva === undefined ? undefined : view.host.ptes.find((p) => p.hva === hva);
  return {
    mapped: sptes.length > 0 || rmap.length > 0,
    sptes,
    young: sptes.some((s) => s.accessed),
    writable: sptes.some((s) => s.writable),
    pfn: sptes[0]?.pfn ?? null,
    rmap,
    rmapCount: rmap.length,
    hostYoung: hostPte?.young ?? false,
    hostPfn: hostPte?.pfn ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// matchers
// ---------------------------------------------------------------------------------------------

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^(0x[0-9a-f]+|-?\d+)$/i.test(v)) return Number(v);
  return undefined;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const na = num(a);
  const nb = num(b);
  if (na !== undefined && nb !== undefined && (typeof a === 'number' || typeof b === 'number')) return na === nb;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    // "0x1f" strings against hex strings with different case / padding
    if (typeof a === 'string' && typeof b === 'string' && /^0x/i.test(a) && /^0x/i.test(b)) return BigInt(a) === BigInt(b);
    return false;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  // expected objects may list a subset of the actual fields
  return kb.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) && (ka.length >= kb.length);
}

/** Expected-value match: `expected` is the file's value; returns undefined on success or a reason. */
export function checkMatcher(m: Matcher, r: Resolved): string | undefined {
  const actual = r.value;
  const show = (v: unknown): string => {
    try {
      const s = JSON.stringify(v);
      return s === undefined ? 'undefined' : s.length > 160 ? s.slice(0, 157) + '...' : s;
    } catch {
      return String(v);
    }
  };
  if (m.kind === 'eq') {
    if (!r.found) return m.value === null ? undefined : `path not found in the state (expected ${show(m.value)})`;
    return deepEqual(actual, m.value) ? undefined : `expected ${show(m.value)}, got ${show(actual)}`;
  }
  const v = m.value;
  switch (m.op) {
    case 'exists':
      return r.found === Boolean(v) && (!v || actual !== undefined) ? undefined : v ? 'path does not exist' : `path exists (${show(actual)})`;
    case 'eq':
      return r.found && deepEqual(actual, v) ? undefined : `expected ${show(v)}, got ${show(actual)}`;
    case 'ne':
      return !deepEqual(actual, v) ? undefined : `expected anything but ${show(v)}`;
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le': {
      const a = num(actual);
      const b = num(v);
      if (a === undefined || b === undefined) return `expected a number ${m.op} ${show(v)}, got ${show(actual)}`;
      const ok = m.op === 'gt' ? a > b : m.op === 'ge' ? a >= b : m.op === 'lt' ? a < b : a <= b;
      return ok ? undefined : `expected ${m.op} ${b}, got ${a}`;
    }
    case 'contains':
    case 'notContains': {
      const has = Array.isArray(actual) ? actual.some((x) => deepEqual(x, v)) : typeof actual === 'string' ? actual.includes(String(v)) : false;
      return has === (m.op === 'contains') ? undefined : `expected ${show(actual)} ${m.op === 'contains' ? 'to contain' : 'not to contain'} ${show(v)}`;
    }
    case 'length': {
      const len = Array.isArray(actual) || typeof actual === 'string' ? actual.length : undefined;
      return len === v ? undefined : `expected length ${show(v)}, got ${len === undefined ? show(actual) : len}`;
    }
    case 'in':
      return Array.isArray(v) && v.some((x) => deepEqual(actual, x)) ? undefined : `expected one of ${show(v)}, got ${show(actual)}`;
  }
  return 'unknown matcher';
}

export function describeMatcher(path: string, m: Matcher): string {
  const show = (v: unknown): string => {
    try {
      return JSON.stringify(v) ?? String(v);
    } catch {
      return String(v);
    }
  };
  if (m.kind === 'eq') return `${path} == ${show(m.value)}`;
  const sym: Record<string, string> = { eq: '==', ne: '!=', gt: '>', ge: '>=', lt: '<', le: '<=' };
  return sym[m.op] ? `${path} ${sym[m.op]} ${show(m.value)}` : `${path} ${m.op} ${show(m.value)}`;
}
