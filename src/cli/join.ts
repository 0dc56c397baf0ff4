// `kubesvc join`: this machine becomes a node of a cluster that runs
// elsewhere, as `kubeadm join` makes one: token discovery pinned by the CA's
// hash, the node's client certificate through an auto-approved CSR
// (src/client/tls-bootstrap.ts), then the node itself — its network, its
// agent, the kube-proxy pod the DaemonSet gives it — against the remote API,
// reached through a local load balancer (api-load-balancer.ts), with the
// machine's VXLAN VTEP joining the overlay (overlay.ts) and the cluster's
// NodePorts published on the machine's address (node-port-publisher.ts).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { createServer, isIPv4, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { clusterIdFor } from '../agent/cluster-id.js';
import { CONTROL_PLANE_IP, cleanupStale, clusterNetnsName, clusterNetworkRoutes, destroyClusterNetwork, ensureClusterNetwork } from '../agent/network.js';
import { createOverlay, type Overlay } from '../agent/overlay.js';
import { syncClusterRoutes } from '../agent/peer-routes.js';
import { createApiLoadBalancer, followApiServers, type ApiLoadBalancer } from '../agent/api-load-balancer.js';
import { publishNodePorts, type NodePortPublisher } from '../agent/node-port-publisher.js';
import { cleanupEgress, decideEgress, nodeResolvConfText, setUpEgress, type EgressDecision } from '../agent/egress.js';
import { defaultAdvertisePort } from '../apiserver/apiserver.js';
import { createClient, isNotFound, resourceTypes, type Client } from '../client/client.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { tlsBootstrap, TLSBootstrapError } from '../client/tls-bootstrap.js';
import { createTransport } from '../client/transport.js';
import { createNetnsDialer, type NetnsDialer } from '../net/dial-in-netns.js';
import { ipJson } from '../net/ip.js';
import { listenInNetns } from '../net/listen-in-netns.js';
import { errorMessage } from '../util/errors.js';
import { untilSignal } from '../util/signals.js';
import { logger } from '../util/log.js';
import { startNode, type RunningNode } from './agent.js';
import { parseFlags, UsageError } from './args.js';
import { applyEgressFlag, egressFlags, nodeResolvConfPath, parseEgressFlags } from './egress-settings.js';
import { nodePrerequisites } from './host-setup.js';
import { applyImageFlags, parseImagesFlag, parseRegistryMirrorFlags } from './image-settings.js';
import { applyLogFlags, logFlags, logFlagsUsage } from './log-flags.js';
import { DataDirInUseError, lockDataDir } from '../storage/data-dir-lock.js';
import { nodeIndex } from './nodes.js';

const log = logger('join');

/** Where the joined machine's own agent reaches the API: the load balancer on its loopback (k3s's agent port). */
export const LOCAL_API_PORT = 6444;

export const joinUsage = `Usage: kubesvc join --server https://HOST:PORT --token ID.SECRET --discovery-token-ca-cert-hash sha256:HASH
                    --node-name node-N [--data-dir .kubesvc] [--advertise-address IP]
                    [--discovery-token-unsafe-skip-ca-verification] [--images builtin|registry]
                    [--egress auto|off | --no-egress] [-v N] [--logging-format text|json]

Makes this machine a node of the cluster at --server, as 'kubeadm join' does:
the token ('kubesvc token create --print-join-command' on the control plane)
finds the cluster, the CA is trusted only if its public key matches the hash,
and the node's client certificate comes through a CertificateSigningRequest the
cluster approves for bootstrap tokens. Then it runs the node until Ctrl-C: its
network namespace and pods, the kube-proxy pod, a load balancer to the API
servers (127.0.0.1:${LOCAL_API_PORT} here, ${CONTROL_PLANE_IP}:${defaultAdvertisePort} for the node and its pods;
the servers come from the kubernetes Endpoints), the VXLAN overlay to the other
machines (UDP ${8472} on --advertise-address, by default the address this machine
reaches the server from), and every NodePort (TCP and UDP) on that address.
--node-name: node-N with an N no other node of the cluster has (kubesvc's nodes
take their address 172.18.0.(N+1) and pod range 10.244.(N-1).0/24 from it).
The credentials stay in DATA_DIR/kubelet.conf: 'kubesvc join' again with the
same data dir runs the node again without a token. Logs go to standard error.
${logFlagsUsage}`;

const flags = {
  server: { type: 'string' },
  token: { type: 'string' },
  'discovery-token-ca-cert-hash': { type: 'string', multiple: true },
  'discovery-token-unsafe-skip-ca-verification': { type: 'boolean' },
  'node-name': { type: 'string' },
  'data-dir': { type: 'string' },
  'advertise-address': { type: 'string' },
  images: { type: 'string' },
  'registry-mirror': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
  ...egressFlags,
  ...logFlags,
} as const;

/** https://HOST:PORT → host and port; the port defaults to 6443 as kubeadm's endpoint does. */
export function parseServerFlag(server: string | undefined): { url: string; host: string; port: number } {
  if (!server) throw new UsageError(`--server is required: the API server's https://HOST:PORT ('kubesvc token create --print-join-command' prints it)\n\n${joinUsage}`);
  let u: URL;
  try {
    u = new URL(server.includes('://') ? server : `https://${server}`);
  } catch {
    throw new UsageError(`--server ${server}: not a URL like https://HOST:6443`);
  }
  if (u.protocol !== 'https:') throw new UsageError(`--server ${server}: the API is served over HTTPS only`);
  const port = u.port ? Number(u.port) : defaultAdvertisePort;
  return { url: `https://${u.host.includes(':') ? u.host : `${u.host}:${port}`}`, host: u.hostname, port };
}

/** The address this machine sends from to reach `host` (the kernel's choice), as kubeadm defaults the node's address. */
async function sourceAddressFor(host: string): Promise<string> {
  const ip = isIPv4(host) ? host : (await lookup(host, { family: 4 })).address;
  const routes = await ipJson<{ prefsrc?: string }>(['route', 'get', ip]);
  const src = routes[0]?.prefsrc;
  if (!src) throw new UsageError(`cannot tell which address of this machine reaches ${host}: give --advertise-address`);
  return src;
}

function listenLocal(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', (e: NodeJS.ErrnoException) =>
      reject(new UsageError(e.code === 'EADDRINUSE' ? `127.0.0.1:${port} is in use: is this machine already a node (another 'kubesvc join' or 'kubesvc up --advertise-address')?` : e.message)),
    );
    s.listen({ host: '127.0.0.1', port }, () => resolve(s));
  });
}

/** kubeadm's preflight: a Ready node of that name that is not this machine's earlier self means the name is taken. */
async function checkNodeName(client: Client, name: string, providerID: string): Promise<void> {
  let node: { spec?: { providerID?: string }; status?: { conditions?: { type: string; status: string }[] } };
  try {
    node = (await client.resource(resourceTypes.nodes).get(undefined, name)) as typeof node;
  } catch (e) {
    if (isNotFound(e)) return;
    throw e;
  }
  const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  if (ready && node.spec?.providerID !== providerID) {
    throw new UsageError(`a Node with name "${name}" and status "Ready" already exists in the cluster. You must delete the existing Node or change the name of this new joining Node`);
  }
}

type JoinValues = ReturnType<typeof parseFlags<typeof flags>>['values'];

export async function joinCommand(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, flags);
  if (values.help) {
    console.log(joinUsage);
    return;
  }
  applyLogFlags(values);
  const server = parseServerFlag(values.server);
  const name = values['node-name'];
  if (!name) throw new UsageError(`--node-name is required: node-N with an N no other node of the cluster has ('kubectl get nodes')\n\n${joinUsage}`);
  nodeIndex(name);
  const why = nodePrerequisites();
  if (why) throw new UsageError(why);
  const dataDir = resolve(values['data-dir'] ?? '.kubesvc');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // One node per data dir at a time (and `kubesvc down` refuses while it runs), as `up` holds its own.
  let unlock: () => void;
  try {
    unlock = lockDataDir(dataDir);
  } catch (e) {
    if (e instanceof DataDirInUseError) throw new UsageError(e.message);
    throw e;
  }
  try {
    await runJoined(values, server, name, dataDir);
  } finally {
    unlock();
  }
}

async function runJoined(values: JoinValues, server: ReturnType<typeof parseServerFlag>, name: string, dataDir: string): Promise<void> {
  const kubeletConf = join(dataDir, 'kubelet.conf');
  const clusterId = clusterIdFor(dataDir);
  const providerID = `kubesvc://${clusterId}/${name}`;
  const images = applyImageFlags(dataDir, { images: parseImagesFlag(values.images), registryMirrors: parseRegistryMirrorFlags(values['registry-mirror']) });
  const egressSetting = applyEgressFlag(dataDir, parseEgressFlags(values));
  const advertise = values['advertise-address'] ?? (await sourceAddressFor(server.host));
  if (!isIPv4(advertise)) throw new UsageError(`--advertise-address ${advertise}: must be an IPv4 address`);

  if (existsSync(kubeletConf)) {
    log.info('this machine has joined before: running the node with its credentials', { kubeconfig: kubeletConf });
  } else {
    if (!values.token) throw new UsageError(`--token is required: a bootstrap token ('kubesvc token create' on the control plane)\n\n${joinUsage}`);
    const hashes = values['discovery-token-ca-cert-hash'] ?? [];
    if (!hashes.length && !values['discovery-token-unsafe-skip-ca-verification']) {
      throw new UsageError('discovery-token-ca-cert-hash is required unless --discovery-token-unsafe-skip-ca-verification is set: without it the cluster\'s CA cannot be trusted');
    }
    try {
      const joined = await tlsBootstrap({ server: server.url, token: values.token, caCertHashes: hashes, nodeName: name, kubeconfigPath: kubeletConf });
      log.info('node client certificate issued', { csr: joined.csrName, node: name });
    } catch (e) {
      if (e instanceof TLSBootstrapError) throw new UsageError(`joining ${server.url}: ${e.message}`);
      throw e;
    }
  }

  // The agent's client goes through the balancer, so it carries on through another API server.
  const lb: ApiLoadBalancer = createApiLoadBalancer([{ host: server.host, port: server.port }]);
  lb.serve(await listenLocal(LOCAL_API_PORT));
  const kubeconfig = loadKubeconfig(kubeletConf);
  const client = createClient(createTransport({ ...kubeconfig, server: `https://127.0.0.1:${LOCAL_API_PORT}` }), 'kubelet');

  let node: RunningNode | undefined;
  let overlay: Overlay | undefined;
  let dialer: NetnsDialer | undefined;
  let publisher: NodePortPublisher | undefined;
  let egress: EgressDecision | undefined;
  let egressHostChanges: string[];
  const stoppers: { stop(): void }[] = [];
  let networkCreated = false;
  const stop = async () => {
    publisher?.stop();
    dialer?.close();
    for (const s of stoppers) s.stop();
    await node?.stop();
    await overlay?.destroy();
    if (networkCreated) {
      await cleanupEgress(clusterId).catch((e: unknown) => console.error(`kubesvc: removing the egress: ${errorMessage(e)}`));
      await destroyClusterNetwork(clusterId);
    }
    lb.close();
    client.close();
  };
  const stopSignal = untilSignal();
  try {
    await checkNodeName(client, name, providerID);
    await cleanupStale(clusterId);
    networkCreated = true;
    const netns = await ensureClusterNetwork(clusterId);
    await cleanupEgress(clusterId);
    egress = await decideEgress(clusterId, egressSetting);
    writeFileSync(nodeResolvConfPath(dataDir), nodeResolvConfText(egress), { mode: 0o644 });
    overlay = await createOverlay(clusterId, advertise);
    lb.serve(await listenInNetns(netns, CONTROL_PLANE_IP, defaultAdvertisePort));
    stoppers.push(await followApiServers(client, lb, { host: server.host, port: server.port }));
    stoppers.push(await syncClusterRoutes(client, clusterNetworkRoutes(clusterId), overlay));
    node = await startNode({ client, dataDir, name, images, resolvConf: nodeResolvConfPath(dataDir), publicIP: advertise });
    egressHostChanges = (await setUpEgress(egress, clusterId, [node.network.netns])).hostChanges;
    dialer = createNetnsDialer(clusterNetnsName(clusterId));
    publisher = await publishNodePorts({ client, address: advertise, nodeIP: node.network.nodeIP, dialer });
  } catch (e) {
    await stop();
    throw e;
  }
  console.log(`kubesvc joined ${server.url} as ${name}

  node         ${name} (${node.network.nodeIP}, pods ${node.network.podCIDR}), credentials ${kubeletConf}
  API          through 127.0.0.1:${LOCAL_API_PORT} here and ${CONTROL_PLANE_IP}:${defaultAdvertisePort} in the cluster → ${lb.targets().map((t) => `${t.host}:${t.port}`).join(', ')}
  overlay      VXLAN from ${advertise} (UDP 8472) to the nodes of other machines
  node ports   the cluster's NodePorts (TCP and UDP) on ${advertise}
  egress       ${[egress.why, ...egressHostChanges].join('\n               ')}

Ctrl-C stops the node; 'kubesvc join --data-dir ${dataDir} --server ${server.url} --node-name ${name}' runs it again.`);
  await stopSignal;
  console.log('kubesvc: stopping');
  await stop();
}
