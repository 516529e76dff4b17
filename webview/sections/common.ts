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

/**
 * State badge of a page. Only shadow-MMU pages (tdp === false) are judged by mmu_valid_gen, so only they show a
 * generation comparison. A TDP MMU page is obsolete because it is invalid (role.invalid, set when its root is
 * invalidated by kvm_tdp_mmu_invalidate_roots / kvm_tdp_mmu_invalidate_all_roots): say "invalid", never "gen a ≠ b".
 */
export function statusTag(ctx: Ctx, sp: ShadowPageView | undefined, short = false): HTMLElement {
  if (!sp) return badge('unknown', 'st-unknown');
  const st = ctx.store.spStatus(sp);
  let long: string;
  let text: string;
  let tip: string;
  if (sp.tdp) {
    long = text = st;
    tip =
      st === 'invalid'
        ? 'invalid: role.invalid is set (root invalidated by kvm_tdp_mmu_invalidate_roots); an invalid TDP page is obsolete. The TDP MMU does not use mmu_valid_gen.'
        : st === 'obsolete'
          ? 'obsolete (the TDP MMU does not use mmu_valid_gen for its pages)'
          : `${st}${sp.obsolete ? ', obsolete' : ''}`;
  } else {
    const gen = ctx.store.state?.vm.mmu_valid_gen;
    const obs = `obsolete (gen ${sp.mmuValidGen} ≠ ${gen})`;
    long = st === 'obsolete' ? obs : st !== 'valid' && sp.obsolete ? `${st}, ${obs}` : st;
    text = st === 'obsolete' ? `obsolete g${sp.mmuValidGen}` : st !== 'valid' && sp.obsolete ? `${st}+obsolete g${sp.mmuValidGen}` : st;
    tip = long.replace(/\(gen (\S+) ≠ (\S+)\)/, '(sp mmu_valid_gen $1 ≠ kvm mmu_valid_gen $2)');
  }
  const b = badge(short ? text : long, `st-${st}`);
  b.title = tip;
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

/** Text that may break after each "_" (long request names in a narrow side bar). */
export function breakable(text: string): DocumentFragment {
  const f = document.createDocumentFragment();
  text.split(/(?<=_)/).forEach((part, i) => {
    if (i) f.appendChild(document.createElement('wbr'));
    f.appendChild(document.createTextNode(part));
  });
  return f;
}

export function reqTag(name: string): HTMLElement {
  const b = badge('', 'req-tag');
  b.appendChild(breakable(name));
  b.title = name.startsWith('KVM_REQ_') ? name : `KVM_REQ_${name}`;
  return b;
}

/** A wide table in a horizontal scroller whose first column stays in view (narrow side bar). */
export function scrollTable(t: HTMLElement): HTMLElement {
  return h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': t.getAttribute('aria-label') ?? 'table' }, t);
}
