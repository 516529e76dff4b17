// Small playwright helpers for driving the VS Code workbench (code-server in chromium).
// Used by the UI checks in test/e2e/ui/*.mjs (ctx.ui).

/** Wait until the workbench and its explorer are up. */
export async function waitWorkbench(page, timeout = 90_000) {
  await page.waitForSelector('.monaco-workbench', { timeout });
  await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout });
}

const escRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function quickInput(page, prefix, text, pick) {
  await page.locator('.monaco-workbench').first().focus().catch(() => {});
  await page.keyboard.press(prefix);
  const box = page.locator('.quick-input-widget input');
  await box.waitFor({ state: 'visible', timeout: 20_000 });
  await box.fill(text);
  // The row whose label is exactly `pick` (so "KVM MMU Lab: Step" never runs "… Step Back", whatever the
  // recently-used order); Enter on the first row when no label matches exactly.
  // (keyboard only: a click would leave the mouse over the editor tabs, whose tooltip then sticks).
  const exactRe = new RegExp(`^\\s*${escRe(pick)}\\s*$`);
  const exact = page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: exactRe }) }).first();
  const loose = page.locator('.quick-input-list .monaco-list-row', { hasText: pick }).first();
  await loose.waitFor({ state: 'visible', timeout: 30_000 });
  if (await exact.count()) {
    for (let i = 0; i < 12; i++) {
      const focused = ((await page.locator('.quick-input-list .monaco-list-row.focused .label-name').first().innerText({ timeout: 2_000 }).catch(() => '')) || '').trim();
      if (exactRe.test(focused)) break;
      await page.keyboard.press('ArrowDown');
    }
  }
  await page.keyboard.press('Enter');
}

/** Ctrl+P a file by name (exact file name, e.g. mmu.c and not tdp_mmu.c); resolves when its tab is active. */
export async function quickOpen(page, fileName, hint = fileName) {
  const exact = new RegExp(`^${fileName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  const isOpen = () => page.waitForFunction((n) => document.title.startsWith(`${n} `), fileName, { timeout: 10_000 }).then(() => true, () => false);
  // The result list fills in stages (history, then the file search) and re-binds its row elements, so the
  // pick can land on another file: check the title and try again.
  for (let attempt = 1; ; attempt++) {
    await page.locator('.monaco-workbench').first().focus().catch(() => {});
    await page.keyboard.press('Control+P');
    const box = page.locator('.quick-input-widget input');
    await box.waitFor({ state: 'visible', timeout: 20_000 });
    await box.fill(hint);
    const row = page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: exact }) }).first();
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    await page.waitForTimeout(300 * attempt); // let the list settle
    // Keyboard, not a click: a click leaves the mouse where the new editor tab appears, and its tooltip
    // (the file's path) then sticks in every later screenshot.
    for (let i = 0; i < 12; i++) {
      const focused = ((await page.locator('.quick-input-list .monaco-list-row.focused .label-name').first().innerText({ timeout: 2_000 }).catch(() => '')) || '').trim();
      if (exact.test(focused)) break;
      await page.keyboard.press('ArrowDown');
    }
    await page.keyboard.press('Enter');
    if (await isOpen()) break;
    if (attempt >= 4) throw new Error(`quick open did not open ${fileName} (title: ${await page.title()})`);
    await page.keyboard.press('Escape').catch(() => {});
  }
  await page.locator('.editor-instance .view-lines .view-line').first().waitFor({ timeout: 30_000 });
}

/** Ctrl+G to a 1-based line in the active editor (reveals it, cursor at its start). */
export async function gotoLine(page, line) {
  await page.keyboard.press('Control+G');
  const box = page.locator('.quick-input-widget input');
  await box.waitFor({ state: 'visible', timeout: 20_000 });
  await box.fill(`:${line}`);
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 20_000 }).catch(() => {});
}

/**
 * F1 → a command by its palette label (e.g. "KVM MMU Lab: Show Engine Version"). Waits until the palette
 * closed, unless `{ opensPicker: true }` (the command opens a quick pick of its own, e.g. the theme picker).
 */
export async function runCommand(page, label, { opensPicker = false } = {}) {
  await quickInput(page, 'F1', `>${label}`, label);
  if (!opensPicker) await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 20_000 }).catch(() => {});
}

/** Hide the bottom panel (Problems, Debug Console, …) when it is open. */
export async function hideBottomPanel(page) {
  const panel = page.locator('.monaco-workbench .part.panel');
  if (!(await panel.first().isVisible().catch(() => false))) return;
  await page.keyboard.press('Control+J');
  await panel.first().waitFor({ state: 'hidden', timeout: 20_000 });
}

/** Scroll the visible hover to its end (e.g. to show its live section in a screenshot). */
export async function scrollHoverToEnd(page) {
  const hover = page.locator('.monaco-hover:not(.hidden)').first();
  const box = await hover.boundingBox();
  if (!box) return;
  // the mouse moves onto the hover (it stays open), then wheels it to the end
  await page.mouse.move(box.x + box.width / 2, box.y + 8, { steps: 3 });
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 3 });
  for (let i = 0; i < 5; i++) await page.mouse.wheel(0, 400);
}

/**
 * A notification containing `text` exists. Looks at toasts, then opens the Notifications center
 * (toasts are hidden when code-server runs with enable-smoke-test-driver).
 */
export async function expectNotification(page, text, timeout = 20_000) {
  const toast = page.locator('.notification-toast .notification-list-item-message', { hasText: text });
  try {
    await toast.first().waitFor({ state: 'visible', timeout: Math.min(timeout, 5_000) });
    return 'toast';
  } catch { /* fall through to the center */ }
  await runCommand(page, 'Notifications: Show Notifications');
  await page.locator('.notifications-center .notification-list-item-message', { hasText: text }).first().waitFor({ state: 'visible', timeout });
  return 'center';
}

export async function hideNotifications(page) {
  if (await page.locator('.notifications-center.visible').count()) await runCommand(page, 'Notifications: Hide Notifications').catch(() => {});
  await page.keyboard.press('Escape').catch(() => {});
}

/** The first token span in the active editor whose text is exactly `word`. */
export function tokenLocator(page, word) {
  const esc = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return page.locator('.editor-instance .view-lines .view-line span span').filter({ hasText: new RegExp(`^${esc}$`) }).first();
}

/**
 * Screen box of the first whole-word occurrence of `word` in the visible lines of the active editor
 * (works whether or not the tokenizer gave the word a span of its own), or null.
 */
export async function wordBox(page, word) {
  return page.evaluate((w) => {
    const re = new RegExp(`(^|[^A-Za-z0-9_])(${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})(?![A-Za-z0-9_])`);
    const editor = document.querySelector('.editor-group-container.active .editor-instance .view-lines') || document.querySelector('.editor-instance .view-lines');
    if (!editor) return null;
    const walker = document.createTreeWalker(editor, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = (n.textContent || '').replace(/\u00a0/g, ' ');
      const m = re.exec(text);
      if (!m) continue;
      const start = m.index + m[1].length;
      const r = document.createRange();
      r.setStart(n, start);
      r.setEnd(n, start + w.length);
      const b = r.getBoundingClientRect();
      if (b.width > 0 && b.height > 0) return { x: b.x, y: b.y, width: b.width, height: b.height };
    }
    return null;
  }, word);
}

/** The visible hover widget's content. */
export function hoverLocator(page) {
  return page.locator('.monaco-hover:not(.hidden) .monaco-hover-content, .monaco-hover:not(.hidden) .hover-contents').first();
}

/**
 * Move the mouse over `word` and return the hover widget's text ('' when no hover appears).
 * `until` (a RegExp) keeps waiting until the hover text matches it (hovers render asynchronously).
 */
export async function hoverWord(page, word, timeout = 15_000, until) {
  let box = null;
  const deadline = Date.now() + 20_000;
  while (!(box = await wordBox(page, word)) && Date.now() < deadline) await page.waitForTimeout(250);
  if (!box) throw new Error(`${word} is not visible in the active editor`);
  const hover = hoverLocator(page);
  const point = async () => {
    await page.keyboard.press('Escape').catch(() => {});
    await page.mouse.move(5, 5);
    await page.mouse.move(box.x + Math.min(box.width / 2, 12), box.y + box.height / 2, { steps: 4 });
  };
  await point();
  try {
    // a busy machine can swallow the first mouse move: point at the word once more before giving up
    try { await hover.waitFor({ state: 'visible', timeout: Math.min(timeout, 10_000) }); }
    catch { await point(); await hover.waitFor({ state: 'visible', timeout }); }
    if (until) await page.waitForFunction((src) => {
      const el = document.querySelector('.monaco-hover:not(.hidden) .monaco-hover-content, .monaco-hover:not(.hidden) .hover-contents');
      return !!el && new RegExp(src).test(el.innerText);
    }, until.source, { timeout }).catch(() => {});
    return (await hover.innerText()).trim();
  } catch {
    return '';
  }
}

/** Run `KVM MMU Lab: Step` (or any scenario-moving command) and wait until the status bar shows `step <n>`. */
export async function waitStatusBar(page, re, timeout = 30_000) {
  await page.locator('.statusbar .statusbar-item', { hasText: re }).first().waitFor({ state: 'visible', timeout });
}

/**
 * The webview frame (VS Code nests it: an outer host iframe and an inner content frame) in which
 * `selector` exists; waits up to `timeout`.
 */
export async function webviewFrameWith(page, selector, timeout = 60_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    for (const f of webviewFrames(page)) {
      if (await f.locator(selector).count().catch(() => 0)) return f;
    }
    if (Date.now() > deadline) throw new Error(`no webview frame contains ${selector} within ${timeout / 1000} s`);
    await page.waitForTimeout(250);
  }
}

/**
 * Pick a color theme through "Preferences: Color Theme" (typing `filter`, choosing the first row whose label
 * matches `labelRe`, e.g. /^(Default )?Light Modern$/) and wait until the workbench switched to `kind`
 * ('vs' light, 'vs-dark' dark).
 */
export async function setColorTheme(page, filter, labelRe, kind) {
  await runCommand(page, 'Preferences: Color Theme', { opensPicker: true });
  const box = page.locator('.quick-input-widget input');
  await box.waitFor({ state: 'visible', timeout: 20_000 });
  await box.fill(filter);
  const row = page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: labelRe }) }).first();
  await row.waitFor({ state: 'visible', timeout: 20_000 });
  for (let i = 0; i < 12; i++) {
    const focused = ((await page.locator('.quick-input-list .monaco-list-row.focused .label-name').first().innerText({ timeout: 2_000 }).catch(() => '')) || '').trim();
    if (labelRe.test(focused)) break;
    await page.keyboard.press('ArrowDown');
  }
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 20_000 }).catch(() => {});
  await page.waitForFunction((k) => {
    const wb = document.querySelector('.monaco-workbench');
    return !!wb && wb.classList.contains(k) && (k !== 'vs' || !wb.classList.contains('vs-dark'));
  }, kind, { timeout: 30_000 });
}

/** Frames of webviews currently shown (they sit in nested iframes). */
export function webviewFrames(page) {
  return page.frames().filter((f) => /webview|vscode-webview/.test(f.url()) && f !== page.mainFrame());
}
