/** Rmaps: memslot -> level -> gfn -> its SPTEs (single entry or pte_list_desc chain), each linking to its page. */
import type { RmapHeadView } from '../../src/engine/api';
import { parseGfn, parseSptep, rmapId, searchKeyed, type MemslotView } from '../../src/shared/delta';
import { badge, changeMark, clear, h, hex } from '../dom';
import { VList, type Segment } from '../vlist';
import { removedStrip, spLink, type Ctx, type Section } from './common';

type Row =
  | { t: 'slot'; m: MemslotView; open: boolean; changes: number }
  | { t: 'level'; m: MemslotView; level: number; count: number; open: boolean; changes: number }
  | { t: 'gfn'; m: MemslotView; r: RmapHeadView; open: boolean; depth: number }
  | { t: 'desc'; r: RmapHeadView; i: number; n: number }
  | { t: 'spte'; r: RmapHeadView; sptep: string; depth: number }
  | { t: 'msg'; text: string };

const rmapKey = (r: RmapHeadView): [number, number] => [r.level, r.gfn];

function levelBounds(m: MemslotView): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  const list = m.rmaps;
  let i = 0;
  while (i < list.length) {
    const level = list[i].level;
    // first index of the next level, by binary search
    let j = searchKeyed(list, [level + 1, -Infinity], rmapKey);
    if (j < 0) j = -j - 1;
    if (j <= i) j = i + 1;
    out.push([level, i, j]);
    i = j;
  }
  return out;
}

export function rmapsSection(ctx: Ctx): Section & { revealGfn(g: number): void } {
  const st = ctx.store;
  const ui = ctx.ui;
  const toggled = new Set(ui.expandedRmapGroups);
  const el = h('div', { class: 'section-body rmaps' });
  const search = h('vscode-textfield', { placeholder: 'Search gfn (0x1a2, 418)', 'aria-label': 'Search rmaps by gfn', class: 'rmap-search' }) as HTMLElement & { value: string };
  search.value = ui.rmapSearch;
  const info = h('div', { class: 'rmap-info', 'aria-live': 'polite' });
  const strip = h('div');
  const list = new VList<Row>({
    id: 'rmap-list',
    label: 'Rmaps by memslot, level and gfn',
    role: 'tree',
    render: (r) => renderRow(r),
    aria: (r) => aria(r),
    onToggle: (r, open) => toggle(r, open),
    onActivate: (r) => (r.t === 'spte' ? revealSpte(r.sptep) : toggle(r, null)),
    onScroll: (top) => {
      ui.scroll.rmaps = top;
      ctx.saveUi();
    },
  });
  el.append(h('div', { class: 'toolbar' }, search), info, strip, list.el);
  let lastQuery = '';
  search.addEventListener('input', () => {
    ui.rmapSearch = search.value;
    ctx.saveUi();
    render();
  });
  let restoredScroll = false;

  function aria(r: Row): { level?: number; expanded?: boolean } {
    switch (r.t) {
      case 'slot':
        return { level: 1, expanded: r.open };
      case 'level':
        return { level: 2, expanded: r.open };
      case 'gfn':
        return { level: r.depth, expanded: r.open };
      case 'desc':
        return { level: 4 };
      case 'spte':
        return { level: r.depth };
      default:
        return {};
    }
  }

  function key(r: Row): string | null {
    if (r.t === 'slot') return `s:${r.m.id}`;
    if (r.t === 'level') return `l:${r.m.id}:${r.level}`;
    if (r.t === 'gfn') return `g:${r.m.id}:${r.r.level}:${r.r.gfn}`;
    return null;
  }

  function toggle(r: Row, open: boolean | null): void {
    const k = key(r);
    if (!k || !('open' in r)) return;
    const want = open === null ? !r.open : open;
    if (want === r.open) return;
    if (toggled.has(k)) toggled.delete(k);
    else toggled.add(k);
    ui.expandedRmapGroups = [...toggled];
    ctx.saveUi();
    build();
  }

  function revealSpte(sptep: string): void {
    const p = parseSptep(sptep);
    if (p) ctx.revealSp(p.sp);
  }

  function renderRow(r: Row): HTMLElement {
    switch (r.t) {
      case 'slot':
        return h('div', { class: 'row group', 'data-slot': r.m.id }, twisty(r.open), h('strong', null, `memslot ${r.m.id}`), h('span', { class: 'dim' }, ` gfn ${hex(r.m.baseGfn)}+${hex(r.m.npages)} · hva ${hex(r.m.hva)} · ${r.m.rmaps.length} heads`), r.changes ? badge(`${r.changes} changed`, 'chg') : null);
      case 'level':
        return h('div', { class: 'row group indent1' }, twisty(r.open), `level ${r.level} `, h('span', { class: 'dim' }, `${r.count} gfns`), r.changes ? badge(`${r.changes} changed`, 'chg') : null);
      case 'gfn': {
        const kind = st.rmaps.of(rmapId(r.m.id, r.r.level, r.r.gfn));
        const n = r.r.sptes.length;
        const chain = r.r.descs.length > 0;
        return h(
          'div',
          { class: `row gfn indent${r.depth - 1} ${kind ?? ''}`, 'data-rmap': rmapId(r.m.id, r.r.level, r.r.gfn) },
          twisty(r.open),
          changeMark(kind),
          h('code', null, `gfn ${hex(r.r.gfn)}`),
          ' ',
          chain ? badge(`pte_list_desc × ${r.r.descs.length}`, 'chain') : null,
          h('span', { class: 'dim' }, ` ${n} spte${n === 1 ? '' : 's'} · head `),
          h('code', { class: 'dim' }, r.r.head),
        );
      }
      case 'desc':
        return h('div', { class: 'row indent4 dim' }, `pte_list_desc[${r.i}] · ${r.n} entr${r.n === 1 ? 'y' : 'ies'}`);
      case 'spte': {
        const p = parseSptep(r.sptep);
        const sp = p ? st.spById.get(p.sp) : undefined;
        let val = '';
        if (sp && p) {
          const i = searchKeyed(sp.sptes, p.index, (x) => x.index);
          const e = i >= 0 ? sp.sptes[i] : undefined;
          if (e) val = `${e.value}${e.writable ? ' W' : ''}${e.accessed ? ' A' : ''}${e.dirty ? ' D' : ''}${e.huge ? ' huge' : ''}${e.pfn !== undefined ? ' pfn ' + hex(e.pfn) : ''}`;
          else val = 'not present';
        }
        return h(
          'div',
          { class: `row spte indent${r.depth}` },
          h('span', { class: 'dim' }, '↳ '),
          p ? spLink(ctx, p.sp) : h('code', null, r.sptep),
          p ? h('span', { class: 'dim' }, `[${p.index}] `) : null,
          h('code', { class: 'dim' }, val),
        );
      }
      default:
        return h('div', { class: 'row dim' }, r.text);
    }
  }

  function gfnChildren(r: RmapHeadView, depth: number): Row[] {
    if (!r.descs.length) return r.sptes.map((sptep) => ({ t: 'spte', r, sptep, depth }) as Row);
    const out: Row[] = [];
    r.descs.forEach((d, i) => {
      out.push({ t: 'desc', r, i, n: d.length });
      for (const sptep of d) out.push({ t: 'spte', r, sptep, depth: depth + 1 });
    });
    return out;
  }

  function arrSeg(rows: Row[]): Segment<Row> {
    return { length: rows.length, get: (i) => rows[i] };
  }

  function slotChanges(slot: number, level?: number): number {
    let n = 0;
    const pre = level === undefined ? `${slot}:` : `${slot}:${level}:`;
    for (const k of st.rmaps.kind.keys()) if (k.startsWith(pre)) n++;
    return n;
  }

  function build(): void {
    const s = st.state;
    const segs: Segment<Row>[] = [];
    if (!s) {
      list.setModel([arrSeg([{ t: 'msg', text: st.emptyReason }])]);
      return;
    }
    const q = search.value.trim();
    if (q) {
      const gfn = parseGfn(q);
      if (gfn === null) {
        info.textContent = `"${q}" is not a gfn (decimal, or hex with 0x).`;
        list.setModel([]);
        return;
      }
      const rows: Row[] = [];
      for (const m of s.memslots) {
        for (const [level] of levelBounds(m)) {
          const span = Math.pow(512, level - 1);
          const cands = level > 1 ? [gfn, gfn - (gfn % span)] : [gfn];
          for (const g of new Set(cands)) {
            const i = searchKeyed(m.rmaps, [level, g], rmapKey);
            if (i < 0) continue;
            rows.push({ t: 'gfn', m, r: m.rmaps[i], open: true, depth: 1 }, ...gfnChildren(m.rmaps[i], 2));
          }
        }
      }
      info.textContent = rows.length ? `gfn ${hex(gfn)} (${gfn}): found` : `gfn ${hex(gfn)} (${gfn}): no rmap entry.`;
      list.setModel([arrSeg(rows)]);
      if (q !== lastQuery) list.scrollTo(0);
      lastQuery = q;
      return;
    }
    info.textContent = '';
    lastQuery = '';
    let total = 0;
    for (const m of s.memslots) {
      total += m.rmaps.length;
      const sOpen = !toggled.has(`s:${m.id}`);
      segs.push(arrSeg([{ t: 'slot', m, open: sOpen, changes: slotChanges(m.id) }]));
      if (!sOpen) continue;
      for (const [level, a, b] of levelBounds(m)) {
        const lOpen = !toggled.has(`l:${m.id}:${level}`);
        segs.push(arrSeg([{ t: 'level', m, level, count: b - a, open: lOpen, changes: slotChanges(m.id, level) }]));
        if (!lOpen) continue;
        // split [a, b) at expanded gfns
        const expanded: number[] = [];
        for (const k of toggled) {
          if (!k.startsWith(`g:${m.id}:${level}:`)) continue;
          const i = searchKeyed(m.rmaps, [level, Number(k.split(':')[3])], rmapKey);
          if (i >= a && i < b) expanded.push(i);
        }
        expanded.sort((x, y) => x - y);
        let from = a;
        for (const i of [...expanded, b]) {
          const start = from;
          const end = Math.min(i + 1, b);
          if (end > start) {
            const rm = m.rmaps;
            segs.push({ length: end - start, get: (j) => ({ t: 'gfn', m, r: rm[start + j], open: start + j === i, depth: 3 }) });
          }
          if (i < b) segs.push(arrSeg(gfnChildren(m.rmaps[i], 4)));
          from = i + 1;
        }
      }
    }
    if (!s.memslots.length) segs.push(arrSeg([{ t: 'msg', text: 'No memslots.' }]));
    info.textContent = `${s.memslots.length} memslot${s.memslots.length === 1 ? '' : 's'}, ${total} rmap heads`;
    list.setModel(segs);
  }

  function render(): void {
    clear(strip);
    const rs = removedStrip('Rmap entries', st.rmaps.removed.map((k) => {
      const [slot, level, gfn] = k.split(':').map(Number);
      return `slot ${slot} L${level} gfn ${hex(gfn)}`;
    }));
    if (rs) strip.appendChild(rs);
    build();
    if (!restoredScroll && ui.scroll.rmaps) {
      restoredScroll = true;
      list.scrollTo(ui.scroll.rmaps);
    }
  }

  function revealGfn(gfn: number): void {
    search.value = hex(gfn);
    ui.rmapSearch = search.value;
    ctx.saveUi();
    render();
  }

  const sec: Section & { revealGfn(g: number): void } = {
    id: 'rmaps',
    title: 'Rmaps',
    el,
    render,
    changeCount: () => st.rmaps.count,
    revealGfn,
  };
  return sec;
}

function twisty(open: boolean): HTMLElement {
  return h('span', { class: `twisty${open ? ' open' : ''}`, 'aria-hidden': 'true' }, open ? '▾' : '▸');
}

export { twisty };
