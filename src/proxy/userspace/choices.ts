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

/** How many picks are kept (the oldest go first): a client's retries count each. */
export const defaultChoiceLimit = 4096;

/** "::ffff:1.2.3.4" as "1.2.3.4", as the schedulers read a client. */
const plainIP = (ip: string) => (ip.startsWith('::ffff:') ? ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '') : ip);

export function createChoiceRecord(limit = defaultChoiceLimit): ChoiceRecord {
  // The last `limit` picks in a ring of columns, stored as they come (a pick is made per connection:
  // no string built, no map updated) and grouped per client, service and protocol only when read (rarely).
  const ips: string[] = new Array<string>(limit).fill('');
  const ports = new Uint16Array(limit);
  const services: string[] = new Array<string>(limit).fill('');
  const protocols: ('TCP' | 'UDP')[] = new Array<'TCP' | 'UDP'>(limit).fill('TCP');
  const endpoints: string[] = new Array<string>(limit).fill('');
  const times = new Float64Array(limit);
  let next = 0;
  let size = 0;
  const record = (client: Client, service: string, protocol: 'TCP' | 'UDP', backend: Backend) => {
    const i = next;
    ips[i] = client.ip;
    ports[i] = client.port ?? 0;
    services[i] = service;
    protocols[i] = protocol;
    endpoints[i] = backend.id;
    times[i] = Date.now();
    next = i + 1 === limit ? 0 : i + 1;
    if (size < limit) size++;
  };
  /** One choice per client, service and protocol (its last pick, with how many it got), newest last. */
  const all = (): UserspaceChoice[] => {
    const grouped = new Map<string, UserspaceChoice>();
    for (let k = 0; k < size; k++) {
      const i = (next - size + k + limit) % limit;
      const who = `${plainIP(ips[i]!)}:${ports[i]}`;
      const key = `${who}|${services[i]}|${protocols[i]}`;
      const previous = grouped.get(key);
      if (previous) grouped.delete(key);
      grouped.set(key, { client: who, service: services[i]!, protocol: protocols[i]!, endpoint: endpoints[i]!, picks: (previous?.picks ?? 0) + 1, time: new Date(times[i]!).toISOString() });
    }
    return [...grouped.values()];
  };
  const lookup = (client: string) => all().filter((c) => c.client === client);
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
      return { choices: client ? lookup(client) : all() };
    },
  };
}
