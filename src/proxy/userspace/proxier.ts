// The userspace mode: per service port a proxy socket on this node, kept in
// step with the snapshot, and iptables rules capturing the service's
// addresses to it. Sockets live in the network namespace this process runs in
// (a node's), so the proxy runs inside the node, as kube-proxy does.
import { createAffinity, createScheduler, withAffinity } from '../lb/index.js';
import type { SchedulerName } from '../lb/types.js';
import type { ProxySnapshot, ServicePortEntry } from '../snapshot.js';
import { logger } from '../../util/log.js';
import { applyRules, removeRules } from './iptables.js';
import type { PortalRule } from './rules.js';
import { startTcpProxy, type ServicePortProxy } from './tcp-proxy.js';
import { startUdpProxy } from './udp-proxy.js';

const log = logger('proxy');

export interface UserspaceProxierOptions {
  scheduler: SchedulerName;
  /** Where proxy sockets listen (all addresses of the node by default). */
  bindAddress?: string;
  /** Skip iptables (tests on loopback). */
  noRules?: boolean;
}

interface Socket {
  proxy: ServicePortProxy;
  /** What the socket was created for: recreate when it changes. */
  shape: string;
}

export interface UserspaceProxier {
  sync(snapshot: ProxySnapshot): Promise<void>;
  /** The local port serving a service port key (tests). */
  portFor(key: string): number | undefined;
  stop(): Promise<void>;
}

function shapeOf(e: ServicePortEntry): string {
  return JSON.stringify([e.info.protocol, e.info.sessionAffinity]);
}

export function createUserspaceProxier(opts: UserspaceProxierOptions): UserspaceProxier {
  const sockets = new Map<string, Socket>();
  const bind = opts.bindAddress ?? '0.0.0.0';

  async function open(e: ServicePortEntry): Promise<ServicePortProxy> {
    const base = createScheduler(opts.scheduler);
    const scheduler = e.info.sessionAffinity.type === 'ClientIP' ? withAffinity(base, createAffinity(e.info.sessionAffinity.timeoutSeconds)) : base;
    const protocol = e.info.protocol;
    if (protocol === 'UDP') return startUdpProxy({ bind, port: 0, scheduler });
    return startTcpProxy({ bind, port: 0, scheduler, onError: (err) => log.warn('proxy socket error', { service: e.key, error: err.message }) });
  }

  return {
    async sync(snapshot) {
      const rules: PortalRule[] = [];
      const wanted = new Set<string>();
      for (const [key, e] of snapshot.servicePorts) {
        if (e.info.protocol === 'SCTP') continue;
        wanted.add(key);
        let s = sockets.get(key);
        if (s && s.shape !== shapeOf(e)) {
          await s.proxy.close();
          sockets.delete(key);
          s = undefined;
        }
        if (!s) {
          s = { proxy: await open(e), shape: shapeOf(e) };
          sockets.set(key, s);
        }
        // One socket per service port carries cluster and external traffic alike,
        // so externalTrafficPolicy: Local is not told apart yet (partial).
        s.proxy.setEndpoints(e.clusterEndpoints.map((ep) => ({ ip: ep.ip, port: ep.port })));
        rules.push({
          comment: `${e.info.name.namespace}/${e.info.name.name}${e.info.name.port ? `:${e.info.name.port}` : ''}`,
          protocol: e.info.protocol === 'UDP' ? 'udp' : 'tcp',
          ips: [...e.info.clusterIPs, ...e.info.externalIPs, ...e.info.loadBalancerIPs].filter((ip) => ip && !ip.includes(':')),
          port: e.info.port,
          nodePort: e.info.nodePort,
          proxyPort: s.proxy.port,
        });
      }
      for (const [key, s] of sockets) {
        if (!wanted.has(key)) {
          sockets.delete(key);
          await s.proxy.close();
        }
      }
      if (!opts.noRules) await applyRules(rules);
    },
    portFor: (key) => sockets.get(key)?.proxy.port,
    async stop() {
      if (!opts.noRules) await removeRules();
      await Promise.all([...sockets.values()].map((s) => s.proxy.close()));
      sockets.clear();
    },
  };
}
