// Traffic policies through the userspace proxy on a two-node `kubesvc up`:
// two backends pinned to node-1; externalTrafficPolicy: Local serves outside
// traffic only from node-local endpoints (node-2 refuses, its health check
// says 503), traffic from a node itself is short-circuited to every endpoint,
// and internalTrafficPolicy: Local keeps cluster-IP traffic on the node.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kubectl } from '../helpers/kubectl.js';
import { startUp, type UpCluster } from '../helpers/up.js';
import { answersFrom, namespaceSkipReason, onNode } from '../helpers/root.js';
import { localPolicyServices, manifests, pinnedBackends } from '../helpers/manifests.js';
import { waitFor } from '../helpers/apiserver.js';

const skipReason = () => namespaceSkipReason(['iptables-restore']);


const node1 = '172.18.0.2';
const node2 = '172.18.0.3';

describe('traffic policies across two nodes (userspace proxy)', { skip: skipReason(), timeout: 180_000 }, () => {
  let dataDir: string;
  let cluster: UpCluster | undefined;
  let kubectl: Kubectl;
  let pods: string[];
  let healthPort: string;

  /** Distinct answers (or FAILED) over n requests from a node. */
  const seen = (node: string, url: string, n = 8) => answersFrom(dataDir, url, { n, node });

  before(async () => {
    cluster = await startUp('policy', ['--nodes', '2', '--proxy-mode', 'userspace']);
    ({ dataDir, kubectl } = cluster);
    await kubectl.ok(['apply', '-f', '-'], { input: manifests(pinnedBackends, localPolicyServices) });
    await kubectl.ok(['rollout', 'status', 'deployment/pinned', '--timeout=60s']);
    pods = (await kubectl.ok(['get', 'pods', '-l', 'app=pinned', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').sort();
    healthPort = await kubectl.ok(['get', 'svc', 'etp-local', '-o', 'jsonpath={.spec.healthCheckNodePort}']);
    await waitFor('node-1 serving the node port', async () => JSON.stringify(await seen('node-2', `http://${node1}:30080/`, 4)) === JSON.stringify(pods), 20_000);
  });

  after(() => cluster?.stop());

  test('both backends run on node-1', async () => {
    const nodes = await kubectl.ok(['get', 'pods', '-l', 'app=pinned', '-o', 'jsonpath={.items[*].spec.nodeName}']);
    assert.deepEqual([...new Set(nodes.split(' '))], ['node-1']);
  });

  test('externalTrafficPolicy Local: node-1 serves outside traffic from its endpoints, node-2 refuses it', async () => {
    assert.deepEqual(await seen('node-2', `http://${node1}:30080/`), pods);
    assert.deepEqual(await seen('node-1', `http://${node2}:30080/`, 3), ['FAILED']);
  });

  test('healthCheckNodePort: 200 with the local endpoint count on node-1, 503 on node-2', async () => {
    assert.match(healthPort, /^\d+$/);
    const ask = async (from: string, ip: string) => (await onNode(dataDir, ['curl', '-s', '-w', '\n%{http_code}', `http://${ip}:${healthPort}/healthz`], from)).stdout;
    const one = await ask('node-2', node1);
    assert.match(one, /"localEndpoints": 2,/);
    assert.match(one, /"name": "etp-local"/);
    assert.match(one, /200$/);
    const two = await ask('node-1', node2);
    assert.match(two, /"localEndpoints": 0,/);
    assert.match(two, /503$/);
  });

  test('traffic from a node to its own node port is short-circuited to every endpoint', async () => {
    assert.deepEqual(await seen('node-2', `http://${node2}:30080/`), pods);
  });

  test('internalTrafficPolicy Local: node-1 reaches its endpoints, node-2 has none', async () => {
    assert.deepEqual(await seen('node-1', 'http://10.97.2.2/'), pods);
    assert.deepEqual(await seen('node-2', 'http://10.97.2.2/', 3), ['FAILED']);
  });
});
