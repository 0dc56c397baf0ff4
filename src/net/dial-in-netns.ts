// TCP connections and UDP sockets made from inside a network namespace, held
// by this process.
//
// The other half of listen-in-netns.ts: a socket belongs to the namespace it
// was made in. Node cannot enter a namespace, so one long-lived helper
// (`ip netns exec <ns> node -e ...`) connects (or binds a UDP socket) on
// request and hands each socket back over the IPC channel (SCM_RIGHTS); the
// bytes then flow through this process, and no route touches the namespace
// this process is in.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Socket as DgramSocket } from 'node:dgram';
import { netnsExecArgv } from './ip.js';

const helper = `
const net = require('node:net');
const dgram = require('node:dgram');
process.on('message', ({ id, host, port, udp }) => {
  if (udp) {
    const u = dgram.createSocket('udp4');
    u.once('error', (e) => process.send({ id, error: e.code || e.message }));
    u.bind(0, () => process.send({ id }, u, () => u.close()));
    return;
  }
  const s = net.connect({ host, port });
  s.setTimeout(5000, () => s.destroy(new Error('connect timed out')));
  s.once('error', (e) => process.send({ id, error: e.code || e.message }));
  s.once('connect', () => { s.setTimeout(0); s.removeAllListeners('error'); s.on('error', () => {}); process.send({ id }, s); });
});
process.on('disconnect', () => process.exit(0));
`;

export interface NetnsDialer {
  /** A TCP connection to host:port made inside the namespace. */
  dial(host: string, port: number): Promise<Socket>;
  /** A UDP socket of the namespace (bound to a free port there): what it sends is routed there. */
  udpSocket(): Promise<DgramSocket>;
  close(): void;
}

export function createNetnsDialer(netns: string): NetnsDialer {
  let child: ChildProcess | undefined;
  let nextId = 1;
  const pending = new Map<number, { resolve(s: Socket | DgramSocket): void; reject(e: Error): void }>();
  const failAll = (why: string) => {
    for (const p of pending.values()) p.reject(new Error(why));
    pending.clear();
  };
  const ensure = (): ChildProcess => {
    if (child && child.connected) return child;
    const [file, ...args] = netnsExecArgv(netns, [process.execPath, '--max-semi-space-size=1', '-e', helper]);
    const c = spawn(file, args, { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    c.on('message', (msg: { id: number; error?: string }, handle: unknown) => {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (handle) p.resolve(handle as Socket | DgramSocket);
      else p.reject(new Error(`connect in network namespace ${netns}: ${msg.error ?? 'no socket'}`));
    });
    c.on('error', (e) => failAll(`dialer in ${netns}: ${e.message}`));
    c.on('exit', (code) => {
      if (child === c) child = undefined;
      failAll(`dialer in ${netns} exited (${code})`);
    });
    c.unref();
    (c.channel as { unref?: () => void } | undefined)?.unref?.();
    child = c;
    return c;
  };
  const ask = <T extends Socket | DgramSocket>(request: object): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: (s) => resolve(s as T), reject });
      try {
        ensure().send({ id, ...request });
      } catch (e) {
        pending.delete(id);
        reject(e as Error);
      }
    });
  return {
    dial: (host, port) => ask<Socket>({ host, port }),
    udpSocket: () => ask<DgramSocket>({ udp: true }),
    close() {
      failAll('dialer closed');
      if (child?.connected) child.disconnect();
      child?.kill();
      child = undefined;
    },
  };
}
