// `conntrack -L` lines (pure parser): the connection's original and reply
// tuples, its state and flags — the reply tuple's source is the DNAT target.
//
//   tcp      6 119 TIME_WAIT src=172.18.0.2 dst=10.97.1.1 sport=20001 dport=80 src=10.244.0.5 dst=172.18.0.2 sport=80 dport=20001 [ASSURED] mark=0 use=1
//   udp      17 29 src=… dst=… sport=… dport=… [UNREPLIED] src=… …
import type { TraceConntrack } from './types.js';

export function parseConntrackLine(line: string, node: string): TraceConntrack | undefined {
  const words = line.trim().split(/\s+/);
  if (words.length < 4 || !/^[a-z]+$/.test(words[0])) return undefined;
  const tuples: Record<string, string>[] = [];
  const flags: string[] = [];
  let state: string | null = null;
  for (const w of words.slice(3)) {
    const kv = /^(src|dst|sport|dport)=(.*)$/.exec(w);
    if (kv) {
      if (kv[1] === 'src') tuples.push({});
      const t = tuples[tuples.length - 1];
      if (t) t[kv[1]] = kv[2];
    } else if (/^\[[A-Z_]+\]$/.test(w)) flags.push(w.slice(1, -1));
    else if (/^[A-Z_]+$/.test(w) && tuples.length === 0) state = w;
  }
  if (tuples.length < 2) return undefined;
  const tuple = (t: Record<string, string>) => ({ src: t.src ?? '', dst: t.dst ?? '', sport: Number(t.sport ?? 0), dport: Number(t.dport ?? 0) });
  return { node, protocol: words[0], state, original: tuple(tuples[0]), reply: tuple(tuples[1]), flags };
}

export function parseConntrackListing(text: string, node: string): TraceConntrack[] {
  return text.split('\n').map((l) => parseConntrackLine(l, node)).filter((e): e is TraceConntrack => e !== undefined);
}
