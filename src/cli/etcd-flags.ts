// kube-apiserver's etcd flags: --etcd-servers (comma-separated client URLs),
// --etcd-cafile, --etcd-certfile, --etcd-keyfile (PEM files for https://
// endpoints), --etcd-prefix (where the keys live, default /registry) and
// --etcd-compaction-interval (default 5m0s).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EtcdStoreOptions } from '../storage/etcd/store.js';
import { defaultEtcdPrefix } from '../storage/etcd/store.js';
import { UsageError } from './args.js';
import { parseGoDuration } from '../util/go-duration.js';
import { errorMessage } from '../util/errors.js';

export const etcdFlags = {
  'etcd-servers': { type: 'string' },
  'etcd-cafile': { type: 'string' },
  'etcd-certfile': { type: 'string' },
  'etcd-keyfile': { type: 'string' },
  'etcd-prefix': { type: 'string' },
  'etcd-compaction-interval': { type: 'string' },
} as const;

export const etcdFlagsUsage = `
With --etcd-servers https://a:2379,https://b:2379 (kube-apiserver's flags;
--etcd-cafile, --etcd-certfile and --etcd-keyfile for https:// endpoints,
--etcd-prefix, default /registry, --etcd-compaction-interval, default 5m0s,
0 never) objects are stored in etcd instead of DIR/state.db: one etcd
transaction per write, etcd's revisions as resourceVersions, upstream's keys
(/registry/services/specs/NAMESPACE/NAME, ...), values as JSON (upstream
writes built-in kinds as protobuf). The endpoints are tried in turn;
/readyz and /livez report the "etcd" check.
`;

/** The etcd store the flags name, or undefined for the data dir's SQLite. */
export function etcdFromFlags(values: Record<string, string | boolean | undefined>): EtcdStoreOptions | undefined {
  const servers = values['etcd-servers'] as string | undefined;
  const file = (flag: string) => {
    const path = values[flag] as string | undefined;
    if (path === undefined) return undefined;
    if (servers === undefined) throw new UsageError(`--${flag} needs --etcd-servers`);
    if (!existsSync(path)) throw new UsageError(`--${flag} ${path}: no such file`);
    return resolve(path);
  };
  const [caFile, certFile, keyFile] = [file('etcd-cafile'), file('etcd-certfile'), file('etcd-keyfile')];
  const prefix = values['etcd-prefix'] as string | undefined;
  const compaction = values['etcd-compaction-interval'] as string | undefined;
  if (servers === undefined) {
    if (prefix !== undefined) throw new UsageError('--etcd-prefix needs --etcd-servers');
    if (compaction !== undefined) throw new UsageError('--etcd-compaction-interval needs --etcd-servers');
    return undefined;
  }
  let compactionIntervalMs: number | undefined;
  try {
    compactionIntervalMs = compaction === undefined ? undefined : parseGoDuration(compaction);
  } catch (e) {
    throw new UsageError(`--etcd-compaction-interval: ${errorMessage(e)}`);
  }
  if (compactionIntervalMs !== undefined && compactionIntervalMs < 0) throw new UsageError(`--etcd-compaction-interval ${compaction}: must not be negative`);
  if (!certFile !== !keyFile) throw new UsageError('--etcd-certfile and --etcd-keyfile go together: the client certificate and its key');
  if (prefix !== undefined && !prefix.startsWith('/')) throw new UsageError(`--etcd-prefix ${prefix}: must start with /`);
  const endpoints = servers.split(',').map((e) => e.trim()).filter(Boolean);
  if (!endpoints.length) throw new UsageError('--etcd-servers: no server given');
  for (const e of endpoints) {
    if (!/^https?:\/\/[^/]+/.test(e) || !URL.canParse(e)) throw new UsageError(`--etcd-servers: "${e}" is not an http:// or https:// URL`);
  }
  return { endpoints, caFile, certFile, keyFile, prefix: prefix ?? defaultEtcdPrefix, compactionIntervalMs };
}
