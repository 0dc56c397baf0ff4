// The last N questions and answers this server gave (default 200), for a
// person watching the cluster (the dashboard, `curl :9153/recent`). Cheap on
// the query path: a fixed ring of slots holds the response bytes that were
// sent anyway, the client's address and the time; nothing is parsed or
// allocated per query. Reading it (rare) parses the kept responses.
import { rcodeName, typeName } from './metrics.js';
import type { ResourceRecord } from './types.js';
import { parseMessage } from './wire.js';

export interface RecentQuery {
  /** Unix time in ms the answer was sent. */
  time: number;
  client: string;
  proto: 'udp' | 'tcp';
  name: string;
  type: string;
  rcode: string;
  /** The answer section, one "TYPE data" string per record (CNAME chains in order). */
  answers: string[];
}

export interface RecentQueries {
  add(client: string, proto: 'udp' | 'tcp', response: Buffer): void;
  /** Oldest first. */
  list(): RecentQuery[];
}

function rdata(r: ResourceRecord): string {
  const d = r.data;
  switch (d.kind) {
    case 'A':
    case 'AAAA':
      return d.address;
    case 'name':
      return d.target;
    case 'SRV':
      return `${d.priority} ${d.weight} ${d.port} ${d.target}`;
    case 'TXT':
      return d.texts.map((t) => JSON.stringify(t)).join(' ');
    case 'SOA':
      return `${d.mname} ${d.rname} ${d.serial}`;
    case 'MX':
      return `${d.preference} ${d.exchange}`;
    default:
      return `(${d.data.length} bytes)`;
  }
}

export function createRecentQueries(size = 200): RecentQueries {
  const times = new Float64Array(size);
  const clients: string[] = new Array<string>(size).fill('');
  const protos: ('udp' | 'tcp')[] = new Array<'udp' | 'tcp'>(size).fill('udp');
  const responses: (Buffer | undefined)[] = new Array<Buffer | undefined>(size).fill(undefined);
  let next = 0;
  let count = 0;
  return {
    add(client, proto, response) {
      times[next] = Date.now();
      clients[next] = client;
      protos[next] = proto;
      responses[next] = response;
      next = (next + 1) % size;
      if (count < size) count++;
    },
    list() {
      const out: RecentQuery[] = [];
      for (let i = 0; i < count; i++) {
        const slot = (next - count + i + size) % size;
        const buf = responses[slot]!;
        let name = '';
        let type = '';
        let rcode: string;
        let answers: string[] = [];
        try {
          const m = parseMessage(buf);
          const q = m.questions[0];
          name = q?.name ?? '';
          type = q ? typeName(q.type) : '';
          rcode = rcodeName(m.header.rcode);
          answers = m.answers.map((r) => `${typeName(r.type)} ${rdata(r)}`);
        } catch {
          // A bare error header (FORMERR/SERVFAIL for what could not be read): its rcode is in the 4th byte.
          rcode = buf.length >= 4 ? rcodeName(buf[3] & 0x0f) : '';
        }
        out.push({ time: times[slot], client: clients[slot].replace(/^::ffff:/, ''), proto: protos[slot], name, type, rcode, answers });
      }
      return out;
    },
  };
}
