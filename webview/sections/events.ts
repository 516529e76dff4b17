/** Events: the step's kernel frames and effects; every frame links to its source line. */
import type { Effect, Frame, TraceEvent } from '../../src/engine/api';
import { clear, h, hex } from '../dom';
import { empty, type Ctx, type Section } from './common';

export function describeEffect(e: Effect): string {
  switch (e.kind) {
    case 'spte-write':
      return `sp#${e.sp}[${e.index}] ${e.old} → ${e.new}`;
    case 'rmap-add':
    case 'rmap-remove':
      return `${e.kind} slot ${e.slot} L${e.level} gfn ${hex(e.gfn)} ${e.sptep} (count ${e.count})`;
    case 'parent-pte-add':
    case 'parent-pte-remove':
      return `${e.kind} sp#${e.sp} ${e.sptep}`;
    case 'sp-alloc':
      return `sp-alloc sp#${e.sp} gfn ${hex(e.gfn)} role ${e.role} gen ${e.gen}${e.tdp ? ' tdp' : ''}`;
    case 'sp-state':
      return `sp#${e.sp} ${e.from} → ${e.to}`;
    case 'sp-field':
      return `sp#${e.sp}.${e.field} ${JSON.stringify(e.old)} → ${JSON.stringify(e.new)}`;
    case 'root-ref':
      return `sp#${e.sp}.${e.field} ${e.old} → ${e.new}${e.holder ? ` (${e.holder})` : ''}`;
    case 'vcpu-root':
      return `vcpu${e.vcpu}.${e.slot === 'current' ? 'root' : e.slot} ${e.old ?? 'none'} → ${e.new ?? 'none'}`;
    case 'request-set':
    case 'request-clear':
      return `${e.kind === 'request-set' ? 'set' : 'clear'} ${e.request} on vcpu${e.vcpu}`;
    case 'tlb-fill':
      return `tlb-fill vcpu${e.vcpu} ${e.tag} gfn ${hex(e.gfn)} → pfn ${hex(e.pfn)}${e.writable ? ' W' : ''}`;
    case 'tlb-flush':
      return `tlb-flush vcpu${e.vcpu} ${e.scope} (${e.entries} entries)`;
    case 'lock':
      return `${e.lock} ${e.action} (${e.mode}) by ${e.thread}`;
    case 'vm-field':
      return `kvm->arch.${e.field} ${JSON.stringify(e.old)} → ${JSON.stringify(e.new)}`;
    case 'stat':
      return `stat ${e.stat} ${e.old} → ${e.new}`;
    case 'host-pte':
      return `host pte hva ${hex(e.hva)} ${e.old} → ${e.new}`;
    case 'host-page':
      return `host page pfn ${hex(e.pfn)} ${e.field} ${JSON.stringify(e.old)} → ${JSON.stringify(e.new)}`;
    case 'memslot':
      return `memslot ${e.id} ${e.action}`;
    case 'note':
      return e.text;
    default:
      return JSON.stringify(e).slice(0, 200);
  }
}

const MAX_EVENTS = 2000;

export function eventsSection(ctx: Ctx): Section {
  const st = ctx.store;
  const el = h('div', { class: 'section-body events' });

  function frameLink(f: Frame, prefix: string): HTMLElement {
    return h(
      'button',
      { type: 'button', class: 'link frame', title: `Open ${f.file}${f.point ? ` (${f.point})` : ''}`, 'data-fn': f.fn, onclick: () => ctx.openSource(f) },
      `${prefix}${f.fn}`,
      f.point ? h('span', { class: 'dim' }, ` · ${f.point}`) : null,
    );
  }

  function row(e: TraceEvent): HTMLElement {
    const pad = `indent${Math.min(8, e.depth)}`;
    if (e.kind === 'effect') return h('li', { class: `ev effect ${pad}`, 'data-kind': e.effect.kind }, h('span', { class: 'ev-kind' }, '◦ '), h('code', null, describeEffect(e.effect)));
    const glyph = e.kind === 'call' ? '→ ' : e.kind === 'return' ? '← ' : '• ';
    return h('li', { class: `ev ${e.kind} ${pad}` }, frameLink(e.frame, glyph), e.frame.args ? h('span', { class: 'dim' }, ` (${Object.entries(e.frame.args).map(([k, v]) => `${k}=${v}`).join(', ')})`) : null);
  }

  function render(): void {
    clear(el);
    const r = st.record;
    if (!r) return void el.appendChild(empty(st.state ? 'Step 0: no step taken yet.' : st.emptyReason));
    el.appendChild(h('div', { class: 'ev-head' }, h('strong', null, r.thread), ` op ${r.opIndex}: `, h('code', null, r.op.op), ' · stopped at ', h('code', null, r.stoppedAt)));
    const ul = h('ul', { class: 'plain ev-list', 'aria-label': `Events of step ${r.index}` });
    for (const e of r.events.slice(0, MAX_EVENTS)) ul.appendChild(row(e));
    if (r.events.length > MAX_EVENTS) ul.appendChild(h('li', { class: 'dim' }, `… ${r.events.length - MAX_EVENTS} more events`));
    el.appendChild(ul);
    if (r.stack.length) {
      el.appendChild(h('h4', null, `Stack of ${r.thread} at the end of the step`));
      const ol = h('ol', { class: 'plain stack' });
      for (const f of r.stack.slice().reverse()) ol.appendChild(h('li', null, frameLink(f, '')));
      el.appendChild(ol);
    }
  }

  return { id: 'events', title: 'Events', el, render, changeCount: () => st.record?.events.filter((e) => e.kind === 'effect').length ?? 0 };
}
