// CoreDNS's Prometheus metrics for the cluster DNS (plugin/metrics,
// plugin/cache, plugin/forward): the same names, labels and buckets, in a
// registry of the server's own.
import { Counter, Gauge, Histogram, Registry, exponentialBuckets, registerProcessMetrics } from '../util/metrics.js';
import type { AnswerCache } from './cache.js';

const sizeBuckets = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16e3, 32e3, 48e3, 64e3];

/** The labels of one kind of answered query. */
export interface QueryLabels {
  server: string;
  zone: string;
  proto: 'udp' | 'tcp';
  family: '1' | '2';
  type: string;
  rcode: string;
  plugin: string;
}

/** The metrics of one kind of query with its labels resolved: counting one is a few increments, no objects. */
export interface QuerySeries {
  observe(seconds: number, requestSize: number, responseSize: number): void;
}

export interface DnsMetrics {
  registry: Registry;
  /** One answered query. */
  observe(q: QueryLabels & { seconds: number; requestSize: number; responseSize: number }): void;
  /** The series of a kind of query, to keep (the wire cache does) and observe without looking labels up again. */
  series(q: QueryLabels): QuerySeries;
  forwarded(to: string, rcode: string, seconds: number): void;
  /** The cache figures, read at scrape time. */
  watchCache(server: string, cache: AnswerCache): void;
}

/** Query type names CoreDNS reports individually; the rest are "other". */
const typeNames: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 255: 'ANY', 13: 'HINFO', 65: 'HTTPS', 64: 'SVCB', 43: 'DS', 48: 'DNSKEY' };
export const typeName = (t: number): string => typeNames[t] ?? 'other';
const rcodeNames = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
export const rcodeName = (r: number): string => rcodeNames[r] ?? `RCODE${r}`;

/** prom-client's value of one label set of a histogram (lib/histogram.js createBaseValues), updated in place. */
interface HistogramValues {
  labels: Record<string, string>;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

/**
 * An observe function for one label set of a histogram that skips
 * prom-client's per-call label hashing: observations go into plain numbers
 * (bucket counts in an array: prom-client's buckets are keyed by the bound's
 * text, a number-to-string conversion per bucket tried), and `flush` adds them
 * to the label set's value object, which prom-client keeps and exposes as it
 * is. Falls back to the public observe if prom-client's shape is not as
 * expected.
 */
function directHistogram(h: Histogram, labels: Record<string, string>): { observe: (v: number) => void; flush: () => void } {
  h.zero(labels);
  const map = (h as unknown as { hashMap?: Record<string, HistogramValues> }).hashMap;
  const values = map && Object.values(map).find((v) => v.labels === labels);
  const bounds = (h as unknown as { upperBounds?: number[] }).upperBounds;
  if (!values || !Array.isArray(bounds) || bounds.some((b) => !(b in values.bucketValues))) return { observe: (v) => h.observe(labels, v), flush: () => undefined };
  const counts = new Float64Array(bounds.length);
  let sum = 0;
  let count = 0;
  return {
    observe(v) {
      sum += v;
      count++;
      // Buckets are non-cumulative; over the last bound only count and sum move.
      for (let i = 0; i < bounds.length; i++) {
        if (v <= bounds[i]) {
          counts[i]++;
          return;
        }
      }
    },
    flush() {
      if (!count) return;
      values.sum += sum;
      values.count += count;
      for (let i = 0; i < bounds.length; i++) values.bucketValues[bounds[i]] += counts[i];
      counts.fill(0);
      sum = 0;
      count = 0;
    },
  };
}

export function createDnsMetrics(): DnsMetrics {
  const registry = new Registry();
  const registers = [registry];
  registerProcessMetrics(registry);
  new Gauge({ name: 'coredns_build_info', help: 'A metric with a constant \'1\' value labeled by version, revision, and goversion from which CoreDNS was built.', labelNames: ['version', 'revision', 'goversion'], registers }).set({ version: 'kubesvc', revision: '', goversion: process.version }, 1);
  const requests = new Counter({ name: 'coredns_dns_requests_total', help: 'Counter of DNS requests made per zone, protocol and family.', labelNames: ['server', 'zone', 'view', 'proto', 'family', 'type'], registers, collect: () => flush() });
  const responses = new Counter({ name: 'coredns_dns_responses_total', help: 'Counter of response status codes.', labelNames: ['server', 'zone', 'view', 'rcode', 'plugin'], registers, collect: () => flush() });
  const duration = new Histogram({ name: 'coredns_dns_request_duration_seconds', help: 'Histogram of the time (in seconds) each request took per zone.', labelNames: ['server', 'zone', 'view', 'type'], buckets: exponentialBuckets(0.00025, 2, 16), registers, collect: () => flush() });
  const requestSize = new Histogram({ name: 'coredns_dns_request_size_bytes', help: 'Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.', labelNames: ['server', 'zone', 'view', 'proto'], buckets: sizeBuckets, registers, collect: () => flush() });
  const responseSize = new Histogram({ name: 'coredns_dns_response_size_bytes', help: 'Size of the returned response in bytes.', labelNames: ['server', 'zone', 'view', 'proto'], buckets: sizeBuckets, registers, collect: () => flush() });
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
  // Series per label combination, cached. prom-client hashes the labels on every inc() and observe(), even
  // through labels(): that was most of the metrics' cost per query. So counters and histograms count in plain
  // numbers, added in at scrape time (every query metric's collect flushes them all; see directHistogram).
  const children = new Map<string, QuerySeries>();
  const pending: { labels: Record<string, string>; counter: Counter; n: number }[] = [];
  const counted = (counter: Counter, labels: Record<string, string>) => {
    const p = { labels, counter, n: 0 };
    counter.inc(labels, 0);
    pending.push(p);
    return p;
  };
  // Series of different query labels share histogram label sets (the histograms have no family, rcode or plugin):
  // one observe function per label set, since zeroing it again would lose what was counted.
  const histogramSeries = new Map<string, ReturnType<typeof directHistogram>>();
  const observer = (h: Histogram, name: string, labels: Record<string, string>) => {
    const key = `${name}|${Object.values(labels).join('|')}`;
    let f = histogramSeries.get(key);
    if (!f) histogramSeries.set(key, (f = directHistogram(h, labels)));
    return f.observe;
  };
  function flush(): void {
    for (const p of pending) {
      if (p.n) p.counter.inc(p.labels, p.n);
      p.n = 0;
    }
    for (const hs of histogramSeries.values()) hs.flush();
  }
  const series = (q: QueryLabels): QuerySeries => {
    const key = `${q.server}|${q.zone}|${q.proto}|${q.family}|${q.type}|${q.rcode}|${q.plugin}`;
    let c = children.get(key);
    if (!c) {
      const base = { server: q.server, zone: q.zone, view: '' };
      const req = counted(requests, { ...base, proto: q.proto, family: q.family, type: q.type });
      const res = counted(responses, { ...base, rcode: q.rcode, plugin: q.plugin });
      const dur = observer(duration, 'duration', { ...base, type: q.type });
      const reqSize = observer(requestSize, 'requestSize', { ...base, proto: q.proto });
      const resSize = observer(responseSize, 'responseSize', { ...base, proto: q.proto });
      c = {
        observe(seconds, requestBytes, responseBytes) {
          req.n++;
          res.n++;
          dur(seconds);
          reqSize(requestBytes);
          resSize(responseBytes);
        },
      };
      children.set(key, c);
    }
    return c;
  };
  return {
    registry,
    observe(q) {
      series(q).observe(q.seconds, q.requestSize, q.responseSize);
    },
    series,
    forwarded(to, rcode, seconds) {
      proxyDuration.observe({ proxy_name: 'forward', to, rcode }, seconds);
    },
    watchCache(server, cache) {
      caches.push({ server, cache });
    },
  };
}
