/** Roots: per vCPU the current root and the prev_roots cache; the TDP MMU's tdp_mmu_roots; pending requests. */
import type { ShadowPageView } from '../../src/engine/api';
import { parseSpRef } from '../../src/shared/delta';
import { badge, changeMark, clear, h } from '../dom';
import { breakable, changedCell, empty, removedStrip, reqTag, roleText, spLink, statusTag, type Ctx, type Section } from './common';

const ROOT_REQUESTS = new Set(['KVM_REQ_MMU_FREE_OBSOLETE_ROOTS', 'KVM_REQ_MMU_RELOAD', 'KVM_REQ_LOAD_MMU_PGD', 'KVM_REQ_MMU_SYNC']);

function withClass(el: HTMLElement, cls: string, attrs: Record<string, string> = {}): HTMLElement {
  el.classList.add(cls);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

export function rootsSection(ctx: Ctx): Section {
  const el = h('div', { class: 'section-body roots' });
  const st = ctx.store;

  function holders(id: number): string[] {
    const out: string[] = [];
    for (const v of st.state!.vcpus) {
      if (parseSpRef(v.root) === id) out.push(`vcpu${v.id}.root`);
      v.prevRoots.forEach((r, i) => {
        if (parseSpRef(r) === id) out.push(`vcpu${v.id}.prev_roots[${i}]`);
      });
    }
    for (const e of st.record?.events ?? []) {
      if (e.kind === 'effect' && e.effect.kind === 'root-ref' && e.effect.sp === id && e.effect.holder && e.effect.new > e.effect.old) {
        if (!out.includes(e.effect.holder)) out.push(e.effect.holder);
      }
    }
    return out;
  }

  function rootRef(ref: string | null, key: string): HTMLElement {
    const kind = st.roots.of(key);
    if (ref === null) return h('span', { class: `root-ref none ${kind ?? ''}` }, changeMark(kind), 'none');
    const sp = st.sp(ref);
    return h(
      'span',
      { class: `root-ref ${kind ?? ''}`, 'data-key': key },
      changeMark(kind),
      sp ? spLink(ctx, sp.id, ref) : h('code', null, ref),
      ' ',
      statusTag(ctx, sp),
      sp ? h('span', { class: 'dim' }, ` ref ${sp.rootCount}`) : null,
    );
  }

  function render(): void {
    clear(el);
    const s = st.state;
    if (!s) return void el.appendChild(empty(st.emptyReason));
    // vCPUs: one block each (narrow side bar friendly)
    const vt = h('div', { class: 'vcpu-roots', role: 'list', 'aria-label': 'vCPU roots' });
    for (const v of s.vcpus) {
      const reqs = v.requests.filter((r) => ROOT_REQUESTS.has(r));
      const removedReqs = st.requests.removed.filter((k) => k.startsWith(`${v.id}:`) && ROOT_REQUESTS.has(k.slice(k.indexOf(':') + 1)));
      const prev = v.prevRoots.map((r, i) => h('span', { class: 'prev-root' }, h('span', { class: 'dim' }, `[${i}] `), rootRef(r, `${v.id}:prev${i}`)));
      vt.appendChild(
        h(
          'div',
          { class: 'vcpu-block', role: 'listitem', 'data-vcpu': v.id, 'data-change': st.vcpus.of(v.id) ?? '' },
          h('div', { class: 'vcpu-name' }, changeMark(st.vcpus.of(v.id)), h('strong', null, `vcpu${v.id}`), v.guestMode ? badge('L2', 'dim') : null, v.inGuest ? h('span', { class: 'dim' }, ' in guest') : null),
          h('div', { class: 'kvrow' }, h('span', { class: 'k' }, 'root'), rootRef(v.root, `${v.id}:current`)),
          prev.length ? h('div', { class: 'kvrow' }, h('span', { class: 'k' }, 'prev_roots'), h('span', { class: 'wrap' }, ...prev)) : null,
          h(
            'div',
            { class: 'kvrow' },
            h('span', { class: 'k' }, 'requests'),
            h(
              'span',
              { class: 'wrap' },
              ...reqs.map((r) => h('span', { class: `req ${st.requests.of(`${v.id}:${r}`) ?? ''}` }, changeMark(st.requests.of(`${v.id}:${r}`)), reqTag(r.replace('KVM_REQ_', '')))),
              ...removedReqs.map((k) => h('span', { class: 'req removed' }, changeMark('removed'), h('s', null, breakable(k.slice(k.indexOf(':') + 1 + 8))))),
              reqs.length + removedReqs.length ? null : h('span', { class: 'dim' }, 'none pending'),
            ),
          ),
        ),
      );
    }
    el.appendChild(h('h4', null, 'vCPU roots'));
    el.appendChild(vt);
    const removedRoots = st.roots.removed.map((k) => k.replace(':current', '.root').replace(':prev', '.prev_roots[') + (k.includes(':prev') ? ']' : '')).map((k) => `vcpu${k}`);
    const strip = removedStrip('Root references', removedRoots);
    if (strip) el.appendChild(strip);

    // Root pages: tdp_mmu_roots for the TDP MMU; otherwise every page with a root reference or held by a vCPU.
    const tdp = s.mmu === 'tdp';
    let ids: number[];
    if (tdp) ids = s.vm.tdp_mmu_roots;
    else {
      const set = new Set<number>();
      for (const v of s.vcpus) for (const r of [v.root, ...v.prevRoots]) {
        const id = parseSpRef(r);
        if (id !== null) set.add(id);
      }
      for (const id of st.rootish) if ((st.spById.get(id)?.rootCount ?? 0) > 0) set.add(id);
      ids = [...set].sort((a, b) => a - b);
    }
    // TDP MMU pages do not use mmu_valid_gen (a TDP root is obsolete when it is invalid): no gen column for them.
    el.appendChild(
      h(
        'h4',
        null,
        tdp ? 'tdp_mmu_roots' : 'Shadow roots',
        h('span', { class: 'dim' }, tdp ? ` (${ids.length})` : ` (${ids.length}) · mmu_valid_gen ${s.vm.mmu_valid_gen}`),
        !tdp && st.vmFields.has('mmu_valid_gen') ? changeMark('modified') : null,
      ),
    );
    if (!ids.length) return void el.appendChild(empty('No roots.'));
    // Explicit table roles: in a narrow side bar CSS stacks the rows (one block per root, labels from data-label).
    const cols = tdp ? ['state', 'refcount', 'role', 'held by'] : ['state', 'gen', 'refcount', 'role', 'held by'];
    const t = h(
      'table',
      { class: 'grid root-table', role: 'table', 'aria-label': tdp ? 'tdp_mmu_roots' : 'shadow roots' },
      h('thead', { role: 'rowgroup' }, h('tr', { role: 'row' }, h('th', { role: 'columnheader' }, 'root'), ...cols.map((c) => h('th', { role: 'columnheader' }, c)))),
    );
    const tb = h('tbody', { role: 'rowgroup' });
    const cell = (label: string, td: HTMLElement) => withClass(td, `c-${label.replace(' ', '-')}`, { role: 'cell', 'data-label': label });
    for (const id of ids) {
      const sp = st.spById.get(id) as ShadowPageView | undefined;
      const kind = st.sps.of(id);
      const f = st.sps.fields.get(id);
      const holdersList = holders(id);
      tb.appendChild(
        h(
          'tr',
          { class: kind ?? '', 'data-root': id, role: 'row' },
          h('th', { scope: 'row', role: 'rowheader', class: 'c-root' }, changeMark(kind), spLink(ctx, id)),
          withClass(cell('state', changedCell(f && (f.has('invalid') || f.has('obsolete') || f.has('role') || f.has('lifetime')) ? 'modified' : null, statusTag(ctx, sp))), 'state-cell'),
          tdp ? null : cell('gen', changedCell(f?.has('mmuValidGen') ? 'modified' : null, sp ? String(sp.mmuValidGen) : '—')),
          cell('refcount', changedCell(f?.has('rootCount') ? 'modified' : null, sp ? String(sp.rootCount) : '—')),
          cell('role', h('td', null, sp ? roleText(sp) : '')),
          cell('held by', h('td', null, holdersList.length ? holdersList.join(', ') : h('span', { class: 'dim' }, 'nobody'))),
        ),
      );
    }
    t.appendChild(tb);
    el.appendChild(t);
  }

  return {
    id: 'roots',
    title: 'Roots',
    el,
    render,
    changeCount: () => st.roots.count + st.requests.count + (st.state ? (st.state.mmu === 'tdp' ? st.state.vm.tdp_mmu_roots : []).filter((id) => st.sps.of(id)).length : 0),
  };
}
