// A trace as a user reads it (pure): the source and target, the DNS answer,
// each chain and rule the packet met in order with what it stands for, the
// DNAT target, conntrack's entry and the outcome in words.
import { describeProxyChoice } from './explain.js';
import type { TraceConntrack, TraceHop, TraceReport, TraceTarget } from './types.js';

const viaWords: Record<TraceTarget['via'], string> = {
  'cluster-ip': 'cluster IP',
  'node-port': 'node port',
  'external-ip': 'external IP',
  'load-balancer-ip': 'load-balancer IP',
  'pod-ip': 'pod IP',
  unknown: '',
};

function hopLine(h: TraceHop): string {
  const rule = h.rule.replace(/^-4 -t \S+ /, '');
  const verdict = h.target ? `${h.verdict} ${h.target}` : h.verdict;
  const what = h.rule ? `${rule}  [${verdict}]` : `policy ${verdict}`;
  return `  ${h.node}  ${h.table} ${h.chain}: ${what}${h.meaning ? `\n      ⇒ ${h.meaning}` : ''}`;
}

function conntrackLine(c: TraceConntrack): string {
  const o = c.original;
  const r = c.reply;
  const status = [c.state, ...c.flags.map((f) => `[${f}]`)].filter(Boolean).join(' ');
  return `  ${c.node}  ${c.protocol} ${o.src}:${o.sport} → ${o.dst}:${o.dport}, reply ${r.src}:${r.sport} → ${r.dst}:${r.dport}${status ? `  ${status}` : ''}`;
}

export function renderTrace(report: TraceReport): string {
  const { source, target, dns, probe } = report;
  const out: string[] = [];
  const src = `${source.kind}/${source.name}${source.kind === 'pod' ? ` (${source.namespace}, on ${source.node})` : ''} ${source.ip}`;
  const via = target.via === 'unknown' ? '' : `, ${viaWords[target.via]}${target.node ? ` of ${target.node}` : ''}`;
  const svc = target.service ? `${target.service}${target.servicePort ? `:${target.servicePort}` : ''} ` : '';
  out.push(`trace ${src} → ${svc}${target.ip ? `${target.ip}:${target.port}/${target.protocol}` : target.input}${via}`);
  out.push(`proxy mode: ${report.mode}${report.tracer ? `, traced with ${report.tracer}` : ''}${probe ? `, probe from port ${probe.sourcePort}` : ''}`);
  if (dns) {
    out.push(`DNS (${dns.server}):`);
    for (const q of dns.queries) out.push(`  ${q.name}. → ${q.rcode}`);
    for (const a of dns.answers) out.push(`  ${a.name}.\t${a.ttl}\tIN\t${a.type}\t${a.data}`);
  }
  if (probe) {
    out.push('path:');
    // A base chain's "policy accept" only says the packet went on (the JSON keeps them).
    const shown = report.hops.filter((h) => h.rule !== '' || h.verdict !== 'accept');
    if (shown.length) out.push(...shown.map(hopLine));
    else out.push('  (no kube-proxy rule saw the packet)');
    if (report.dnat) out.push(`DNAT: ${report.dnat.ip}:${report.dnat.port}${report.dnat.pod ? ` (pod ${report.dnat.pod}${report.dnat.node ? ` on ${report.dnat.node}` : ''})` : ''}`);
    if (report.proxyChoice) out.push(`userspace proxy: ${describeProxyChoice(report.proxyChoice)} (${report.proxyChoice.service}, at ${report.proxyChoice.time})`);
    out.push('conntrack:');
    if (report.conntrack.length) out.push(...report.conntrack.map(conntrackLine));
    else out.push('  no entry (the packet was dropped before conntrack confirmed it, or the connection was reset)');
    out.push(`probe: ${probe.result}${probe.error ? ` (${probe.error})` : ''} after ${probe.durationMs} ms`);
  }
  out.push(`result: ${report.outcome.result} — ${report.outcome.reason}`);
  if (report.explanations.length) {
    out.push('why:');
    for (const e of report.explanations) out.push(`  - ${e}`);
  }
  out.push(`trace took ${report.durationMs} ms`);
  return out.join('\n');
}
