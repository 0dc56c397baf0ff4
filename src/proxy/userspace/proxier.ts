// The userspace mode: per service port a proxy socket on this node (two when
// its internal and external traffic policies pick different endpoints), kept
// in step with the snapshot, and iptables rules capturing the service's
// addresses to them. Sockets live in the network namespace this process runs
// in (a node's), so the proxy runs inside the node, as kube-proxy does.
import { createAffinity, createScheduler, withAffinity } from '../lb/index.js';
import type { SchedulerName } from '../lb/types.js';
import type { EndpointInfo, ProxySnapshot, ServicePortEntry } from '../snapshot.js';
import { logger } from '../../util/log.js';
import { createChoiceRecord, type ChoiceRecord } from './choices.js';
import { applyRules, removeRules } from './iptables.js';
import type { PortalRule, RuleContext } from './rules.js';
import { startTcpProxy, type ServicePortProxy } from './tcp-proxy.js';
import { startUdpProxy } from './udp-proxy.js';

const log = logger('proxy');

export interface UserspaceProxierOptions {
  scheduler: SchedulerName;
  /** Where proxy sockets listen (all addresses of the node by default). */
  bindAddress?: string;
  /** Pod CIDRs and node-port addresses for the rules, read at every sync. */
  ruleContext?: (snapshot: ProxySnapshot) => RuleContext;
  /** Skip iptables (tests on loopback). */
  noRules?: boolean;
}

interface Socket {
  proxy: ServicePortProxy;
  /** What the socket was created for: recreate when it changes. */
  shape: string;
}

/** Which endpoint set a socket serves. */
type Role = 'cluster' | 'local';

export interface UserspaceProxier {
  sync(snapshot: ProxySnapshot): Promise<void>;
  /** The local port serving a service port key's cluster-wide (default) or node-local endpoints (tests). */
  portFor(key: string, role?: Role): number | undefined;
  /** The endpoints the proxy picked for recent clients (for `kubesvc trace`). */
  choices: ChoiceRecord;
  /** Served under /debug/ on the metrics listener (the choice record). */
  debug(path: string, query: URLSearchParams): unknown;
  stop(): Promise<void>;
}

function shapeOf(e: ServicePortEntry): string {
  return JSON.stringify([e.info.protocol, e.info.sessionAffinity]);
}

/** The endpoint sets a port's traffic uses: internal (cluster IP), external from elsewhere, and external from this node or its pods. */
export function rolesOf(e: ServicePortEntry): { internal: Role; external: Role; shortCircuit: Role } {
  return { internal: e.info.internalPolicyLocal ? 'local' : 'cluster', external: e.info.externalPolicyLocal ? 'local' : 'cluster', shortCircuit: 'cluster' };
}

const endpointsFor = (e: ServicePortEntry, role: Role): EndpointInfo[] => (role === 'local' ? e.localEndpoints : e.clusterEndpoints);

export function createUserspaceProxier(opts: UserspaceProxierOptions): UserspaceProxier {
  const sockets = new Map<string, Socket>();
  const bind = opts.bindAddress ?? '0.0.0.0';
  const choices = createChoiceRecord();

  async function open(e: ServicePortEntry): Promise<ServicePortProxy> {
    const base = createScheduler(opts.scheduler);
    const chosen = e.info.sessionAffinity.type === 'ClientIP' ? withAffinity(base, createAffinity(e.info.sessionAffinity.timeoutSeconds)) : base;
    const protocol = e.info.protocol;
    const service = `${e.info.name.namespace}/${e.info.name.name}${e.info.name.port ? `:${e.info.name.port}` : ''}`;
    const scheduler = choices.recording(chosen, service, protocol === 'UDP' ? 'UDP' : 'TCP');
    if (protocol === 'UDP') return startUdpProxy({ bind, port: 0, scheduler });
    return startTcpProxy({ bind, port: 0, scheduler, onError: (err) => log.warn('proxy socket error', { service: e.key, error: err.message }) });
  }

  async function socketFor(e: ServicePortEntry, role: Role): Promise<number> {
    const id = `${e.key}|${role}`;
    let s = sockets.get(id);
    if (s && s.shape !== shapeOf(e)) {
      await s.proxy.close();
      sockets.delete(id);
      s = undefined;
    }
    if (!s) {
      s = { proxy: await open(e), shape: shapeOf(e) };
      sockets.set(id, s);
    }
    s.proxy.setEndpoints(endpointsFor(e, role).map((ep) => ({ ip: ep.ip, port: ep.port })));
    return s.proxy.port;
  }

  return {
    async sync(snapshot) {
      const rules: PortalRule[] = [];
      const before = new Set(sockets.keys());
      for (const [key, e] of snapshot.servicePorts) {
        if (e.info.protocol === 'SCTP') continue;
        const roles = rolesOf(e);
        const used = new Set<Role>([roles.internal, ...(e.info.externallyAccessible ? [roles.external, roles.shortCircuit] : [])]);
        const ports = new Map<Role, number>();
        for (const role of used) {
          ports.set(role, await socketFor(e, role));
          before.delete(`${key}|${role}`);
        }
        const ipv4 = (ips: string[]) => ips.filter((ip) => ip && !ip.includes(':'));
        rules.push({
          comment: `${e.info.name.namespace}/${e.info.name.name}${e.info.name.port ? `:${e.info.name.port}` : ''}`,
          protocol: e.info.protocol === 'UDP' ? 'udp' : 'tcp',
          port: e.info.port,
          nodePort: e.info.nodePort,
          clusterIPs: ipv4(e.info.clusterIPs),
          externalIPs: ipv4([...e.info.externalIPs, ...e.info.loadBalancerIPs]),
          internalPort: ports.get(roles.internal)!,
          externalPort: ports.get(roles.external) ?? 0,
          shortCircuitPort: ports.get(roles.shortCircuit) ?? 0,
        });
      }
      for (const id of before) {
        const s = sockets.get(id)!;
        sockets.delete(id);
        await s.proxy.close();
      }
      if (!opts.noRules) await applyRules(rules, opts.ruleContext?.(snapshot) ?? { podCIDRs: [] });
    },
    portFor: (key, role = 'cluster') => sockets.get(`${key}|${role}`)?.proxy.port,
    choices,
    debug: (path, query) => choices.debug(path, query),
    async stop() {
      if (!opts.noRules) await removeRules();
      await Promise.all([...sockets.values()].map((s) => s.proxy.close()));
      sockets.clear();
    },
  };
}
