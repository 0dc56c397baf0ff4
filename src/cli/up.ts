// `kubesvc up`: the whole local cluster in one command: the API server on the
// embedded store, the controllers, and `--nodes N` nodes (agents running pods
// in network namespaces, each with its service proxy), and the cluster DNS as
// a system pod behind kube-system/kube-dns.
import { performance } from 'node:perf_hooks';
import { clusterIdFor } from '../agent/cluster-id.js';
import { CLUSTER_POD_CIDR, cleanupStale, destroyClusterNetwork } from '../agent/network.js';
import { createClient } from '../client/client.js';
import { createTransport } from '../client/transport.js';
import { controllerNames, startControllers } from '../controllers/manager.js';
import { startNode, type RunningNode } from './agent.js';
import { installDisabledByEnv, prepareNodeHost } from './host-setup.js';
import { apiserverFlags, startApiServerFromFlags } from './apiserver.js';
import { untilSignal } from '../util/signals.js';
import { parseFlags, UsageError } from './args.js';
import { nodeIndex, nodeName } from './nodes.js';
import { chooseNodeProxy } from './proxy-config.js';
import { clusterDNSIP, ensureClusterDns, ensureKubeProxy } from './system-components.js';
import { clusterServingCert, serveApiInCluster, withdrawApiInCluster, type InClusterApi } from './in-cluster-api.js';

export const upUsage = `Usage: kubesvc up [--data-dir .kubesvc] [--port 6443] [--bind 127.0.0.1] [--nodes 1]
                  [--proxy-mode iptables|nftables|ipvs|userspace] [--proxy-config kube-proxy.yaml] [--no-install]

Starts a local cluster whose API the real kubectl drives. Objects persist in
the data dir (SQLite); a second 'up' with the same data dir brings them back.
Nodes need root (network namespaces); without it the cluster runs without nodes.
Programs the nodes need (iproute2, iptables, nftables, conntrack, …) and the
clients the ready screen uses (curl, dig) are installed with the system's
package manager (apt-get, dnf, apk) when missing; --no-install (or
KUBESVC_NO_INSTALL=1) prints the command to run instead.
--proxy-mode: every node's service proxy mode (default iptables; ipvs falls
back to iptables on kernels without IPVS). --proxy-config: a KubeProxyConfiguration
(kubeproxy.config.k8s.io/v1alpha1) for every node's proxy, as kube-proxy's --config.`;

export async function upCommand(argv: string[]): Promise<void> {
  const started = performance.now();
  const { values } = parseFlags(argv, {
    ...apiserverFlags,
    nodes: { type: 'string' },
    'proxy-config': { type: 'string' },
    'proxy-mode': { type: 'string' },
    'no-install': { type: 'boolean' },
  });
  if (values.help) {
    console.log(upUsage);
    return;
  }
  const nodeCount = values.nodes === undefined ? 1 : Number(values.nodes);
  if (!Number.isInteger(nodeCount) || nodeCount < 0 || nodeCount > 50) throw new UsageError('--nodes must be a whole number from 0 to 50');
  const install = nodeCount > 0 && !values['no-install'] && !installDisabledByEnv();
  const proxy = chooseNodeProxy(values['proxy-mode'], values['proxy-config'], CLUSTER_POD_CIDR);
  // The host first: installing what nodes need may take a while, and says so line by line.
  const noNodes = nodeCount > 0 ? await prepareNodeHost(proxy.running, install, (line) => console.log(line)) : undefined;
  /** One progress line per phase as it completes, so a slow start shows where it is. */
  let last = performance.now();
  const progress = (what: string) => {
    const now = performance.now();
    console.log(`  ✓ ${what} (${Math.round(now - last)} ms)`);
    last = now;
  };
  // Pods mount a service account token and the cluster CA (ServiceAccount admission; the root CA publisher).
  const server = await startApiServerFromFlags(values, '.kubesvc', { serviceAccountTokens: true });
  progress('API server');
  const dataDir = server.kubeconfigPath.replace(/\/kubeconfig$/, '');
  // In one process the components still go through the API, as separate ones would.
  const client = createClient(createTransport({ server: 'http://localhost', socketPath: server.socketPath }), 'kubesvc');
  const nodes: RunningNode[] = [];
  const clusterId = clusterIdFor(dataDir);
  let controllers: Awaited<ReturnType<typeof startControllers>> | undefined;
  let inCluster: InClusterApi | undefined;
  let networkCreated = false;
  const stop = async () => {
    await inCluster?.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    if (networkCreated) await destroyClusterNetwork(clusterId);
    await controllers?.stop();
    client.close();
    await server.close();
  };
  try {
    const certs = await clusterServingCert(server, dataDir);
    controllers = await startControllers(client, { options: { rootCA: certs.caCert } });
    progress('controllers');
    await ensureKubeProxy(client, dataDir, proxy.configText, proxy.explicit);
    await ensureClusterDns(client, dataDir);
    progress('system components (kube-proxy, coredns)');
    if (nodeCount > 0 && !noNodes) {
      // Whatever a crashed run of this cluster left behind goes first.
      await cleanupStale(clusterId);
      networkCreated = true;
      const starting = serveApiInCluster(server, client, certs, clusterId).then((api) => (inCluster = api));
      starting.catch(() => {}); // awaited below, after the nodes
      // Nodes start side by side; each is listed as it comes up.
      const nodeStarts = await Promise.allSettled(
        Array.from({ length: nodeCount }, (_, i) =>
          startNode({ client, dataDir, name: nodeName(i) }).then((node) => {
            nodes.push(node);
            progress(node.name);
          }),
        ),
      );
      const failed = nodeStarts.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      nodes.sort((a, b) => nodeIndex(a.name) - nodeIndex(b.name));
      await starting;
      progress(`API in the cluster (https://${inCluster!.address})`);
    } else await withdrawApiInCluster(server);
  } catch (e) {
    await stop();
    throw e;
  }
  const ms = Math.round(performance.now() - started);
  // Under `npm start` the command is not on PATH: say it as npx runs it.
  const self = process.env.npm_lifecycle_event ? 'npx kubesvc' : 'kubesvc';
  const nodeLine = nodes.length
    ? nodes.map((n) => `${n.name} (${n.network.nodeIP}, pods ${n.network.podCIDR})`).join(', ')
    : `none${noNodes ? ` — ${noNodes}` : ''}`;
  console.log(`kubesvc is up (${ms} ms)

  API server   ${server.url}   (storage: SQLite in ${dataDir})${inCluster ? `
               in the cluster: https://kubernetes.default.svc → ${inCluster.address} (CA ${dataDir}/pki/ca.crt)` : ''}
  controllers  ${controllerNames.join(', ')}
  nodes        ${nodeLine}
  DNS          kube-system/kube-dns ${clusterDNSIP} (Deployment coredns${nodes.length ? '' : '; needs a node to run'})
  proxy        DaemonSet kube-system/kube-proxy, ${proxy.running} mode (${proxy.why}; ConfigMap kube-system/kube-proxy)

  export KUBECONFIG=${server.kubeconfigPath}
  kubectl create deployment web --image=nginx --replicas=3 && kubectl expose deployment web --port=80
  ${self} exec -- curl -s http://$(kubectl get svc web -o jsonpath='{.spec.clusterIP}')/
  ${self} exec -- dig @${clusterDNSIP} +short web.default.svc.cluster.local

Ctrl-C stops the cluster; 'kubesvc up' again brings every object back.`);
  await untilSignal();
  console.log('kubesvc: stopping');
  await stop();
}
