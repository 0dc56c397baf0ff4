// The API as pods see it: `kubernetes.default.svc` (10.96.0.1:443) → the
// control plane's address on the node network, 172.18.0.1:6443, over TLS with
// the data dir's cluster CA (the serving certificate names 172.18.0.1: `up`
// advertises it) — where kubeadm's and kind's control-plane nodes serve it. The socket lives in the cluster net namespace but is served by
// the API server in this process; the apiserver publishes it as the
// `kubernetes` Endpoints/EndpointSlice and withdraws it on stop.
import { CONTROL_PLANE_IP, clusterNetworkRoutes, ensureClusterNetwork } from '../agent/network.js';
import { syncClusterRoutes } from '../agent/peer-routes.js';
import type { Overlay } from '../agent/overlay.js';
import { defaultAdvertisePort, type ApiServer } from '../apiserver/apiserver.js';
import { reconcileKubernetesEndpoints } from '../apiserver/endpoint-reconciler.js';
import type { Client } from '../client/client.js';
import { listenInNetns } from '../net/listen-in-netns.js';

export interface InClusterApi {
  address: string;
  stop(): Promise<void>;
}

/**
 * Creates the cluster network if no node has yet; start it before the nodes so it does not wait behind their pods.
 * `overlay`: the machine's VTEP when nodes of other machines join (routes to them go through it).
 */
export async function serveApiInCluster(server: ApiServer, client: Client, clusterId: string, overlay?: () => Promise<Overlay>): Promise<InClusterApi> {
  const [listener, routes] = await Promise.all([
    ensureClusterNetwork(clusterId).then((netns) => listenInNetns(netns, CONTROL_PLANE_IP, defaultAdvertisePort)),
    ensureClusterNetwork(clusterId).then(async () => syncClusterRoutes(client, clusterNetworkRoutes(clusterId), await overlay?.())),
  ]);
  server.http.serveOn(listener);
  await reconcileKubernetesEndpoints(server.registry, server.def, { ip: CONTROL_PLANE_IP, port: defaultAdvertisePort });
  return {
    address: `${CONTROL_PLANE_IP}:${defaultAdvertisePort}`,
    async stop() {
      routes.stop();
      listener.close();
      await reconcileKubernetesEndpoints(server.registry, server.def, undefined);
    },
  };
}

/** Without a cluster network nothing answers in the cluster: no `kubernetes` endpoints (as after a clean stop). */
export function withdrawApiInCluster(server: ApiServer): Promise<void> {
  return reconcileKubernetesEndpoints(server.registry, server.def, undefined);
}
