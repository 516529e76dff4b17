/**
 * Kernel symbol index: shared data types. Pure data (JSON-serialisable), no `vscode`.
 *
 * Positions: `line`/`endLine` are 1-based (as editors and compilers print them); `column`/`endColumn`
 * are 1-based too. The VS Code side subtracts one.
 */
import type { EraId } from '../engine/api';

export type { EraId };

/** What a symbol is. `struct` is the struct/union itself; `field` is `struct.field`. */
export type KernelSymbolKind = 'function' | 'macro' | 'field' | 'request' | 'struct' | 'stat';

export interface CallSite {
  /** Callee as written: `kvm_flush_remote_tlbs`, `FNAME(fetch)` or a function-like macro name. */
  callee: string;
  line: number;
  column: number;
}

export interface KernelSymbol {
  /**
   * Lookup name. Functions and macros: the identifier (`kvm_mmu_zap_all_fast`, `FNAME(fetch)`,
   * `paging64_fetch`); fields: `struct.field` (`kvm_mmu_page.tdp_mmu_root_count`); structs: the tag;
   * requests: `KVM_REQ_*`.
   */
  name: string;
  kind: KernelSymbolKind;
  /** File relative to the tree root, with forward slashes. */
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** Fields: the enclosing named struct/union. */
  container?: string;
  /** Functions from paging_tmpl.h: the template form `FNAME(name)` this instance was derived from. */
  template?: string;
  /** True when the definition was recovered by the fallback scanner (tree-sitter mis-parse). */
  recovered?: boolean;
  /** Functions only: call sites in the body, in source order. */
  calls?: CallSite[];
  /** Functions only: `KVM_REQ_*` identifiers used in the body (e.g. as a request argument). */
  refs?: CallSite[];
}

export interface FileIndex {
  file: string;
  /** Number of lines, or 0 if skipped. */
  lines: number;
  bytes: number;
  symbols: KernelSymbol[];
  /** Set when the file was not indexed: the reason, e.g. "skipped: file too large (50.0 MB > 8.0 MB)". */
  skipped?: string;
  /** Count of tree-sitter ERROR/MISSING nodes (mis-parsed regions); informative. */
  parseErrors: number;
  /** Functions recovered by the fallback scanner. */
  recovered: number;
  parseMs: number;
}

export interface KernelVersion {
  version: number;
  patchlevel: number;
  sublevel: number;
  extraversion: string;
  /** "6.19.0" or "5.17.0-rc5". */
  text: string;
}

/** One engine name to be resolved (the shape of the engine's KERNEL_SYMBOLS entries, loosely). */
export interface EngineName {
  name: string;
  kind: 'function' | 'macro' | 'field' | 'request' | 'stat';
  /** Expected file per era (informative; the index searches every file). */
  file?: string | Partial<Record<EraId, string>>;
  /** Eras in which the engine uses this name; absent = all. */
  eras?: readonly EraId[];
}

export interface Resolution {
  /** The name asked for. */
  name: string;
  /** The symbol found (possibly under another name, see `via`). */
  symbol?: KernelSymbol;
  /** Set when found through the rename table: the name actually present in the tree. */
  via?: string;
  /** When not found: why (best guess). */
  reason?: 'renamed' | 'not-in-era' | 'not-found' | 'file-skipped';
  detail?: string;
}

export interface PointLocation {
  file: string;
  line: number;
  column: number;
  /** True when the point was matched exactly (entry, a call, a return); false = fell back to the definition line. */
  exact: boolean;
  symbol: KernelSymbol;
}
