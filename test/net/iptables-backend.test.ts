// The iptables backend a proxy writes to (src/net/iptables-backend.ts), decided
// as kubernetes-sigs' iptables-wrapper does, in network namespaces of the
// test's own: the node agent's hint wins, then the backend holding more rules,
// nf_tables on a tie.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { namespaceSkipReason } from '../helpers/root.js';
import { writeIptablesHint } from '../../src/net/iptables-backend.js';

const netns = `ksvc-ipt-backend-${process.pid}`;
const sh = (cmd: string) => spawnSync('ip', ['netns', 'exec', netns, 'sh', '-c', cmd], { encoding: 'utf8' });

/** detectIptablesBackend run inside the namespace (it looks at the tables of the process's own). */
function detected(): string {
  const code = "import('./src/net/iptables-backend.ts').then(async (m) => console.log(JSON.stringify(await m.detectIptablesBackend())))";
  const r = spawnSync('ip', ['netns', 'exec', netns, process.execPath, '--import', 'tsx', '-e', code], { encoding: 'utf8', cwd: new URL('../..', import.meta.url).pathname });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { backend: string }).backend;
}

describe('which iptables a node uses', { skip: namespaceSkipReason(['iptables-nft', 'iptables-legacy']) }, () => {
  before(() => {
    assert.equal(spawnSync('ip', ['netns', 'add', netns]).status, 0);
  });
  after(() => {
    spawnSync('ip', ['netns', 'del', netns]);
  });

  test('no rules in either: nf_tables', () => {
    assert.equal(detected(), 'nft');
  });

  test('rules only in legacy: legacy; then the node agent\'s hint (written with the node\'s iptables, nf_tables here) wins', async () => {
    assert.equal(sh('iptables-legacy -t nat -N KUBE-SOMETHING && iptables-legacy -t nat -A KUBE-SOMETHING -j RETURN').status, 0);
    assert.equal(detected(), 'legacy');
    await writeIptablesHint(netns);
    assert.match(sh('iptables-nft-save -t mangle').stdout, /:KUBE-IPTABLES-HINT /);
    assert.equal(detected(), 'nft');
  });
});
