// The kernel's trace events as the two monitors print them (pure parsers):
//
//   nft monitor:            trace id 9f3ba7d6 ip kube-proxy services rule ip daddr . … vmap @service-ips (verdict goto service-…)
//                           trace id 9f3ba7d6 ip kube-proxy filter-output policy accept
//   xtables-monitor --trace: TRACE: 2 4cc3ec03 nat:KUBE-SERVICES:rule:0x5:JUMP:KUBE-SVC-ABC  -4 -t nat -A KUBE-SERVICES …
//                            TRACE: 2 4cc3ec03 raw:OUTPUT:policy:ACCEPT
//
// into one event type. `packet:` / `PACKET:` lines (the packet's headers as
// each hook saw it) are kept as the trace's packet lines.

export interface KernelTraceEvent {
  /** The packet's trace id: a packet that re-enters (loopback, another hook) may get a new one. */
  id: string;
  table: string;
  chain: string;
  kind: 'packet' | 'rule' | 'policy' | 'return';
  /** The rule text; for a packet line, the packet's headers. */
  text: string;
  /** lower-case: accept, drop, continue, jump, goto, return, queue; "" for a packet line. */
  verdict: string;
  target: string | null;
}

const nftLine = /^trace id (\S+) (?:ip6?|inet|arp|bridge|netdev) (\S+) (\S+) (.*)$/;

export function parseNftTraceLine(line: string): KernelTraceEvent | undefined {
  const m = nftLine.exec(line.trimEnd());
  if (!m) return undefined;
  const [, id, table, chain, rest] = m;
  if (rest.startsWith('packet: ')) return { id, table, chain, kind: 'packet', text: rest.slice(8).trim(), verdict: '', target: null };
  // "policy accept", sometimes followed by the packet's mark ("policy accept meta mark 0x00004000").
  if (rest.startsWith('policy ')) return { id, table, chain, kind: 'policy', text: '', verdict: rest.slice(7).trim().split(' ')[0], target: null };
  const verdictOnly = /^verdict (\S+)(?: (\S+))?$/.exec(rest);
  if (verdictOnly) return { id, table, chain, kind: verdictOnly[1] === 'return' ? 'return' : 'rule', text: '', verdict: verdictOnly[1], target: verdictOnly[2] ?? null };
  // "rule TEXT (verdict V[ TARGET])", or "unknown rule handle N (verdict V)" for a rule added after the monitor started.
  const at = rest.lastIndexOf(' (verdict ');
  if (at < 0 || !rest.endsWith(')')) return undefined;
  const head = rest.slice(0, at);
  const [verdict, target] = rest.slice(at + 10, -1).split(' ');
  const text = head.startsWith('rule ') ? head.slice(5) : head;
  return { id, table, chain, kind: 'rule', text, verdict, target: target ?? null };
}

const xtablesTrace = /^\s*TRACE: \d+ (\S+) (\S+)(?:\s+(.*))?$/;
const xtablesPacket = /^PACKET: \d+ (\S+) (.*)$/;

export function parseXtablesTraceLine(line: string): KernelTraceEvent | undefined {
  const packet = xtablesPacket.exec(line.trimEnd());
  if (packet) return { id: packet[1], table: '', chain: '', kind: 'packet', text: packet[2].trim(), verdict: '', target: null };
  const m = xtablesTrace.exec(line.trimEnd());
  if (!m) return undefined;
  const [, id, where, text = ''] = m;
  // TABLE:CHAIN:rule:0xHANDLE:VERDICT[:TARGET] | TABLE:CHAIN:policy:VERDICT | TABLE:CHAIN:return:
  const parts = where.split(':');
  const [table, chain, type] = parts;
  if (type === 'rule') return { id, table, chain, kind: 'rule', text: text.trim(), verdict: (parts[4] ?? '').toLowerCase(), target: parts[5] || null };
  if (type === 'policy') return { id, table, chain, kind: 'policy', text: '', verdict: (parts[3] ?? '').toLowerCase(), target: null };
  if (type === 'return') return { id, table, chain, kind: 'return', text: '', verdict: 'return', target: null };
  return undefined;
}
