// The explanation layer (pure): the kernel's hops, the probe's result and
// conntrack's entry, read in Service terms — which Service or endpoint each
// chain stands for, the DNAT target, the outcome in one sentence — plus what
// the API says about the cases that fail (no endpoints, pods not ready, a
// Local policy with nothing on the node, a port the Service lacks).
import type { Pod, Stored } from '../api/types.js';
import { buildChainMap, isDispatchChainName, type ChainMeaning } from './chain-names.js';
import { describePorts, keyOf, nodeByIP, podByIP, serviceWithIP, slicesOf, type ClusterView } from './cluster-view.js';
import type { RecordedChoice } from './proxy-choice.js';
import type { KernelTraceEvent } from './trace-events.js';
import type { TraceConntrack, TraceDns, TraceEndpoint, TraceHop, TraceOutcome, TraceProbe, TraceProxyChoice, TraceTarget } from './types.js';

export interface NodeEvent {
  node: string;
  event: KernelTraceEvent;
}

export interface ExplainInput {
  view: ClusterView;
  target: TraceTarget;
  /** The node whose address a node port or an outside-bound packet reaches (for Local policy wording). */
  events: NodeEvent[];
  probe: TraceProbe | null;
  conntrack: TraceConntrack[];
  dns: TraceDns | null;
  /** Findings made while resolving the target (name not found, port not exposed). */
  findings: string[];
  /** Userspace mode: what the nodes' proxies recorded picking for the probe's source address and port. */
  choices?: (RecordedChoice & { node: string })[];
}

export interface Explanation {
  hops: TraceHop[];
  dnat: TraceEndpoint | null;
  proxyChoice: TraceProxyChoice | null;
  outcome: TraceOutcome;
  explanations: string[];
}

function portLabel(m: Pick<ChainMeaning, 'service' | 'port'>): string {
  return `${m.service}${m.port ? `:${m.port}` : ''}`;
}

export function endpointOf(view: ClusterView, ip: string, port: number): TraceEndpoint {
  const pod = podByIP(view, ip);
  const node = pod?.spec?.nodeName ?? nodeByIP(view, ip)?.metadata.name ?? null;
  return { ip, port, pod: pod ? keyOf(pod) : null, node };
}

function describeEndpoint(ep: TraceEndpoint): string {
  const who = [ep.pod ? `pod ${ep.pod.split('/')[1]}` : undefined, ep.node ?? undefined].filter(Boolean).join(', ');
  return `${ep.ip}:${ep.port}${who ? ` (${who})` : ''}`;
}

/** The proxy's pick for the probe: for the target's Service port when it has one, the latest otherwise. */
function proxyChoiceOf(view: ClusterView, target: TraceTarget, choices: (RecordedChoice & { node: string })[]): TraceProxyChoice | null {
  const forTarget = target.service ? choices.filter((c) => c.service === `${target.service}${target.servicePort ? `:${target.servicePort}` : ''}`) : [];
  const c = (forTarget.length ? forTarget : choices).sort((a, b) => a.time.localeCompare(b.time)).at(-1);
  const m = c && /^\[?(.+?)\]?:(\d+)$/.exec(c.endpoint);
  if (!c || !m) return null;
  return { node: c.node, service: c.service, endpoint: endpointOf(view, m[1], Number(m[2])), picks: c.picks, time: c.time };
}

export function describeProxyChoice(c: TraceProxyChoice): string {
  const retried = c.picks > 1 ? ` after ${c.picks - 1} failed dial(s)` : '';
  return `the userspace proxy on ${c.node} sent this connection to ${describeEndpoint(c.endpoint)}${retried}`;
}

const roleWords: Record<ChainMeaning['role'], string> = {
  cluster: 'Cluster policy: any ready endpoint',
  local: "Local policy: this node's endpoints only",
  external: 'traffic to a node port, external or load-balancer IP',
  firewall: 'loadBalancerSourceRanges check',
  endpoint: 'endpoint',
};

/** "10.244.0.5:80" from a DNAT rule, or undefined (a map lookup names no address). */
function dnatAddress(rule: string): { ip: string; port: number } | undefined {
  const m = /(?:--to-destination|dnat (?:ip )?to) (\d+\.\d+\.\d+\.\d+):(\d+)/.exec(rule);
  return m ? { ip: m[1], port: Number(m[2]) } : undefined;
}

function isReject(e: KernelTraceEvent): boolean {
  return e.chain === 'reject-chain' || /(^|\s)reject(\s|$)|-j REJECT/.test(e.text);
}

const portalWords = "to the userspace proxy's socket";

/** What one hop means; null for plumbing (the hooks' jumps into kube-proxy's chains). */
function hopMeaning(ne: NodeEvent, chains: Map<string, ChainMeaning>, input: ExplainInput, serviceLabel: string): string | null {
  const { event: e, node } = ne;
  const target = e.target ? chains.get(e.target) : undefined;
  const here = chains.get(e.chain);
  if (e.kind === 'policy') return e.verdict === 'drop' ? `${e.chain}'s policy dropped the packet` : null;
  if (e.kind === 'packet' || e.kind === 'return') return null;
  if (e.verdict === 'drop') {
    if (e.chain === 'reject-chain' || /has no endpoints/.test(e.text)) return `${serviceLabel} has no endpoints: rejected`;
    if (/has no local endpoints/.test(e.text) || ((e.chain === 'nodeport-endpoints-check' || e.chain === 'service-endpoints-check') && !isReject(e))) {
      return `externalTrafficPolicy Local: ${node} has no local endpoint for ${serviceLabel}: dropped`;
    }
    if (e.chain === 'cluster-ips-check' && isReject(e)) return `${input.target.ip} is a cluster IP, but not on port ${input.target.port}/${input.target.protocol}: rejected`;
    if (e.chain === 'cluster-ips-check') return `${input.target.ip} is in the service CIDR but no Service has it: dropped`;
    if (here?.role === 'firewall' || /KUBE-PROXY-FIREWALL|not accepted by/.test(e.text)) return `the source is outside ${serviceLabel}'s loadBalancerSourceRanges: dropped`;
    if (/ctstate INVALID|ct state invalid/.test(e.text)) return 'conntrack INVALID packet: dropped';
    return isReject(e) ? 'rejected by this rule' : 'dropped by this rule';
  }
  if (target) {
    if (target.role === 'endpoint') return `endpoint ${describeEndpoint(endpointOf(input.view, target.endpoint!.ip, target.endpoint!.port))} chosen for ${portLabel(target)}`;
    return `${portLabel(target)} → ${e.target} (${roleWords[target.role]})`;
  }
  if (e.target && isDispatchChainName(e.target)) {
    const n = /-(\d+)$/.exec(e.target)?.[1];
    return `${serviceLabel} → ${e.target} (shared dispatch: one of ${n} endpoints drawn from the endpoint map)`;
  }
  if (e.target === 'KUBE-MARK-MASQ' || e.target === 'mark-for-masquerade') return "marked for masquerade (SNAT to the node's address on the way out)";
  if (e.target === 'KUBE-NODEPORTS') return 'to the node ports';
  if (/MASQUERADE|masquerade/.test(e.text) && e.verdict === 'accept') return "masqueraded (source rewritten to the node's address)";
  // Before the DNAT wording: the userspace mode DNATs (or REDIRECTs) to its own socket.
  if (/KUBE-PORTALS|KUBE-NODEPORT-(HOST|CONTAINER)/.test(e.chain) && /REDIRECT|DNAT/.test(e.text)) return `${portalWords}: the proxy itself picks the endpoint`;
  const dnat = dnatAddress(e.text);
  if (dnat) return `DNAT to ${describeEndpoint(endpointOf(input.view, dnat.ip, dnat.port))}`;
  if (/dnat .* map @endpoints-|dnat .* map @nodeport-endpoints-/.test(e.text)) return 'DNAT to the endpoint drawn from the map (conntrack names it below)';
  if (here?.role === 'external' && e.target) return `${portLabel(here)} external traffic → ${e.target}`;
  return null;
}

/** What the API says about a Service's endpoints, for the outcomes that fail. */
function endpointFindings(view: ClusterView, namespace: string, name: string, policyNode: string | undefined): string[] {
  const service = view.services.find((s) => s.metadata.namespace === namespace && s.metadata.name === name);
  if (!service) return [];
  const out: string[] = [];
  const key = `${namespace}/${name}`;
  const selector = service.spec?.selector ?? {};
  const slices = slicesOf(view, namespace, name);
  const endpoints = slices.flatMap((s) => s.endpoints ?? []);
  const ready = endpoints.filter((e) => e.conditions?.ready !== false);
  if (Object.keys(selector).length === 0) {
    if (!endpoints.length) out.push(`${key} has no selector and no EndpointSlice lists an endpoint for it`);
  } else {
    const selected = view.pods.filter((p) => p.metadata.namespace === namespace && Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v));
    const sel = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
    if (!selected.length) out.push(`no pod in ${namespace} matches ${key}'s selector ${sel}`);
    for (const pod of selected) {
      const why = podNotReadyReason(pod);
      const ip = pod.status?.podIP;
      const inSlice = ip !== undefined && endpoints.some((e) => e.addresses.includes(ip));
      if (why) out.push(`pod ${pod.metadata.name} matches ${key} but is not ready (${why})${inSlice ? ': in the EndpointSlice as not ready, so not used' : ''}`);
      else if (!inSlice) out.push(`pod ${pod.metadata.name} matches ${key} but is not in its EndpointSlices yet`);
    }
  }
  if (endpoints.length && !ready.length) out.push(`${key}'s EndpointSlices list ${endpoints.length} endpoint(s), none ready`);
  if (policyNode && ready.length) {
    const where = [...new Set(ready.map((e) => e.nodeName ?? '?'))].sort().join(', ');
    if (!ready.some((e) => e.nodeName === policyNode)) out.push(`${key} has externalTrafficPolicy Local and ready endpoints only on ${where}, none on ${policyNode}`);
  }
  return out;
}

function podNotReadyReason(pod: Stored<Pod>): string | undefined {
  if (pod.metadata.deletionTimestamp) return 'terminating';
  const phase = pod.status?.phase ?? 'Pending';
  if (phase !== 'Running') return `phase ${phase}`;
  const readyCondition = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (readyCondition?.status !== 'True') return readyCondition?.reason ? `Ready=${readyCondition.status}: ${readyCondition.reason}` : 'its readiness probe has not passed';
  return undefined;
}

export function explain(input: ExplainInput): Explanation {
  const { view, target, events, probe, conntrack } = input;
  const chains = buildChainMap(view);
  const serviceLabel = target.service ? `${target.service}${target.servicePort ? `:${target.servicePort}` : ''}` : `${target.ip}:${target.port}`;
  const hops: TraceHop[] = [];
  for (const ne of events) {
    const e = ne.event;
    if (e.kind === 'packet') continue;
    hops.push({
      node: ne.node,
      table: e.table,
      chain: e.chain,
      rule: e.text,
      verdict: e.verdict,
      target: e.target,
      meaning: hopMeaning(ne, chains, input, serviceLabel),
    });
  }

  // The DNAT target: conntrack's reply source where the destination was rewritten, else the DNAT rule's address.
  let dnat: TraceEndpoint | null = null;
  const natted = conntrack.find((c) => c.reply.src !== c.original.dst || c.reply.sport !== c.original.dport);
  if (natted) dnat = endpointOf(view, natted.reply.src, natted.reply.sport);
  else {
    for (const h of hops) {
      const a = dnatAddress(h.rule);
      if (a) dnat = endpointOf(view, a.ip, a.port);
    }
  }
  if (dnat) for (const h of hops) if (h.meaning?.startsWith('DNAT to the endpoint drawn')) h.meaning = `DNAT to ${describeEndpoint(dnat)} (drawn from the endpoint map)`;
  const proxyChoice = proxyChoiceOf(view, target, input.choices ?? []);
  if (proxyChoice) for (const h of hops) if (h.meaning?.startsWith(portalWords)) h.meaning = `${portalWords}: ${describeProxyChoice(proxyChoice)}`;

  const explanations = [...input.findings];
  const stop = hops.find((h) => h.verdict === 'drop');
  const stopNode = stop?.node;
  const serviceKey = target.service;
  const policyMiss = stop?.meaning?.startsWith('externalTrafficPolicy Local');
  if (serviceKey && (stop || !probe || ['timeout', 'refused', 'no-reply'].includes(probe.result))) {
    const [ns, name] = serviceKey.split('/');
    for (const f of endpointFindings(view, ns, name, policyMiss ? stopNode : target.via === 'node-port' || target.via === 'load-balancer-ip' || target.via === 'external-ip' ? (target.node ?? undefined) : undefined)) {
      if (!explanations.includes(f)) explanations.push(f);
    }
  }
  if (!serviceKey && target.via === 'unknown') {
    const other = serviceWithIP(view, target.ip);
    if (other) explanations.push(`${keyOf(other)} has ${target.ip} but no port ${target.port}/${target.protocol} (its ports: ${describePorts(other)})`);
    else explanations.push(`no Service has ${target.ip}:${target.port}/${target.protocol}`);
  }

  const outcome = outcomeOf(input, hops, stop, dnat, natted, proxyChoice);
  return { hops, dnat, proxyChoice, outcome, explanations };
}

function outcomeOf(
  input: ExplainInput,
  hops: TraceHop[],
  stop: TraceHop | undefined,
  dnat: TraceEndpoint | null,
  natted: TraceConntrack | undefined,
  proxyChoice: TraceProxyChoice | null,
): TraceOutcome {
  const { probe, dns, target } = input;
  if (dns && dns.answers.length === 0) {
    const first = dns.queries[0];
    return { result: 'dns-failed', reason: `DNS name not found: the cluster DNS (${dns.server}) has no address for ${input.target.input}${first ? ` (${first.name} → ${first.rcode})` : ''}` };
  }
  if (!probe) return { result: 'not-sent', reason: 'no probe was sent' };
  if (stop) {
    const where = `${stop.node}, ${stop.table} ${stop.chain}`;
    const rejected = /rejected/.test(stop.meaning ?? '') || /REJECT|reject/.test(stop.rule);
    return { result: rejected ? 'rejected' : 'dropped', reason: `${stop.meaning ?? (rejected ? 'rejected' : 'dropped')} (${where})` };
  }
  const viaProxy = hops.some((h) => h.meaning?.startsWith(portalWords));
  const socket = dnat ? `the userspace proxy's socket ${dnat.ip}:${dnat.port}` : "the userspace proxy's socket";
  const to = proxyChoice
    ? `${describeEndpoint(proxyChoice.endpoint)} through ${socket} (the proxy's own pick, on ${proxyChoice.node})`
    : dnat
      ? viaProxy
        ? `${socket} (the proxy picks the endpoint itself, out of the kernel's sight)`
        : describeEndpoint(dnat)
      : `${target.ip}:${target.port}`;
  const status = natted ? [natted.state, ...natted.flags].filter(Boolean).join(' ') : '';
  const replyState = status ? ` (conntrack ${status})` : '';
  switch (probe.result) {
    case 'connected':
      return { result: 'delivered', reason: `connected to ${to}; the reply came back${replyState}` };
    case 'replied':
      return { result: 'delivered', reason: `${to} answered the datagram${replyState}` };
    case 'refused':
      return { result: 'rejected', reason: `${to} refused the connection (ICMP unreachable or TCP reset from the endpoint: nothing listens on that port?)` };
    case 'no-reply':
      return { result: 'no-reply', reason: `the datagram went to ${to}; nothing came back (a UDP server need not answer)${replyState}` };
    case 'timeout':
      return { result: 'no-reply', reason: `no answer from ${to} in time${hops.length ? '' : ' and no kube-proxy rule saw the packet'}${replyState}` };
    case 'unreachable':
      return { result: 'dropped', reason: `${to} is unreachable (${probe.error})` };
    default:
      return { result: 'no-reply', reason: `the probe ended with ${probe.error ?? probe.result}` };
  }
}
