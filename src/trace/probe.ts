// The probe, sent for real from inside the source's network namespace: a
// short-lived helper (`ip netns exec <ns> node -e …`, as net/listen-in-netns.ts
// enters a namespace) that asks the cluster DNS (a `dig @10.96.0.10`: node's
// resolver pointed at that one server) and makes one TCP connection or sends
// one UDP datagram from a source address and port chosen here — the port the
// kernel trace matches. It answers over the IPC channel and is killed when
// the trace is done.
import { spawn, type ChildProcess } from 'node:child_process';
import { netnsExecArgv } from '../net/ip.js';
import type { DnsAnswer, ProbeResult, TraceProbe } from './types.js';

const helper = `
const net = require('node:net');
const dgram = require('node:dgram');
const { Resolver } = require('node:dns').promises;
const rcodes = { ENOTFOUND: 'NXDOMAIN', ENODATA: 'NOERROR', ESERVFAIL: 'SERVFAIL', EREFUSED: 'REFUSED', ETIMEOUT: 'TIMEOUT', ECONNREFUSED: 'CONNREFUSED' };
async function resolve(m) {
  const r = new Resolver({ timeout: m.timeoutMs, tries: 1 });
  r.setServers([m.server]);
  const queries = [];
  for (const name of m.names) {
    try {
      const answers = await r.resolve4(name, { ttl: true });
      queries.push({ name, rcode: 'NOERROR' });
      return { queries, answers: answers.map((a) => ({ name, ttl: a.ttl, type: 'A', data: a.address })) };
    } catch (e) {
      queries.push({ name, rcode: rcodes[e.code] || e.code });
      // Only a name that does not exist moves on along the search path.
      if (e.code !== 'ENOTFOUND' && e.code !== 'ENODATA') break;
    }
  }
  return { queries, answers: [] };
}
function probe(m) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    let socket;
    let timer;
    const done = (result, error) => {
      clearTimeout(timer);
      try { socket && (socket.destroy ? socket.destroy() : socket.close()); } catch {}
      resolve({ result, error: error || null, durationMs: Number(process.hrtime.bigint() - start) / 1e6 });
    };
    const failure = (e) => done(e.code === 'ECONNREFUSED' ? 'refused' : /UNREACH/.test(e.code || '') ? 'unreachable' : 'error', e.code || e.message);
    if (m.protocol === 'TCP') {
      timer = setTimeout(() => done('timeout'), m.timeoutMs);
      socket = net.connect({ host: m.host, port: m.port, localAddress: m.localAddress, localPort: m.localPort });
      socket.on('connect', () => done('connected'));
      socket.on('error', failure);
    } else {
      socket = dgram.createSocket('udp4');
      socket.on('error', failure);
      socket.on('message', () => done('replied'));
      socket.bind(m.localPort, m.localAddress, () => {
        socket.connect(m.port, m.host, (err) => {
          if (err) return failure(err);
          timer = setTimeout(() => done('no-reply'), m.timeoutMs);
          socket.send('kubesvc trace\\n');
        });
      });
    }
  });
}
process.on('message', async (m) => {
  try {
    const body = m.op === 'resolve' ? await resolve(m) : await probe(m);
    process.send({ id: m.id, body });
  } catch (e) {
    process.send({ id: m.id, error: String(e && e.message || e) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
`;

export interface DnsResolution {
  queries: { name: string; rcode: string }[];
  answers: DnsAnswer[];
}

export interface ProbeRequest {
  protocol: 'TCP' | 'UDP';
  host: string;
  port: number;
  localAddress: string;
  localPort: number;
  timeoutMs: number;
}

export interface ProbeHelper {
  /** Resolves once the helper runs in the namespace. */
  ready: Promise<void>;
  resolve(server: string, names: string[], timeoutMs: number): Promise<DnsResolution>;
  probe(request: ProbeRequest): Promise<Omit<TraceProbe, 'sourcePort'>>;
  /** Kills the helper (an unfinished probe resolves as "stopped"). */
  close(): void;
}

export function startProbeHelper(netns: string): ProbeHelper {
  const [file, ...args] = netnsExecArgv(netns, [process.execPath, '--max-semi-space-size=1', '-e', helper]);
  const child: ChildProcess = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const pending = new Map<number, { resolve: (body: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited = false;
  const gone = (why: string) => {
    exited = true;
    for (const p of pending.values()) p.reject(new Error(why));
    pending.clear();
  };
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (msg: { ready?: boolean; id?: number; body?: unknown; error?: string }) => {
      if (msg.ready) return resolve();
      const p = msg.id === undefined ? undefined : pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id!);
      if (msg.error) p.reject(new Error(msg.error));
      else p.resolve(msg.body);
    });
    child.on('error', (e) => {
      gone(e.message);
      reject(new Error(`cannot start the probe in ${netns}: ${e.message}`));
    });
    child.on('close', (code) => {
      const why = `the probe helper in ${netns} exited (${code})${stderr.trim() ? `: ${stderr.trim()}` : ''}`;
      gone(why);
      reject(new Error(why));
    });
  });
  ready.catch(() => {});
  const ask = <T>(message: object): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (exited) return reject(new Error(`the probe helper in ${netns} is gone`));
      const id = nextId++;
      pending.set(id, { resolve: resolve as (b: unknown) => void, reject });
      child.send({ id, ...message });
    });
  return {
    ready,
    resolve: (server, names, timeoutMs) => ask<DnsResolution>({ op: 'resolve', server, names, timeoutMs }),
    probe: (request) =>
      ask<{ result: ProbeResult; error: string | null; durationMs: number }>({ op: 'probe', ...request }).catch(() => ({ result: 'stopped' as const, error: null, durationMs: 0 })),
    close: () => {
      if (!exited) child.kill('SIGKILL');
    },
  };
}
