import type { Frame, ShadowPageView } from '../../src/engine/api';
import type { PanelUiState } from '../../src/shared/protocol';
import type { Store } from '../store';
import { badge, changeMark, h, link, type ChangeKind } from '../dom';

export interface Ctx {
  store: Store;
  ui: PanelUiState;
  saveUi(): void;
  goto(step: number): void;
  openSource(frame: Frame): void;
  revealSp(id: number): void;
  revealGfn(gfn: number): void;
}

export interface Section {
  id: string;
  title: string;
  el: HTMLElement;
  render(): void;
  /** Number of changed objects in this section for the current step. */
  changeCount(): number;
}

/** "sp#12" link that reveals the page in the Shadow pages section. */
export function spLink(ctx: Ctx, id: number, label = `sp#${id}`): HTMLElement {
  return link(label, () => ctx.revealSp(id), { class: 'link sp-link', 'data-sp': id, title: `Show sp#${id} in Shadow pages` });
}

export function statusTag(ctx: Ctx, sp: ShadowPageView | undefined, short = false): HTMLElement {
  if (!sp) return badge('unknown', 'st-unknown');
  const st = ctx.store.spStatus(sp);
  const gen = ctx.store.state?.vm.mmu_valid_gen;
  const obs = `obsolete (gen ${sp.mmuValidGen} ≠ ${gen})`;
  const long = st === 'obsolete' ? obs : st !== 'valid' && sp.obsolete ? `${st}, ${obs}` : st;
  if (!short) return badge(long, `st-${st}`);
  const text = st === 'obsolete' ? `obsolete g${sp.mmuValidGen}` : st !== 'valid' && sp.obsolete ? `${st}+obsolete g${sp.mmuValidGen}` : st;
  const b = badge(text, `st-${st}`);
  b.title = long;
  return b;
}

export function roleText(sp: ShadowPageView): string {
  const r = sp.role;
  const parts = [`L${sp.level}`, sp.tdp ? 'tdp' : r.direct ? 'direct' : 'indirect'];
  for (const [k, v] of Object.entries(r)) {
    if (k === 'level' || k === 'direct' || k === 'invalid') continue;
    if (v === true || (typeof v === 'number' && v !== 0 && k !== 'access')) parts.push(v === true || v === 1 ? k : `${k}=${v}`);
  }
  if (typeof r.access === 'number' && r.access !== 7) parts.push(`access=${r.access}`);
  return parts.join(' ');
}

export function changedCell(kind: ChangeKind, ...children: Array<Node | string | null>): HTMLElement {
  return h('td', { class: kind ?? '' }, changeMark(kind), ...children);
}

export function rowClass(kind: ChangeKind): string {
  return kind ?? '';
}

export function removedStrip(label: string, items: Array<string>): HTMLElement | null {
  if (!items.length) return null;
  const shown = items.slice(0, 30);
  return h(
    'div',
    { class: 'removed-strip removed', role: 'note' },
    changeMark('removed'),
    `${label} removed this step: `,
    shown.join(', '),
    items.length > shown.length ? ` … (+${items.length - shown.length})` : '',
  );
}

export function empty(text: string): HTMLElement {
  return h('p', { class: 'empty' }, text);
}
