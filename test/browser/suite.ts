/**
 * Browser tests of the panel (Playwright on Debian's Chromium). Run with `node test/browser/run.mjs`.
 * Renders every section from fixture states, checks change highlighting, links, keyboard, restore and message
 * validation, and takes screenshots into e2e-shots/panel/ (dark, light, high contrast).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, openPanel, type PanelPage } from './page';
import { snapshotMsg, updateMsg } from './messages';
import { rmap, shadowState, tdpAfter, tdpBefore, tdpGenerations, tdpStep, tdpViolation } from './fixtures/states';
import { generateLarge } from './fixtures/generate';
import type { ThemeName } from './themes';

const root = process.env.KVM_ROOT ?? process.cwd();
const WEBVIEW_JS = process.env.KVM_PANEL_JS ?? path.join(root, 'out-browser', 'webview.js');
const CSS = path.join(root, 'media', 'panel', 'panel.css');
const SHOTS = path.join(root, 'e2e-shots', 'panel');

type T = { name: string; fn: (b: Browser) => Promise<void> };
const tests: T[] = [];
const test = (name: string, fn: (b: Browser) => Promise<void>) => tests.push({ name, fn });

async function panel(b: Browser, theme: ThemeName = 'dark', size?: { width?: number; height?: number }): Promise<PanelPage> {
  return openPanel(b, { webviewJs: WEBVIEW_JS, cssFile: CSS, theme, ...size });
}

function fullTdp() {
  return snapshotMsg(tdpAfter(), { prev: tdpBefore(), record: tdpStep(), violations: [tdpViolation()], generations: tdpGenerations(), historyLength: 9 });
}

async function openSection(p: PanelPage, id: string): Promise<void> {
  await p.page.evaluate((sid) => {
    const c = document.getElementById(`sec-${sid}`) as (HTMLElement & { open: boolean }) | null;
    if (c && !c.open) c.shadowRoot?.querySelector<HTMLElement>('.collapsible-header')?.click();
  }, id);
}

async function done(p: PanelPage): Promise<void> {
  await p.close();
  assert.deepEqual(p.cspViolations, [], 'no CSP violations');
  assert.deepEqual(p.consoleErrors.filter((e) => !/favicon/.test(e)), [], 'no console errors');
}

test('loads under the strict CSP and says ready', async (b) => {
  const p = await panel(b);
  const posted = await p.posted();
  assert.deepEqual(posted[0], { method: 'ready', params: { restored: false } });
  assert.match(await p.page.locator('.panel-header').innerText(), /Start a scenario/);
  await done(p);
});

test('roots: valid / invalid / obsolete, holders, requests, change marks', async (b) => {
  const p = await panel(b);
  await p.send(fullTdp());
  const roots = p.page.locator('#sec-roots');
  const rows = roots.locator('tr[data-root]');
  assert.equal(await rows.count(), 3);
  assert.match(await roots.locator('tr[data-root="6"]').getAttribute('class') ?? '', /added/);
  assert.match(await roots.locator('tr[data-root="1"]').getAttribute('class') ?? '', /modified/);
  assert.match(await roots.locator('tr[data-root="1"]').innerText(), /invalid/);
  assert.match(await roots.locator('tr[data-root="1"]').innerText(), /vcpu0\.root, vcpu1\.prev_roots\[0\]/);
  assert.match(await roots.locator('tr[data-root="6"]').innerText(), /valid[\s\S]*vcpu1\.root/);
  assert.match(await roots.locator('.vcpu-block[data-vcpu="0"]').innerText(), /FREE_OBSOLETE_ROOTS/);
  assert.equal(await roots.locator('.vcpu-block[data-vcpu="0"] .req.added').count(), 1);
  assert.equal(await roots.locator('[data-key="1:current"].modified').count(), 1);
  assert.match(await roots.locator('[data-key="1:current"]').innerText(), /changed/);
  await done(p);
});

test('generations: timeline points, current step, click goes to the step', async (b) => {
  const p = await panel(b);
  await p.send(fullTdp());
  const pts = p.page.locator('#sec-generations .gen-pt');
  assert.equal(await pts.count(), 10);
  assert.equal(await p.page.locator('#sec-generations .gen-pt.current').getAttribute('data-step'), '4');
  assert.equal(await p.page.locator('#sec-generations .mark.fast-zap').count(), 2);
  assert.equal(await p.page.locator('#sec-generations .mark.commit').count(), 1);
  await p.page.locator('#sec-generations .gen-pt[data-step="6"] .hit').dispatchEvent('click');
  const chart = p.page.locator('#sec-generations .gen-chart');
  await chart.focus();
  await p.page.keyboard.press('ArrowRight');
  await p.page.keyboard.press('Enter');
  const posted = (await p.posted()).filter((m) => m.method === 'gotoStep');
  assert.deepEqual(posted.map((m) => m.params), [{ step: 6 }, { step: 5 }]);
  await done(p);
});

test('rmaps: memslot -> level -> gfn, chains, search by gfn, links to the page', async (b) => {
  const p = await panel(b);
  await p.send(fullTdp());
  await openSection(p, 'rmaps');
  const sec = p.page.locator('#sec-rmaps');
  assert.match(await sec.locator('.rmap-info').innerText(), /1 memslot, 4 rmap heads/);
  assert.match(await sec.locator('[data-rmap="0:1:19"]').getAttribute('class') ?? '', /added/);
  assert.match(await sec.locator('.removed-strip').innerText(), /slot 0 L1 gfn 0x12/);
  await sec.locator('vscode-textfield').evaluate((el) => {
    (el as HTMLElement & { value: string }).value = '0x13';
    el.dispatchEvent(new Event('input'));
  });
  assert.match(await sec.locator('.rmap-info').innerText(), /gfn 0x13 \(19\): found/);
  assert.match(await sec.locator('.vrow').first().innerText(), /pte_list_desc × 2/);
  assert.equal(await sec.locator('.vrow.spte').count(), 4);
  await sec.locator('.vrow.spte .sp-link').first().click();
  assert.equal(await p.page.locator('#sp-tree .vrow.active').getAttribute('data-sp'), '4');
  // decimal search, and a miss
  await sec.locator('vscode-textfield').evaluate((el) => {
    (el as HTMLElement & { value: string }).value = '16';
    el.dispatchEvent(new Event('input'));
  });
  assert.match(await sec.locator('.rmap-info').innerText(), /gfn 0x10 \(16\): found/);
  await sec.locator('vscode-textfield').evaluate((el) => {
    (el as HTMLElement & { value: string }).value = '0x9999';
    el.dispatchEvent(new Event('input'));
  });
  assert.match(await sec.locator('.rmap-info').innerText(), /no rmap entry/);
  await done(p);
});

test('shadow pages: tree from roots, lazy expansion, keyboard, change marks', async (b) => {
  const p = await panel(b);
  await p.send(fullTdp());
  const tree = p.page.locator('#sp-tree');
  assert.equal(await tree.locator('.vrow.sp').count(), 3);
  assert.match(await tree.locator('.vrow[data-sp="6"]').getAttribute('class') ?? '', /added/);
  assert.match(await tree.locator('.vrow[data-sp="1"]').getAttribute('class') ?? '', /modified/);
  await tree.focus();
  await p.page.keyboard.press('ArrowDown');
  await p.page.keyboard.press('ArrowRight');
  assert.equal(await tree.locator('.vrow[data-sp="1"]').getAttribute('aria-expanded'), 'true');
  assert.equal(await tree.locator('.vrow[data-sp="2"]').count(), 1);
  await p.page.keyboard.press('ArrowLeft');
  assert.equal(await tree.locator('.vrow[data-sp="2"]').count(), 0);
  // a page's tree: shadow paging with unsync pages
  await p.send(snapshotMsg(shadowState()));
  await p.page.locator('#sp-tree .vrow[data-sp="10"]').click();
  await p.page.locator('#sp-tree .vrow[data-sp="12"]').click();
  assert.match(await tree.innerText(), /unsync_children 2/);
  assert.match(await tree.locator('.vrow[data-sp="13"]').innerText(), /unsync/);
  assert.match(await tree.locator('.vrow[data-sp="14"]').innerText(), /invalid-list/);
  // the selected page's details: parent_ptes link back to the parent
  const detail = p.page.locator('#sec-shadowPages .sp-detail');
  assert.match(await detail.innerText(), /sp#12[\s\S]*unsync_children 2[\s\S]*parent_ptes\s*sp#10\[0\]/);
  await detail.locator('button.sp-link', { hasText: 'sp#10' }).click();
  assert.equal(await tree.locator('.vrow.active').getAttribute('data-sp'), '10');
  await done(p);
});

test('locks, requests, TLB', async (b) => {
  const p = await panel(b);
  await p.send(fullTdp());
  const sec = p.page.locator('#sec-locks');
  assert.match(await sec.locator('[data-holder="ioctl"]').innerText(), /ioctl holds it for\s*write/);
  assert.match(await sec.locator('[data-holder="ioctl"]').getAttribute('class') ?? '', /added/);
  assert.match(await sec.innerText(), /vcpu1 released read/);
  assert.match(await sec.locator('tr[data-tlb="0:pcid0:0x10"]').innerText(), /stale/);
  assert.match(await sec.locator('tr[data-tlb="0:pcid0:0x10"]').getAttribute('class') ?? '', /modified/);
  assert.match(await sec.locator('.removed-strip').innerText(), /vcpu1 pcid0:0x11/);
  assert.match(await sec.locator('tr[data-vcpu="1"]').innerText(), /KVM_REQ_TLB_FLUSH/);
  await done(p);
});

test('events: frames link to source, effects described', async (b) => {
  const p = await panel(b);
  await p.send(fullTdp());
  const sec = p.page.locator('#sec-events');
  assert.match(await sec.innerText(), /kvm->arch\.mmu_valid_gen 0 → 1/);
  await sec.locator('.ev-list button.frame[data-fn="kvm_zap_obsolete_pages"]').click();
  const open = (await p.posted()).filter((m) => m.method === 'openSource');
  assert.deepEqual(open[0].params, { file: 'arch/x86/kvm/mmu/mmu.c', fn: 'kvm_zap_obsolete_pages', point: 'yield' });
  await done(p);
});

test('violation banner links to the step and the code', async (b) => {
  const p = await panel(b);
  await p.send(fullTdp());
  const v = p.page.locator('.banner .violation[data-id="RT-6"]');
  assert.match(await v.innerText(), /RT-6[\s\S]*prev_roots/);
  await v.locator('button', { hasText: 'step 4' }).click();
  await v.locator('button', { hasText: 'kvm_mmu_free_obsolete_roots' }).click();
  const posted = await p.posted();
  assert.deepEqual(posted.find((m) => m.method === 'gotoStep')?.params, { step: 4 });
  assert.equal((posted.find((m) => m.method === 'openSource')?.params as { fn: string }).fn, 'kvm_mmu_free_obsolete_roots');
  await done(p);
});

test('updates apply deltas; stepping back shows the reverse change', async (b) => {
  const p = await panel(b);
  await p.send(snapshotMsg(tdpBefore(), { historyLength: 9 }));
  assert.equal(await p.page.locator('tr[data-root]').count(), 2);
  await p.send(updateMsg(tdpBefore(), tdpAfter(), { record: tdpStep(), historyLength: 9 }));
  assert.equal(await p.page.locator('tr[data-root]').count(), 3);
  assert.match(await p.page.locator('tr[data-root="6"]').getAttribute('class') ?? '', /added/);
  assert.match(await p.page.locator('.panel-header').innerText(), /Step 4/);
  await p.send(updateMsg(tdpAfter(), tdpBefore(), { historyLength: 9 }));
  assert.equal(await p.page.locator('tr[data-root]').count(), 2);
  assert.match(await p.page.locator('#sec-shadowPages .removed-strip').innerText(), /sp#6/);
  // a delta from the wrong base asks for a snapshot
  await p.send(updateMsg(tdpAfter(), tdpBefore(), { historyLength: 9 }));
  assert.ok((await p.posted()).some((m) => m.method === 'requestSnapshot'));
  await done(p);
});

test('malformed messages are logged and ignored', async (b) => {
  const p = await panel(b);
  await p.send(fullTdp());
  const before = await p.page.locator('#sec-roots').innerHTML();
  const bad = fullTdp() as unknown as { params: { state: { vm: Record<string, unknown> } } };
  bad.params.state.vm.mmu_valid_gen = 'x'.repeat(10_000);
  await p.send(bad);
  await p.send({ method: 'explode', params: {} });
  await p.page.evaluate(() => window.dispatchEvent(new MessageEvent('message', { data: JSON.parse('{"method":"empty","params":{"reason":"x","__proto__":{"polluted":true}}}') })));
  await p.send('just a string');
  assert.equal(await p.page.locator('#sec-roots').innerHTML(), before);
  const logs = (await p.posted()).filter((m) => m.method === 'log');
  assert.equal(logs.length, 4);
  assert.equal(await p.page.evaluate(() => ({}) as Record<string, unknown>).then((o) => o.polluted), undefined);
  p.consoleErrors.length = 0;
  await p.close();
});

test('UI state survives a reload (sections, search, expansion)', async (b) => {
  const p = await panel(b);
  await p.send(fullTdp());
  await openSection(p, 'rmaps');
  await p.page.locator('#sec-rmaps vscode-textfield').evaluate((el) => {
    (el as HTMLElement & { value: string }).value = '0x13';
    el.dispatchEvent(new Event('input'));
  });
  await p.page.locator('#sp-tree .vrow[data-sp="1"]').click();
  await p.page.waitForTimeout(250);
  await p.page.reload();
  await p.page.waitForFunction(() => (window as unknown as { __kvmPanel?: unknown }).__kvmPanel !== undefined);
  const posted = await p.posted();
  assert.deepEqual(posted[posted.length - 1], { method: 'ready', params: { restored: true } });
  await p.setTheme('dark');
  await p.send(fullTdp());
  assert.equal(await p.page.locator('#sec-rmaps').getAttribute('open'), '');
  assert.match(await p.page.locator('#sec-rmaps .rmap-info').innerText(), /gfn 0x13/);
  assert.equal(await p.page.locator('#sp-tree .vrow[data-sp="1"]').getAttribute('aria-expanded'), 'true');
  await done(p);
});

test('large state: 10,000 pages and 100,000 rmap entries stay virtualised', async (b) => {
  const p = await panel(b);
  const g = generateLarge();
  let t0 = Date.now();
  await p.send(snapshotMsg(g.state, { historyLength: 0 }));
  if (process.env.KVM_VERBOSE) console.log('    snapshot', Date.now() - t0, 'ms');
  t0 = Date.now();
  await openSection(p, 'rmaps');
  assert.match(await p.page.locator('#sec-rmaps .rmap-info').innerText(), /4 memslots, 100000 rmap heads/);
  assert.ok((await p.page.locator('#rmap-list .vrow').count()) < 60);
  let shown = g.state;
  for (let i = 0; i < 5; i++) {
    const { state, record } = g.next();
    await p.send(updateMsg(shown, state, { record, historyLength: state.step }));
    shown = state;
  }
  if (process.env.KVM_VERBOSE) console.log('    5 updates', Date.now() - t0, 'ms');
  assert.match(await p.page.locator('.panel-header').innerText(), /Step 5/);
  assert.ok(!(await p.posted()).some((m) => m.method === 'requestSnapshot'));
  await done(p);
});

/**
 * Everything laid out in a section must sit inside it (or inside a horizontal scroller that does), and no badge or
 * cell may clip its content.
 */
async function assertFits(p: PanelPage, what: string, section = 'roots'): Promise<void> {
  const bad = await p.page.evaluate((id) => {
    const sec = document.querySelector(`#sec-${id} .section-body`) as HTMLElement;
    const box = sec.getBoundingClientRect();
    const out: string[] = [];
    const vw = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > vw) out.push(`page scrolls horizontally: ${document.documentElement.scrollWidth} > ${vw}`);
    const scrollable = (e: Element) => {
      for (let a = e.parentElement; a && a !== sec; a = a.parentElement) {
        const ov = getComputedStyle(a).overflowX;
        if ((ov === 'auto' || ov === 'scroll') && a.getBoundingClientRect().right <= box.right + 0.5) return true;
      }
      return false;
    };
    for (const e of Array.from(sec.querySelectorAll<HTMLElement>('.tag, td, tbody th, .root-ref, .req, .kvrow > *, h4'))) {
      if (e.closest('thead')) continue;
      const r = e.getBoundingClientRect();
      if (!r.width && !r.height) continue;
      const name = `${e.tagName.toLowerCase()}.${e.className} "${(e.textContent ?? '').slice(0, 40)}"`;
      if ((r.right > box.right + 0.5 || r.left < box.left - 0.5 || r.right > vw) && !scrollable(e)) out.push(`${name} outside [${Math.round(r.left)}, ${Math.round(r.right)}] of [${Math.round(box.left)}, ${Math.round(box.right)}]`);
      if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).display !== 'inline') out.push(`${name} clips: scrollWidth ${e.scrollWidth} > clientWidth ${e.clientWidth}`);
    }
    return out;
  }, section);
  assert.deepEqual(bad, [], `${what}: nothing in ${section} is clipped at this width`);
}

function narrowShadow() {
  const s = shadowState();
  // a root that is both invalid and obsolete: the longest state badge
  s.shadowPages = s.shadowPages.map((x) => (x.id === 11 ? { ...x, invalid: true, role: { ...x.role, invalid: true } } : x));
  s.vcpus = s.vcpus.map((v) => ({ ...v, requests: ['KVM_REQ_MMU_FREE_OBSOLETE_ROOTS', 'KVM_REQ_MMU_SYNC', 'KVM_REQ_LOAD_MMU_PGD'] as typeof v.requests }));
  return s;
}

test('roots at 300 px: badges wrap, the roots table stacks, requests wrap (nothing clipped)', async (b) => {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const theme of ['dark', 'light'] as ThemeName[]) {
    const p = await panel(b, theme, { width: 300, height: 1200 });
    await p.send(fullTdp());
    await assertFits(p, `${theme} tdp`);
    await assertFits(p, `${theme} tdp`, 'locks');
    // every column of every root is still shown, with its label
    const row = p.page.locator('#sec-roots tr[data-root="1"]');
    const text = await row.innerText();
    for (const re of [/sp#1/, /invalid/, /\b2\b/, /L4 tdp/, /vcpu0\.root, vcpu1\.prev_roots\[0\]/]) assert.match(text, re);
    const labels = await row.locator('td').evaluateAll((tds) => tds.map((td) => getComputedStyle(td, '::before').content));
    assert.deepEqual(labels, ['"state"', '"refcount"', '"role"', '"held by"'], 'stacked cells are labelled');
    await p.page.locator('#sec-roots').screenshot({ path: path.join(SHOTS, `roots-300px-${theme}.png`) });
    // a removed request (struck through) and the shadow MMU's longer badges
    await p.send(updateMsg(tdpAfter(), tdpBefore(), { historyLength: 9 }));
    assert.equal(await p.page.locator('#sec-roots .req.removed').count(), 1);
    await assertFits(p, `${theme} tdp, request removed`);
    await p.send(snapshotMsg(narrowShadow()));
    assert.match(await p.page.locator('#sec-roots tr[data-root="11"]').innerText(), /invalid, obsolete \(gen 2 ≠ 3\)\s+2\s+0\s/);
    await assertFits(p, `${theme} shadow`);
    await p.page.locator('#sec-roots').screenshot({ path: path.join(SHOTS, `roots-300px-shadow-${theme}.png`) });
    await p.send(fullTdp());
    await p.page.screenshot({ path: path.join(SHOTS, `full-300px-${theme}.png`), fullPage: true });
    await done(p);
  }
});

test('roots: TDP roots are "invalid", no mmu_valid_gen comparison; shadow pages keep it', async (b) => {
  const p = await panel(b);
  await p.send(fullTdp());
  const roots = p.page.locator('#sec-roots');
  const badgeOf = (sel: string) => roots.locator(`${sel} .tag[class*="st-"]`).first();
  assert.equal((await badgeOf('tr[data-root="1"]').innerText()).trim(), 'invalid');
  assert.equal((await badgeOf('[data-key="0:current"]').innerText()).trim(), 'invalid');
  const texts = await roots.locator('.tag[class*="st-"]').evaluateAll((els) => els.map((e) => `${e.textContent} | ${(e as HTMLElement).title}`));
  assert.ok(texts.length >= 5);
  for (const t of texts) assert.doesNotMatch(t, /≠|gen \d/, `TDP badge without a generation comparison: ${t}`);
  assert.match(await badgeOf('tr[data-root="1"]').getAttribute('title') ?? '', /role\.invalid[\s\S]*kvm_tdp_mmu_invalidate_roots/);
  assert.deepEqual(await roots.locator('thead th').allInnerTexts(), ['root', 'state', 'refcount', 'role', 'held by']);
  // the page details say the TDP MMU does not use mmu_valid_gen
  await p.page.locator('#sp-tree .vrow[data-sp="1"]').click();
  assert.match(await p.page.locator('#sec-shadowPages .sp-detail').innerText(), /not used by TDP MMU pages/);
  assert.match(await p.page.locator('#sec-shadowPages .vrow[data-sp="1"]').innerText(), /invalid/);
  assert.doesNotMatch(await p.page.locator('#sec-shadowPages .vrow[data-sp="1"]').innerText(), /obsolete g0/);
  // shadow MMU: the generation comparison stays
  await p.send(snapshotMsg(shadowState()));
  assert.match(await roots.locator('tr[data-root="11"] .tag').first().innerText(), /obsolete \(gen 2 ≠ 3\)/);
  assert.deepEqual(await roots.locator('thead th').allInnerTexts(), ['root', 'state', 'gen', 'refcount', 'role', 'held by']);
  await done(p);
});

function tdpStep5() {
  const s = tdpAfter();
  return { ...s, step: 5, vcpus: s.vcpus.map((v) => (v.id === 0 ? { ...v, inGuest: false } : v)) };
}

test('generations: the readout follows the current step on every update; a chosen step can be followed again', async (b) => {
  const p = await panel(b);
  await p.send(snapshotMsg(tdpBefore(), { generations: tdpGenerations(), historyLength: 9 }));
  const readout = p.page.locator('#sec-generations .gen-readout');
  assert.match(await readout.innerText(), /^step 3:/);
  await p.send(updateMsg(tdpBefore(), tdpAfter(), { record: tdpStep(), historyLength: 9 }));
  await p.send(updateMsg(tdpAfter(), tdpStep5(), { historyLength: 9 }));
  assert.match(await p.page.locator('.panel-header').innerText(), /Step 5/, JSON.stringify((await p.posted()).filter((m) => m.method !== 'ready')));
  assert.match(await readout.innerText(), /^step 5: mmu_valid_gen 1/);
  assert.equal(await p.page.locator('#sec-generations .gen-pt.cursor').getAttribute('data-step'), '5');
  assert.equal(await p.page.locator('#sec-generations .gen-pt.current').getAttribute('data-step'), '5');
  // the user picks another point: the readout says so and offers to follow again
  await p.page.locator('#sec-generations .gen-chart').focus();
  await p.page.keyboard.press('ArrowLeft');
  await p.page.keyboard.press('ArrowLeft');
  assert.match(await readout.innerText(), /^selected step 3 \(current step 5\): mmu_valid_gen 0/);
  await readout.locator('button.gen-follow').click();
  assert.match(await readout.innerText(), /^step 5:/);
  // a new step always brings the readout back to the current step
  await p.page.locator('#sec-generations .gen-chart').focus();
  await p.page.keyboard.press('Home');
  assert.match(await readout.innerText(), /^selected step 0/);
  await p.send(updateMsg(tdpStep5(), tdpAfter(), { historyLength: 9 }));
  assert.match(await readout.innerText(), /^step 4: mmu_valid_gen 1/);
  // a snapshot, too
  await p.send(snapshotMsg(tdpStep5(), { generations: tdpGenerations(), historyLength: 9 }));
  assert.match(await readout.innerText(), /^step 5:/);
  await done(p);
});

test('updates: an rmap chain that changes (sptep strings) is patched, not rejected', async (b) => {
  const p = await panel(b);
  await p.send(snapshotMsg(tdpAfter(), { historyLength: 9 }));
  const next = tdpStep5();
  next.memslots = next.memslots.map((m) => ({ ...m, rmaps: m.rmaps.map((r) => (r.gfn === 0x13 ? rmap(0, 1, 0x13, [...r.sptes, 'sp#4[23]']) : r)) }));
  await p.send(updateMsg(tdpAfter(), next, { historyLength: 9 }));
  assert.deepEqual((await p.posted()).filter((m) => m.method === 'log' || m.method === 'requestSnapshot'), []);
  assert.match(await p.page.locator('.panel-header').innerText(), /Step 5/);
  await openSection(p, 'rmaps');
  const sec = p.page.locator('#sec-rmaps');
  assert.match(await sec.locator('[data-rmap="0:1:19"]').getAttribute('class') ?? '', /modified/);
  await sec.locator('vscode-textfield').evaluate((el) => {
    (el as HTMLElement & { value: string }).value = '0x13';
    el.dispatchEvent(new Event('input'));
  });
  assert.equal(await sec.locator('.vrow.spte').count(), 5);
  await done(p);
});

test('package.json: "Show Simulator State Here" in the editor context menu of C files', async () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    contributes: { commands: Array<{ command: string; title: string }>; menus: Record<string, Array<{ command: string; when?: string }>> };
  };
  const cmd = pkg.contributes.commands.find((c) => c.title === 'Show Simulator State Here');
  assert.equal(cmd?.command, 'kvmMmuLab.showSimulatorStateHere');
  const entry = (pkg.contributes.menus['editor/context'] ?? []).find((m) => m.command === cmd!.command);
  assert.ok(entry, 'editor/context entry');
  assert.match(entry!.when ?? '', /resourceLangId == c\b/);
  assert.doesNotMatch(entry!.when ?? '', /inDebugMode|debugState/);
});

test('screenshots of each section (dark, light, high contrast)', async (b) => {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const theme of ['dark', 'light', 'hc'] as ThemeName[]) {
    const p = await panel(b, theme, { width: 460, height: 1400 });
    await p.send(fullTdp());
    await openSection(p, 'rmaps');
    await p.page.locator('#sp-tree .vrow[data-sp="1"]').click();
    await p.page.locator('#rmap-list .vrow[data-rmap="0:1:19"]').click();
    await p.page.waitForTimeout(50);
    await p.page.screenshot({ path: path.join(SHOTS, `full-${theme}.png`), fullPage: true });
    if (theme !== 'hc') {
      await p.page.locator('.banner').screenshot({ path: path.join(SHOTS, `banner-${theme}.png`) });
      for (const id of ['roots', 'generations', 'rmaps', 'shadowPages', 'locks', 'events']) {
        await p.page.locator(`#sec-${id}`).screenshot({ path: path.join(SHOTS, `${id}-${theme}.png`) });
      }
    }
    await done(p);
  }
});

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const { browser, cleanup } = await launchChromium();
  let passed = 0;
  let failed = 0;
  try {
    for (const t of tests) {
      if (only.length && !only.some((o) => t.name.includes(o))) continue;
      const started = Date.now();
      try {
        await t.fn(browser);
        passed++;
        console.log(`  ✔ ${t.name} (${Date.now() - started} ms)`);
      } catch (e) {
        failed++;
        console.log(`  ✖ ${t.name}\n    ${String((e as Error).stack ?? e).split('\n').slice(0, 6).join('\n    ')}`);
      }
    }
  } finally {
    await cleanup();
  }
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

void main();
