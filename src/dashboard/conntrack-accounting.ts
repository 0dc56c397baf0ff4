// Packets and bytes per Service endpoint, from the kernel's connection
// tracking on each node (the same in every proxy mode: iptables, nftables,
// ipvs and userspace all leave a conntrack entry per flow). With
// net.netfilter.nf_conntrack_acct=1 every entry counts the packets and bytes
// of each direction; `conntrack -L -o id` lists them with the entry's id.
// A flow belongs to a Service port when its original destination is one of
// the Service's addresses and ports; its endpoint is the reply's source (the
// DNAT target). Totals grow by each flow's increase between two readings, so
// they stay after a flow's entry expires: they count the flows seen while the
// dashboard reads (a flow that begins and ends between two readings is missed).
// This file is pure: the parsing and the summing.

export interface AccountedFlow {
  id: string;
  protocol: string;
  dst: string;
  dport: number;
  /** The reply's source: the endpoint the flow went to. */
  endpoint: string;
  endpointPort: number;
  packets: number;
  bytes: number;
}

/** One `conntrack -L -o id` line with accounting, or undefined (no counters, not a flow line). */
export function parseAccountedLine(line: string): AccountedFlow | undefined {
  const words = line.trim().split(/\s+/);
  if (words.length < 4 || !/^[a-z]+$/.test(words[0])) return undefined;
  const tuples: Record<string, string>[] = [];
  let id = '';
  for (const w of words.slice(3)) {
    const kv = /^(src|dst|sport|dport|packets|bytes|id)=(.*)$/.exec(w);
    if (!kv) continue;
    if (kv[1] === 'id') id = kv[2];
    else {
      if (kv[1] === 'src') tuples.push({});
      const t = tuples[tuples.length - 1];
      if (t) t[kv[1]] = kv[2];
    }
  }
  const [o, r] = tuples;
  if (!o || !r || o.packets === undefined || !id) return undefined;
  return {
    id,
    protocol: words[0].toUpperCase(),
    dst: o.dst ?? '',
    dport: Number(o.dport ?? 0),
    endpoint: r.src ?? '',
    endpointPort: Number(r.sport ?? 0),
    packets: Number(o.packets) + Number(r.packets ?? 0),
    bytes: Number(o.bytes ?? 0) + Number(r.bytes ?? 0),
  };
}

export interface EndpointCounter {
  /** namespace/name of the Service. */
  service: string;
  port: string;
  node: string;
  /** ip:port */
  endpoint: string;
  packets: number;
  bytes: number;
}

/** "ip:port/PROTO" → the Service port it stands for. */
export type ServiceAddressIndex = Map<string, { service: string; port: string }>;

export interface Accounting {
  /** Folds one node's listing in. */
  add(node: string, listing: string, index: ServiceAddressIndex): void;
  totals(): EndpointCounter[];
}

export function createAccounting(): Accounting {
  /** node/id → the flow's last counts. */
  const last = new Map<string, { packets: number; bytes: number }>();
  const totals = new Map<string, EndpointCounter>();
  return {
    add(node, listing, index) {
      const seen = new Set<string>();
      for (const line of listing.split('\n')) {
        const f = parseAccountedLine(line);
        if (!f) continue;
        const svc = index.get(`${f.dst}:${f.dport}/${f.protocol}`);
        if (!svc) continue;
        const key = `${node}/${f.id}`;
        seen.add(key);
        const before = last.get(key);
        // A reused id with smaller counts is a new flow.
        const dp = before && f.packets >= before.packets ? f.packets - before.packets : f.packets;
        const db = before && f.bytes >= before.bytes ? f.bytes - before.bytes : f.bytes;
        last.set(key, { packets: f.packets, bytes: f.bytes });
        const endpoint = `${f.endpoint}:${f.endpointPort}`;
        const tk = `${svc.service}|${svc.port}|${node}|${endpoint}`;
        const t = totals.get(tk) ?? { service: svc.service, port: svc.port, node, endpoint, packets: 0, bytes: 0 };
        t.packets += dp;
        t.bytes += db;
        totals.set(tk, t);
      }
      for (const k of last.keys()) if (k.startsWith(`${node}/`) && !seen.has(k)) last.delete(k);
    },
    totals: () => [...totals.values()],
  };
}
