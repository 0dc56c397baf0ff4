// `kubesvc dns`: the cluster DNS server against any API server (kubeconfig or
// data dir), as CoreDNS with the kubernetes plugin runs in a cluster.
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { startClusterDns } from '../dns/cluster-dns.js';
import { forwarderViaPrimary, isDnsWorker, runDnsWorker, startDnsWorkers } from '../dns/workers.js';
import { parseUpstream, upstreamsFromResolvConf, type Forwarder } from '../dns/forwarder.js';
import { logger } from '../util/log.js';
import { untilSignal } from '../util/signals.js';
import { parseFlags, UsageError } from './args.js';
import { applyLogFlags, logFlags, logFlagsUsage } from './log-flags.js';
import { clientFor } from './client-flags.js';
import { componentUsers } from '../auth/user.js';

const log = logger('dns');

/** Where cluster clients come from: loopback and private address space (RFC 1918, RFC 6598, ULA). */
const privateRanges = ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '::1/128', 'fc00::/7'];

export const dnsUsage = `Usage: kubesvc dns (--kubeconfig FILE | --data-dir DIR) [--listen 0.0.0.0:53]
                   [--cluster-domain cluster.local] [--ttl 5] [--upstream IP[:port],...|none | --resolv-conf /etc/resolv.conf]
                   [--recursion-from CIDR,...] [--autopath]
                   [--health :8080] [--ready :8181] [--metrics :9153] [--concurrency N] [-v N] [--logging-format text|json]

Serves the Kubernetes DNS specification for the cluster's Services and Pods (UDP
and TCP), forwarding other names to the upstreams (the host's resolv.conf by
default; "none": other names are REFUSED) for clients in --recursion-from
(default: loopback and the private ranges a cluster uses — never an open
resolver; others get REFUSED). --autopath
finishes a pod's search path on the server, so an external name costs one query.
--concurrency: worker processes answering on the same sockets (default 1:
this process answers; N > 1 forks N workers, each with its own copy of the
records, for throughput on every core: ~85 MB of memory per worker
with 10,000 Services and their EndpointSlices, beside ~55 MB for the primary).
Logs go to standard error. ${logFlagsUsage}`;

export async function dnsCommand(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, {
    kubeconfig: { type: 'string' },
    'data-dir': { type: 'string' },
    listen: { type: 'string' },
    'cluster-domain': { type: 'string' },
    ttl: { type: 'string' },
    upstream: { type: 'string' },
    'resolv-conf': { type: 'string' },
    'recursion-from': { type: 'string' },
    autopath: { type: 'boolean' },
    health: { type: 'string' },
    ready: { type: 'string' },
    metrics: { type: 'string' },
    concurrency: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    ...logFlags,
  });
  if (values.help) {
    console.log(dnsUsage);
    return;
  }
  applyLogFlags(values);
  // V8's memory-over-speed heuristics (smaller heap growth steps, earlier full collections): a cache of the
  // cluster's names that sits mostly idle between bursts of small queries. A GC heuristic only: no behaviour
  // changes, and V8 reads it as it goes, so setting it here, before the records are built, takes effect.
  setFlagsFromString('--optimize-for-size');
  const listen = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(values.listen ?? '0.0.0.0:53');
  const host = listen ? (listen[1] ?? listen[2]) || '0.0.0.0' : '';
  if (!listen || !isIP(host) || Number(listen[3]) > 65535) throw new UsageError(`--listen "${values.listen}": want IP:port`);
  const ttl = Number(values.ttl ?? 5);
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 3600) throw new UsageError('--ttl must be a whole number of seconds from 0 to 3600');
  const zone = (values['cluster-domain'] ?? 'cluster.local').replace(/\.$/, '').toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(zone)) throw new UsageError(`--cluster-domain "${values['cluster-domain']}" is not a DNS name`);
  let upstreams;
  try {
    upstreams =
      values.upstream === 'none'
        ? []
        : values.upstream
          ? values.upstream.split(',').map((s) => parseUpstream(s.trim()))
          : upstreamsFromResolvConf(values['resolv-conf']);
  } catch (e) {
    throw new UsageError(`--upstream: ${(e as Error).message}`);
  }
  const recursionFrom = values['recursion-from'] ? values['recursion-from'].split(',').map((s) => s.trim()).filter(Boolean) : [...privateRanges];
  for (const c of recursionFrom) {
    const [addr, bits] = c.split('/');
    if (!isIP(addr) || !/^\d+$/.test(bits ?? '') || Number(bits) > (isIP(addr) === 4 ? 32 : 128)) throw new UsageError(`--recursion-from: "${c}" is not a CIDR`);
  }
  // One process by default: a worker per core multiplies the memory (each holds the records), which a small cluster's DNS does not need.
  const concurrency = values.concurrency === undefined ? 1 : values.concurrency === 'auto' ? availableParallelism() : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new UsageError('--concurrency must be a whole number from 1 to 256, or auto (the CPU count)');
  const http = { health: values.health ?? ':8080', ready: values.ready ?? ':8181', metrics: values.metrics ?? ':9153' };
  const serve = (endpoints: typeof http, forwarder?: Forwarder) => {
    const client = clientFor(values, componentUsers.coredns, 'coredns');
    const started = startClusterDns({ client, zone, ttl, host, port: Number(listen[3]), upstreams, recursionFrom, autopath: values.autopath ?? false, ...endpoints, forwarder });
    return started.then(
      (dns) => ({ ...dns, stop: () => dns.stop().finally(() => client.close()) }),
      (e: unknown) => {
        client.close();
        throw e;
      },
    );
  };
  if (isDnsWorker()) {
    // A worker of a primary with --concurrency > 1: the same flags, DNS only; the primary serves HTTP and stops it.
    process.on('SIGTERM', () => undefined);
    process.on('SIGINT', () => undefined);
    await runDnsWorker(() => serve({ health: '', ready: '', metrics: '' }, upstreams.length ? forwarderViaPrimary() : undefined));
    return;
  }
  const dns = await (concurrency > 1 ? startDnsWorkers({ ...http, host, upstreams, concurrency }) : serve(http)).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES') throw new UsageError(`cannot listen: ${e.message}`);
    throw e;
  });
  log.info('ready', { listen: `${host}:${dns.port}`, zone, upstreams: upstreams.map((u) => `${u.host}:${u.port}`).join(',') || 'none', autopath: values.autopath ?? false, concurrency });
  await untilSignal();
  await dns.stop();
}
