// Small playwright helpers for driving the VS Code workbench (code-server in chromium).
// Used by the UI checks in test/e2e/ui/*.mjs (ctx.ui).

/** Wait until the workbench and its explorer are up. */
export async function waitWorkbench(page, timeout = 90_000) {
  await page.waitForSelector('.monaco-workbench', { timeout });
  await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout });
}

async function quickInput(page, prefix, text, pick) {
  await page.locator('.monaco-workbench').first().focus().catch(() => {});
  await page.keyboard.press(prefix);
  const box = page.locator('.quick-input-widget input');
  await box.waitFor({ state: 'visible', timeout: 20_000 });
  await box.fill(text);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: pick });
  await row.first().waitFor({ state: 'visible', timeout: 30_000 });
  await page.keyboard.press('Enter');
}

/** Ctrl+P a file by name (exact file name, e.g. mmu.c and not tdp_mmu.c); resolves when its tab is active. */
export async function quickOpen(page, fileName, hint = fileName) {
  const exact = new RegExp(`^${fileName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  await page.locator('.monaco-workbench').first().focus().catch(() => {});
  await page.keyboard.press('Control+P');
  const box = page.locator('.quick-input-widget input');
  await box.waitFor({ state: 'visible', timeout: 20_000 });
  await box.fill(hint);
  const row = page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: exact }) }).first();
  await row.waitFor({ state: 'visible', timeout: 30_000 });
  await row.click();
  await page.waitForFunction((n) => document.title.startsWith(`${n} `), fileName, { timeout: 30_000 });
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

/** F1 → a command by its palette label (e.g. "KVM MMU Lab: Show Engine Version"). */
export async function runCommand(page, label) {
  await quickInput(page, 'F1', `>${label}`, label);
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 20_000 }).catch(() => {});
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

/** Move the mouse over `word` and return the hover widget's text ('' when no hover appears). */
export async function hoverWord(page, word, timeout = 15_000) {
  const tok = tokenLocator(page, word);
  await tok.waitFor({ state: 'visible', timeout: 20_000 });
  const box = await tok.boundingBox();
  await page.mouse.move(5, 5);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 4 });
  const hover = page.locator('.monaco-hover:not(.hidden) .monaco-hover-content, .monaco-hover:not(.hidden) .hover-contents').first();
  try {
    await hover.waitFor({ state: 'visible', timeout });
    return (await hover.innerText()).trim();
  } catch {
    return '';
  }
}

/** Frames of webviews currently shown (they sit in nested iframes). */
export function webviewFrames(page) {
  return page.frames().filter((f) => /webview|vscode-webview/.test(f.url()) && f !== page.mainFrame());
}
