/** Minimal DOM helpers (no framework): create elements with attributes, children and listeners. */

export type Child = Node | string | number | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K];
export function h(tag: string, attrs?: Attrs | null, ...children: Child[]): HTMLElement;
export function h(tag: string, attrs?: Attrs | null, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  if (attrs) setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function s(tag: string, attrs?: Attrs | null, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag);
  if (attrs) setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'class') el.setAttribute('class', String(v));
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function hex(n: number | undefined | null): string {
  return n === undefined || n === null ? '—' : '0x' + n.toString(16);
}

export type ChangeKind = 'added' | 'removed' | 'modified' | null;

const CHANGE_TEXT: Record<string, string> = { added: 'added', removed: 'removed', modified: 'changed' };
const CHANGE_GLYPH: Record<string, string> = { added: '+', removed: '−', modified: '~' };

/** A visible glyph plus screen-reader text naming the change (never colour alone). */
export function changeMark(kind: ChangeKind): HTMLElement | null {
  if (!kind) return null;
  return h('span', { class: `change-mark ${kind}`, title: CHANGE_TEXT[kind] }, h('span', { 'aria-hidden': 'true' }, CHANGE_GLYPH[kind]), h('span', { class: 'sr-only' }, ` ${CHANGE_TEXT[kind]} `));
}

export function badge(text: string, cls = ''): HTMLElement {
  return h('span', { class: `tag ${cls}`.trim() }, text);
}

/** A text button styled as a link. */
export function link(text: string, onActivate: () => void, attrs: Attrs = {}): HTMLButtonElement {
  return h('button', { type: 'button', class: 'link', ...attrs, onclick: () => onActivate() }, text) as HTMLButtonElement;
}
