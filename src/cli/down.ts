// `kubesvc down`: removes what a crashed cluster left on the machine
// (namespaces, links, processes, sockets). Objects in the data dir stay.
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { clusterIdFor } from '../agent/cluster-id.js';
import { agentSocketPath, apiServerSocketPath } from '../util/data-dir.js';
import { cleanupStale } from '../agent/network.js';
import { cleanupEgress } from '../agent/egress.js';
import { cleanupOciLeftovers, ociPaths } from '../agent/oci-leftovers.js';
import { dataDirOwner } from '../storage/data-dir-lock.js';
import { knownNodes } from './nodes.js';
import { parseFlags, UsageError } from './args.js';

export async function downCommand(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, { 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log('Usage: kubesvc down [--data-dir .kubesvc]\n\nRemoves the network namespaces, links and processes a stopped or crashed cluster left behind, and its egress (the host\'s table ip kubesvc-egress-<id>, link and forwarding settings).');
    return;
  }
  if (process.getuid?.() !== 0) throw new UsageError('down removes network namespaces, which needs root');
  const dataDir = resolve(values['data-dir'] ?? '.kubesvc');
  const owner = dataDirOwner(dataDir);
  if (owner) throw new UsageError(`a cluster is running from ${dataDir} (pid ${owner}); stop it with Ctrl-C (or kill ${owner}) — down is for what a crashed one left behind`);
  const clusterId = clusterIdFor(dataDir);
  // The nodes' OCI containers first: they hold the pods' namespaces and mounts.
  for (const node of knownNodes(dataDir)) {
    const left = await cleanupOciLeftovers(ociPaths(join(dataDir, 'nodes', node), clusterId, node));
    if (left.containers.length || left.mounts.length) console.log(`kubesvc: node ${node}: removed ${left.containers.length} container(s), ${left.mounts.length} mount(s)`);
    for (const p of [...left.problems, ...left.busyCgroups.map((c) => `cgroup ${c} still in use`)]) console.error(`kubesvc: node ${node}: ${p}`);
  }
  const removed = await cleanupStale(clusterId);
  const egress = await cleanupEgress(clusterId);
  if (egress.length) console.log(`kubesvc: removed the egress: ${egress.join(', ')}`);
  rmSync(apiServerSocketPath(dataDir), { force: true });
  for (const node of knownNodes(dataDir)) rmSync(agentSocketPath(dataDir, node), { force: true });
  console.log(removed.length ? `kubesvc: removed ${removed.length} namespace(s): ${removed.join(' ')}` : 'kubesvc: nothing to clean up');
}
