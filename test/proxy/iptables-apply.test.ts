// The two ways a full iptables sync is applied leave the kernel the same: a
// table replacement (tables kube-proxy owns) and upstream's --noflush rewrite
// followed by ensureJumps' inserts, each in a network namespace of its own;
// and a table holding someone else's rule is not owned.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshot } from '../../src/proxy/snapshot.js';
import { buildIptablesRules, jumpRules } from '../../src/proxy/iptables/rules.js';
import { renderFullRestore, renderTableReplacement, tablesOwnedByKubeProxy } from '../../src/proxy/iptables/restore.js';
import { addNetns, deleteNetns, execInNetns } from '../../src/net/ip.js';
import { namespaceSkipReason } from '../helpers/root.js';
import { overallServices, overallSlices, upstreamTestNode } from './fixtures.js';

const nsA = `ksvc-test-ipt-a-${process.pid}`;
const nsB = `ksvc-test-ipt-b-${process.pid}`;

/** iptables-save of nat and filter without comments and counters. */
async function saved(ns: string): Promise<string> {
  const out = (await execInNetns(ns, ['iptables-save', '-t', 'filter'])).stdout + (await execInNetns(ns, ['iptables-save', '-t', 'nat'])).stdout;
  return out
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/, '[0:0]'))
    .join('\n');
}

describe('iptables full sync, both ways', { skip: namespaceSkipReason(['iptables-restore', 'iptables-save']) }, () => {
  before(async () => {
    await addNetns(nsA, { ifMissing: true });
    await addNetns(nsB, { ifMissing: true });
  });
  after(async () => {
    await deleteNetns(nsA);
    await deleteNetns(nsB);
  });

  test('a table replacement leaves what --noflush plus ensureJumps leaves', async () => {
    const rs = buildIptablesRules(buildSnapshot(overallServices(), overallSlices(), upstreamTestNode), { clusterCIDRs: ['10.0.0.0/8'] });
    assert.equal(tablesOwnedByKubeProxy(await saved(nsA)), true, 'a fresh namespace');
    await execInNetns(nsA, ['iptables-restore', '-w', '--noflush'], { input: renderFullRestore(rs) });
    for (const j of jumpRules()) await execInNetns(nsA, ['iptables', '-w', '-t', j.table, '-I', j.chain, ...j.args]);
    await execInNetns(nsB, ['iptables-restore', '-w'], { input: renderTableReplacement(rs, jumpRules()) });
    const a = await saved(nsA);
    assert.match(a, /-A KUBE-SERVICES .* -j KUBE-SVC-/);
    assert.equal(await saved(nsB), a);
    assert.equal(tablesOwnedByKubeProxy(a), true, 'what kube-proxy wrote is owned');
    await execInNetns(nsB, ['iptables', '-w', '-t', 'nat', '-A', 'POSTROUTING', '-j', 'MASQUERADE']);
    assert.equal(tablesOwnedByKubeProxy(await saved(nsB)), false, 'someone else’s rule');
  });
});
