// What the userspace proxy decided, kept for `kubesvc trace`: the kernel only
// sees a packet redirected to the proxy's socket, the endpoint is picked in
// this process. A bounded record of recent picks, keyed by the client's
// address:port, read-only at /debug/userspace-choices on the metrics listener.
import type { Backend, Client, Scheduler } from '../lb/types.js';

/** One pick: which endpoint a client's connection (or UDP session) was sent to. */
export interface UserspaceChoice {
  /** "ip:port" as the proxy saw the client. */
  client: string;
  /** "namespace/name:port" of the service port. */
  service: string;
  protocol: 'TCP' | 'UDP';
  /** The endpoint picked, "ip:port". */
  endpoint: string;
  /** How many picks this client got (more than one: a dial failed and the proxy tried another endpoint; the last is the one used). */
  picks: number;
  /** When the last pick was made (RFC 3339). */
  time: string;
}

export interface ChoiceRecord {
  /** The scheduler, recording each backend it picks for a service port. */
  recording(scheduler: Scheduler, service: string, protocol: 'TCP' | 'UDP'): Scheduler;
  /** The recent choices for a client "ip:port" (one per service port), newest last. */
  lookup(client: string): UserspaceChoice[];
  /** The debug endpoint: `client=IP:PORT` gives that client's choices, no query all of them. */
  debug(path: string, query: URLSearchParams): unknown;
}

export const userspaceChoicesPath = '/debug/userspace-choices';

/** How many picks are kept (the oldest go first). */
export const defaultChoiceLimit = 4096;

/** "::ffff:1.2.3.4" as "1.2.3.4", as the schedulers read a client. */
const plainIP = (ip: string) => (ip.startsWith('::ffff:') ? ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '') : ip);

/** A pick as kept: its time as a number, written out only when read (a pick is made per connection, read rarely). */
type Kept = Omit<UserspaceChoice, 'time'> & { at: number };

const shown = ({ at, ...choice }: Kept): UserspaceChoice => ({ ...choice, time: new Date(at).toISOString() });

export function createChoiceRecord(limit = defaultChoiceLimit): ChoiceRecord {
  const entries = new Map<string, Kept>();
  const record = (client: Client, service: string, protocol: 'TCP' | 'UDP', backend: Backend) => {
    const who = `${plainIP(client.ip)}:${client.port ?? 0}`;
    const key = `${who}|${service}|${protocol}`;
    const previous = entries.get(key);
    if (previous) entries.delete(key);
    entries.set(key, { client: who, service, protocol, endpoint: backend.id, picks: (previous?.picks ?? 0) + 1, at: Date.now() });
    if (entries.size > limit) entries.delete(entries.keys().next().value!);
  };
  const lookup = (client: string) => [...entries.values()].filter((c) => c.client === client).map(shown);
  return {
    recording(scheduler, service, protocol) {
      return {
        name: scheduler.name,
        pick(backends, client, now) {
          const b = scheduler.pick(backends, client, now);
          if (b) record(client, service, protocol, b);
          return b;
        },
        ...(scheduler.update ? { update: (backends: readonly Backend[]) => scheduler.update!(backends) } : {}),
      };
    },
    lookup,
    debug(path, query) {
      if (path !== userspaceChoicesPath) return undefined;
      const client = query.get('client');
      return { choices: client ? lookup(client) : [...entries.values()].map(shown) };
    },
  };
}
