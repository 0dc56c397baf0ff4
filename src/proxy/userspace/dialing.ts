// What both relays of a TCP proxy socket (handle-relay.ts, socket-relay.ts)
// share: the service port's backends and scheduler, upstream's escalating
// dial timeouts, and which backend a client's next dial goes to.
import type { Backend, Client, Scheduler } from '../lb/types.js';

/** pkg/proxy/userspace EndpointDialTimeouts: four tries, each with a longer timeout. */
export const endpointDialTimeoutsMs = [250, 500, 1000, 2000];

/** What a proxy's dials read: its backends now, its scheduler, its dial timeouts. */
export interface DialContext {
  list: Backend[];
  scheduler: Scheduler;
  timeouts: number[];
}

/** A backend for the client's next dial: one not tried yet in this attempt when there is one (a backend that just failed is not offered again). */
export function pickBackend(proxy: DialContext, who: Client, tried: Set<string> | undefined): Backend | undefined {
  const candidates = tried ? proxy.list.filter((b) => !tried.has(b.id)) : proxy.list;
  return proxy.scheduler.pick(candidates.length ? candidates : proxy.list, who, Date.now());
}

/** Where a relay listens and what it dials. */
export interface RelayOptions {
  bind: string;
  /** 0: any free port. */
  port: number;
  proxy: DialContext;
  onError?: (err: Error) => void;
}

/** A listening relay: its port, and close (the listener and every connection). */
export interface Relay {
  readonly port: number;
  close(): Promise<void>;
}
