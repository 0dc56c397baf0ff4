// `up -v N --log-format F` reaching the system pods, through a real API
// server: kube-proxy's ConfigMap gets the KubeProxyConfiguration `logging`
// section (and its DaemonSet a rollout restart, as its pods read config.conf
// at start), coredns's Deployment the flags in its args; the same settings
// again change nothing; a user's other args and settings stay.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import type { ConfigMap, DaemonSet, Deployment, Stored } from '../src/api/types.js';
import { createClient, resourceTypes, type Client } from '../src/client/client.js';
import { createTransport } from '../src/client/transport.js';
import { ensureClusterDns, ensureKubeProxy, withLoggingArgs, withProxyLogging } from '../src/cli/system-components.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

let api: TestApiServer;
let client: Client;
const server = 'https://172.18.0.1:6443';
const configText = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n# the mode\nmode: iptables\n';

before(async () => {
  api = await startTestApiServer();
  client = createClient(createTransport(api.admin), 'system-components-test');
});
after(async () => {
  client?.close();
  await api?.stop();
});

const get = async () => ({
  cm: await client.resource<Stored<ConfigMap>>(resourceTypes.configmaps).get('kube-system', 'kube-proxy'),
  ds: await client.resource<Stored<DaemonSet>>(resourceTypes.daemonsets).get('kube-system', 'kube-proxy'),
  dns: await client.resource<Stored<Deployment>>(resourceTypes.deployments).get('kube-system', 'coredns'),
});

test('the logging flags: replaced in args (both spellings), set in config.conf keeping the rest', () => {
  assert.deepEqual(withLoggingArgs(['--listen', ':53', '-v', '2', '--log-format=text'], { verbosity: 4, format: 'json' }), ['--listen', ':53', '-v=4', '--logging-format=json']);
  assert.deepEqual(withLoggingArgs(['-v=2', '--logging-format=json'], { verbosity: 0 }), ['--logging-format=json', '-v=0']);
  const text = withProxyLogging(configText, { verbosity: 4 })!;
  assert.match(text, /# the mode\nmode: iptables/);
  assert.deepEqual(parseYaml(text).logging, { verbosity: 4 });
  assert.equal(withProxyLogging(text, { verbosity: 4 }), undefined);
});

test('up without logging flags, then with -v 4 --log-format json, then the same again', async () => {
  await Promise.all([ensureKubeProxy(client, configText, false, server), ensureClusterDns(client)]);
  const first = await get();
  assert.equal(parseYaml(first.cm.data!['config.conf']!).logging, undefined);
  assert.ok(!first.dns.spec!.template!.spec!.containers[0].args!.some((a) => a.startsWith('-v')));

  const logging = { verbosity: 4, format: 'json' as const };
  await Promise.all([ensureKubeProxy(client, configText, false, server, logging), ensureClusterDns(client, logging)]);
  const second = await get();
  const conf = parseYaml(second.cm.data!['config.conf']!);
  assert.deepEqual(conf.logging, { verbosity: 4, format: 'json' });
  assert.equal(conf.mode, 'iptables');
  assert.equal(second.cm.data!['kubeconfig.conf'], first.cm.data!['kubeconfig.conf']);
  assert.match(second.ds.spec!.template!.metadata!.annotations?.['kubectl.kubernetes.io/restartedAt'] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const args = second.dns.spec!.template!.spec!.containers[0].args!;
  assert.deepEqual(args.slice(-2), ['-v=4', '--logging-format=json']);
  assert.deepEqual(args.slice(0, -2), first.dns.spec!.template!.spec!.containers[0].args);

  await Promise.all([ensureKubeProxy(client, configText, false, server, logging), ensureClusterDns(client, logging)]);
  const third = await get();
  assert.equal(third.cm.metadata.resourceVersion, second.cm.metadata.resourceVersion);
  assert.equal(third.ds.metadata.resourceVersion, second.ds.metadata.resourceVersion);
  assert.equal(third.dns.metadata.resourceVersion, second.dns.metadata.resourceVersion);
});
