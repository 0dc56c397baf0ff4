// NodePorts on the machine's own address. A node's address (172.18.0.x) lives
// in the cluster's namespaces, which the machine does not route to (the
// safety rule: no cluster route in the machine's namespace), so — as Docker's
// userland proxy publishes a container's ports, and kind's port mappings a
// node's — this listens on <machine address>:<nodePort> for every NodePort of
// the cluster and passes each TCP connection, and each UDP client's datagrams
// (a flow per client address, forgotten after 30 s without traffic, as
// Docker's proxy does), to the node's own address and port from inside the
// cluster namespace, where the node's service proxy takes them as any
// client's. The client's address is not kept (the node sees the cluster
// namespace's 172.18.0.1).
import { createServer, type Socket } from 'node:net';
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../api/object.js';
import { resourceTypes, type Client } from '../client/client.js';
import { createInformer } from '../client/informer.js';
import type { NetnsDialer } from '../net/dial-in-netns.js';
import { logger } from '../util/log.js';

const log = logger('node-ports');

type ServiceObject = Service & KubeObject;

/** The node ports of one protocol the cluster's Services have, sorted. */
export function nodePortsOf(services: readonly ServiceObject[], protocol: 'TCP' | 'UDP'): number[] {
  const ports = new Set<number>();
  for (const s of services) {
    if (s.spec?.type !== 'NodePort' && s.spec?.type !== 'LoadBalancer') continue;
    for (const p of s.spec.ports ?? []) if (p.nodePort && (p.protocol ?? 'TCP') === protocol) ports.add(p.nodePort);
  }
  return [...ports].sort((a, b) => a - b);
}

/** How long a UDP client's flow stays without traffic (Docker's userland proxy's UDP timeout, conntrack's 30 s). */
const UDP_FLOW_IDLE_MS = 30_000;

export interface NodePortPublisher {
  /** The ports published, as "30080/TCP". */
  ports(): string[];
  stop(): void;
}

/** One UDP node port: a socket on the machine's address, a socket in the cluster namespace per client. */
function udpRelay(opts: { address: string; nodeIP: string; port: number; dialer: NetnsDialer }): { socket: DgramSocket; close(): void } {
  const socket = createSocket('udp4');
  const flows = new Map<string, { upstream: Promise<DgramSocket>; timer: NodeJS.Timeout }>();
  const forget = (key: string) => {
    const flow = flows.get(key);
    if (!flow) return;
    flows.delete(key);
    clearTimeout(flow.timer);
    void flow.upstream.then((u) => u.close(), () => undefined);
  };
  socket.on('message', (msg, from) => {
    const key = `${from.address}:${from.port}`;
    let flow = flows.get(key);
    if (!flow) {
      const upstream = opts.dialer.udpSocket().then((u) => {
        u.on('message', (reply) => {
          socket.send(reply, from.port, from.address);
          flows.get(key)?.timer.refresh();
        });
        u.on('error', () => forget(key));
        return u;
      });
      flow = { upstream, timer: setTimeout(() => forget(key), UDP_FLOW_IDLE_MS) };
      flows.set(key, flow);
      upstream.catch((e: Error) => {
        log.v(2).info('node port not reachable on the node', { port: opts.port, protocol: 'UDP', error: e.message });
        forget(key);
      });
    }
    flow.timer.refresh();
    void flow.upstream.then((u) => u.send(msg, opts.port, opts.nodeIP), () => undefined);
  });
  return {
    socket,
    close() {
      for (const key of [...flows.keys()]) forget(key);
      socket.close();
    },
  };
}

export async function publishNodePorts(opts: { client: Client; address: string; nodeIP: string; dialer: NetnsDialer }): Promise<NodePortPublisher> {
  const services = createInformer<ServiceObject>(opts.client.resource(resourceTypes.services));
  const listening = new Map<string, { close(): void }>();
  const open = new Set<Socket>();

  const relay = (port: number) => (client: Socket) => {
    client.pause();
    // Half-close passes through both ways (a client's end is an end, the answer still comes back).
    client.allowHalfOpen = true;
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => {});
    opts.dialer.dial(opts.nodeIP, port).then(
      (upstream) => {
        if (client.destroyed) return upstream.destroy();
        upstream.allowHalfOpen = true;
        open.add(upstream);
        upstream.on('close', () => open.delete(upstream));
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
      },
      (e: Error) => {
        log.v(2).info('node port not reachable on the node', { port, protocol: 'TCP', error: e.message });
        client.destroy();
      },
    );
  };

  const publish = (key: string, port: number, protocol: 'TCP' | 'UDP') => {
    const failed = (e: Error) => {
      log.warn('cannot publish node port on the machine', { address: opts.address, port, protocol, error: e.message });
      if (listening.get(key) === entry) listening.delete(key);
    };
    let entry: { close(): void };
    if (protocol === 'TCP') {
      const server = createServer(relay(port));
      server.on('error', failed);
      server.listen({ host: opts.address, port });
      entry = { close: () => server.close() };
    } else {
      const udp = udpRelay({ address: opts.address, nodeIP: opts.nodeIP, port, dialer: opts.dialer });
      udp.socket.on('error', failed);
      udp.socket.bind(port, opts.address);
      entry = udp;
    }
    listening.set(key, entry);
  };

  const sync = () => {
    const all = services.list();
    const want = new Map<string, { port: number; protocol: 'TCP' | 'UDP' }>();
    for (const protocol of ['TCP', 'UDP'] as const) for (const port of nodePortsOf(all, protocol)) want.set(`${port}/${protocol}`, { port, protocol });
    for (const [key, entry] of listening) {
      if (!want.has(key)) {
        entry.close();
        listening.delete(key);
      }
    }
    for (const [key, { port, protocol }] of want) if (!listening.has(key)) publish(key, port, protocol);
  };
  services.on({ add: sync, update: sync, delete: sync });
  await services.start();
  sync();
  return {
    ports: () => [...listening.keys()].sort(),
    stop() {
      services.stop();
      for (const s of listening.values()) s.close();
      listening.clear();
      for (const s of open) s.destroy();
    },
  };
}
