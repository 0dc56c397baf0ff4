// What kube-proxy's ipvs mode programs for a snapshot (pkg/proxy/ipvs), as
// pure data and text: one IPVS virtual server per service address and port
// (cluster IP, external IPs, load-balancer IPs, node port on each node
// address) with the configured scheduler, persistence for ClientIP affinity
// and masquerading real servers; the addresses bound to the kube-ipvs0 dummy
// interface; the ipsets; and the iptables rules that complete them. Rendered
// as `ipvsadm -Ln`, `ipvsadm-restore`, `ipset restore` and `iptables-restore`
// input. This kernel path is generated and listed (`kubesvc proxy rules
// --mode ipvs`); where the kernel has no IPVS the proxy runs iptables instead.
import type { EndpointInfo, ProxySnapshot, ServicePortEntry } from '../snapshot.js';

export interface IpvsContext {
  scheduler: string;
  /** Node addresses node ports are served on (resolved nodePortAddresses, or the node's IPs). */
  nodePortIPs: readonly string[];
  clusterCIDRs: readonly string[];
  masqueradeAll?: boolean;
}

export interface RealServer {
  ip: string;
  port: number;
  weight: number;
}

export interface VirtualServer {
  protocol: 'TCP' | 'UDP' | 'SCTP';
  ip: string;
  port: number;
  scheduler: string;
  /** ClientIP affinity timeout, seconds; 0 when not persistent. */
  persistenceSeconds: number;
  realServers: RealServer[];
  /** ns/name:port, for listings. */
  service: string;
}

export interface IpSet {
  name: string;
  type: string;
  comment: string;
  entries: string[];
}

export interface IpvsRules {
  virtualServers: VirtualServer[];
  /** Addresses bound to the kube-ipvs0 dummy interface. */
  dummyAddresses: string[];
  ipsets: IpSet[];
  /** iptables-restore input (nat table) for masquerading and node-port marking. */
  iptables: string;
}

export const dummyInterface = 'kube-ipvs0';

const toReal = (eps: EndpointInfo[]): RealServer[] => eps.map((e) => ({ ip: e.ip, port: e.port, weight: 1 })).sort((a, b) => `${a.ip}:${a.port}`.localeCompare(`${b.ip}:${b.port}`));

function internalEndpoints(e: ServicePortEntry): EndpointInfo[] {
  return e.info.internalPolicyLocal ? e.localEndpoints : e.clusterEndpoints;
}

function externalEndpoints(e: ServicePortEntry): EndpointInfo[] {
  return e.info.externalPolicyLocal ? e.localEndpoints : e.clusterEndpoints;
}

export function buildIpvsRules(snapshot: ProxySnapshot, ctx: IpvsContext): IpvsRules {
  const virtualServers: VirtualServer[] = [];
  const dummy = new Set<string>();
  const sets: Record<string, IpSet> = {};
  const set = (name: string, type: string, comment: string) => (sets[name] ??= { name, type, comment, entries: [] });
  const clusterIPSet = set('KUBE-CLUSTER-IP', 'hash:ip,port', 'Kubernetes service cluster ip + port for masquerade purpose');
  const loopBack = set('KUBE-LOOP-BACK', 'hash:ip,port,ip', 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose');
  const externalIPSet = set('KUBE-EXTERNAL-IP', 'hash:ip,port', 'Kubernetes service external ip + port for masquerade and filter purpose');
  const lbSet = set('KUBE-LOAD-BALANCER', 'hash:ip,port', 'Kubernetes service lb portal');
  const nodePortTCP = set('KUBE-NODE-PORT-TCP', 'bitmap:port', 'Kubernetes nodeport TCP port for masquerade purpose');
  const nodePortUDP = set('KUBE-NODE-PORT-UDP', 'bitmap:port', 'Kubernetes nodeport UDP port for masquerade purpose');
  const healthCheck = set('KUBE-HEALTH-CHECK-NODE-PORT', 'bitmap:port', 'Kubernetes health check node port');

  for (const e of [...snapshot.servicePorts.values()].sort((a, b) => a.key.localeCompare(b.key))) {
    const { info } = e;
    const proto = info.protocol.toLowerCase();
    const service = `${info.name.namespace}/${info.name.name}${info.name.port ? `:${info.name.port}` : ''}`;
    const vs = (ip: string, port: number, eps: EndpointInfo[]) =>
      virtualServers.push({
        protocol: info.protocol,
        ip,
        port,
        scheduler: ctx.scheduler,
        persistenceSeconds: info.sessionAffinity.type === 'ClientIP' ? info.sessionAffinity.timeoutSeconds : 0,
        realServers: toReal(eps),
        service,
      });
    if (info.clusterIP) {
      vs(info.clusterIP, info.port, internalEndpoints(e));
      dummy.add(info.clusterIP);
      clusterIPSet.entries.push(`${info.clusterIP},${proto}:${info.port}`);
    }
    for (const ep of e.allReachableEndpoints) if (ep.isLocal || !ep.nodeName) loopBack.entries.push(`${ep.ip},${proto}:${ep.port},${ep.ip}`);
    for (const ip of info.externalIPs) {
      vs(ip, info.port, externalEndpoints(e));
      dummy.add(ip);
      externalIPSet.entries.push(`${ip},${proto}:${info.port}`);
    }
    for (const ip of info.loadBalancerIPs) {
      vs(ip, info.port, externalEndpoints(e));
      dummy.add(ip);
      lbSet.entries.push(`${ip},${proto}:${info.port}`);
    }
    if (info.nodePort) {
      for (const ip of ctx.nodePortIPs) vs(ip, info.nodePort, externalEndpoints(e));
      (info.protocol === 'UDP' ? nodePortUDP : nodePortTCP).entries.push(String(info.nodePort));
    }
    if (info.healthCheckNodePort) healthCheck.entries.push(String(info.healthCheckNodePort));
  }
  for (const s of Object.values(sets)) s.entries = [...new Set(s.entries)].sort();

  const notPods = ctx.clusterCIDRs.length && !ctx.masqueradeAll ? `! -s ${ctx.clusterCIDRs[0]} ` : '';
  const iptables = [
    '*nat',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-POSTROUTING - [0:0]',
    ':KUBE-NODE-PORT - [0:0]',
    ':KUBE-LOAD-BALANCER - [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
    '-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000',
    `-A KUBE-SERVICES ${notPods}-m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ`,
    '-A KUBE-SERVICES -m comment --comment "Kubernetes service lb portal" -m set --match-set KUBE-LOAD-BALANCER dst,dst -j KUBE-LOAD-BALANCER',
    '-A KUBE-SERVICES -m comment --comment "Kubernetes service external ip + port for masquerade and filter purpose" -m set --match-set KUBE-EXTERNAL-IP dst,dst -j KUBE-MARK-MASQ',
    '-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT',
    '-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT',
    '-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ',
    '-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ',
    '-A KUBE-NODE-PORT -p udp -m comment --comment "Kubernetes nodeport UDP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-UDP dst -j KUBE-MARK-MASQ',
    'COMMIT',
    '',
  ].join('\n');
  return { virtualServers, dummyAddresses: [...dummy].sort(), ipsets: Object.values(sets), iptables };
}

const protoFlag = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' } as const;

/** `ipvsadm-restore` input. */
export function renderIpvsadmRestore(rules: IpvsRules): string {
  const lines: string[] = [];
  for (const v of rules.virtualServers) {
    const addr = `${v.ip}:${v.port}`;
    lines.push(`-A ${protoFlag[v.protocol]} ${addr} -s ${v.scheduler}${v.persistenceSeconds ? ` -p ${v.persistenceSeconds}` : ''}`);
    for (const r of v.realServers) lines.push(`-a ${protoFlag[v.protocol]} ${addr} -r ${r.ip}:${r.port} -m -w ${r.weight}`);
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}

/** What `ipvsadm -Ln` would print with these virtual servers in the kernel (connection counters at 0). */
export function renderIpvsadmList(rules: IpvsRules): string {
  const lines = ['IP Virtual Server version 1.2.1 (size=4096)', 'Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn'];
  for (const v of rules.virtualServers) {
    lines.push(`${v.protocol.padEnd(4)} ${`${v.ip}:${v.port}`} ${v.scheduler}${v.persistenceSeconds ? ` persistent ${v.persistenceSeconds}` : ''}`);
    for (const r of v.realServers) lines.push(`  -> ${`${r.ip}:${r.port}`.padEnd(26)} Masq    ${String(r.weight).padEnd(6)} 0          0`);
  }
  return lines.join('\n') + '\n';
}

/** `ipset restore` input creating and filling every set. */
export function renderIpsetRestore(rules: IpvsRules): string {
  const lines: string[] = [];
  for (const s of rules.ipsets) {
    const range = s.type === 'bitmap:port' ? ' range 0-65535' : ' family inet hashsize 1024 maxelem 65536';
    lines.push(`create ${s.name} ${s.type}${range} comment`);
    for (const e of s.entries) lines.push(`add ${s.name} ${e} comment ${JSON.stringify(s.comment)}`);
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}
