/**
 * Values the way KVM developers read them: hex gfns/pfns/hvas, decoded page roles and SPTE bits.
 * Pure functions; no engine or DAP dependency.
 */
import type { ShadowPageView, SpteView } from '../engine/api';

export function hex(n: number | bigint | null | undefined): string {
  if (n === null || n === undefined) return 'NULL';
  if (typeof n === 'bigint') return '0x' + n.toString(16);
  if (!Number.isFinite(n)) return String(n);
  return n < 0 ? '-0x' + (-n).toString(16) : '0x' + n.toString(16);
}

/** Keys whose numeric values are addresses or frame numbers and therefore shown in hex. */
const HEX_KEY = /(gfn|pfn|hva|gva|gpa|addr|cr3|spte|sptep|role_word|roleWord|start|end|base)$/i;

export function isHexKey(key: string): boolean {
  return HEX_KEY.test(key);
}

/** One scalar for the Variables view: numbers under address-like keys in hex, strings as they are. */
export function formatScalar(key: string, value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') return isHexKey(key) ? hex(value) : String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/**
 * Bit layout of `union kvm_mmu_page_role` in recent kernels (5.18+), low bit first. Older eras use
 * fewer or differently placed bits; the engine's decoded `role` record is authoritative and this table
 * is only used when a bare role word has to be read.
 */
const ROLE_FIELDS: Array<[name: string, bits: number]> = [
  ['level', 4],
  ['has_4_byte_gpte', 1],
  ['quadrant', 2],
  ['direct', 1],
  ['access', 3],
  ['invalid', 1],
  ['efer_nx', 1],
  ['cr0_wp', 1],
  ['smep_andnot_wp', 1],
  ['smap_andnot_wp', 1],
  ['ad_disabled', 1],
  ['guest_mode', 1],
  ['passthrough', 1],
  ['', 5],
  ['smm', 8],
];

export function decodeRoleWord(word: number | string): Record<string, number> {
  let w = typeof word === 'string' ? parseInt(word.replace(/^0x/i, ''), 16) : word;
  if (!Number.isFinite(w)) return {};
  w = w >>> 0;
  const out: Record<string, number> = {};
  let shift = 0;
  for (const [name, bits] of ROLE_FIELDS) {
    const v = Math.floor(w / 2 ** shift) % 2 ** bits;
    if (name) out[name] = v;
    shift += bits;
  }
  return out;
}

/** "ACC_EXEC|ACC_WRITE|ACC_USER" style text for role.access. */
export function accessBits(access: number): string {
  const parts: string[] = [];
  if (access & 1) parts.push('X');
  if (access & 2) parts.push('W');
  if (access & 4) parts.push('U');
  return parts.length ? parts.join('') : '-';
}

/** One-line role summary, e.g. "L4 direct acc=XWU gm" (kernel field names, set flags only). */
export function roleSummary(role: Record<string, number | boolean>): string {
  const parts: string[] = [];
  if (role.level !== undefined) parts.push(`L${Number(role.level)}`);
  parts.push(role.direct ? 'direct' : 'indirect');
  if (role.access !== undefined) parts.push(`acc=${accessBits(Number(role.access))}`);
  if (role.quadrant) parts.push(`q${Number(role.quadrant)}`);
  for (const [k, v] of Object.entries(role)) {
    if (k === 'level' || k === 'direct' || k === 'access' || k === 'quadrant') continue;
    if (v === true || (typeof v === 'number' && v !== 0)) parts.push(typeof v === 'number' && v !== 1 ? `${k}=${v}` : k);
  }
  return parts.join(' ');
}

/** "P W A D leaf pfn=0x1234" for an SPTE. */
export function spteSummary(spte: SpteView): string {
  if (!spte.present) return spte.mmio ? `${spte.value} MMIO` : `${spte.value} !P`;
  const bits = ['P'];
  if (spte.writable) bits.push('W');
  if (spte.accessed) bits.push('A');
  if (spte.dirty) bits.push('D');
  if (spte.huge) bits.push('PS');
  const target = spte.leaf ? (spte.pfn !== undefined ? ` pfn=${hex(spte.pfn)}` : '') : spte.child !== undefined ? ` -> sp#${spte.child}` : '';
  return `${spte.value} ${bits.join(' ')}${spte.leaf ? ' leaf' : ''}${target}`;
}

/** "sp#3 gfn=0x0 L4 direct acc=XWU root(1)" for a shadow page. */
export function shadowPageSummary(sp: ShadowPageView): string {
  const flags: string[] = [];
  if (sp.rootCount > 0) flags.push(`root(${sp.rootCount})`);
  if (sp.invalid) flags.push('invalid');
  if (sp.obsolete) flags.push('obsolete');
  if (sp.unsync) flags.push('unsync');
  if (sp.lifetime !== 'live') flags.push(sp.lifetime);
  return `sp#${sp.id} gfn=${hex(sp.gfn)} ${roleSummary(sp.role)}${flags.length ? ' ' + flags.join(' ') : ''}`;
}
