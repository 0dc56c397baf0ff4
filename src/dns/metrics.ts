// CoreDNS's Prometheus metrics for the cluster DNS (plugin/metrics,
// plugin/cache, plugin/forward): the same names, labels and buckets, in a
// registry of the server's own.
import { Counter, Gauge, Histogram, Registry, exponentialBuckets, registerProcessMetrics } from '../util/metrics.js';
import type { AnswerCache } from './cache.js';

const sizeBuckets = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16e3, 32e3, 48e3, 64e3];

export interface DnsMetrics {
  registry: Registry;
  /** One answered query. */
  observe(q: { server: string; zone: string; proto: 'udp' | 'tcp'; family: '1' | '2'; type: string; rcode: string; plugin: string; seconds: number; requestSize: number; responseSize: number }): void;
  forwarded(to: string, rcode: string, seconds: number): void;
  /** The cache figures, read at scrape time. */
  watchCache(server: string, cache: AnswerCache): void;
}

/** Query type names CoreDNS reports individually; the rest are "other". */
const typeNames: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 255: 'ANY', 13: 'HINFO', 65: 'HTTPS', 64: 'SVCB', 43: 'DS', 48: 'DNSKEY' };
export const typeName = (t: number): string => typeNames[t] ?? 'other';
const rcodeNames = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
export const rcodeName = (r: number): string => rcodeNames[r] ?? `RCODE${r}`;

export function createDnsMetrics(): DnsMetrics {
  const registry = new Registry();
  const registers = [registry];
  registerProcessMetrics(registry);
  new Gauge({ name: 'coredns_build_info', help: 'A metric with a constant \'1\' value labeled by version, revision, and goversion from which CoreDNS was built.', labelNames: ['version', 'revision', 'goversion'], registers }).set({ version: 'kubesvc', revision: '', goversion: process.version }, 1);
  const requests = new Counter({ name: 'coredns_dns_requests_total', help: 'Counter of DNS requests made per zone, protocol and family.', labelNames: ['server', 'zone', 'view', 'proto', 'family', 'type'], registers });
  const responses = new Counter({ name: 'coredns_dns_responses_total', help: 'Counter of response status codes.', labelNames: ['server', 'zone', 'view', 'rcode', 'plugin'], registers });
  const duration = new Histogram({ name: 'coredns_dns_request_duration_seconds', help: 'Histogram of the time (in seconds) each request took per zone.', labelNames: ['server', 'zone', 'view', 'type'], buckets: exponentialBuckets(0.00025, 2, 16), registers });
  const requestSize = new Histogram({ name: 'coredns_dns_request_size_bytes', help: 'Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.', labelNames: ['server', 'zone', 'view', 'proto'], buckets: sizeBuckets, registers });
  const responseSize = new Histogram({ name: 'coredns_dns_response_size_bytes', help: 'Size of the returned response in bytes.', labelNames: ['server', 'zone', 'view', 'proto'], buckets: sizeBuckets, registers });
  const proxyDuration = new Histogram({ name: 'coredns_proxy_request_duration_seconds', help: 'Histogram of the time each request took.', labelNames: ['proxy_name', 'to', 'rcode'], buckets: exponentialBuckets(0.00025, 2, 16), registers });
  const caches: { server: string; cache: AnswerCache }[] = [];
  new Gauge({
    name: 'coredns_cache_entries',
    help: 'The number of elements in the cache.',
    labelNames: ['server', 'type', 'zones', 'view'],
    registers,
    collect() {
      this.reset();
      for (const { server, cache } of caches) {
        this.set({ server, type: 'success', zones: '.', view: '' }, cache.size().positive);
        this.set({ server, type: 'denial', zones: '.', view: '' }, cache.size().negative);
      }
    },
  });
  new Counter({
    name: 'coredns_cache_hits_total',
    help: 'The count of cache hits.',
    labelNames: ['server', 'type', 'zones', 'view'],
    registers,
    collect() {
      this.reset();
      for (const { server, cache } of caches) this.inc({ server, type: 'success', zones: '.', view: '' }, cache.hits());
    },
  });
  new Counter({
    name: 'coredns_cache_misses_total',
    help: 'The count of cache misses. Deprecated, derive misses from cache hits/requests counters.',
    labelNames: ['server', 'zones', 'view'],
    registers,
    collect() {
      this.reset();
      for (const { server, cache } of caches) this.inc({ server, zones: '.', view: '' }, cache.misses());
    },
  });
  // Children per label combination, cached: a query then costs a few map reads, not label hashing per metric.
  const children = new Map<string, { requests: Counter; responses: Counter; duration: Histogram; requestSize: Histogram; responseSize: Histogram }>();
  return {
    registry,
    observe(q) {
      const key = `${q.server}|${q.zone}|${q.proto}|${q.family}|${q.type}|${q.rcode}|${q.plugin}`;
      let c = children.get(key);
      if (!c) {
        const base = { server: q.server, zone: q.zone, view: '' };
        c = {
          requests: requests.labels({ ...base, proto: q.proto, family: q.family, type: q.type }) as unknown as Counter,
          responses: responses.labels({ ...base, rcode: q.rcode, plugin: q.plugin }) as unknown as Counter,
          duration: duration.labels({ ...base, type: q.type }) as unknown as Histogram,
          requestSize: requestSize.labels({ ...base, proto: q.proto }) as unknown as Histogram,
          responseSize: responseSize.labels({ ...base, proto: q.proto }) as unknown as Histogram,
        };
        children.set(key, c);
      }
      c.requests.inc();
      c.responses.inc();
      c.duration.observe(q.seconds);
      c.requestSize.observe(q.requestSize);
      c.responseSize.observe(q.responseSize);
    },
    forwarded(to, rcode, seconds) {
      proxyDuration.observe({ proxy_name: 'forward', to, rcode }, seconds);
    },
    watchCache(server, cache) {
      caches.push({ server, cache });
    },
  };
}
