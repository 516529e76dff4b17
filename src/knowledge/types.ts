/**
 * Knowledge-base types. Entries live as JSON data in `src/knowledge/entries/*.json`; this file only
 * describes their shape. Pure module: never import `vscode` here.
 */

export type EntryKind =
  | 'function'      // a C function (or FNAME(x) template function) of the MMU files
  | 'macro'         // a function-like macro (iterators, helpers) listed under `#macros` in the index
  | 'vm-field'      // struct kvm_arch / struct kvm field used by the MMU
  | 'sp-field'      // struct kvm_mmu_page field
  | 'role-bit'      // union kvm_mmu_page_role bit
  | 'vcpu-field'    // per-vCPU MMU state (struct kvm_mmu and friends)
  | 'rmap'          // reverse-map structures, encodings and constants
  | 'request'       // KVM_REQ_* and request flags
  | 'notifier'      // MMU-notifier sequence / range fields
  | 'spte-bit'      // SPTE bits and masks
  | 'stat'          // VM / vCPU statistics
  | 'lock';         // locks of the MMU

export type SeedId = 'fast-zap-2013' | 'unsync-zap-2010' | 'obsolete-roots-2022' | 'notifiers-2008' | 'fast-aging-2024' | 'none';

export const SEED_TITLES: Record<SeedId, string> = {
  'fast-zap-2013': '2013 fast zap of all shadow pages (generation numbers)',
  'unsync-zap-2010': '2010 "optimize for writing cr4" review: zap counting, unshadow use-after-free, unsync',
  'obsolete-roots-2022': '2022 zap only obsolete roots (KVM_REQ_MMU_FREE_OBSOLETE_ROOTS, TDP MMU roots)',
  'notifiers-2008': '2008 KVM swapping with MMU notifiers and the invalidation-retry protocol',
  'fast-aging-2024': '2024 fast-only aging (MGLRU) and lockless rmap walks',
  none: 'not part of a seed thread',
};

export interface NameChange {
  name: string;
  /** Last sampled version with the other name (for oldNames) or first with it (for newNames). */
  until?: string;
  since?: string;
}

export interface EntryHistory {
  /**
   * Sampled presence as closed ranges over the sample labels, e.g. "3.13.10..4.19, 5.4.59..7.1.5", or "all".
   * For indexed kinds (function, macro) it must match kvm-function-index.json exactly.
   */
  presence: string;
  /** Kernel file (latest location) relative to the tree root, e.g. "arch/x86/kvm/mmu/mmu.c". */
  file: string;
  oldNames?: NameChange[];
  newNames?: NameChange[];
  /** false when the symbol is not in a file/kind covered by kvm-function-index.json (fields, inline helpers in other headers ...). */
  indexed?: boolean;
  /** Free text on the history (moves, semantic changes). */
  note?: string;
}

export interface KnowledgeEntry {
  name: string;
  kind: EntryKind;
  /** One or two sentences: what it is. */
  summary: string;
  /** More explanation, markdown allowed (no kernel code, no kernel comments). */
  details?: string;
  /** The lock (or other protection) that guards it, or that the function needs. */
  protectedBy: string;
  /** What breaks when it is misused. */
  misuse?: string;
  callers?: string[];
  callees?: string[];
  /** For data: functions or macros that read/write it. */
  users?: string[];
  /** Invariant ids, e.g. "RT-6". */
  invariants: string[];
  seeds: SeedId[];
  history: EntryHistory;
}

export interface InvariantDef {
  id: string;
  scope: string;
  title: string;
  /** One line in our own words. */
  text: string;
  /** Catalogue family (RT, FZ, ...). */
  family: string;
  source: string;
}
