/** Generations: mmu_valid_gen over the steps, live / obsolete / zapped pages per step, fast-zap and commit marks. */
import { clear, h, link, s } from '../dom';
import { empty, type Ctx, type Section } from './common';

const COL = 14;
const H = 136;
const AXIS_H = 14;
const GEN_H = 34;

export function generationsSection(ctx: Ctx): Section {
  const st = ctx.store;
  const el = h('div', { class: 'section-body generations' });
  let cursor = -1;
  /**
   * The step the user chose with the keyboard, or null to follow the current step. Every new step (an update or a
   * snapshot that moves the current step, or a new timeline) drops the choice: the readout follows the current step.
   */
  let selected: number | null = null;
  let followKey = '';
  let svg: SVGElement | null = null;

  let renderedKey = '';

  /** The point of the current step: exact, else the last point at or before it, else the last point. */
  function currentIndex(pts: readonly { step: number }[], cur: number): number {
    let best = -1;
    pts.forEach((p, i) => {
      if (p.step <= cur && (best < 0 || p.step >= pts[best].step)) best = i;
    });
    return best >= 0 ? best : pts.length - 1;
  }

  function render(force = false): void {
    const cur = st.state?.step ?? -1;
    const fk = `${st.genVersion}:${cur}`;
    if (fk !== followKey) {
      followKey = fk;
      selected = null;
    }
    // Only the timeline, the current step or the user's choice change this section.
    const key = `${fk}:${selected ?? 'follow'}`;
    if (!force && key === renderedKey) return;
    renderedKey = key;
    clear(el);
    const pts = st.generations;
    if (!pts.length) return void el.appendChild(empty(st.state ? 'No timeline yet.' : st.emptyReason));
    const sel = selected === null ? -1 : pts.findIndex((p) => p.step === selected);
    cursor = sel >= 0 ? sel : currentIndex(pts, cur);
    if (sel < 0) selected = null;
    const maxPages = Math.max(1, ...pts.map((p) => p.live + p.obsolete + p.zapped));
    const minGen = Math.min(...pts.map((p) => p.gen));
    const maxGen = Math.max(...pts.map((p) => p.gen));
    const genY = (g: number) => 16 + (maxGen === minGen ? (GEN_H - 8) / 2 : ((maxGen - g) / (maxGen - minGen)) * (GEN_H - 8));
    const barTop = GEN_H + 24;
    const barH = H - barTop - AXIS_H - 4;
    const width = pts.length * COL + 40;
    svg = s('svg', {
      class: 'gen-chart',
      width,
      height: H,
      viewBox: `0 0 ${width} ${H}`,
      role: 'listbox',
      tabindex: 0,
      'aria-label': 'mmu_valid_gen timeline; arrow keys choose a step, Enter goes to it',
    });
    // generation step line
    let d = '';
    pts.forEach((p, i) => {
      const x = 30 + i * COL;
      const y = genY(p.gen);
      d += i === 0 ? `M${x} ${y}` : `H${x} V${y}`;
    });
    d += `H${30 + pts.length * COL}`;
    svg.appendChild(s('text', { x: 2, y: 12, class: 'axis' }, 'gen'));
    svg.appendChild(s('text', { x: 2, y: barTop + 10, class: 'axis' }, 'pages'));
    svg.appendChild(s('path', { d, class: 'gen-line' }));
    pts.forEach((p, i) => {
      const x = 30 + i * COL;
      const g = s('g', {
        class: `gen-pt${p.step === cur ? ' current' : ''}${i === cursor ? ' cursor' : ''}`,
        role: 'option',
        'aria-selected': p.step === cur ? 'true' : 'false',
        id: `gen-pt-${i}`,
        'data-step': p.step,
      });
      g.appendChild(s('title', null, `step ${p.step}: gen ${p.gen}, live ${p.live}, obsolete ${p.obsolete}, zapped ${p.zapped}${p.marks.length ? ' — ' + p.marks.join(', ') : ''}`));
      g.appendChild(s('rect', { x: x - 1, y: 0, width: COL, height: H - AXIS_H, class: 'hit' }));
      let y = barTop + barH;
      const labelEvery = Math.max(1, Math.ceil(pts.length / 40) * 5);
      if (i % labelEvery === 0 || p.step === cur) g.appendChild(s('text', { x: x + 6, y: H - 3, class: `axis step-label${p.step === cur ? ' current' : ''}`, 'text-anchor': 'middle' }, String(p.step)));
      if (i === 0 || pts[i - 1].gen !== p.gen) g.appendChild(s('text', { x: x + 6, y: genY(p.gen) - 6, class: 'axis gen-label', 'text-anchor': 'middle' }, String(p.gen)));
      for (const [k, n] of [['live', p.live], ['obsolete', p.obsolete], ['zapped', p.zapped]] as const) {
        const hh = (n / maxPages) * barH;
        y -= hh;
        if (n > 0) g.appendChild(s('rect', { x: x + 2, y, width: COL - 5, height: Math.max(1, hh), class: `bar ${k}` }));
      }
      if (p.marks.includes('fast-zap')) g.appendChild(s('path', { d: `M${x + 1} ${GEN_H + 20} l5 -8 l5 8 z`, class: 'mark fast-zap' }));
      if (p.marks.includes('commit')) g.appendChild(s('rect', { x: x + 3, y: GEN_H + 12, width: 6, height: 6, class: 'mark commit', transform: `rotate(45 ${x + 6} ${GEN_H + 15})` }));
      g.appendChild(s('circle', { cx: x + 6, cy: genY(p.gen), r: p.step === cur ? 4 : 2.5, class: 'gen-dot' }));
      svg!.appendChild(g);
    });
    svg.setAttribute('aria-activedescendant', `gen-pt-${cursor}`);
    svg.addEventListener('click', (e) => {
      const g = (e.target as Element).closest('[data-step]');
      if (g) ctx.goto(Number(g.getAttribute('data-step')));
    });
    svg.addEventListener('keydown', (e) => {
      const k = (e as KeyboardEvent).key;
      if (k === 'ArrowRight' || k === 'ArrowLeft' || k === 'Home' || k === 'End') {
        cursor = k === 'Home' ? 0 : k === 'End' ? pts.length - 1 : Math.max(0, Math.min(pts.length - 1, cursor + (k === 'ArrowRight' ? 1 : -1)));
        selected = pts[cursor].step === cur ? null : pts[cursor].step;
        render(true);
        (el.querySelector('.gen-chart') as SVGElement | null)?.focus();
      } else if (k === 'Enter' || k === ' ') ctx.goto(pts[cursor].step);
      else return;
      e.preventDefault();
    });
    const p = pts[cursor];
    const scroller = h('div', { class: 'gen-scroll' }, svg);
    el.appendChild(scroller);
    el.appendChild(
      h(
        'div',
        { class: 'gen-legend', 'aria-live': 'polite' },
        h('span', { class: 'sw live' }), 'live ', h('span', { class: 'sw obsolete' }), 'obsolete ', h('span', { class: 'sw zapped' }), 'zapped ',
        h('span', { class: 'glyph' }, '▲'), 'fast zap ', h('span', { class: 'glyph' }, '◆'), 'commit',
      ),
    );
    const facts = `mmu_valid_gen ${p.gen} · live ${p.live} · obsolete ${p.obsolete} · zapped ${p.zapped}${p.marks.length ? ' · ' + p.marks.join(', ') : ''}`;
    const readout = h('div', { class: 'gen-readout', 'data-step': p.step, 'data-following': selected === null ? 'true' : 'false' });
    if (selected !== null) {
      readout.append(
        h('strong', null, `selected step ${p.step}`),
        ` (current step ${cur}): ${facts} `,
        link('Follow current step', () => {
          selected = null;
          render(true);
        }, { class: 'link gen-follow' }),
      );
    } else readout.append(p.step === cur ? `step ${p.step}: ${facts}` : `step ${cur} (timeline up to step ${p.step}): ${facts}`);
    el.appendChild(readout);
    // keep the current step in view
    requestAnimationFrame(() => {
      const x = 30 + cursor * COL;
      if (x < scroller.scrollLeft || x > scroller.scrollLeft + scroller.clientWidth - 20) scroller.scrollLeft = Math.max(0, x - scroller.clientWidth / 2);
    });
  }

  return { id: 'generations', title: 'Generations', el, render: () => render(), changeCount: () => (st.vmFields.has('mmu_valid_gen') ? 1 : 0) };
}
