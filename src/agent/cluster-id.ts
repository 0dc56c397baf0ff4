// A short id for a cluster, derived from its data dir, so two clusters on one
// machine never share a namespace or link name (names are capped at 15 chars).
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';

export function clusterIdFor(dataDir: string): string {
  return createHash('sha1').update(resolve(dataDir)).digest('hex').slice(0, 4);
}
