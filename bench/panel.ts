/**
 * Panel benchmark: a state of 10,000 shadow pages and 100,000 rmap entries in headless Chromium (Debian's
 * /usr/bin/chromium via playwright-core), then one update message per step. Measures applying the update and
 * repainting (apply + render + forced style/layout) per step; reports the 95th percentile and the message size.
 * Prints nothing.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateLarge } from '../test/browser/fixtures/generate';
import { snapshotMsg, updateMsg } from '../test/browser/messages';
import { launchChromium, openPanel } from '../test/browser/page';

function findRoot(): string {
  for (const start of [process.cwd(), __dirname]) {
    let d = start;
    for (let i = 0; i < 8; i++) {
      const pj = path.join(d, 'package.json');
      if (fs.existsSync(pj) && fs.existsSync(path.join(d, 'webview', 'main.ts'))) return d;
      d = path.dirname(d);
    }
  }
  return process.cwd();
}

async function webviewBundle(root: string): Promise<string> {
  const dist = path.join(root, 'dist', 'webview.js');
  if (fs.existsSync(dist)) return dist;
  // Not built yet: bundle it into a temp dir the way esbuild.mjs does.
  const esbuild = await import('esbuild');
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kvm-panel-bench-')), 'webview.js');
  await esbuild.build({ entryPoints: [path.join(root, 'webview', 'main.ts')], outfile: out, bundle: true, platform: 'browser', format: 'esm', target: 'es2022', logLevel: 'silent' });
  return out;
}

function percentile(xs: number[], p: number): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

const round = (x: number) => Math.round(x * 100) / 100;

export async function run(): Promise<Record<string, unknown>> {
  const root = findRoot();
  const webviewJs = await webviewBundle(root);
  const cssFile = path.join(root, 'media', 'panel', 'panel.css');
  const STEPS = 80;
  const WARMUP = 10;
  const g = generateLarge({ shadowPages: 10_000, rmapEntries: 100_000 });
  const snap = snapshotMsg(g.state, { historyLength: 0 });
  const snapshotBytes = JSON.stringify(snap).length;
  const messages: string[] = [];
  let shown = g.state;
  for (let i = 0; i < STEPS; i++) {
    const { state, record } = g.next();
    messages.push(JSON.stringify(updateMsg(shown, state, { record, historyLength: state.step })));
    shown = state;
  }
  const bytes = messages.map((m) => m.length);

  const { browser, cleanup } = await launchChromium();
  try {
    const p = await openPanel(browser, { webviewJs, cssFile, theme: 'dark', width: 460, height: 1200 });
    // every section open, including the (closed by default) rmaps tree with 100,000 heads
    await p.page.evaluate(() => {
      for (const c of Array.from(document.querySelectorAll<HTMLElement & { open: boolean }>('vscode-collapsible'))) c.open = true;
    });
    const t0 = Date.now();
    await p.send(snap);
    const snapshotApplyMs = Date.now() - t0;
    await p.page.evaluate((list) => {
      (window as unknown as { __bench: unknown[] }).__bench = list.map((s) => JSON.parse(s));
    }, messages);
    if (process.env.KVM_PANEL_PROFILE) await p.page.evaluate(() => ((window as unknown as { __kvmProfile: object }).__kvmProfile = {}));
    const times: number[] = [];
    for (let i = 0; i < STEPS; i++) {
      const ms = await p.page.evaluate(
        (k) =>
          new Promise<number>((resolve) => {
            const msg = (window as unknown as { __bench: unknown[] }).__bench[k];
            const start = performance.now();
            window.dispatchEvent(new MessageEvent('message', { data: msg }));
            void document.body.offsetHeight; // style + layout of the new DOM
            const elapsed = performance.now() - start;
            requestAnimationFrame(() => resolve(elapsed));
          }),
        i,
      );
      if (i >= WARMUP) times.push(ms);
    }
    const profile = process.env.KVM_PANEL_PROFILE ? await p.page.evaluate(() => (window as unknown as { __kvmProfile: Record<string, number> }).__kvmProfile) : undefined;
    const posted = await p.posted();
    const resyncs = posted.filter((m) => m.method === 'requestSnapshot').length;
    await p.close();
    return {
      panelUpdateP95Ms: round(percentile(times, 95)),
      panelUpdateMedianMs: round(percentile(times, 50)),
      panelUpdateMaxMs: round(Math.max(...times)),
      deltaBytesPerStep: Math.round(bytes.reduce((a, b) => a + b, 0) / bytes.length),
      deltaBytesPerStepMax: Math.max(...bytes),
      snapshotBytes,
      snapshotApplyMs,
      shadowPages: g.state.shadowPages.length,
      rmapEntries: g.state.memslots.reduce((n, m) => n + m.rmaps.length, 0),
      steps: times.length,
      resyncs,
      ...(profile ? { profileMsTotal: profile } : {}),
    };
  } finally {
    await cleanup();
  }
}
