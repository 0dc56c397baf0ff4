// NodePorts on the machine's own address. A node's address (172.18.0.x) lives
// in the cluster's namespaces, which the machine does not route to (the
// safety rule: no cluster route in the machine's namespace), so — as Docker's
// userland proxy publishes a container's ports, and kind's port mappings a
// node's — this listens on <machine address>:<nodePort> for every TCP
// NodePort of the cluster and passes each connection to the node's own
// address and port from inside the cluster namespace, where the node's
// service proxy takes it as any client's. The client's address is not kept
// (the node sees the cluster namespace's 172.18.0.1).
import { createServer, type Server, type Socket } from 'node:net';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../api/object.js';
import { resourceTypes, type Client } from '../client/client.js';
import { createInformer } from '../client/informer.js';
import type { NetnsDialer } from '../net/dial-in-netns.js';
import { logger } from '../util/log.js';

const log = logger('node-ports');

type ServiceObject = Service & KubeObject;

/** The TCP node ports the cluster's Services have, sorted. */
export function tcpNodePorts(services: readonly ServiceObject[]): number[] {
  const ports = new Set<number>();
  for (const s of services) {
    if (s.spec?.type !== 'NodePort' && s.spec?.type !== 'LoadBalancer') continue;
    for (const p of s.spec.ports ?? []) if (p.nodePort && (p.protocol ?? 'TCP') === 'TCP') ports.add(p.nodePort);
  }
  return [...ports].sort((a, b) => a - b);
}

export interface NodePortPublisher {
  ports(): number[];
  stop(): void;
}

export async function publishNodePorts(opts: { client: Client; address: string; nodeIP: string; dialer: NetnsDialer }): Promise<NodePortPublisher> {
  const services = createInformer<ServiceObject>(opts.client.resource(resourceTypes.services));
  const listening = new Map<number, Server>();
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
        log.v(2).info('node port not reachable on the node', { port, error: e.message });
        client.destroy();
      },
    );
  };

  const sync = () => {
    const want = new Set(tcpNodePorts(services.list()));
    for (const [port, server] of listening) {
      if (!want.has(port)) {
        server.close();
        listening.delete(port);
      }
    }
    for (const port of want) {
      if (listening.has(port)) continue;
      const server = createServer(relay(port));
      listening.set(port, server);
      server.on('error', (e) => {
        log.warn('cannot publish node port on the machine', { address: opts.address, port, error: e.message });
        if (listening.get(port) === server) listening.delete(port);
      });
      server.listen({ host: opts.address, port });
    }
  };
  services.on({ add: sync, update: sync, delete: sync });
  await services.start();
  sync();
  return {
    ports: () => [...listening.keys()].sort((a, b) => a - b),
    stop() {
      services.stop();
      for (const s of listening.values()) s.close();
      listening.clear();
      for (const s of open) s.destroy();
    },
  };
}
