// The cluster DNS on every core, as CoreDNS serves from all its goroutines:
// Node answers on one thread, so `kubesvc dns --concurrency N` (N > 1) runs N
// worker processes (node:cluster) of the same command. The primary binds
// nothing for DNS itself: a worker's UDP bind goes through it and every worker
// gets the same socket (the kernel hands each datagram to one reader), and TCP
// connections are dealt round-robin by the primary. Each worker lists and
// watches the API for its own record index (a shared index would cost a
// message per query, more than the answer). Names outside the zone are
// forwarded by the primary for every worker, so there is one answer cache,
// one loop probe and one set of upstream figures, as in one CoreDNS; that
// costs forwarded queries a message each way, small beside the upstream's
// round trip. The primary serves health,
// readiness (every worker synced) and metrics (the workers' sums), and on
// SIGTERM stops the workers before it exits; a worker whose primary is gone
// (killed) exits on the IPC channel closing, so none is left behind.
import cluster, { type Worker } from 'node:cluster';
import { createRequire } from 'node:module';
import { logger } from '../util/log.js';
import { Registry } from '../util/metrics.js';
import type { ClusterDns, ClusterDnsOptions } from './cluster-dns.js';
import { createForwarder, type Forwarder } from './forwarder.js';
import { startDnsHttp } from './http.js';
import { createDnsMetrics } from './metrics.js';
import type { Message, Question } from './types.js';
import { parseMessage, serializeMessage } from './wire.js';

const log = logger('dns');
/** One worker's metrics as Registry.getMetricsAsJSON gives them (what prom-client's aggregation sums). */
type MetricsJson = object[];
const require = createRequire(import.meta.url);

type ForwardOptions = { rd: boolean; dnssecOk: boolean };
type ToPrimary =
  | { dns: 'listening'; port: number }
  | { dns: 'synced' }
  | { dns: 'failed'; error: string }
  | { dns: 'metrics'; id: number; metrics: MetricsJson }
  | { dns: 'forward'; id: number; q: Question; opts: ForwardOptions }
  | { dns: 'loop'; from: string };
/** A forwarded answer travels as wire bytes (base64): IPC's JSON would lose the Buffers in a Message. */
type ToWorker = { dns: 'metrics?'; id: number } | { dns: 'forwarded'; id: number; response?: string };

/** The environment variable that gives workers the primary forwarder's loop probe name (they must recognise it coming back). */
const probeEnv = 'KUBESVC_DNS_LOOP_PROBE';

/**
 * In a worker: a Forwarder that asks the primary. Its cache figures are
 * zeros (the primary's cache is the one, and its figures are added in there).
 */
export function forwarderViaPrimary(): Forwarder {
  const pending = new Map<number, (m: Message | undefined) => void>();
  let next = 0;
  process.on('message', (m: ToWorker) => {
    if (m?.dns !== 'forwarded') return;
    const done = pending.get(m.id);
    pending.delete(m.id);
    done?.(m.response === undefined ? undefined : parseMessage(Buffer.from(m.response, 'base64')));
  });
  const send = (m: ToPrimary) => process.send?.(m);
  return {
    probeName: process.env[probeEnv] ?? '',
    resolve(q, opts) {
      const id = next++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        send({ dns: 'forward', id, q: { name: q.name, type: q.type, class: q.class }, opts: { rd: opts.rd, dnssecOk: opts.dnssecOk } });
      });
    },
    probe: async () => undefined,
    loopDetected: (from) => send({ dns: 'loop', from }),
    isLooping: () => false,
    cache: { get: () => undefined, put: () => undefined, size: () => ({ positive: 0, negative: 0 }), hits: () => 0, misses: () => 0 },
  };
}

/** Gauges that are one value for the whole server, not per process: summing them would count it once per worker. */
const notSummed: Record<string, 'max' | 'min'> = { coredns_build_info: 'max', process_start_time_seconds: 'min', process_max_fds: 'max' };

/** Whether this process is one of the workers a primary forked. */
export const isDnsWorker = (): boolean => cluster.isWorker;

/**
 * In a worker: serves DNS with `start` (the primary's flags: the same command
 * line) without HTTP endpoints, reports to the primary, answers its metrics
 * requests, and exits when told to or when the primary is gone.
 */
export async function runDnsWorker(start: () => Promise<ClusterDns>): Promise<void> {
  const send = (m: ToPrimary) => process.send?.(m);
  let dns: ClusterDns;
  try {
    dns = await start();
  } catch (e) {
    send({ dns: 'failed', error: (e as Error).message });
    process.exit(1);
  }
  send({ dns: 'listening', port: dns.port });
  const poll = setInterval(() => {
    if (!dns.isSynced()) return;
    clearInterval(poll);
    send({ dns: 'synced' });
  }, 50);
  process.on('message', (m: ToWorker) => {
    if (m?.dns === 'metrics?' && dns.registry) void dns.registry.getMetricsAsJSON().then((metrics) => send({ dns: 'metrics', id: m.id, metrics }));
  });
  // The primary stops workers by disconnecting them; a primary that died closes the channel too.
  await new Promise<void>((resolve) => process.once('disconnect', resolve));
  clearInterval(poll);
  await dns.stop();
  process.exit(0);
}

/** In the primary: forks `concurrency` workers, waits for them to listen, and serves the HTTP endpoints for them all. */
export async function startDnsWorkers(
  opts: Pick<ClusterDnsOptions, 'host' | 'upstreams' | 'health' | 'ready' | 'metrics'> & {
    concurrency: number;
    /** The workers' script and its arguments (tests); default: this process's own command line, which reaches runDnsWorker. */
    exec?: { file: string; args: string[] };
  },
): Promise<ClusterDns> {
  if (opts.exec) cluster.setupPrimary({ exec: opts.exec.file, args: opts.exec.args });
  // The primary's own metrics: the forwarder's (upstream durations, the cache) and its process figures.
  const metrics = createDnsMetrics();
  const forwarder = opts.upstreams.length
    ? createForwarder({ upstreams: opts.upstreams, onForward: (to, outcome, s) => metrics.forwarded(to, outcome === 'error' ? 'error' : String(outcome), s) })
    : undefined;
  const workers: Worker[] = [];
  const synced = new Set<Worker>();
  let stopping = false;
  /** Every worker listened: an exit from now on is a crash. */
  let started = false;
  const waiting = new Map<number, (m: MetricsJson) => void>();
  let nextId = 0;
  const listening = Array.from({ length: opts.concurrency }, () => {
    const w = cluster.fork({ [probeEnv]: forwarder?.probeName ?? '' });
    workers.push(w);
    return new Promise<number>((resolve, reject) => {
      w.on('message', (m: ToPrimary) => {
        if (m.dns === 'listening') resolve(m.port);
        else if (m.dns === 'failed') reject(Object.assign(new Error(m.error), { code: /EADDRINUSE|EACCES/.exec(m.error)?.[0] }));
        else if (m.dns === 'synced') synced.add(w);
        else if (m.dns === 'metrics') waiting.get(m.id)?.(m.metrics);
        else if (m.dns === 'loop') forwarder?.loopDetected(m.from);
        else if (m.dns === 'forward') {
          const reply = (response?: string) => {
            if (w.isConnected()) w.send({ dns: 'forwarded', id: m.id, response } satisfies ToWorker);
          };
          if (!forwarder) reply();
          else
            forwarder.resolve(m.q, m.opts).then(
              (answer) => reply(answer && serializeMessage(answer).buf.toString('base64')),
              (e: unknown) => {
                log.error('forwarding for a worker failed', { name: m.q.name, error: (e as Error).message });
                reply();
              },
            );
        }
      });
      w.on('exit', (code, signal) => {
        synced.delete(w);
        reject(new Error(`dns worker exited ${code ?? signal} before listening`));
        if (stopping || !started) return;
        // As the single process would have crashed: the whole server goes (the pod restarts it), not a part of it.
        log.error('dns worker exited: stopping', { pid: w.process.pid, code: code ?? signal });
        void stopWorkers().finally(() => process.exit(1));
      });
    });
  });
  const stopWorkers = async () => {
    stopping = true;
    await Promise.all(
      workers.map(async (w) => {
        if (w.isDead()) return;
        const exited = new Promise((r) => w.once('exit', r));
        w.disconnect();
        const timer = setTimeout(() => w.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
  };
  let port: number;
  try {
    [port] = await Promise.all(listening);
    started = true;
    if (forwarder) metrics.watchCache(`dns://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`, forwarder.cache);
  } catch (e) {
    await stopWorkers();
    throw e;
  }

  /** One scrape: every live worker's metrics (a worker that does not answer in a second is left out), summed. */
  const scrape = async (): Promise<string> => {
    const parts = await Promise.all([
      metrics.registry.getMetricsAsJSON(),
      ...workers
        .filter((w) => !w.isDead())
        .map(
          (w) => {
            const id = nextId++;
            return new Promise<MetricsJson | undefined>((resolve) => {
              const timer = setTimeout(() => resolve(undefined), 1000);
              waiting.set(id, (m) => {
                clearTimeout(timer);
                resolve(m);
              });
              w.send({ dns: 'metrics?', id } satisfies ToWorker);
            }).finally(() => waiting.delete(id));
          },
        ),
    ]);
    for (const part of parts) for (const m of (part ?? []) as { name: string; aggregator?: string }[]) if (notSummed[m.name]) m.aggregator = notSummed[m.name];
    // prom-client's cluster aggregation (loaded only here: single-process DNS never needs it).
    const AggregatorRegistry = require('prom-client/lib/cluster') as typeof import('prom-client').AggregatorRegistry;
    try {
      return await AggregatorRegistry.aggregate(parts.filter((p): p is MetricsJson => !!p)).metrics();
    } catch (e) {
      // A scrape must not take the server down; what is summed comes from our own registries, so this is a bug to see.
      log.error('summing the workers\' metrics failed', { error: (e as Error).message });
      return '';
    }
  };
  void forwarder?.probe();
  let http: Awaited<ReturnType<typeof startDnsHttp>>;
  try {
    http = await startDnsHttp({
      health: opts.health,
      ready: opts.ready,
      metrics: opts.metrics,
      isReady: () => synced.size === workers.length,
      registry: { contentType: Registry.PROMETHEUS_CONTENT_TYPE, metrics: scrape },
    });
  } catch (e) {
    await stopWorkers();
    throw e;
  }
  return {
    port,
    httpPorts: http.ports,
    isSynced: () => synced.size === workers.length,
    async stop() {
      await Promise.all([stopWorkers(), http.close()]);
    },
  };
}
