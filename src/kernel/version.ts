/**
 * Kernel version from the top Makefile, and the engine era that best matches a version.
 *
 * Era mapping (picked by which era's *algorithms* match the tree, not merely "latest not newer"):
 *
 * | Tree version      | Era     | Why |
 * |-------------------|---------|-----|
 * | < 2.6.34          | 2.6.27  | mmu notifiers, combined kvm_mmu_zap_page, no unsync (2.6.27) / early unsync |
 * | 2.6.34            | 2.6.34  | |
 * | 2.6.35            | 2.6.35  | last release with the combined kvm_mmu_zap_page |
 * | 2.6.36 .. 3.10    | 3.10    | prepare/commit zap split (2.6.36), slow zap-all, no generation |
 * | 3.11 .. 5.0       | 3.11    | fast zap with mmu_valid_gen (kvm_mmu_invalidate_zap_all_pages) |
 * | 5.1 .. 5.2        | 3.10    | fast zap was removed in 5.1 and came back in 5.3: slow zap again |
 * | 5.3 .. 5.9        | 3.11    | fast zap is back (kvm_mmu_zap_all_fast, u8 generation), shadow MMU only |
 * | 5.10 .. 5.16      | 5.15    | TDP MMU present; 5.15 is its closest modelled form |
 * | 5.17              | 5.17    | |
 * | 5.18 .. 6.0       | 5.18    | KVM_REQ_MMU_FREE_OBSOLETE_ROOTS, async root zap |
 * | 6.1 .. 6.5        | 6.1     | mmu_invalidate_* names, shadow-page helpers renamed |
 * | >= 6.6            | 6.19    | scheduled_root_to_zap, no async zapper; 7.x MMU is essentially 6.19 |
 */
import type { EraId } from '../engine/api';
import type { KernelVersion } from './types';

export const ERA_IDS: readonly EraId[] = ['2.6.27', '2.6.34', '2.6.35', '3.10', '3.11', '5.15', '5.17', '5.18', '6.1', '6.19'];

/** [first version covered (inclusive), era], ascending; the last row whose start <= version wins. */
export const ERA_TABLE: ReadonlyArray<readonly [string, EraId, string]> = [
  ['0.0.0', '2.6.27', 'mmu notifiers, combined kvm_mmu_zap_page'],
  ['2.6.34', '2.6.34', ''],
  ['2.6.35', '2.6.35', 'last release with the combined kvm_mmu_zap_page'],
  ['2.6.36', '3.10', 'prepare/commit zap split, slow zap-all'],
  ['3.11', '3.11', 'fast zap with mmu_valid_gen'],
  ['5.1', '3.10', 'fast zap removed in 5.1, back in 5.3'],
  ['5.3', '3.11', 'kvm_mmu_zap_all_fast, shadow MMU only'],
  ['5.10', '5.15', 'TDP MMU present'],
  ['5.17', '5.17', ''],
  ['5.18', '5.18', 'free-obsolete-roots request, async root zap'],
  ['6.1', '6.1', 'mmu_invalidate_* names'],
  ['6.6', '6.19', 'scheduled_root_to_zap; newer trees map here too'],
];

function key(v: readonly number[]): number {
  return (v[0] ?? 0) * 1_000_000 + (v[1] ?? 0) * 1_000 + (v[2] ?? 0);
}

function parseDotted(text: string): number[] {
  return text.split('.').map((x) => Number.parseInt(x, 10) || 0);
}

/** The era for a version ("6.19.0", "5.4.59", {version, patchlevel, sublevel}). */
export function eraForVersion(v: string | KernelVersion): EraId {
  const nums = typeof v === 'string' ? parseDotted(v.replace(/-.*$/, '')) : [v.version, v.patchlevel, v.sublevel];
  const k = key(nums);
  let era: EraId = ERA_TABLE[0]![1];
  for (const [start, e] of ERA_TABLE) if (key(parseDotted(start)) <= k) era = e;
  return era;
}

export function isEraId(x: string): x is EraId {
  return (ERA_IDS as readonly string[]).includes(x);
}

/** Numeric ordering key of an era (for "era range" checks). */
export function eraKey(era: EraId): number {
  return key(parseDotted(era));
}

/**
 * Reads VERSION / PATCHLEVEL / SUBLEVEL / EXTRAVERSION from the text of a top-level kernel Makefile.
 * Returns undefined when VERSION or PATCHLEVEL is missing or not a number.
 */
export function parseMakefileVersion(text: string): KernelVersion | undefined {
  const head = text.slice(0, 64 * 1024);
  const get = (name: string): string | undefined => {
    const m = new RegExp(`^${name}\\s*[:?]?=[ \\t]*([^\\n#]*)`, 'm').exec(head);
    return m ? m[1]!.trim() : undefined;
  };
  const version = Number.parseInt(get('VERSION') ?? '', 10);
  const patchlevel = Number.parseInt(get('PATCHLEVEL') ?? '', 10);
  if (!Number.isFinite(version) || !Number.isFinite(patchlevel)) return undefined;
  const sublevel = Number.parseInt(get('SUBLEVEL') ?? '0', 10) || 0;
  const extraversion = get('EXTRAVERSION') ?? '';
  return { version, patchlevel, sublevel, extraversion, text: `${version}.${patchlevel}.${sublevel}${extraversion}` };
}
