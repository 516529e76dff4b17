/**
 * KVM MMU Lab side panel (browser code). Receives validated snapshot/update messages from the extension host,
 * keeps a normalised state, and renders six sections with the current step's changes highlighted.
 */
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { Frame } from '../src/engine/api';
import { PANEL_SECTIONS, panelUiStateCheck, parseHostMessage, webviewMessage, type HostMessage, type PanelSection, type PanelUiState } from '../src/shared/protocol';
import { clear, h } from './dom';
import { Store } from './store';
import { getState, post, setState } from './vscodeApi';
import type { Ctx, Section } from './sections/common';
import { rootsSection } from './sections/roots';
import { generationsSection } from './sections/generations';
import { rmapsSection } from './sections/rmaps';
import { shadowSection } from './sections/shadow';
import { locksSection } from './sections/locks';
import { eventsSection } from './sections/events';

const DEFAULT_OPEN: Record<PanelSection, boolean> = { roots: true, generations: true, rmaps: false, shadowPages: true, locks: true, events: true };

function loadUi(): { ui: PanelUiState; restored: boolean } {
  const saved = getState();
  if (saved !== undefined && saved !== null && panelUiStateCheck(saved, 'state') === null) return { ui: structuredClone(saved as PanelUiState), restored: true };
  return { ui: { version: 1, open: {}, expandedSps: [], expandedRmapGroups: [], rmapSearch: '', scroll: {}, pageScroll: 0 }, restored: saved !== undefined && saved !== null };
}

function log(level: 'info' | 'warn' | 'error', message: string): void {
  console[level === 'info' ? 'log' : level](`[kvm-mmu-lab panel] ${message}`);
  post(webviewMessage('log', { level, message: message.slice(0, 2000) }));
}

type CollapsibleEl = HTMLElement & { open: boolean };

export function boot(root: HTMLElement): { handle(data: unknown): void; store: Store } {
  const store = new Store();
  const { ui, restored } = loadUi();
  let saveTimer = 0;
  const saveUi = () => {
    if (saveTimer) return;
    saveTimer = window.setTimeout(() => {
      saveTimer = 0;
      setState(ui);
    }, 100);
  };

  const sections: Partial<Record<PanelSection, Section>> = {};
  const collapsibles: Partial<Record<PanelSection, CollapsibleEl>> = {};
  const badges: Partial<Record<PanelSection, HTMLElement>> = {};
  const dirty = new Set<PanelSection>();

  const ctx: Ctx = {
    store,
    ui,
    saveUi,
    goto: (step) => post(webviewMessage('gotoStep', { step })),
    openSource: (f: Frame) => post(webviewMessage('openSource', f.point ? { file: f.file, fn: f.fn, point: f.point } : { file: f.file, fn: f.fn })),
    revealSp: (id) => {
      open('shadowPages');
      shadow.reveal(id);
      collapsibles.shadowPages?.scrollIntoView({ block: 'nearest' });
    },
    revealGfn: (gfn) => {
      open('rmaps');
      rmaps.revealGfn(gfn);
      collapsibles.rmaps?.scrollIntoView({ block: 'nearest' });
    },
  };

  const shadow = shadowSection(ctx);
  const rmaps = rmapsSection(ctx);
  const list: Section[] = [rootsSection(ctx), generationsSection(ctx), rmaps, shadow, locksSection(ctx), eventsSection(ctx)];
  for (const s of list) sections[s.id as PanelSection] = s;

  const header = h('header', { class: 'panel-header', role: 'toolbar', 'aria-label': 'Step navigation' });
  const banner = h('div', { class: 'banner-host' });
  const live = h('div', { class: 'sr-only', 'aria-live': 'polite', id: 'live' });
  root.append(header, banner, live);
  for (const id of PANEL_SECTIONS) {
    const sec = sections[id]!;
    const badge = h('vscode-badge', { slot: 'decorations', variant: 'counter', class: 'chg-count', 'aria-label': 'changed this step' });
    badges[id] = badge;
    const c = h('vscode-collapsible', { heading: sec.title, id: `sec-${id}`, 'data-section': id }, badge, sec.el) as CollapsibleEl;
    c.open = ui.open[id] ?? DEFAULT_OPEN[id];
    c.addEventListener('vsc-collapsible-toggle', () => {
      ui.open[id] = c.open;
      saveUi();
      if (c.open && dirty.has(id)) renderSection(id);
    });
    collapsibles[id] = c;
    root.appendChild(c);
  }

  function open(id: PanelSection): void {
    const c = collapsibles[id]!;
    if (!c.open) {
      c.open = true;
      ui.open[id] = true;
      saveUi();
      renderSection(id);
    }
  }

  function renderSection(id: PanelSection): void {
    dirty.delete(id);
    const prof = (window as unknown as { __kvmProfile?: Record<string, number> }).__kvmProfile;
    const t0 = prof ? performance.now() : 0;
    try {
      sections[id]!.render();
      if (prof) prof[id] = (prof[id] ?? 0) + performance.now() - t0;
    } catch (e) {
      log('error', `render ${id}: ${(e as Error).stack ?? e}`);
    }
  }

  // Header: persistent buttons (custom elements are costly to recreate), text updated in place.
  const prevBtn = h('vscode-button', { secondary: true, 'aria-label': 'Previous step', title: 'Previous step', class: 'nav-prev' }, '◀');
  const nextBtn = h('vscode-button', { secondary: true, 'aria-label': 'Next step in history', title: 'Next step in history', class: 'nav-next' }, '▶');
  const stepEl = h('span', { class: 'step' });
  const eraEl = h('span', { class: 'tag' });
  const genEl = h('span', { class: 'tag' });
  const descEl = h('span', { class: 'dim step-desc' });
  const scenEl = h('span', { class: 'dim' });
  const emptyEl = h('span', { class: 'dim' });
  prevBtn.addEventListener('click', () => {
    const step = store.state?.step ?? 0;
    if (step > 0) ctx.goto(step - 1);
  });
  nextBtn.addEventListener('click', () => {
    const step = store.state?.step ?? 0;
    if (store.state && step < store.historyLength) ctx.goto(step + 1);
  });
  header.append(prevBtn, nextBtn, stepEl, eraEl, genEl, descEl, scenEl, emptyEl);

  function renderHeader(): void {
    const s = store.state;
    for (const e of [prevBtn, nextBtn, stepEl, eraEl, genEl, descEl, scenEl]) e.hidden = !s;
    emptyEl.hidden = !!s;
    if (!s) {
      emptyEl.textContent = store.emptyReason;
      return;
    }
    const step = s.step;
    prevBtn.toggleAttribute('disabled', step <= 0);
    nextBtn.toggleAttribute('disabled', step >= store.historyLength);
    stepEl.replaceChildren(h('strong', null, `Step ${step}`), h('span', { class: 'dim' }, ` / ${store.historyLength}`));
    eraEl.textContent = `${s.era} · ${s.mmu}${s.bug ? ` · bug ${s.bug}` : ''}`;
    genEl.textContent = `gen ${s.vm.mmu_valid_gen}`;
    genEl.classList.toggle('modified', store.vmFields.has('mmu_valid_gen'));
    const r = store.record;
    descEl.textContent = r ? `${r.thread}: ${r.op.op} → ${r.stoppedAt}` : '';
    descEl.hidden = !r;
    scenEl.textContent = store.scenario ?? '';
    scenEl.hidden = !store.scenario;
  }

  function renderBanner(): void {
    clear(banner);
    const vs = store.violations;
    if (!vs.length) return;
    const box = h('div', { class: 'banner', role: 'alert' });
    const shown = vs.slice(-5).reverse();
    for (const v of shown) {
      box.appendChild(
        h(
          'div',
          { class: 'violation', 'data-id': v.id },
          h('span', { class: 'v-icon', 'aria-hidden': 'true' }, '⚠'),
          h('strong', { class: 'v-id' }, v.id),
          ' ',
          h('span', { class: 'v-msg' }, v.message),
          v.objects.length ? h('span', { class: 'dim' }, ` [${v.objects.join(', ')}]`) : null,
          ' ',
          h('button', { type: 'button', class: 'link', onclick: () => ctx.goto(v.step) }, `step ${v.step}`),
          v.frame ? ' · ' : null,
          v.frame ? h('button', { type: 'button', class: 'link', onclick: () => ctx.openSource(v.frame!) }, v.frame.fn) : null,
        ),
      );
    }
    if (vs.length > shown.length) box.appendChild(h('div', { class: 'dim' }, `… and ${vs.length - shown.length} earlier violations`));
    banner.appendChild(box);
  }

  function renderAll(): void {
    const prof = (window as unknown as { __kvmProfile?: Record<string, number> }).__kvmProfile;
    const t0 = prof ? performance.now() : 0;
    renderHeader();
    renderBanner();
    if (prof) prof.header = (prof.header ?? 0) + performance.now() - t0;
    for (const id of PANEL_SECTIONS) {
      const n = store.state ? sections[id]!.changeCount() : 0;
      const b = badges[id]!;
      b.textContent = String(n);
      b.hidden = n === 0;
      b.setAttribute('aria-label', `${n} changed this step`);
      if (collapsibles[id]!.open) renderSection(id);
      else dirty.add(id);
    }
    const s = store.state;
    live.textContent = s ? `Step ${s.step} of ${store.historyLength}` : store.emptyReason;
  }

  function handle(data: unknown): void {
    const prof = (window as unknown as { __kvmProfile?: Record<string, number> }).__kvmProfile;
    const t0 = prof ? performance.now() : 0;
    const parsed = parseHostMessage(data);
    if (prof) prof.validate = (prof.validate ?? 0) + performance.now() - t0;
    if (!parsed.ok) {
      log('warn', `ignored malformed message: ${parsed.error.slice(0, 300)}`);
      return;
    }
    const m: HostMessage = parsed.message;
    switch (m.method) {
      case 'snapshot':
        store.snapshot(m.params);
        renderAll();
        break;
      case 'update':
        if (!store.update(m.params)) {
          post(webviewMessage('requestSnapshot', { reason: `delta from step ${m.params.delta.fromStep} does not match step ${store.state?.step ?? 'none'}` }));
          return;
        }
        renderAll();
        break;
      case 'empty':
        store.clear(m.params.reason);
        renderAll();
        break;
      case 'reveal':
        if (m.params.section === 'shadowPages') {
          const id = Number(m.params.id.replace(/^sp#?/, ''));
          if (Number.isFinite(id)) ctx.revealSp(id);
        } else if (m.params.section === 'rmaps') {
          const g = Number(m.params.id);
          if (Number.isFinite(g)) ctx.revealGfn(g);
        } else open(m.params.section);
        break;
    }
  }

  window.addEventListener('message', (e: MessageEvent) => handle(e.data));
  window.addEventListener('scroll', () => {
    ui.pageScroll = window.scrollY;
    saveUi();
  });
  renderAll();
  if (restored && ui.pageScroll) requestAnimationFrame(() => window.scrollTo(0, ui.pageScroll));
  post(webviewMessage('ready', { restored }));
  return { handle, store };
}

const rootEl = document.getElementById('kvm-panel');
if (rootEl) (window as unknown as { __kvmPanel: unknown }).__kvmPanel = boot(rootEl);
