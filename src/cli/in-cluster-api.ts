// The API as pods see it: `kubernetes.default.svc` (10.96.0.1:443) → the
// control plane's address on the node network, 172.18.0.1:6443, over TLS with
// the data dir's cluster CA — where kubeadm's and kind's control-plane nodes
// serve it. The socket lives in the cluster net namespace but is served by
// the API server in this process; the apiserver publishes it as the
// `kubernetes` Endpoints/EndpointSlice and withdraws it on stop.
import type { Service } from '../api/types.js';
import { CONTROL_PLANE_IP, clusterNetworkRoutes, ensureClusterNetwork } from '../agent/network.js';
import { syncPeerRoutes } from '../agent/peer-routes.js';
import { defaultAdvertisePort, type ApiServer } from '../apiserver/apiserver.js';
import { reconcileKubernetesEndpoints } from '../apiserver/endpoint-reconciler.js';
import { apiServerNames, ensureServingCert, type ServingCert } from '../apiserver/serving-cert.js';
import type { Client } from '../client/client.js';
import { listenInNetns } from '../net/listen-in-netns.js';

export interface InClusterApi {
  address: string;
  stop(): Promise<void>;
}

/**
 * The data dir's cluster CA and the API's serving certificate for the names
 * pods use (made on the first start): the CA is what the root CA publisher
 * puts in every namespace, the certificate what serveApiInCluster serves.
 */
export async function clusterServingCert(server: ApiServer, dataDir: string, clusterDomain = 'cluster.local'): Promise<ServingCert> {
  const kubernetes = (await server.registry.get(server.def('services'), 'default', 'kubernetes')) as unknown as Service;
  return ensureServingCert(dataDir, apiServerNames(clusterDomain, kubernetes.spec?.clusterIP ?? '10.96.0.1', [CONTROL_PLANE_IP]));
}

/** Creates the cluster network if no node has yet; start it before the nodes so it does not wait behind their pods. */
export async function serveApiInCluster(server: ApiServer, client: Client, creds: ServingCert, clusterId: string): Promise<InClusterApi> {
  const [listener, routes] = await Promise.all([
    ensureClusterNetwork(clusterId).then((netns) => listenInNetns(netns, CONTROL_PLANE_IP, defaultAdvertisePort)),
    ensureClusterNetwork(clusterId).then(() => syncPeerRoutes(client, clusterNetworkRoutes(clusterId))),
  ]);
  server.http.serveTls(listener, creds);
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
