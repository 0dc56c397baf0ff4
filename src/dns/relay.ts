// A DNS relay: queries that arrive on one address (UDP and TCP) are passed
// unchanged to an upstream resolver and its answers back. Egress uses it
// when the machine's resolver listens on loopback (systemd-resolved's
// 127.0.0.53, a local dnsmasq), which the cluster's namespaces cannot reach:
// the relay listens on the host end of the egress link (../agent/egress.ts).
import { createSocket, type Socket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import type { Upstream } from './forwarder.js';

export interface DnsRelay {
  port: number;
  close(): Promise<void>;
}

/** Relays to the first upstream; an unanswered UDP query is dropped after `timeoutMs` (the client retries). */
export async function startDnsRelay(opts: { host: string; port: number; upstream: Upstream; timeoutMs?: number }): Promise<DnsRelay> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const { upstream } = opts;
  const open = new Set<Socket>();
  const udp = createSocket('udp4');
  udp.on('message', (query, client) => {
    const out = createSocket('udp4');
    open.add(out);
    const done = () => {
      clearTimeout(timer);
      if (open.delete(out)) out.close();
    };
    const timer = setTimeout(done, timeoutMs);
    out.on('error', done);
    out.on('message', (answer) => {
      udp.send(answer, client.port, client.address);
      done();
    });
    out.send(query, upstream.port, upstream.host);
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind({ address: opts.host, port: opts.port }, () => {
      udp.off('error', reject);
      resolve();
    });
  });
  udp.on('error', () => {}); // a send to a vanished client must not end the relay
  const port = udp.address().port;
  const conns = new Set<() => void>();
  const tcp: Server = createServer((client) => {
    const up = connect({ host: upstream.host, port: upstream.port });
    client.pipe(up).pipe(client);
    const end = () => {
      conns.delete(end);
      client.destroy();
      up.destroy();
    };
    conns.add(end);
    client.on('close', end);
    client.on('error', end);
    up.on('error', end);
    client.setTimeout(timeoutMs * 2, end);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen({ host: opts.host, port }, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    udp.close();
    throw e;
  }
  return {
    port,
    async close() {
      for (const s of open) s.close();
      open.clear();
      for (const end of [...conns]) end();
      await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
    },
  };
}
