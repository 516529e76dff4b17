/** Locks, requests, TLB: mmu_lock holders and mode, the invalidation sequence, KVM_REQ_* per vCPU, TLB entries. */
import { badge, changeMark, clear, h, hex } from '../dom';
import { breakable, empty, removedStrip, reqTag, scrollTable, type Ctx, type Section } from './common';

export function locksSection(ctx: Ctx): Section {
  const st = ctx.store;
  const el = h('div', { class: 'section-body locks' });

  function render(): void {
    clear(el);
    const s = st.state;
    if (!s) return void el.appendChild(empty(st.emptyReason));
    const vm = s.vm;
    const name = (k: string) => vm.names[k] ?? k;
    const lockKind = st.vmFields.has('mmu_lock') ? 'modified' : null;
    el.appendChild(h('h4', null, 'mmu_lock ', h('span', { class: 'dim' }, `(${vm.mmu_lock.type})`), changeMark(lockKind)));
    const holders = h('ul', { class: 'plain', 'aria-label': 'mmu_lock holders' });
    if (!vm.mmu_lock.holders.length) holders.appendChild(h('li', { class: 'dim' }, 'unlocked'));
    for (const x of vm.mmu_lock.holders) {
      const k = st.locks.of(`${x.thread}:${x.mode}`);
      holders.appendChild(h('li', { class: k ?? '', 'data-holder': x.thread }, changeMark(k), h('strong', null, x.thread), ' holds it for ', badge(x.mode, `mode-${x.mode}`)));
    }
    for (const r of st.locks.removed) holders.appendChild(h('li', { class: 'removed' }, changeMark('removed'), h('s', null, r.replace(':', ' released '))));
    el.appendChild(holders);
    const seqRow = (field: string, value: string) =>
      h('tr', { class: st.vmFields.has(field) ? 'modified' : '' }, h('th', { scope: 'row' }, changeMark(st.vmFields.has(field) ? 'modified' : null), name(field)), h('td', null, value));
    el.appendChild(
      h(
        'table',
        { class: 'grid kv', 'aria-label': 'MMU counters' },
        h(
          'tbody',
          null,
          seqRow('mmu_valid_gen', String(vm.mmu_valid_gen)),
          seqRow('mmu_invalidate_seq', String(vm.mmu_invalidate_seq)),
          seqRow('mmu_invalidate_in_progress', String(vm.mmu_invalidate_in_progress)),
          seqRow('mmu_invalidate_range', vm.mmu_invalidate_range ? `${hex(vm.mmu_invalidate_range[0])}–${hex(vm.mmu_invalidate_range[1])}` : '—'),
          seqRow('n_used_mmu_pages', `${vm.n_used_mmu_pages} / ${vm.n_max_mmu_pages}`),
        ),
      ),
    );

    el.appendChild(h('h4', null, 'Requests'));
    const rq = h('table', { class: 'grid', 'aria-label': 'pending requests per vCPU' }, h('thead', null, h('tr', null, h('th', null, 'vCPU'), h('th', null, 'pending KVM_REQ_*'), h('th', null, 'mode'))));
    const rb = h('tbody');
    for (const v of s.vcpus) {
      const cells: Node[] = v.requests.map((r) => {
        const k = st.requests.of(`${v.id}:${r}`);
        return h('span', { class: `req ${k ?? ''}` }, changeMark(k), reqTag(r), ' ');
      });
      for (const k of st.requests.removed) if (k.startsWith(`${v.id}:`)) cells.push(h('span', { class: 'req removed' }, changeMark('removed'), h('s', null, breakable(k.slice(k.indexOf(':') + 1))), ' '));
      rb.appendChild(
        h(
          'tr',
          { 'data-vcpu': v.id },
          h('th', { scope: 'row' }, `vcpu${v.id}`),
          h('td', null, ...(cells.length ? cells : [h('span', { class: 'dim' }, 'none')])),
          h('td', null, v.inGuest ? 'in guest' : 'in host', v.guestMode ? ' · L2' : ''),
        ),
      );
    }
    rq.appendChild(rb);
    el.appendChild(rq);

    el.appendChild(h('h4', null, 'TLB'));
    const tt = h('table', { class: 'grid', 'aria-label': 'TLB entries per vCPU' }, h('thead', null, h('tr', null, h('th', null, 'vCPU'), h('th', null, 'tag'), h('th', null, 'gfn'), h('th', null, 'pfn'), h('th', null, 'W'), h('th', null, 'state'))));
    const tb = h('tbody');
    let n = 0;
    for (const v of s.vcpus) {
      for (const e of v.tlb) {
        n++;
        const k = st.tlb.of(`${v.id}:${e.tag}`);
        tb.appendChild(
          h(
            'tr',
            { class: `${k ?? ''}${e.stale ? ' stale' : ''}`, 'data-tlb': `${v.id}:${e.tag}` },
            h('td', null, changeMark(k), `vcpu${v.id}`),
            h('td', null, h('code', null, e.tag)),
            h('td', null, h('button', { type: 'button', class: 'link', onclick: () => ctx.revealGfn(e.gfn) }, hex(e.gfn))),
            h('td', null, hex(e.pfn)),
            h('td', null, e.writable ? 'W' : 'R'),
            h('td', null, e.stale ? badge('⚠ stale', 'st-invalid') : h('span', { class: 'dim' }, 'ok')),
          ),
        );
      }
    }
    if (!n) tb.appendChild(h('tr', null, h('td', { colspan: 6, class: 'dim' }, 'No TLB entries.')));
    tt.appendChild(tb);
    el.appendChild(scrollTable(tt));
    const rs = removedStrip('TLB entries', st.tlb.removed.map((k) => `vcpu${k.replace(':', ' ')}`));
    if (rs) el.appendChild(rs);

    if (s.threads.length) {
      el.appendChild(h('h4', null, 'Threads'));
      const th = h('ul', { class: 'plain' });
      for (const t of s.threads) {
        const k = st.threads.of(t.id);
        const top = t.stack[t.stack.length - 1];
        th.appendChild(
          h('li', { class: k ?? '' }, changeMark(k), h('strong', null, t.id), h('span', { class: 'dim' }, ` ${t.kind} · op ${t.opIndex}${t.done ? ' · done' : ''}`), top ? h('span', null, ` in `, h('button', { type: 'button', class: 'link', onclick: () => ctx.openSource(top) }, top.fn)) : null, t.blockedOn ? badge(`blocked: ${t.blockedOn}`, 'flag warn') : null),
        );
      }
      el.appendChild(th);
    }
  }

  return { id: 'locks', title: 'Locks, requests, TLB', el, render, changeCount: () => st.locks.count + st.requests.count + st.tlb.count };
}
