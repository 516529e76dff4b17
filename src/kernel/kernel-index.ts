/**
 * The kernel symbol index of one tree: discovery, version → era, indexing the MMU files, and lookups
 * (definition of an engine name in an era, the line of "calls X" inside a function, the symbol under a
 * position). Pure TypeScript; the VS Code side lives in src/extension/kernel.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EraId } from '../engine/api';
import { aliasesOf, isOutOfEra } from './aliases';
import { createParser, DEFAULT_MAX_BYTES, indexSource, ParseOptions, Slicer, FNAME_PREFIXES } from './parser';
import type { CallSite, EngineName, FileIndex, KernelSymbol, KernelSymbolKind, KernelVersion, PointLocation, Resolution } from './types';
import { eraForVersion, isEraId, parseMakefileVersion } from './version';

/** Files indexed when present (tree-relative). Old trees have mmu.c/paging_tmpl.h directly under arch/x86/kvm. */
export const INDEXED_FILES: readonly string[] = [
  'arch/x86/kvm/mmu.c',
  'arch/x86/kvm/paging_tmpl.h',
  'arch/x86/kvm/mmu/mmu.c',
  'arch/x86/kvm/mmu/tdp_mmu.c',
  'arch/x86/kvm/mmu/tdp_mmu.h',
  'arch/x86/kvm/mmu/mmu_internal.h',
  'arch/x86/kvm/mmu/spte.c',
  'arch/x86/kvm/mmu/spte.h',
  'arch/x86/kvm/mmu/paging_tmpl.h',
  'arch/x86/kvm/mmu/tdp_iter.h',
  'arch/x86/kvm/mmu/tdp_iter.c',
  'arch/x86/kvm/mmu.h',
  'arch/x86/include/asm/kvm_host.h',
  'include/linux/kvm_host.h',
  'include/linux/kvm_types.h',
  'virt/kvm/kvm_main.c',
  // not in the original list, but vcpu_enter_guest / flush_shadow (<= 6.1) / CR4 handling live here
  'arch/x86/kvm/x86.c',
];

/** True if `dir` looks like a kernel tree (has arch/x86/kvm). */
export function isKernelTree(dir: string): boolean {
  try {
    return fs.statSync(path.join(dir, 'arch', 'x86', 'kvm')).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Finds a kernel tree: the explicit setting if it is one, else each folder or one of its
 * sub-folders (two levels deep, skipping node_modules and dot-folders).
 */
export function findKernelTree(folders: readonly string[], setting?: string): string | undefined {
  if (setting) {
    const candidates = path.isAbsolute(setting) ? [setting] : folders.map((f) => path.join(f, setting));
    for (const c of candidates) if (isKernelTree(c)) return c;
  }
  for (const f of folders) if (isKernelTree(f)) return f;
  for (const f of folders) {
    const found = searchBelow(f, 2);
    if (found) return found;
  }
  return undefined;
}

function searchBelow(dir: string, depth: number): string | undefined {
  if (depth <= 0) return undefined;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  const subdirs = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules').map((e) => path.join(dir, e.name));
  for (const s of subdirs) if (isKernelTree(s)) return s;
  for (const s of subdirs.slice(0, 200)) {
    const found = searchBelow(s, depth - 1);
    if (found) return found;
  }
  return undefined;
}

/** Reads the version from the tree's top Makefile. */
export function readTreeVersion(root: string): KernelVersion | undefined {
  try {
    const fd = fs.openSync(path.join(root, 'Makefile'), 'r');
    try {
      const buf = Buffer.alloc(16 * 1024);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      return parseMakefileVersion(buf.subarray(0, n).toString('utf8'));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

export interface IndexTreeOptions extends ParseOptions {
  /** Override the era picked from the Makefile. */
  era?: EraId;
  /** Restrict to these tree-relative files (default INDEXED_FILES). */
  files?: readonly string[];
  /** Also index these files when present (e.g. the files the engine's names live in: mm/rmap.c ...). */
  extraFiles?: readonly string[];
  /** Shared slicer (the bench reads its maxSliceMs). */
  slicer?: Slicer;
}

/** Reads and indexes one file of a tree (size cap checked before reading). */
export async function indexTreeFile(root: string, rel: string, options: ParseOptions = {}, slicer?: Slicer): Promise<FileIndex> {
  const full = path.join(root, rel);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let size: number;
  try {
    size = fs.statSync(full).size;
  } catch (e) {
    return { file: rel, lines: 0, bytes: 0, symbols: [], skipped: `skipped: cannot read (${(e as Error).message})`, parseErrors: 0, recovered: 0, parseMs: 0 };
  }
  if (size > maxBytes) {
    const mb = (n: number): string => (n / (1024 * 1024)).toFixed(1);
    return { file: rel, lines: 0, bytes: size, symbols: [], skipped: `skipped: file too large (${mb(size)} MB > ${mb(maxBytes)} MB)`, parseErrors: 0, recovered: 0, parseMs: 0 };
  }
  const parser = await createParser();
  try {
    return await indexSource(parser, rel, fs.readFileSync(full), options, slicer);
  } finally {
    parser.delete();
  }
}

/** Indexes the MMU files of a kernel tree. Throws if `root` is not a kernel tree. */
export async function indexKernelTree(root: string, options: IndexTreeOptions = {}): Promise<KernelIndex> {
  if (!isKernelTree(root)) throw new Error(`not a kernel tree (no arch/x86/kvm): ${root}`);
  const version = readTreeVersion(root);
  const era = options.era ?? (version ? eraForVersion(version) : '6.19');
  const eraSource: KernelIndex['eraSource'] = options.era ? 'override' : version ? 'makefile' : 'default';
  const slicer = options.slicer ?? new Slicer(options.sliceMs);
  const files: FileIndex[] = [];
  const parser = await createParser();
  try {
    const wanted = [...new Set([...(options.files ?? INDEXED_FILES), ...(options.extraFiles ?? [])])];
    for (const rel of wanted) {
      const full = path.join(root, rel);
      if (!fs.existsSync(full)) continue;
      const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
      const size = fs.statSync(full).size;
      if (size > maxBytes) {
        files.push(await indexTreeFile(root, rel, options, slicer));
        continue;
      }
      files.push(await indexSource(parser, rel, fs.readFileSync(full), options, slicer));
      await slicer.maybeYield();
    }
  } finally {
    parser.delete();
  }
  slicer.finish();
  return new KernelIndex(root, version, era, eraSource, files);
}

// ---------------------------------------------------------------------------------------------
// The index
// ---------------------------------------------------------------------------------------------

/** Where a bare field name is most likely to live, in order of preference. */
const FIELD_CONTAINERS = [
  'kvm_mmu_page', 'kvm_arch', 'kvm', 'kvm_mmu', 'kvm_mmu_root_info', 'kvm_mmu_page_role', 'kvm_rmap_head',
  'pte_list_desc', 'kvm_memory_slot', 'kvm_arch_memory_slot', 'kvm_lpage_info', 'kvm_vcpu_arch', 'kvm_vcpu',
];

/** Common path prefixes used by the engine for fields (`kvm->arch.x`, `sp->role.y`). */
const PATH_CONTAINERS: Record<string, string> = {
  arch: 'kvm_arch',
  role: 'kvm_mmu_page_role',
  sp: 'kvm_mmu_page',
  mmu: 'kvm_mmu',
  root_mmu: 'kvm_mmu',
  guest_mmu: 'kvm_mmu',
  root: 'kvm_mmu_root_info',
  prev_roots: 'kvm_mmu_root_info',
  slot: 'kvm_memory_slot',
  memslot: 'kvm_memory_slot',
  rmap_head: 'kvm_rmap_head',
  desc: 'pte_list_desc',
  stat: 'kvm_vm_stat',
  vcpu: 'kvm_vcpu',
};

const STAT_CONTAINERS = ['kvm_vm_stat', 'kvm_vcpu_stat', 'kvm_vm_stat_generic', 'kvm_vcpu_stat_generic'];

/** Points that name a yield or lock step map to these callees. */
const POINT_WORDS: Record<string, string[]> = {
  yield: ['cond_resched_rwlock_write', 'cond_resched_rwlock_read', 'cond_resched_lock', 'cond_resched', 'tdp_mmu_iter_cond_resched', 'need_resched'],
  resched: ['cond_resched_rwlock_write', 'cond_resched_rwlock_read', 'cond_resched_lock', 'cond_resched', 'tdp_mmu_iter_cond_resched'],
  lock: ['write_lock', 'read_lock', 'spin_lock', 'KVM_MMU_LOCK', 'mutex_lock'],
  unlock: ['write_unlock', 'read_unlock', 'spin_unlock', 'KVM_MMU_UNLOCK', 'mutex_unlock'],
  flush: ['kvm_flush_remote_tlbs', 'kvm_mmu_commit_zap_page'],
  commit: ['kvm_mmu_commit_zap_page'],
  rcu: ['rcu_read_lock', 'synchronize_rcu', 'call_rcu'],
};

export class KernelIndex {
  private byName = new Map<string, KernelSymbol[]>();
  private byFieldName = new Map<string, KernelSymbol[]>();
  private byFile = new Map<string, FileIndex>();

  constructor(
    readonly root: string,
    readonly version: KernelVersion | undefined,
    public era: EraId,
    public eraSource: 'makefile' | 'override' | 'default',
    files: FileIndex[],
  ) {
    for (const f of files) this.byFile.set(f.file, f);
    this.rebuild();
  }

  get files(): FileIndex[] {
    return [...this.byFile.values()];
  }

  /** Every symbol, in file order. */
  symbols(): KernelSymbol[] {
    return this.files.flatMap((f) => f.symbols);
  }

  /** Replaces one file's index (after a re-index on change) or adds it. */
  updateFile(index: FileIndex): void {
    this.byFile.set(index.file, index);
    this.rebuild();
  }

  removeFile(file: string): void {
    if (this.byFile.delete(file)) this.rebuild();
  }

  private rebuild(): void {
    this.byName.clear();
    this.byFieldName.clear();
    for (const f of this.byFile.values()) {
      for (const s of f.symbols) {
        push(this.byName, s.name, s);
        if (s.kind === 'field') push(this.byFieldName, s.name.slice(s.name.lastIndexOf('.') + 1), s);
      }
    }
  }

  /** All symbols with exactly this name (any kind). */
  all(name: string): KernelSymbol[] {
    return this.byName.get(name) ?? [];
  }

  /** Finds one name as written (no rename table). */
  find(name: string, kind?: KernelSymbolKind | EngineName['kind'], preferFile?: string): KernelSymbol | undefined {
    const clean = name.trim().replace(/->/g, '.').replace(/\(\)$/, '');
    if (kind === 'field' || kind === 'stat' || (!kind && clean.includes('.'))) return this.findField(clean, kind === 'stat', preferFile);
    let list = this.byName.get(clean) ?? [];
    if (kind === 'request') list = list.filter((s) => s.kind === 'request' || s.kind === 'macro');
    else if (kind === 'function' || kind === 'macro') list = list.filter((s) => s.kind === 'function' || s.kind === 'macro');
    else if (kind === 'struct') list = list.filter((s) => s.kind === 'struct');
    if (list.length === 0) return undefined;
    return pickBest(list, kind, preferFile);
  }

  private findField(name: string, stat: boolean, preferFile?: string): KernelSymbol | undefined {
    const parts = name.split('.').filter(Boolean);
    const field = parts[parts.length - 1];
    if (!field) return undefined;
    const candidates = this.byFieldName.get(field) ?? [];
    if (candidates.length === 0) return undefined;
    if (parts.length >= 2) {
      const container = parts[parts.length - 2]!;
      const exact = candidates.filter((s) => s.container === container);
      if (exact.length) return pickBest(exact, 'field', preferFile);
      const mapped = PATH_CONTAINERS[container];
      if (mapped) {
        const viaPath = candidates.filter((s) => s.container === mapped);
        if (viaPath.length) return pickBest(viaPath, 'field', preferFile);
      }
      // a struct name that exists but lacks the field: not found (don't guess another struct)
      if (this.byName.get(container)?.some((s) => s.kind === 'struct')) return undefined;
    }
    const order = stat ? STAT_CONTAINERS : FIELD_CONTAINERS;
    for (const c of order) {
      const hit = candidates.filter((s) => s.container === c);
      if (hit.length) return pickBest(hit, 'field', preferFile);
    }
    return stat ? undefined : pickBest(candidates, 'field', preferFile);
  }

  /**
   * Resolves an engine name in the index's era (or `era`): the name itself, else a rename from the
   * alias table. Unresolved results carry a reason.
   */
  lookup(name: string, kind?: EngineName['kind'] | KernelSymbolKind, opts: { era?: EraId; preferFile?: string; eras?: readonly EraId[] } = {}): Resolution {
    const era = opts.era ?? this.era;
    const direct = this.find(name, kind, opts.preferFile);
    if (direct) return { name, symbol: direct };
    const clean = name.trim().replace(/->/g, '.');
    const tries = aliasesOf(clean, era);
    // qualified field: also try aliases of the bare field, keeping the container
    const dot = clean.lastIndexOf('.');
    if (dot > 0) for (const a of aliasesOf(clean.slice(dot + 1), era)) tries.push(`${clean.slice(0, dot)}.${a}`);
    for (const alt of tries) {
      const hit = this.find(alt, kind, opts.preferFile);
      if (hit) return { name, symbol: hit, via: alt };
    }
    const expectedFile = opts.preferFile;
    if (expectedFile) {
      const f = this.byFile.get(expectedFile);
      if (f?.skipped) return { name, reason: 'file-skipped', detail: `${expectedFile}: ${f.skipped}` };
    }
    if ((opts.eras && !opts.eras.includes(era)) || isOutOfEra(clean, era)) {
      return { name, reason: 'not-in-era', detail: `not defined in the ${era} era${tries.length ? `; also tried ${tries.join(', ')}` : ''}` };
    }
    if (tries.length) return { name, reason: 'renamed', detail: `renamed; tried ${tries.join(', ')}` };
    return { name, reason: 'not-found', detail: 'no definition in the indexed files' };
  }

  /** Definition of `name` (rename-aware), or undefined. */
  definition(name: string, kind?: EngineName['kind'] | KernelSymbolKind, era?: EraId): KernelSymbol | undefined {
    return this.lookup(name, kind, { era }).symbol;
  }

  /** Resolves a list of engine names; unresolved ones are listed with reasons (never dropped). */
  resolveAll(names: readonly EngineName[], era?: EraId): { resolved: Resolution[]; unresolved: Resolution[] } {
    const resolved: Resolution[] = [];
    const unresolved: Resolution[] = [];
    const e = era ?? this.era;
    for (const n of names) {
      const preferFile = typeof n.file === 'string' ? n.file : n.file?.[e];
      const r = this.lookup(n.name, n.kind, { era: e, preferFile, eras: n.eras });
      (r.symbol ? resolved : unresolved).push(r);
    }
    return { resolved, unresolved };
  }

  /** The call of `callee` (rename- and FNAME-aware) inside function `fn`, first occurrence or the n-th. */
  callSite(fn: string | KernelSymbol, callee: string, occurrence = 1): CallSite | undefined {
    const sym = typeof fn === 'string' ? this.definition(fn, 'function') : fn;
    if (!sym) return undefined;
    const wanted = new Set([callee, ...aliasesOf(callee, this.era)]);
    const fname = templateName(callee);
    if (fname) wanted.add(fname);
    const matches = [...(sym.calls ?? []), ...(sym.refs ?? [])].filter((c) => wanted.has(c.callee) || (fname !== undefined && templateName(c.callee) === fname));
    matches.sort((a, b) => a.line - b.line || a.column - b.column);
    return matches[Math.max(0, occurrence - 1)];
  }

  /**
   * Location of a trace frame: the function's definition, narrowed by `point`:
   * "entry" → first line; "calls X" / "requests KVM_REQ_X" → that line; "return"/"exit" → last line;
   * other words (e.g. "before yield") → the first call they name; otherwise the definition (exact=false).
   */
  resolveFrame(frame: { fn: string; file?: string; point?: string }): PointLocation | undefined {
    const sym = this.lookup(frame.fn, 'function', { preferFile: frame.file }).symbol;
    if (!sym) return undefined;
    const at = (line: number, column: number, exact: boolean): PointLocation => ({ file: sym.file, line, column, exact, symbol: sym });
    const point = (frame.point ?? '').trim();
    if (!point || /^(entry|enter|start|begin)$/i.test(point)) return at(sym.line, sym.column, true);
    if (/^(return|returns|exit|end|done|out)$/i.test(point)) return at(sym.endLine, 1, true);
    const calls = /^(?:calls?|call to|requests?|makes?|raises?|before|after|at)\s+([A-Za-z_][\w()]*)/i.exec(point);
    if (calls) {
      const site = this.callSite(sym, calls[1]!.replace(/\(\)$/, ''));
      if (site) return at(site.line, site.column, true);
    }
    const words = point.split(/[^A-Za-z0-9_]+/).filter(Boolean);
    for (const w of words) {
      const site = this.callSite(sym, w) ?? (POINT_WORDS[w.toLowerCase()] ?? []).map((c) => this.callSite(sym, c)).find(Boolean);
      if (site) return at(site.line, site.column, true);
    }
    return at(sym.line, sym.column, false);
  }

  /** The innermost symbol whose range contains (file, line[, column]); fields win over their struct. */
  symbolAt(file: string, line: number, column?: number): KernelSymbol | undefined {
    const f = this.byFile.get(file.replace(/\\/g, '/'));
    if (!f) return undefined;
    let best: KernelSymbol | undefined;
    for (const s of f.symbols) {
      if (s.template) continue;
      if (line < s.line || line > s.endLine) continue;
      if (column !== undefined && line === s.line && s.kind !== 'field' && column < s.column) continue;
      if (!best || s.endLine - s.line < best.endLine - best.line || (s.kind === 'field' && best.kind !== 'field')) best = s;
    }
    return best;
  }

  /** JSON summary as printed by `kvm-mmu-lab index --json`. */
  toJSON(unresolved: readonly Resolution[] = []): IndexJson {
    return {
      version: this.version?.text ?? null,
      era: this.era,
      eraSource: this.eraSource,
      files: this.files.map((f) => ({ file: f.file, lines: f.lines, symbols: f.symbols.length, parseErrors: f.parseErrors, recovered: f.recovered, parseMs: f.parseMs, ...(f.skipped ? { skipped: f.skipped } : {}) })),
      symbols: this.symbols().map((s) => ({ name: s.name, kind: s.kind, file: s.file, line: s.line, endLine: s.endLine })),
      unresolved: unresolved.map((u) => u.name),
      unresolvedDetails: unresolved.map((u) => ({ name: u.name, reason: u.reason ?? 'not-found', detail: u.detail ?? '' })),
    };
  }
}

export interface IndexJson {
  version: string | null;
  era: EraId;
  eraSource: string;
  files: Array<{ file: string; lines: number; symbols: number; parseErrors: number; recovered: number; parseMs: number; skipped?: string }>;
  symbols: Array<{ name: string; kind: KernelSymbolKind; file: string; line: number; endLine: number }>;
  unresolved: string[];
  unresolvedDetails: Array<{ name: string; reason: string; detail: string }>;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** `paging64_fetch` / `ept_fetch` / `FNAME(fetch)` → `FNAME(fetch)`. */
function templateName(name: string): string | undefined {
  if (/^FNAME\(\w+\)$/.test(name)) return name;
  for (const p of FNAME_PREFIXES) if (name.startsWith(p) && name.length > p.length) return `FNAME(${name.slice(p.length)})`;
  return undefined;
}

function pickBest(list: KernelSymbol[], kind: string | undefined, preferFile?: string): KernelSymbol {
  if (list.length === 1) return list[0]!;
  const score = (s: KernelSymbol): number => {
    let v = 0;
    if (preferFile && s.file === preferFile) v += 100;
    if (kind && s.kind === kind) v += 20;
    if (s.kind === 'function') v += 10;
    if (!s.recovered) v += 5;
    if (s.file.endsWith('.c')) v += 2;
    if (!s.template) v += 1;
    return v;
  };
  return list.slice().sort((a, b) => score(b) - score(a))[0]!;
}

export { isEraId };
