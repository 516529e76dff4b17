/**
 * Server mode: the adapter on a TCP socket (one session per connection). Used by the DAP tests and
 * handy for debugging the adapter itself (`debugServer` in a launch config).
 */
import * as net from 'node:net';
import type { DebugDeps } from './deps';
import { KvmMmuDebugSession } from './session';

export interface AdapterServer {
  port: number;
  close(): Promise<void>;
}

export function startAdapterServer(deps: DebugDeps, port = 0, host = '127.0.0.1'): Promise<AdapterServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const session = new KvmMmuDebugSession(deps);
    session.setRunAsServer(true);
    session.start(socket, socket);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address() as net.AddressInfo;
      resolve({
        port: addr.port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
