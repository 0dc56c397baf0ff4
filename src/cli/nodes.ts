// Where a cluster's nodes live on this machine: node names map to indexes
// (node-1 → 0, node-2 → 1, ...) and so to their network namespaces.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { clusterIdFor } from '../agent/cluster-id.js';
import { nodeNetnsName } from '../agent/network.js';
import { UsageError } from './args.js';

export function nodeName(index: number): string {
  return `node-${index + 1}`;
}

export function nodeIndex(name: string): number {
  const m = /^node-(\d+)$/.exec(name);
  if (!m || Number(m[1]) < 1) throw new UsageError(`unknown node "${name}": kubesvc names its nodes node-1, node-2, ...`);
  return Number(m[1]) - 1;
}

/** Nodes whose agent ran from this data dir (each keeps a folder under nodes/). */
export function knownNodes(dataDir: string): string[] {
  const dir = join(dataDir, 'nodes');
  return existsSync(dir) ? readdirSync(dir).filter((n) => /^node-\d+$/.test(n)).sort((a, b) => nodeIndex(a) - nodeIndex(b)) : [];
}

export function nodeNetns(dataDir: string, name: string): string {
  return nodeNetnsName(clusterIdFor(dataDir), nodeIndex(name));
}
