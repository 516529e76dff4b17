/** Shadow pages: the tree from each root, role decoded, unsync state, parent_ptes, lifetime; virtualised, lazy. */
import type { ShadowPageView, SpteView } from '../../src/engine/api';
import { parseSpRef, parseSptep } from '../../src/shared/delta';
import { badge, changeMark, clear, h, hex } from '../dom';
import { VList, type Segment } from '../vlist';
import { removedStrip, roleText, statusTag, type Ctx, type Section } from './common';
import { twisty } from './rmaps';

type Row =
  | { t: 'group'; key: string; label: string; count: number; open: boolean }
  | { t: 'sp'; sp: ShadowPageView; path: string; depth: number; open: boolean; via?: number }
  | { t: 'spte'; sp: ShadowPageView; e: SpteView; depth: number }
  | { t: 'more'; text: string; depth: number };

const MAX_LEAF_ROWS = 512;

export function shadowSection(ctx: Ctx): Section & { reveal(id: number): void } {
  const st = ctx.store;
  const ui = ctx.ui;
  const expanded = new Set(ui.expandedSps);
  const el = h('div', { class: 'section-body shadow' });
  const info = h('div', { class: 'sp-info' });
  const strip = h('div');
  let unreachableCache: { version: number; ids: number[] } | null = null;
  const list = new VList<Row>({
    id: 'sp-tree',
    label: 'Shadow page tree',
    role: 'tree',
    render: (r) => renderRow(r),
    aria: (r) => (r.t === 'group' ? { level: 1, expanded: r.open } : r.t === 'sp' ? { level: r.depth, expanded: r.sp.sptes.length ? r.open : undefined } : { level: r.depth }),
    onToggle: (r, open) => toggle(r, open),
    onActivate: (r) => (r.t === 'spte' && r.e.child !== undefined ? reveal(r.e.child) : toggle(r, null)),
    onScroll: (top) => {
      ui.scroll.shadowPages = top;
      ctx.saveUi();
    },
    onActive: (r) => renderDetail(r),
  });
  const detail = h('div', { class: 'sp-detail', 'aria-live': 'polite' });
  el.append(info, strip, list.el, detail);

  /** Details of the selected page: role decoded, parent_ptes (links), unsync state, lifetime, lists. */
  function renderDetail(r: Row | undefined): void {
    clear(detail);
    const sp = r && (r.t === 'sp' || r.t === 'spte') ? st.spById.get(r.sp.id) : undefined;
    if (!sp) return;
    const f = st.sps.fields.get(sp.id);
    const kv = (k: string, field: string, ...v: Array<Node | string>) =>
      h('div', { class: `kvrow${f?.has(field) ? ' modified' : ''}` }, h('span', { class: 'k' }, k), changeMark(f?.has(field) ? 'modified' : null), h('span', { class: 'wrap' }, ...v));
    const roleBits = Object.entries(sp.role).map(([k, v]) => h('code', null, `${k}=${typeof v === 'boolean' ? (v ? 1 : 0) : v}`));
    const parents = sp.parentPtes.map((p) => {
      const x = parseSptep(p);
      return x ? h('span', null, spLinkInline(x.sp), h('span', { class: 'dim' }, `[${x.index}]`)) : h('code', null, p);
    });
    detail.append(
      h('div', { class: 'sp-detail-head' }, h('strong', null, `sp#${sp.id}`), ` gfn ${hex(sp.gfn)} · level ${sp.level} · role ${sp.roleWord}`),
      kv('state', 'lifetime', statusTag(ctx, sp), ` lifetime ${sp.lifetime}`, sp.onActiveList ? ' · on active_mmu_pages' : '', sp.inHash ? ' · in mmu_page_hash' : ''),
      kv('role', 'role', ...roleBits),
      sp.tdp
        ? kv('gen', 'mmuValidGen', h('span', { class: 'dim' }, 'mmu_valid_gen not used by TDP MMU pages (obsolete ⇔ role.invalid)'))
        : kv('gen', 'mmuValidGen', `mmu_valid_gen ${sp.mmuValidGen} (vm ${st.state?.vm.mmu_valid_gen ?? '?'})`),
      kv('refs', 'rootCount', `root_count ${sp.rootCount}`),
      kv('unsync', 'unsync', sp.unsync ? 'unsync' : 'sync', ` · unsync_children ${sp.unsyncChildren}`, sp.unsyncChildBitmap.length ? ` · bitmap [${sp.unsyncChildBitmap.join(', ')}]` : ''),
      kv('parent_ptes', 'parentPtes', ...(parents.length ? parents : [h('span', { class: 'dim' }, 'none')])),
      kv('sptes', 'sptes', `${sp.sptes.length} present (${sp.sptes.filter((e) => e.child !== undefined).length} to child pages)`),
    );
  }

  function spLinkInline(id: number): HTMLElement {
    return h('button', { type: 'button', class: 'link sp-link', onclick: () => reveal(id) }, `sp#${id}`);
  }
  let restoredScroll = false;

  function toggle(r: Row, open: boolean | null): void {
    const k = r.t === 'group' ? r.key : r.t === 'sp' ? r.path : null;
    if (!k || !('open' in r)) return;
    const want = open === null ? !r.open : open;
    if (want === r.open) return;
    // groups are open by default, pages closed: the set holds the non-default ones
    if (expanded.has(k)) expanded.delete(k);
    else expanded.add(k);
    ui.expandedSps = [...expanded];
    ctx.saveUi();
    build();
  }

  function isOpen(k: string, byDefault: boolean): boolean {
    return expanded.has(k) ? !byDefault : byDefault;
  }

  function flags(sp: ShadowPageView): Node[] {
    const f = st.sps.fields.get(sp.id);
    const out: Node[] = [statusTag(ctx, sp, true)];
    if (sp.unsync) out.push(badge('unsync', `flag${f?.has('unsync') ? ' modified' : ''}`));
    if (sp.unsyncChildren) out.push(badge(`unsync_children ${sp.unsyncChildren}`, `flag${f?.has('unsyncChildren') ? ' modified' : ''}`));
    if (sp.rootCount) out.push(badge(`ref ${sp.rootCount}`, `flag${f?.has('rootCount') ? ' modified' : ''}`));
    if (sp.lifetime !== 'live') out.push(badge(sp.lifetime, 'flag warn'));
    return out;
  }

  function renderRow(r: Row): HTMLElement {
    switch (r.t) {
      case 'group':
        return h('div', { class: 'row group' }, twisty(r.open), h('strong', null, r.label), r.count >= 0 ? h('span', { class: 'dim' }, ` (${r.count})`) : null);
      case 'sp': {
        const sp = r.sp;
        const kind = st.sps.of(sp.id);
        const f = st.sps.fields.get(sp.id);
        return h(
          'div',
          { class: `row sp indent${r.depth - 1} ${kind ?? ''}`, 'data-sp': sp.id, title: `parent_ptes: ${sp.parentPtes.join(', ') || 'none'} · role ${sp.roleWord}` },
          sp.sptes.some((e) => !e.leaf || e.child !== undefined) || sp.sptes.length ? twisty(r.open) : h('span', { class: 'twisty' }, ' '),
          changeMark(kind),
          h('strong', null, `sp#${sp.id}`),
          r.via !== undefined ? h('span', { class: 'dim' }, `[${r.via}]`) : null,
          ' ',
          h('code', null, `gfn ${hex(sp.gfn)}`),
          ' ',
          ...flags(sp),
          ' ',
          h('span', { class: 'role' }, roleText(sp)),
          h('span', { class: `dim${f?.has('parentPtes') ? ' modified' : ''}` }, ` parents ${sp.parentPtes.length}`),
          h('span', { class: `dim${f?.has('sptes') ? ' modified' : ''}` }, ` · ${sp.sptes.length} sptes`),
          f ? h('span', { class: 'sr-only' }, ` changed: ${[...f].join(', ')}`) : null,
        );
      }
      case 'spte': {
        const e = r.e;
        return h(
          'div',
          { class: `row spte indent${r.depth - 1}` },
          h('span', { class: 'twisty' }, ' '),
          h('span', { class: 'dim' }, `[${e.index}] `),
          h('code', null, e.value),
          ` ${e.writable ? 'W' : 'R'}${e.accessed ? 'A' : ''}${e.dirty ? 'D' : ''}${e.huge ? ' huge' : ''}${e.mmio ? ' mmio' : ''}`,
          e.pfn !== undefined ? h('span', { class: 'dim' }, ` pfn ${hex(e.pfn)}`) : null,
        );
      }
      default:
        return h('div', { class: `row dim indent${r.depth - 1}` }, r.text);
    }
  }

  function roots(): number[] {
    const s = st.state!;
    const set = new Set<number>(s.vm.tdp_mmu_roots);
    for (const v of s.vcpus) for (const r of [v.root, ...v.prevRoots]) {
      const id = parseSpRef(r);
      if (id !== null && st.spById.has(id)) set.add(id);
    }
    for (const id of st.rootish) set.add(id);
    return [...set].filter((id) => st.spById.has(id)).sort((a, b) => a - b);
  }

  function unreachable(rootIds: number[]): number[] {
    if (unreachableCache?.version === st.spVersion) return unreachableCache.ids;
    const seen = new Set<number>();
    const stack = rootIds.slice();
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const sp = st.spById.get(id);
      if (sp) for (const e of sp.sptes) if (e.child !== undefined && !seen.has(e.child)) stack.push(e.child);
    }
    const ids = st.state!.shadowPages.filter((sp) => !seen.has(sp.id)).map((sp) => sp.id);
    unreachableCache = { version: st.spVersion, ids };
    return ids;
  }

  function pushSp(out: Row[], sp: ShadowPageView, path: string, depth: number, via?: number): void {
    const open = isOpen(path, false);
    out.push({ t: 'sp', sp, path, depth, open, via });
    if (!open || depth > 12) return;
    let leaves = 0;
    for (const e of sp.sptes) {
      const child = e.child !== undefined ? st.spById.get(e.child) : undefined;
      if (child) pushSp(out, child, `${path}/${child.id}`, depth + 1, e.index);
      else if (leaves++ < MAX_LEAF_ROWS) out.push({ t: 'spte', sp, e, depth: depth + 1 });
    }
    if (leaves > MAX_LEAF_ROWS) out.push({ t: 'more', text: `… ${leaves - MAX_LEAF_ROWS} more entries`, depth: depth + 1 });
  }

  function build(): void {
    const s = st.state;
    if (!s) {
      info.textContent = st.emptyReason;
      list.setModel([]);
      return;
    }
    const rows: Row[] = [];
    const rootIds = roots();
    const gOpen = isOpen('g:roots', true);
    rows.push({ t: 'group', key: 'g:roots', label: 'Roots', count: rootIds.length, open: gOpen });
    if (gOpen) for (const id of rootIds) pushSp(rows, st.spById.get(id)!, `r${id}`, 2);
    const uOpen = isOpen('g:other', false);
    const other = uOpen ? unreachable(rootIds) : null;
    rows.push({ t: 'group', key: 'g:other', label: 'Not reachable from a root', count: other ? other.length : -1, open: uOpen });
    const segs: Segment<Row>[] = [{ length: rows.length, get: (i) => rows[i] }];
    if (other) {
      // Lazily materialised: one row per page; expanded ones are rebuilt with children.
      const ids = other;
      const open = ids.filter((id) => expanded.has(`u${id}`));
      if (!open.length) segs.push({ length: ids.length, get: (i) => ({ t: 'sp', sp: st.spById.get(ids[i])!, path: `u${ids[i]}`, depth: 2, open: false }) });
      else {
        const extra: Row[] = [];
        for (const id of ids) pushSp(extra, st.spById.get(id)!, `u${id}`, 2);
        segs.push({ length: extra.length, get: (i) => extra[i] });
      }
    }
    const c = st.sps;
    info.textContent = `${s.shadowPages.length} pages · n_used_mmu_pages ${s.vm.n_used_mmu_pages}/${s.vm.n_max_mmu_pages}` + (c.count ? ` · ${c.count} changed this step` : '');
    list.setModel(segs);
  }

  function render(): void {
    clear(strip);
    const removed = st.sps.removed.map((id) => `sp#${id}`);
    const rs = removedStrip('Shadow pages', removed);
    if (rs) strip.appendChild(rs);
    build();
    renderDetail(list.activeRow);
    if (!restoredScroll && ui.scroll.shadowPages) {
      restoredScroll = true;
      list.scrollTo(ui.scroll.shadowPages);
    }
  }

  /** Expand the path from a root to `id` and select its row. */
  function reveal(id: number): void {
    if (!st.state) return;
    const chain: number[] = [id];
    const seen = new Set<number>([id]);
    let cur = st.spById.get(id);
    const rootIds = new Set(roots());
    while (cur && !rootIds.has(cur.id)) {
      const parent = cur.parentPtes.map((p) => parseSptep(p)?.sp).find((p): p is number => p !== undefined && !seen.has(p) && st.spById.has(p));
      if (parent === undefined) break;
      seen.add(parent);
      chain.unshift(parent);
      cur = st.spById.get(parent);
    }
    let path: string;
    if (rootIds.has(chain[0])) {
      if (expanded.has('g:roots')) expanded.delete('g:roots');
      path = `r${chain[0]}`;
      for (let i = 0; i < chain.length - 1; i++) {
        expanded.add(path);
        path += `/${chain[i + 1]}`;
      }
    } else {
      expanded.add('g:other');
      path = `u${id}`;
    }
    ui.expandedSps = [...expanded];
    ctx.saveUi();
    build();
    const i = list.findIndex((r) => r.t === 'sp' && r.path === path);
    if (i >= 0) list.reveal(i, true);
  }

  return { id: 'shadowPages', title: 'Shadow pages', el, render, changeCount: () => st.sps.count, reveal };
}
