/** The VS Code webview API (acquireVsCodeApi may be called once per page). */
import type { WebviewMessage } from '../src/shared/protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

let api: VsCodeApi | undefined;
function get(): VsCodeApi {
  if (!api) {
    api =
      typeof acquireVsCodeApi === 'function'
        ? acquireVsCodeApi()
        : { postMessage: () => undefined, getState: () => undefined, setState: () => undefined };
  }
  return api;
}

export function post(m: WebviewMessage): void {
  get().postMessage(m);
}
export function getState(): unknown {
  return get().getState();
}
export function setState(s: unknown): void {
  get().setState(s);
}
