// The parts of prom-client kubesvc uses, loaded one by one, and the process_*
// metrics every Prometheus target exposes (kube-proxy and CoreDNS get them
// from Go's collector). prom-client's index also loads its cluster
// aggregator, pushgateway (http, https, zlib), summaries and every default
// collector, and its process collectors pull in @opentelemetry/api for
// exemplars: about 6 MB more in each kube-proxy and coredns process, where a
// cluster runs one proxy per node. So the classes come from their own files
// and the six process metrics are read here from /proc, as Go's collector does.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Prom from 'prom-client';

const require = createRequire(import.meta.url);

export type Registry = Prom.Registry;
export type Counter<T extends string = string> = Prom.Counter<T>;
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export type Histogram<T extends string = string> = Prom.Histogram<T>;
export const Registry: typeof Prom.Registry = require('prom-client/lib/registry');
export const Counter: typeof Prom.Counter = require('prom-client/lib/counter');
export const Gauge: typeof Prom.Gauge = require('prom-client/lib/gauge');
export const Histogram: typeof Prom.Histogram = require('prom-client/lib/histogram');
const buckets: { linearBuckets: typeof Prom.linearBuckets; exponentialBuckets: typeof Prom.exponentialBuckets } = require('prom-client/lib/bucketGenerators');
export const { linearBuckets, exponentialBuckets } = buckets;

const pageSize = 4096;
const startTimeSeconds = Math.round(Date.now() / 1000 - process.uptime());

/** process_cpu_seconds_total, process_start_time_seconds, process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds, process_max_fds. */
export function registerProcessMetrics(registry: Registry): void {
  const registers = [registry];
  new Counter({
    name: 'process_cpu_seconds_total',
    help: 'Total user and system CPU time spent in seconds.',
    registers,
    collect() {
      const { user, system } = process.cpuUsage();
      this.reset();
      this.inc((user + system) / 1e6);
    },
  });
  new Gauge({ name: 'process_start_time_seconds', help: 'Start time of the process since unix epoch in seconds.', registers }).set(startTimeSeconds);
  new Gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size in bytes.',
    registers,
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Gauge({
    name: 'process_virtual_memory_bytes',
    help: 'Virtual memory size in bytes.',
    registers,
    collect() {
      const pages = Number(readProc('/proc/self/statm')?.split(' ')[0]);
      if (Number.isFinite(pages)) this.set(pages * pageSize);
    },
  });
  new Gauge({
    name: 'process_open_fds',
    help: 'Number of open file descriptors.',
    registers,
    collect() {
      try {
        this.set(readdirSync('/proc/self/fd').length);
      } catch {
        // not Linux
      }
    },
  });
  new Gauge({
    name: 'process_max_fds',
    help: 'Maximum number of open file descriptors.',
    registers,
    collect() {
      const m = /^Max open files\s+(\d+)/m.exec(readProc('/proc/self/limits') ?? '');
      if (m) this.set(Number(m[1]));
    },
  });
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
