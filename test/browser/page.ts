/**
 * Loads the panel bundle in headless Chromium exactly as the webview would: the same HTML and CSP (served from a
 * fake resource origin), a fake `acquireVsCodeApi` that records posted messages and keeps state across reloads.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { panelHtml } from '../../src/shared/html';
import { THEMES, type ThemeName } from './themes';

export const ORIGIN = 'https://panel.test';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Point Chromium's config/cache/tmp at a fresh temp dir; returns it. */
export function chromiumEnv(): { dir: string; env: Record<string, string> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvm-panel-chromium-'));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, { XDG_CONFIG_HOME: dir, XDG_CACHE_HOME: dir, TMPDIR: dir });
  return { dir, env };
}

export async function launchChromium(): Promise<{ browser: Browser; cleanup(): Promise<void> }> {
  const { chromium } = await import('playwright-core');
  const { dir, env } = chromiumEnv();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS, env });
  return {
    browser,
    async cleanup() {
      await browser.close().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PanelPage {
  page: Page;
  context: BrowserContext;
  /** Deliver a host -> webview message (as VS Code would: a window `message` event). */
  send(msg: unknown): Promise<void>;
  posted(): Promise<Array<{ method: string; params: unknown }>>;
  setTheme(t: ThemeName): Promise<void>;
  consoleErrors: string[];
  cspViolations: string[];
  close(): Promise<void>;
}

export async function openPanel(browser: Browser, o: { webviewJs: string; cssFile: string; theme?: ThemeName; width?: number; height?: number }): Promise<PanelPage> {
  const context = await browser.newContext({ viewport: { width: o.width ?? 420, height: o.height ?? 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(8000);
  const nonce = 'testnonce0123456789';
  const html = panelHtml({ cspSource: ORIGIN, nonce, scriptUri: `${ORIGIN}/dist/webview.js`, styleUri: `${ORIGIN}/media/panel/panel.css` });
  await page.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/' || url.pathname === '/index.html') return route.fulfill({ contentType: 'text/html', body: html });
    if (url.pathname === '/dist/webview.js') return route.fulfill({ contentType: 'text/javascript', body: fs.readFileSync(o.webviewJs) });
    if (url.pathname === '/media/panel/panel.css') return route.fulfill({ contentType: 'text/css', body: fs.readFileSync(o.cssFile) });
    return route.fulfill({ status: 404, body: '' });
  });
  const consoleErrors: string[] = [];
  const cspViolations: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.addInitScript(() => {
    const w = window as unknown as Record<string, unknown>;
    w.__posted = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      (w.__csp as string[] | undefined) ?? (w.__csp = []);
      (w.__csp as string[]).push(`${e.violatedDirective} ${e.blockedURI}`);
    });
    w.acquireVsCodeApi = () => ({
      postMessage: (m: unknown) => (w.__posted as unknown[]).push(m),
      getState: () => {
        const s = sessionStorage.getItem('vscodeState');
        return s ? JSON.parse(s) : undefined;
      },
      setState: (s: unknown) => sessionStorage.setItem('vscodeState', JSON.stringify(s)),
    });
  });
  await page.goto(`${ORIGIN}/index.html`);
  await page.waitForFunction(() => (window as unknown as { __kvmPanel?: unknown }).__kvmPanel !== undefined);
  const pp: PanelPage = {
    page,
    context,
    consoleErrors,
    cspViolations,
    async send(msg) {
      // JSON text parsed in the page: fast for big states, and keys like "__proto__" arrive as own keys.
      await page.evaluate((json) => window.dispatchEvent(new MessageEvent('message', { data: JSON.parse(json) })), JSON.stringify(msg));
    },
    async posted() {
      return page.evaluate(() => (window as unknown as { __posted: Array<{ method: string; params: unknown }> }).__posted);
    },
    async setTheme(t) {
      const th = THEMES[t];
      await page.evaluate((x) => {
        document.body.className = x.bodyClass;
        for (const [k, v] of Object.entries(x.vars)) document.documentElement.style.setProperty(k, v);
      }, th);
    },
    async close() {
      const v = await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []).catch(() => []);
      cspViolations.push(...v);
      await context.close();
    },
  };
  await pp.setTheme(o.theme ?? 'dark');
  return pp;
}
