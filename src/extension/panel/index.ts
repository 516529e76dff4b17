/**
 * Host side of the KVM MMU Lab panel: a webview view in its own activity-bar container, the same page as an
 * editor panel (restored after reload by a serializer), a strict CSP with a nonce, and the per-step protocol:
 * a full snapshot on (re)load, then one StateDelta per change.
 */
import * as vscode from 'vscode';
import { makeNonce, panelHtml } from '../../shared/html';
import { hostMessage, PANEL_SECTIONS, parseWebviewMessage, type HostMessage, type PanelSection, type SourceLocation, type WebviewMessage } from '../../shared/protocol';
import { PanelFeed, type FeedClient, type FeedSource } from './feed';

export const PANEL_VIEW_ID = 'kvmMmuLab.panel';
export const PANEL_EDITOR_TYPE = 'kvmMmuLab.panelEditor';
export const CONTAINER_ID = 'kvmMmuLab';

/** What the panel needs from the running scenario: the data (FeedSource) plus change events and actions. */
export interface PanelSource extends FeedSource {
  /** Fires whenever any of the above changed (step, step back, goto, new scenario, scenario closed). */
  readonly onDidChange: vscode.Event<void>;
  gotoStep(n: number): void | Thenable<void>;
  /** Open the kernel source of a frame (resolve the line through the kernel index). */
  openSource(loc: SourceLocation): void | Thenable<void>;
}

interface Client extends FeedClient {
  webview: vscode.Webview;
  ready: boolean;
  disposables: vscode.Disposable[];
}

class PanelController implements vscode.WebviewViewProvider, vscode.WebviewPanelSerializer, vscode.Disposable {
  private readonly clients = new Set<Client>();
  private readonly log: vscode.LogOutputChannel;
  private readonly feed: PanelFeed;
  private pendingReveal: { section: PanelSection; id: string } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly source: PanelSource,
  ) {
    this.log = vscode.window.createOutputChannel('KVM MMU Lab Panel', { log: true });
    this.feed = new PanelFeed(source);
    this.disposables.push(this.log, source.onDidChange(() => this.schedule()));
  }

  // --- webview hosting -------------------------------------------------------------------------

  private options(): vscode.WebviewOptions {
    return {
      enableScripts: true,
      enableCommandUris: false,
      localResourceRoots: [vscode.Uri.joinPath(this.context.extensionUri, 'dist'), vscode.Uri.joinPath(this.context.extensionUri, 'media')],
    };
  }

  private attach(webview: vscode.Webview, owner: vscode.Disposable & { onDidDispose: vscode.Event<void> }, visibility?: vscode.Event<boolean>): void {
    webview.options = this.options();
    const ext = this.context.extensionUri;
    webview.html = panelHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(ext, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(ext, 'media', 'panel', 'panel.css')).toString(),
    });
    const client: Client = { webview, ready: false, shown: undefined, genKey: '', disposables: [] };
    client.disposables.push(
      webview.onDidReceiveMessage((m: unknown) => this.receive(client, m)),
      // A hidden webview loses its page: stop sending until it reloads and says `ready` again.
      ...(visibility
        ? [
            visibility((visible) => {
              if (!visible) {
                client.ready = false;
                client.shown = undefined;
              }
            }),
          ]
        : []),
      owner.onDidDispose(() => {
        this.clients.delete(client);
        for (const d of client.disposables) d.dispose();
      }),
    );
    this.clients.add(client);
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    const visibility = new vscode.EventEmitter<boolean>();
    view.onDidChangeVisibility(() => visibility.fire(view.visible));
    view.onDidDispose(() => visibility.dispose());
    this.attach(view.webview, { onDidDispose: view.onDidDispose, dispose: () => undefined }, visibility.event);
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel): Promise<void> {
    this.attachPanel(panel);
  }

  private attachPanel(panel: vscode.WebviewPanel): void {
    const visibility = new vscode.EventEmitter<boolean>();
    panel.onDidChangeViewState((e) => visibility.fire(e.webviewPanel.visible));
    panel.onDidDispose(() => visibility.dispose());
    this.attach(panel.webview, panel, visibility.event);
  }

  openInEditor(): vscode.WebviewPanel {
    const panel = vscode.window.createWebviewPanel(PANEL_EDITOR_TYPE, 'KVM MMU Lab', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, this.options());
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, 'media', 'panel', 'icon.svg');
    this.attachPanel(panel);
    return panel;
  }

  // --- messages --------------------------------------------------------------------------------

  private receive(client: Client, raw: unknown): void {
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this.log.warn(`ignored malformed webview message: ${parsed.error.slice(0, 300)}`);
      return;
    }
    const m: WebviewMessage = parsed.message;
    try {
      switch (m.method) {
        case 'ready':
        case 'requestSnapshot':
          client.ready = true;
          this.sendSnapshot(client);
          if (this.pendingReveal) {
            this.post(client, hostMessage('reveal', this.pendingReveal));
            this.pendingReveal = undefined;
          }
          break;
        case 'gotoStep':
          void Promise.resolve(this.source.gotoStep(m.params.step)).catch((e) => this.log.error(`gotoStep: ${e}`));
          break;
        case 'openSource':
          void Promise.resolve(this.source.openSource(m.params)).catch((e) => this.log.error(`openSource: ${e}`));
          break;
        case 'log':
          this.log[m.params.level](`webview: ${m.params.message}`);
          break;
      }
    } catch (e) {
      this.log.error(`handling ${m.method}: ${e}`);
    }
  }

  private post(client: Client, m: HostMessage): void {
    void client.webview.postMessage(m).then(
      (ok) => ok || this.log.debug(`postMessage ${m.method} not delivered`),
      (e) => this.log.error(`postMessage: ${e}`),
    );
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, 16);
  }

  private sendSnapshot(client: Client): void {
    this.post(client, this.feed.snapshot(client));
  }

  private flush(): void {
    for (const client of this.clients) {
      if (!client.ready) continue;
      try {
        const m = this.feed.update(client);
        if (m) this.post(client, m);
      } catch (e) {
        this.log.error(`panel update failed, resending a snapshot: ${e}`);
        this.sendSnapshot(client);
      }
    }
  }

  /** Ask every open panel to show an object (used by the `kvmMmuLab.panel.reveal` command). */
  reveal(section: PanelSection, id: string): void {
    let sent = false;
    for (const client of this.clients) {
      if (!client.ready) continue;
      this.post(client, hostMessage('reveal', { section, id }));
      sent = true;
    }
    // The view may still be loading: deliver after its snapshot.
    this.pendingReveal = sent ? undefined : { section, id };
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const c of this.clients) for (const d of c.disposables) d.dispose();
    this.clients.clear();
    for (const d of this.disposables) d.dispose();
  }
}

/** Register the panel view, its commands and the editor-panel serializer. */
export function registerPanel(context: vscode.ExtensionContext, source: PanelSource): vscode.Disposable {
  const controller = new PanelController(context, source);
  const subs: vscode.Disposable[] = [
    controller,
    vscode.window.registerWebviewViewProvider(PANEL_VIEW_ID, controller),
    vscode.window.registerWebviewPanelSerializer(PANEL_EDITOR_TYPE, controller),
    vscode.commands.registerCommand('kvmMmuLab.showPanel', async () => {
      await vscode.commands.executeCommand(`${PANEL_VIEW_ID}.focus`);
      return true;
    }),
    vscode.commands.registerCommand('kvmMmuLab.openPanelInEditor', () => {
      controller.openInEditor();
      return true;
    }),
    // Internal (not in the palette): reveal an object, e.g. from a hover: ('shadowPages', 'sp#12') or ('rmaps', '4096').
    vscode.commands.registerCommand('kvmMmuLab.panel.reveal', async (section: unknown, id: unknown) => {
      if (typeof section !== 'string' || !(PANEL_SECTIONS as readonly string[]).includes(section) || typeof id !== 'string') return false;
      await vscode.commands.executeCommand(`${PANEL_VIEW_ID}.focus`);
      controller.reveal(section as PanelSection, id.slice(0, 256));
      return true;
    }),
  ];
  return vscode.Disposable.from(...subs);
}
