// `kubesvc up`: the whole local cluster in one command: the API server on the
// embedded store, the controllers, and `--nodes N` nodes (agents running pods
// in network namespaces, each with its service proxy), and the cluster DNS as
// a system pod behind kube-system/kube-dns.
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clusterIdFor } from '../agent/cluster-id.js';
import { CLUSTER_POD_CIDR, CONTROL_PLANE_IP, cleanupStale, destroyClusterNetwork, podNetnsName } from '../agent/network.js';
import { componentUsers } from '../auth/user.js';
import { createClient, type Client } from '../client/client.js';
import { createTransport } from '../client/transport.js';
import { controllerCredentials, type ControllerCredentials } from './controller-credentials.js';
import { controllerNames, startControllers } from '../controllers/manager.js';
import { clusterSigningOption } from './cluster-signing.js';
import { startNode, type RunningNode } from './agent.js';
import { installDisabledByEnv, prepareNodeHost } from './host-setup.js';
import { apiserverFlags, startApiServerFromFlags } from './apiserver.js';
import { defaultAdvertisePort } from '../apiserver/apiserver.js';
import { untilSignal } from '../util/signals.js';
import { parseGoDuration } from '../util/go-duration.js';
import { errorMessage } from '../util/errors.js';
import { parseFlags, UsageError } from './args.js';
import { nodeIndex, nodeName, nodeNetns } from './nodes.js';
import { chooseNodeProxy } from './proxy-config.js';
import { clusterDNSIP, ensureClusterDns, ensureKubeProxy } from './system-components.js';
import { serveApiInCluster, withdrawApiInCluster, type InClusterApi } from './in-cluster-api.js';
import { applyImageFlags, describeImageSettings, parseImagesFlag, parseRegistryMirrorFlags, type ImageSettings } from './image-settings.js';
import { logFlags, parseLogFlags } from './log-flags.js';
import { openUpLogs, upLogFiles, upLogsDir } from './up-logs.js';
import { configureLogging, resetLogging } from '../util/log.js';
import { cleanupEgress, decideEgress, nodeResolvConfText, setUpEgress, type EgressDecision } from '../agent/egress.js';
import { applyEgressFlag, egressFlags, nodeResolvConfPath, parseEgressFlags } from './egress-settings.js';
import { writeFileSync } from 'node:fs';
import type { Dashboard } from '../dashboard/server.js';
import { isIPv4 } from 'node:net';
import { createOverlay, type Overlay } from '../agent/overlay.js';
import { publishNodePorts, type NodePortPublisher } from '../agent/node-port-publisher.js';
import { createNetnsDialer, type NetnsDialer } from '../net/dial-in-netns.js';
import { clusterNetnsName } from '../agent/network.js';

export const upUsage = `Usage: kubesvc up [--data-dir .kubesvc] [--port 6443] [--bind 127.0.0.1] [--nodes 1]
                  [--proxy-mode iptables|nftables|nftables-maps|ipvs|userspace] [--proxy-config kube-proxy.yaml] [--no-install]
                  [--sync-frequency 1m] [--images builtin|registry] [--registry-mirror NAME=URL]...
                  [--egress auto|off | --no-egress] [--advertise-address IP]
                  [--audit-policy-file policy.yaml --audit-log-path audit.log] [-v N] [--log-format text|json]
                  [--dashboard-port 0]

Starts a local cluster whose API the real kubectl drives. Objects persist in
the data dir (SQLite); a second 'up' with the same data dir brings them back.
Nodes need root (network namespaces); without it the cluster runs without nodes.
Programs the nodes need (iproute2, iptables, nftables, conntrack, …) and the
clients the ready screen uses (curl, dig) are installed with the system's
package manager (apt-get, dnf, apk) when missing; --no-install (or
KUBESVC_NO_INSTALL=1) prints the command to run instead.
--proxy-mode: every node's service proxy mode (default iptables; ipvs falls
back to iptables on kernels without IPVS). --proxy-config: a KubeProxyConfiguration
(kubeproxy.config.k8s.io/v1alpha1) for every node's proxy, as kube-proxy's --config.
--sync-frequency: how often each node refreshes the ConfigMaps, Secrets and
service account tokens mounted in running pods (the kubelet's flag; default 1m).
--images: where the tutorial images kubesvc implements (agnhost, nginx,
serve_hostname, node-hello, busybox, ...) come from: builtin (the default) runs
kubesvc's own implementation, offline, on a read-only view of the host's files;
registry pulls the real ones like every other image (the cluster's kube-proxy
and coredns stay built in). --registry-mirror NAME=URL (repeatable): pulls of
images from registry NAME (docker.io is Docker Hub's) go to URL and nowhere
else, e.g. registry.k8s.io=http://127.0.0.1:5000 (plain HTTP for loopback only);
'none' forgets them. Both are kept in the data dir: 'up' again keeps them
unless given again.
--egress auto (the default): pods reach addresses beyond the cluster through
this machine when it has a default route — masqueraded at their node and
again as they leave the machine's default interface (one veth with a
169.254.222.x/30 and an nftables table ip kubesvc-egress-<id> of the cluster's
own; no cluster route in the host) — and the cluster DNS forwards names outside
the cluster to the machine's resolvers. --egress off (--no-egress): a closed
network, those names REFUSED. Kept in the data dir too.
--advertise-address IP: this machine's address for other machines to join
('kubesvc token create --print-join-command', then 'kubesvc join' there): the
API is served on it (unless --bind says otherwise), the nodes carry it for
the VXLAN overlay (UDP 8472 on it), and the cluster's NodePorts answer on it.

The API server serves HTTPS only and authenticates every request (client
certificates of the cluster CA in DATA_DIR/pki, ServiceAccount tokens); RBAC
decides what each may do. DATA_DIR/kubeconfig is the cluster admin's.

The terminal shows the progress lines and the ready screen; the components log
to files, each line with its time: DATA_DIR/logs/${upLogFiles.apiserver} (the API server),
${upLogFiles.controllers} (controllers, scheduler, client informers) and ${upLogFiles.kubelet} (every
node's agent and network). kube-proxy and coredns are pods: kubectl logs -n kube-system.
-v N (--v N): log info messages of verbosity N and below (klog's; default 0);
--log-format (--logging-format) text|json: klog's text lines (default) or
component-base's JSON lines; both are passed on to the kube-proxy pods (their
ConfigMap's logging section) and coredns (its args).

--dashboard-port: the live page of the cluster, on 127.0.0.1 (default 0: a free
port); the ready screen prints its URL with a one-time token that the first
browser to open it trades for a session cookie.`;

export async function upCommand(argv: string[]): Promise<void> {
  const started = performance.now();
  const { values } = parseFlags(argv, {
    ...apiserverFlags,
    nodes: { type: 'string' },
    'proxy-config': { type: 'string' },
    'proxy-mode': { type: 'string' },
    'no-install': { type: 'boolean' },
    'sync-frequency': { type: 'string' },
    images: { type: 'string' },
    'registry-mirror': { type: 'string', multiple: true },
    'dashboard-port': { type: 'string' },
    ...logFlags,
    ...egressFlags,
  });
  if (values.help) {
    console.log(upUsage);
    return;
  }
  const nodeCount = values.nodes === undefined ? 1 : Number(values.nodes);
  if (!Number.isInteger(nodeCount) || nodeCount < 0 || nodeCount > 50) throw new UsageError('--nodes must be a whole number from 0 to 50');
  let syncFrequencyMs: number | undefined;
  if (values['sync-frequency'] !== undefined) {
    try {
      syncFrequencyMs = parseGoDuration(values['sync-frequency']);
    } catch (e) {
      throw new UsageError(`--sync-frequency: ${errorMessage(e)}`);
    }
    if (!(syncFrequencyMs > 0)) throw new UsageError('--sync-frequency must be a positive duration, e.g. 1m or 10s');
  }
  const logSettings = parseLogFlags(values);
  // The only list among the flags: the API server's flags are the others.
  const { 'registry-mirror': mirrorFlags, 'dashboard-port': dashboardPortFlag, 'advertise-address': advertise, ...singleValues } = values;
  // For `up` the address is the machine's, for joining machines; pods keep reaching the API in the cluster (172.18.0.1).
  if (advertise !== undefined && !isIPv4(advertise)) throw new UsageError(`--advertise-address ${advertise}: must be an IPv4 address`);
  if (advertise !== undefined) singleValues.bind ??= advertise;
  const dashboardPort = dashboardPortFlag === undefined ? 0 : Number(dashboardPortFlag);
  if (!Number.isInteger(dashboardPort) || dashboardPort < 0 || dashboardPort > 65535) throw new UsageError('--dashboard-port must be a port number (0: any free port)');
  const imageFlags = { images: parseImagesFlag(values.images), registryMirrors: parseRegistryMirrorFlags(mirrorFlags) };
  const egressFlag = parseEgressFlags(values);
  const install = nodeCount > 0 && !values['no-install'] && !installDisabledByEnv();
  const proxy = chooseNodeProxy(values['proxy-mode'], values['proxy-config'], CLUSTER_POD_CIDR);
  // The host first: installing what nodes need may take a while, and says so line by line.
  const noNodes = nodeCount > 0 ? await prepareNodeHost(proxy.running, install, (line) => console.log(line)) : undefined;
  /** One progress line per phase as it completes, with the time it took since it began, so a slow start shows where it is. */
  const progress = (what: string, since: number) => console.log(`  ✓ ${what} (${Math.round(performance.now() - since)} ms)`);
  // From here on a Ctrl-C (or SIGTERM) while starting lets the start finish, then stops and cleans up
  // everything it made (networks, processes), as it does once up; a second one ends at once.
  const stopSignal = untilSignal();
  let interrupted = false;
  void stopSignal.then(() => (interrupted = true));
  // The components' lines go to their files from the first one on: the terminal is the progress lines' and the screen's.
  const logs = openUpLogs(resolve((values['data-dir'] as string | undefined) ?? '.kubesvc'));
  configureLogging({ ...logSettings, sinkFor: logs.sinkFor });
  const closeLogs = () => {
    resetLogging();
    logs.close();
  };
  const serverStart = performance.now();
  // Pods mount a service account token and the cluster CA (ServiceAccount admission; the root CA publisher);
  // the serving certificate also names the address pods reach the API at.
  let server: Awaited<ReturnType<typeof startApiServerFromFlags>>;
  try {
    server = await startApiServerFromFlags(singleValues, '.kubesvc', { serviceAccountTokens: true, advertiseAddresses: [CONTROL_PLANE_IP] });
  } catch (e) {
    closeLogs();
    throw e;
  }
  progress('API server', serverStart);
  const dataDir = server.kubeconfigPath.replace(/\/kubeconfig$/, '');
  // In one process the components still go through the API, as separate ones would, each as itself:
  // `up` sets the cluster up as the admin (kubeadm uses admin.conf), nodes as system:node:<name>.
  const client = createClient(createTransport(server.transportFor(componentUsers.admin)), 'kubesvc');
  const nodeClients: Client[] = [];
  let credentials: ControllerCredentials | undefined;
  const nodes: RunningNode[] = [];
  const clusterId = clusterIdFor(dataDir);
  let controllers: Awaited<ReturnType<typeof startControllers>> | undefined;
  let inCluster: InClusterApi | undefined;
  let networkCreated = false;
  let images: ImageSettings | undefined;
  let egress: EgressDecision | undefined;
  let egressHostChanges: string[] = [];
  let dashboard: Dashboard | undefined;
  let overlay: Overlay | undefined;
  let dialer: NetnsDialer | undefined;
  let nodePorts: NodePortPublisher | undefined;
  const stop = async () => {
    await dashboard?.close();
    nodePorts?.stop();
    dialer?.close();
    await inCluster?.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    await overlay?.destroy();
    if (networkCreated) await cleanupEgress(clusterId).catch((e: unknown) => console.error(`kubesvc: removing the egress: ${errorMessage(e)}`));
    if (networkCreated) await destroyClusterNetwork(clusterId);
    await controllers?.stop();
    credentials?.close();
    for (const c of nodeClients) c.close();
    client.close();
    await server.close();
    closeLogs();
  };
  const nodeClient = (name: string) => {
    const c = createClient(createTransport(server.transportFor(componentUsers.node(name))), 'kubelet');
    nodeClients.push(c);
    return c;
  };
  try {
    // Under the data dir's lock the server holds: no other `up` of this cluster reads or writes them meanwhile.
    images = applyImageFlags(dataDir, imageFlags);
    const settings = images;
    const egressSetting = applyEgressFlag(dataDir, egressFlag);
    credentials = controllerCredentials(server.transportFor);
    const creds = credentials;
    // Three independent lines side by side, each only through the API as separate components would be:
    // the controllers; the system components' objects; the node network, the API in it, then the nodes.
    // A failure in one waits for the others to settle, so that stop() finds everything they started.
    const controllersStarting = (async () => {
      const since = performance.now();
      controllers = await startControllers(creds.manager, { options: { rootCA: server.caCert, ...clusterSigningOption({}, dataDir) }, clientFor: creds.clientFor });
      progress('controllers', since);
    })();
    const systemComponents = (async () => {
      const since = performance.now();
      await Promise.all([ensureKubeProxy(client, proxy.configText, proxy.explicit, `https://${CONTROL_PLANE_IP}:${defaultAdvertisePort}`, logSettings), ensureClusterDns(client, logSettings)]);
      progress('system components (kube-proxy, coredns)', since);
    })();
    const nodesStarting = (async () => {
      if (nodeCount === 0 || noNodes) return withdrawApiInCluster(server);
      const since = performance.now();
      // Whatever a crashed run of this cluster left behind goes first.
      await cleanupStale(clusterId);
      networkCreated = true;
      await cleanupEgress(clusterId);
      const egressPlan = (egress = await decideEgress(clusterId, egressSetting));
      writeFileSync(nodeResolvConfPath(dataDir), nodeResolvConfText(egressPlan), { mode: 0o644 });
      // The API in the cluster and the nodes side by side (both make the cluster network first, once): no pod
      // reaches the API before its node ran it, and kube-proxy, the first to, retries as any client does.
      const makeOverlay = advertise ? async () => (overlay = await createOverlay(clusterId, advertise)) : undefined;
      const apiInCluster = serveApiInCluster(server, client, clusterId, makeOverlay).then((api) => {
        inCluster = api;
        progress(`API in the cluster (https://${api.address})`, since);
      });
      // Nodes start side by side; each is listed as it comes up.
      const nodeStarts = await Promise.allSettled([
        apiInCluster,
        ...Array.from({ length: nodeCount }, (_, i) => {
          const nodeSince = performance.now();
          return startNode({ client: nodeClient(nodeName(i)), dataDir, name: nodeName(i), syncFrequencyMs, images: settings, resolvConf: nodeResolvConfPath(dataDir), publicIP: advertise }).then((node) => {
            nodes.push(node);
            progress(node.name, nodeSince);
          });
        }),
      ]);
      const failed = nodeStarts.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      nodes.sort((a, b) => nodeIndex(a.name) - nodeIndex(b.name));
      egressHostChanges = (await setUpEgress(egressPlan, clusterId, nodes.map((n) => n.network.netns))).hostChanges;
      if (advertise && nodes[0]) {
        dialer = createNetnsDialer(clusterNetnsName(clusterId));
        nodePorts = await publishNodePorts({ client, address: advertise, nodeIP: nodes[0].network.nodeIP, dialer });
      }
    })();
    const failed = (await Promise.allSettled([controllersStarting, systemComponents, nodesStarting])).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    // Loaded once the cluster is up: the page's server is not on the way to it.
    dashboard = await (await import('../dashboard/server.js')).startDashboard({
      client,
      port: dashboardPort,
      nodeNetns: (n) => nodeNetns(dataDir, n),
      podNetns: (n, uid) => podNetnsName(clusterId, nodeIndex(n), uid),
    });
  } catch (e) {
    await stop();
    throw e;
  }
  if (interrupted) {
    console.log('kubesvc: stopping');
    await stop();
    return;
  }
  const ms = Math.round(performance.now() - started);
  // Under `npm start` the command is not on PATH: say it as npx runs it.
  const self = process.env.npm_lifecycle_event ? 'npx kubesvc' : 'kubesvc';
  const nodeLine = nodes.length
    ? nodes.map((n) => `${n.name} (${n.network.nodeIP}, pods ${n.network.podCIDR})`).join(', ')
    : `none${noNodes ? ` — ${noNodes}` : ''}`;
  console.log(`kubesvc is up (${ms} ms)

  API server   ${server.url}   (storage: SQLite in ${dataDir}; TLS, RBAC: the kubeconfig below is the admin's)${inCluster ? `
               in the cluster: https://kubernetes.default.svc → ${inCluster.address} (CA ${dataDir}/pki/ca.crt)` : ''}
  controllers  ${controllerNames.join(', ')}
  nodes        ${nodeLine}
  DNS          kube-system/kube-dns ${clusterDNSIP} (Deployment coredns${nodes.length ? '' : '; needs a node to run'})
  proxy        DaemonSet kube-system/kube-proxy, ${proxy.running} mode (${proxy.why}; ConfigMap kube-system/kube-proxy)
  images       ${describeImageSettings(images!)}
  egress       ${egress ? [egress.why, ...egressHostChanges].join('\n               ') : 'none: no nodes'}${advertise ? `
  machines     others join through ${advertise}: '${process.env.npm_lifecycle_event ? 'npx kubesvc' : 'kubesvc'} token create --print-join-command' prints the command
               (VXLAN overlay on UDP 8472; NodePorts on ${advertise}${nodes[0] ? ` → ${nodes[0].name}` : ''})` : ''}
  dashboard    ${dashboard!.url}   (loopback; the token works once)
  logs         ${upLogsDir(dataDir)}/{${Object.values(upLogFiles).map((f) => f.replace(/\.log$/, '')).join(',')}}.log; kube-proxy, coredns: kubectl logs -n kube-system

  export KUBECONFIG=${server.kubeconfigPath}
  kubectl create deployment web --image=nginx --replicas=3 && kubectl expose deployment web --port=80
  ${self} exec -- curl -s http://$(kubectl get svc web -o jsonpath='{.spec.clusterIP}')/
  ${self} exec -- dig @${clusterDNSIP} +short web.default.svc.cluster.local

Ctrl-C stops the cluster; 'kubesvc up' again brings every object back.`);
  await stopSignal;
  console.log('kubesvc: stopping');
  await stop();
}
