// One trace, start to end: the cluster read through the API, the source's
// namespace entered, the target resolved (API, cluster DNS), the kernel
// traced on every node while one real probe goes out, conntrack read, and
// everything we added removed again — on errors and on Ctrl-C too.
import { randomInt } from 'node:crypto';
import type { Client } from '../client/client.js';
import { execInNetns, netnsExists } from '../net/ip.js';
import { keyOf, nodeIP, podByIP, readClusterView, servicePortFor, type ClusterView, type ServicePortSpec } from './cluster-view.js';
import { parseConntrackListing } from './conntrack-entries.js';
import { explain, type NodeEvent } from './explain.js';
import { startNodeTrace, tracerName, type NodeTrace, type TraceBackend } from './kernel-trace.js';
import { startProbeHelper, type ProbeHelper } from './probe.js';
import { metricsAddressToAsk, readNodeChoices } from './proxy-choice.js';
import { dnsSearchNames, parseTarget, serviceOfDnsName, TargetError, type ParsedSource } from './target.js';
import type { TraceConntrack, TraceDns, TraceProbe, TraceReport, TraceSource, TraceTarget } from './types.js';

export const clusterDnsIP = '10.96.0.10';

export interface TraceOptions {
  client: Client;
  source: ParsedSource;
  /** -n: the namespace Service names are looked up and searched in (a pod source's own by default). */
  namespace?: string;
  target: string;
  protocol: 'TCP' | 'UDP';
  /** The network namespace of node `name`. */
  nodeNetns(name: string): string;
  /** The network namespace of a pod (by its node and UID). */
  podNetns(nodeName: string, uid: string): string;
  /** How long the probe waits for an answer (default 1 s). */
  timeoutMs?: number;
  /**
   * The command's own Ctrl-C: clean up, then exit (default). A trace run inside a longer-lived process (up's live
   * page) passes false: that process's own stop must run, and this trace's cleanup is in its finally.
   */
  exitOnSignal?: boolean;
}

/** The nodes' proxy mode: the ConfigMap's, with what actually runs (the kernel's tables say). */
function modeLabel(configured: string, backend: TraceBackend): string {
  const mode = configured || 'iptables';
  if (backend === 'nft') return mode.startsWith('nftables') ? mode : `nftables (ConfigMap says ${mode}; the node has table ip kube-proxy)`;
  if (mode === 'ipvs') return 'iptables (ipvs configured; it falls back to iptables here)';
  if (mode.startsWith('nftables')) return `iptables (ConfigMap says ${mode}, but the node has no table ip kube-proxy: its proxy has not switched yet)`;
  return mode;
}

interface Resolved {
  source: TraceSource;
  sourceNetns: string;
}

function resolveSource(view: ClusterView, opts: TraceOptions): Resolved {
  const { source } = opts;
  if (source.kind === 'node') {
    const node = view.nodes.find((n) => n.metadata.name === source.name);
    if (!node) throw new TargetError(`node "${source.name}" not found (nodes: ${view.nodes.map((n) => n.metadata.name).join(', ') || 'none'})`);
    const ip = nodeIP(node);
    if (!ip) throw new TargetError(`node ${source.name} has no InternalIP yet`);
    return { source: { kind: 'node', name: source.name, namespace: opts.namespace ?? 'default', node: source.name, ip }, sourceNetns: opts.nodeNetns(source.name) };
  }
  const namespace = opts.namespace ?? 'default';
  const pod = view.pods.find((p) => p.metadata.namespace === namespace && p.metadata.name === source.name);
  if (!pod) throw new TargetError(`pod "${source.name}" not found in namespace ${namespace}`);
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw new TargetError(`pod ${namespace}/${source.name} is not scheduled to a node yet`);
  if (pod.spec?.hostNetwork) {
    const node = view.nodes.find((n) => n.metadata.name === nodeName);
    return { source: { kind: 'pod', name: source.name, namespace, node: nodeName, ip: (node && nodeIP(node)) ?? '' }, sourceNetns: opts.nodeNetns(nodeName) };
  }
  const ip = pod.status?.podIP;
  if (!ip) throw new TargetError(`pod ${namespace}/${source.name} has no IP yet (phase ${pod.status?.phase ?? 'Pending'})`);
  return { source: { kind: 'pod', name: source.name, namespace, node: nodeName, ip }, sourceNetns: opts.podNetns(nodeName, pod.metadata.uid!) };
}

/** The Service port named or numbered `port`, or its only port. */
function pickPort(service: NonNullable<ClusterView['services'][number]>, port: string | undefined, protocol: string, findings: string[]): ServicePortSpec | undefined {
  const ports = (service.spec?.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === protocol);
  const key = keyOf(service);
  const list = (service.spec?.ports ?? []).map((p) => `${p.name ? `${p.name}=` : ''}${p.port}/${p.protocol ?? 'TCP'}`).join(', ') || 'none';
  if (port === undefined) {
    if (ports.length === 1) return ports[0];
    if (!ports.length) throw new TargetError(`${key} has no ${protocol} port (its ports: ${list})${protocol === 'TCP' ? '; --udp probes a UDP port' : ''}`);
    throw new TargetError(`${key} has ${ports.length} ${protocol} ports (${list}): say which, e.g. ${service.metadata.name}:${ports[0].name || ports[0].port}`);
  }
  const found = ports.find((p) => (/^\d+$/.test(port) ? p.port === Number(port) : p.name === port));
  if (!found) findings.push(`${key} does not expose port ${port}/${protocol} (its ports: ${list})`);
  return found;
}

function serviceTarget(input: string, service: ClusterView['services'][number], p: ServicePortSpec | undefined, port: string | undefined, protocol: 'TCP' | 'UDP'): TraceTarget {
  const ip = service.spec?.clusterIP;
  const key = keyOf(service);
  if (service.spec?.type === 'ExternalName') throw new TargetError(`${key} is an ExternalName Service (${service.spec.externalName}): only the DNS answers for it, no proxy rule to trace`);
  if (!ip || ip === 'None') throw new TargetError(`${key} is headless (clusterIP None): its name resolves to the pods themselves; trace a pod's IP:PORT`);
  const number = p?.port ?? (port && /^\d+$/.test(port) ? Number(port) : undefined);
  if (number === undefined) throw new TargetError(`${key} has no port named "${port}"`);
  return { input, ip, port: number, protocol, via: 'cluster-ip', service: p ? key : null, servicePort: p ? (p.name ?? '') : null, node: null };
}

function addressTarget(view: ClusterView, input: string, ip: string, port: number, protocol: 'TCP' | 'UDP'): TraceTarget {
  const match = servicePortFor(view, ip, port, protocol);
  if (match) return { input, ip, port, protocol, via: match.via, service: keyOf(match.service), servicePort: match.port.name ?? '', node: match.node ?? null };
  const pod = podByIP(view, ip);
  return { input, ip, port, protocol, via: pod ? 'pod-ip' : 'unknown', service: null, servicePort: null, node: null };
}

export async function runTrace(opts: TraceOptions): Promise<TraceReport> {
  const started = performance.now();
  const parsed = parseTarget(opts.target);
  const { protocol } = opts;
  const view = await readClusterView(opts.client);
  const { source, sourceNetns } = resolveSource(view, opts);
  if (!(await netnsExists(sourceNetns))) throw new TargetError(`${source.kind} ${source.name}'s network namespace ${sourceNetns} does not exist: is 'kubesvc up' running?`);
  const namespace = opts.namespace ?? source.namespace;

  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => {});
  };
  const onSignal = (signal: NodeJS.Signals) => {
    void cleanup().then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  const exitOnSignal = opts.exitOnSignal ?? true;
  if (exitOnSignal) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    const helper: ProbeHelper = startProbeHelper(sourceNetns);
    cleanups.push(() => helper.close());

    // The nodes to trace on: every node whose namespace is here (a packet may be forwarded to another node).
    const nodes = (await Promise.all(view.nodes.map(async (n) => ((await netnsExists(opts.nodeNetns(n.metadata.name!))) ? n.metadata.name! : undefined)))).filter(
      (n): n is string => n !== undefined,
    );
    const sourceNode = source.node;
    const tables = await execInNetns(opts.nodeNetns(sourceNode), ['nft', 'list', 'tables']).then((r) => r.stdout, () => '');
    const backend: TraceBackend = /^table ip kube-proxy$/m.test(tables) ? 'nft' : 'xtables';
    const mode = modeLabel(view.configuredMode, backend);
    await helper.ready;

    // The target.
    const findings: string[] = [];
    let dns: TraceDns | null = null;
    let target: TraceTarget;
    const notSent = (t: TraceTarget, reason: string): TraceReport => ({
      source, target: t, dns, mode, tracer: null, probe: null, hops: [], dnat: null, proxyChoice: null, conntrack: [],
      outcome: { result: dns && !dns.answers.length ? 'dns-failed' : 'not-sent', reason }, explanations: findings, durationMs: Math.round(performance.now() - started),
    });
    switch (parsed.kind) {
      case 'service': {
        const service = view.services.find((s) => s.metadata.namespace === namespace && s.metadata.name === parsed.name);
        if (!service) throw new TargetError(`services "${parsed.name}" not found in namespace ${namespace}`);
        target = serviceTarget(opts.target, service, pickPort(service, parsed.port, protocol, findings), parsed.port, protocol);
        break;
      }
      case 'dns': {
        const names = dnsSearchNames(parsed.name, namespace);
        const answer = await helper.resolve(clusterDnsIP, names, 1_000);
        dns = { server: clusterDnsIP, queries: answer.queries, answers: answer.answers };
        const empty: TraceTarget = { input: opts.target, ip: '', port: 0, protocol, via: 'unknown', service: null, servicePort: null, node: null };
        if (!answer.answers.length) {
          // What the API knows about the name, for the explanation.
          const asService = serviceOfDnsName(names[0]);
          const labels = parsed.name.replace(/\.$/, '').split('.');
          const svcName = labels[0];
          const svcNs = labels.length > 1 && labels[1] !== 'svc' ? labels[1] : asService?.namespace ?? namespace;
          const service = view.services.find((s) => s.metadata.namespace === svcNs && s.metadata.name === svcName);
          findings.push(service ? `Service ${svcNs}/${svcName} exists, yet the cluster DNS did not answer for it` : `no Service named ${svcName} in namespace ${svcNs}`);
          const first = answer.queries[0];
          return notSent(empty, `DNS name not found: the cluster DNS (${clusterDnsIP}) has no address for ${parsed.name}${first ? ` (${first.name} → ${first.rcode})` : ''}`);
        }
        const answered = answer.answers[0];
        const svc = serviceOfDnsName(answered.name);
        const service = svc && view.services.find((s) => s.metadata.namespace === svc.namespace && s.metadata.name === svc.name);
        if (service && answered.data === service.spec?.clusterIP) {
          target = serviceTarget(opts.target, service, pickPort(service, parsed.port, protocol, findings), parsed.port, protocol);
        } else {
          if (parsed.port === undefined || !/^\d+$/.test(parsed.port)) throw new TargetError(`${answered.name} is ${answered.data}, which is not a Service's cluster IP: give a port number (${parsed.name}:PORT)`);
          target = addressTarget(view, opts.target, answered.data, Number(parsed.port), protocol);
        }
        break;
      }
      case 'address':
        target = addressTarget(view, opts.target, parsed.ip, parsed.port, protocol);
        break;
      case 'node-port': {
        const nodeName = parsed.node ?? sourceNode;
        const node = view.nodes.find((n) => n.metadata.name === nodeName);
        if (!node) throw new TargetError(`node "${nodeName}" not found`);
        const ip = nodeIP(node);
        if (!ip) throw new TargetError(`node ${nodeName} has no InternalIP`);
        target = addressTarget(view, opts.target, ip, parsed.port, protocol);
        if (target.via !== 'node-port') findings.push(`no Service has node port ${parsed.port}/${protocol}`);
        break;
      }
    }

    // The probe's source port: outside the ephemeral range (32768+) and the node ports, so nothing else uses it.
    const sport = randomInt(20_000, 30_000);
    const match = { protocol, saddr: source.ip, sport };
    const events: NodeEvent[] = [];
    let lastEventAt = 0;
    let dropSeen: () => void = () => {};
    const dropped = new Promise<void>((resolve) => (dropSeen = resolve));
    const traces: NodeTrace[] = [];
    cleanups.push(async () => {
      await Promise.all(traces.map((t) => t.stop()));
    });
    await Promise.all(
      nodes.map(async (node) => {
        const trace = await startNodeTrace(node, opts.nodeNetns(node), backend, match);
        traces.push(trace);
        trace.onEvent = (event) => {
          events.push({ node, event });
          lastEventAt = performance.now();
          if (event.verdict === 'drop') dropSeen();
        };
      }),
    );

    const probeStart = performance.now();
    const timeoutMs = opts.timeoutMs ?? 1_000;
    const sent = helper.probe({ protocol, host: target.ip, port: target.port, localAddress: source.ip, localPort: sport, timeoutMs });
    // A dropped packet gets no answer: the trace says so at once, no need to wait for the timeout.
    const early = dropped.then(() => new Promise<null>((r) => setTimeout(() => r(null), 30)));
    const result = await Promise.race([sent, early]);
    const probe: TraceProbe = result
      ? { sourcePort: sport, ...result, durationMs: Math.round(result.durationMs * 10) / 10 }
      : { sourcePort: sport, result: 'stopped', error: null, durationMs: Math.round((performance.now() - probeStart) * 10) / 10 };
    helper.close();
    // Trailing events: the monitors print a little after the packet's fate.
    const settleUntil = performance.now() + 150;
    while (performance.now() < settleUntil && (events.length === 0 || performance.now() - lastEventAt < 30)) await new Promise((r) => setTimeout(r, 10));

    const conntrack: TraceConntrack[] = (
      await Promise.all(
        traces.map(async (t) => {
          const argv = ['conntrack', '-L', '-p', protocol.toLowerCase(), '--orig-src', source.ip, '--orig-port-src', String(sport)];
          const out = await execInNetns(opts.nodeNetns(t.node), argv, { timeoutMs: 3_000 }).then((r) => r.stdout, () => '');
          return parseConntrackListing(out, t.node);
        }),
      )
    ).flat();
    // The userspace mode picks the endpoint in the proxy, out of the kernel's sight: ask each node's proxy what it chose.
    const choices =
      view.configuredMode === 'userspace' && backend === 'xtables'
        ? (
            await Promise.all(
              traces.map(async (t) =>
                (await readNodeChoices(opts.nodeNetns(t.node), metricsAddressToAsk(view.metricsBindAddress), source.ip, sport)).map((c) => ({ ...c, node: t.node })),
              ),
            )
          ).flat().filter((c) => c.protocol === protocol)
        : [];
    await cleanup();

    // Each monitor keeps its node's order; between nodes, the packet starts on the source's node.
    const ordered = [...events.filter((e) => e.node === sourceNode), ...events.filter((e) => e.node !== sourceNode)];
    const explained = explain({ view, target, events: ordered, probe, conntrack, dns, findings, choices });
    return {
      source,
      target,
      dns,
      mode,
      tracer: tracerName[backend],
      probe,
      hops: explained.hops,
      dnat: explained.dnat,
      proxyChoice: explained.proxyChoice,
      conntrack,
      outcome: explained.outcome,
      explanations: explained.explanations,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
