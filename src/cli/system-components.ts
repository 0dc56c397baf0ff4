// The cluster's system components as API objects in kube-system, the way a
// kubeadm cluster has them: the service proxy as DaemonSet `kube-proxy`
// (host network, label k8s-app=kube-proxy) reading ConfigMap `kube-proxy`
// (key config.conf), and the DNS as Deployment `coredns` (label
// k8s-app=kube-dns) behind Service `kube-dns` at 10.96.0.10. Created when
// missing, never overwritten (a user's edits survive restarts), except the
// proxy configuration when `up` is told one explicitly.
import type { ConfigMap, DaemonSet, Deployment, Service } from '../api/types.js';
import type { KubeObject } from '../api/object.js';
import { ApiError, resourceTypes, type Client } from '../client/client.js';

export const clusterDNSIP = '10.96.0.10';
export const kubeProxyImage = 'registry.k8s.io/kube-proxy:v1.32.0';
export const coreDnsImage = 'registry.k8s.io/coredns/coredns:v1.11.3';

/** The kube-dns Service (kubeadm's, with the fixed cluster IP pods' resolv.conf names). */
export function kubeDnsService(): Service & KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kube-dns',
      namespace: 'kube-system',
      labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
      annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
    },
    spec: {
      clusterIP: clusterDNSIP,
      selector: { 'k8s-app': 'kube-dns' },
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
      ],
    },
  };
}

/**
 * The coredns Deployment. Its pods reach the API through the data dir's
 * socket (--data-dir; pods here are processes on the host's filesystem), not
 * through the `kubernetes` Service: that works before any node's proxy has
 * programmed the Service, and without the cluster network at all.
 */
export function coreDnsDeployment(dataDir: string): Deployment & KubeObject {
  const labels = { 'k8s-app': 'kube-dns' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'coredns', namespace: 'kube-system', labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: '25%' } },
      template: {
        metadata: { labels },
        spec: {
          dnsPolicy: 'Default',
          priorityClassName: 'system-cluster-critical',
          containers: [
            {
              name: 'coredns',
              image: coreDnsImage,
              // The cluster network has no way out (by design), so there is no upstream to forward to: names outside
              // the zone are REFUSED at once, as CoreDNS does for names no plugin serves, instead of timing out.
              args: ['--data-dir', dataDir, '--listen', '0.0.0.0:53', '--cluster-domain', 'cluster.local', '--autopath', '--upstream', 'none'],
              ports: [
                { name: 'dns', containerPort: 53, protocol: 'UDP' },
                { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
              ],
              livenessProbe: { httpGet: { path: '/health', port: 8080, scheme: 'HTTP' }, initialDelaySeconds: 60, timeoutSeconds: 5, successThreshold: 1, failureThreshold: 5 },
              readinessProbe: { httpGet: { path: '/ready', port: 8181, scheme: 'HTTP' }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

async function createIfMissing<T extends KubeObject>(client: Client, type: (typeof resourceTypes)[keyof typeof resourceTypes], obj: T): Promise<void> {
  const resource = client.resource<T>(type);
  // Look first: creating a Service that exists with a fixed clusterIP fails allocation (422) before the 409 check.
  try {
    await resource.get(obj.metadata.namespace, obj.metadata.name!);
    return;
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 404)) throw e;
  }
  try {
    await resource.create(obj.metadata.namespace, obj);
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 409)) throw e;
  }
}

/** Creates the cluster DNS objects unless they exist. */
export async function ensureClusterDns(client: Client, dataDir: string): Promise<void> {
  await createIfMissing(client, resourceTypes.services, kubeDnsService());
  await createIfMissing(client, resourceTypes.deployments, coreDnsDeployment(dataDir));
}

export function kubeProxyConfigMap(configText: string): ConfigMap & KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'kube-proxy', namespace: 'kube-system', labels: { app: 'kube-proxy' } },
    data: { 'config.conf': configText },
  };
}

/**
 * The kube-proxy DaemonSet: one host-network pod per node running the
 * built-in kube-proxy image (`kubesvc proxy`), its configuration read from the
 * ConfigMap at start — so editing the ConfigMap and deleting the pods switches
 * the mode, as the kube-proxy documentation walks through. Like coredns, it
 * reaches the API through the data dir's socket.
 */
export function kubeProxyDaemonSet(dataDir: string): DaemonSet & KubeObject {
  const labels = { 'k8s-app': 'kube-proxy' };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'kube-proxy', namespace: 'kube-system', labels },
    spec: {
      selector: { matchLabels: labels },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels },
        spec: {
          hostNetwork: true,
          priorityClassName: 'system-node-critical',
          tolerations: [{ operator: 'Exists' }],
          containers: [
            {
              name: 'kube-proxy',
              image: kubeProxyImage,
              command: ['/usr/local/bin/kube-proxy', '--config-map=kube-system/kube-proxy', '--hostname-override=$(NODE_NAME)', `--data-dir=${dataDir}`],
              env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } }],
              readinessProbe: { httpGet: { path: '/healthz', port: 10256, scheme: 'HTTP' }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

/** Creates the proxy's ConfigMap and DaemonSet unless they exist; `replaceConfig` writes the ConfigMap even if it does. */
export async function ensureKubeProxy(client: Client, dataDir: string, configText: string, replaceConfig: boolean): Promise<void> {
  const cm = kubeProxyConfigMap(configText);
  if (replaceConfig) {
    const configMaps = client.resource<ConfigMap & KubeObject>(resourceTypes.configmaps);
    try {
      const current = await configMaps.get('kube-system', 'kube-proxy');
      await configMaps.update({ ...current, data: { ...current.data, 'config.conf': configText } });
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
      await createIfMissing(client, resourceTypes.configmaps, cm);
    }
  } else {
    await createIfMissing(client, resourceTypes.configmaps, cm);
  }
  await createIfMissing(client, resourceTypes.daemonsets, kubeProxyDaemonSet(dataDir));
}
