// The cluster's system components as API objects in kube-system, the way a
// kubeadm cluster has them: the service proxy as DaemonSet `kube-proxy`
// (host network, label k8s-app=kube-proxy, ServiceAccount kube-proxy bound to
// system:node-proxier) reading ConfigMap `kube-proxy` (keys config.conf and
// kubeconfig.conf), and the DNS as Deployment `coredns` (label
// k8s-app=kube-dns, ServiceAccount coredns bound to ClusterRole
// system:coredns) behind Service `kube-dns` at 10.96.0.10. Created when
// missing, never overwritten (a user's edits survive restarts), except the
// proxy configuration when `up` is told one explicitly, the logging `up -v N
// --log-format F` asks for (kube-proxy's config.conf `logging` section, its
// pods restarted as `kubectl rollout restart` does; coredns's args), and the workloads of
// an older kubesvc: those that reached the API through the data dir's
// socket, and a kube-proxy DaemonSet without kubeadm's privileged
// securityContext (pods run isolated now: kube-proxy needs it to program
// its node's iptables, nftables and conntrack).
import type { ConfigMap, DaemonSet, Deployment, Service } from '../api/types.js';
import type { KubeObject } from '../api/object.js';
import { ApiError, resourceTypes, type Client, type ResourceType } from '../client/client.js';
import { kubeadmPolicy } from '../auth/rbac/bootstrap-policy.js';
import { parseDocument } from 'yaml';
import type { LogFormat } from '../util/log.js';

/** `up`'s -v / --logging-format, passed on to the system components (only what was given). */
export interface ComponentLogging {
  verbosity?: number;
  format?: LogFormat;
}

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
 * The coredns Deployment. Its pods reach the API as CoreDNS does, in-cluster:
 * the `kubernetes` Service with the token of ServiceAccount coredns.
 */
export function coreDnsDeployment(logging: ComponentLogging = {}): Deployment & KubeObject {
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
          serviceAccountName: 'coredns',
          priorityClassName: 'system-cluster-critical',
          containers: [
            {
              name: 'coredns',
              image: coreDnsImage,
              // Names outside the zone go to the resolvers of the pod's /etc/resolv.conf (CoreDNS's `forward .
              // /etc/resolv.conf`): with dnsPolicy Default, the node's, which `up` fills for its egress; with
              // egress off it names none, and such names are REFUSED at once, as CoreDNS does for names no plugin serves.
              args: ['--listen', '0.0.0.0:53', '--cluster-domain', 'cluster.local', '--autopath', ...loggingArgs(logging)],
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

/** The logging flags as container args (the forms with "=", one arg each). */
function loggingArgs(logging: ComponentLogging): string[] {
  return [...(logging.verbosity !== undefined ? [`-v=${logging.verbosity}`] : []), ...(logging.format !== undefined ? [`--logging-format=${logging.format}`] : [])];
}

/** `args` with the logging flags `logging` gives replaced by its values (others, and the flags it does not give, kept). */
export function withLoggingArgs(args: readonly string[], logging: ComponentLogging): string[] {
  const names = [...(logging.verbosity !== undefined ? ['-v', '--v'] : []), ...(logging.format !== undefined ? ['--logging-format', '--log-format'] : [])];
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].split('=')[0];
    if (!names.includes(name)) kept.push(args[i]);
    else if (!args[i].includes('=')) i++; // "-v 4": the value is the next arg
  }
  return [...kept, ...loggingArgs(logging)];
}

/**
 * config.conf with its KubeProxyConfiguration `logging` section set to what
 * `logging` gives (the rest of the text, comments included, untouched), or
 * undefined when it already says so.
 */
export function withProxyLogging(configText: string, logging: ComponentLogging): string | undefined {
  const doc = parseDocument(configText);
  let changed = false;
  for (const [key, value] of [['verbosity', logging.verbosity], ['format', logging.format]] as const) {
    if (value === undefined || doc.getIn(['logging', key]) === value) continue;
    doc.setIn(['logging', key], value);
    changed = true;
  }
  return changed ? doc.toString() : undefined;
}

async function createIfMissing<T extends KubeObject>(client: Client, type: ResourceType, obj: T): Promise<void> {
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

const clusterRoles: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', kind: 'ClusterRole', namespaced: false };
const clusterRoleBindings: ResourceType = { ...clusterRoles, resource: 'clusterrolebindings', kind: 'ClusterRoleBinding' };

/** A ServiceAccount in kube-system. */
const systemAccount = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: 'kube-system' } });

/** The RBAC objects kubeadm adds for its add-ons (system:coredns, kubeadm:node-proxier), unless they exist. */
/** kubeadm's add-on roles and bindings, each made unless it exists (side by side: they do not depend on each other). */
async function ensureAddonPolicy(client: Client): Promise<void> {
  await Promise.all([
    ...kubeadmPolicy.clusterRoles.map((role) => createIfMissing(client, clusterRoles, role as KubeObject)),
    ...kubeadmPolicy.clusterRoleBindings.map((binding) => createIfMissing(client, clusterRoleBindings, binding as KubeObject)),
  ]);
}

/**
 * Creates the cluster DNS objects unless they exist (and moves an older
 * kubesvc's coredns off the data dir socket). The account before the
 * Deployment: its pods are refused until their ServiceAccount exists.
 */
export async function ensureClusterDns(client: Client, logging: ComponentLogging = {}): Promise<void> {
  await Promise.all([
    ensureAddonPolicy(client),
    createIfMissing(client, resourceTypes.serviceaccounts, systemAccount('coredns')),
    createIfMissing(client, resourceTypes.services, kubeDnsService()),
  ]);
  await createOrMigrate(client, resourceTypes.deployments, coreDnsDeployment(logging), (current) => {
    // -v / --logging-format given to `up` and not what coredns runs with: its args change (a rollout, as any template edit).
    const containers = current.spec?.template?.spec?.containers ?? [];
    const dns = containers.find((c) => c.name === 'coredns');
    if (!dns) return undefined;
    const args = withLoggingArgs(dns.args ?? [], logging);
    if (JSON.stringify(args) === JSON.stringify(dns.args ?? [])) return undefined;
    const template = current.spec!.template!;
    return { ...current, spec: { ...current.spec!, template: { ...template, spec: { ...template.spec!, containers: containers.map((c) => (c === dns ? { ...c, args } : c)) } } } };
  });
}

/**
 * The kubeconfig kube-proxy runs with, as kubeadm's ConfigMap key
 * kubeconfig.conf: the control plane's address on the node network (not the
 * `kubernetes` Service, which kube-proxy itself programs), the pod's
 * ServiceAccount token and CA.
 */
export function kubeProxyKubeconfig(server: string): string {
  const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- cluster:',
    `    certificate-authority: ${sa}/ca.crt`,
    `    server: ${server}`,
    '  name: default',
    'contexts:',
    '- context:',
    '    cluster: default',
    '    namespace: default',
    '    user: default',
    '  name: default',
    'current-context: default',
    'users:',
    '- name: default',
    '  user:',
    `    tokenFile: ${sa}/token`,
    '',
  ].join('\n');
}

export function kubeProxyConfigMap(configText: string, server: string): ConfigMap & KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'kube-proxy', namespace: 'kube-system', labels: { app: 'kube-proxy' } },
    data: { 'config.conf': configText, 'kubeconfig.conf': kubeProxyKubeconfig(server) },
  };
}

/**
 * The kube-proxy DaemonSet, as kubeadm's: one host-network, privileged pod
 * per node running the built-in kube-proxy image (`kubesvc proxy`) with the
 * ConfigMap mounted at /var/lib/kube-proxy — its configuration
 * (config.conf, read at start, so editing the ConfigMap and deleting the
 * pods switches the mode, as the kube-proxy documentation walks through)
 * and the kubeconfig it reaches the API with as ServiceAccount kube-proxy
 * (kubeconfig.conf) — and the host's /run/xtables.lock, which iptables
 * takes around its changes. (kubeadm's also mounts /lib/modules for
 * modprobe; the built-in proxy loads no modules.)
 */
export function kubeProxyDaemonSet(): DaemonSet & KubeObject {
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
          serviceAccountName: 'kube-proxy',
          priorityClassName: 'system-node-critical',
          volumes: [
            { name: 'kube-proxy', configMap: { name: 'kube-proxy' } },
            { name: 'xtables-lock', hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' } },
          ],
          tolerations: [{ operator: 'Exists' }],
          containers: [
            {
              name: 'kube-proxy',
              image: kubeProxyImage,
              command: ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--hostname-override=$(NODE_NAME)', '--kubeconfig=/var/lib/kube-proxy/kubeconfig.conf'],
              securityContext: { privileged: true },
              volumeMounts: [
                { name: 'kube-proxy', mountPath: '/var/lib/kube-proxy' },
                { name: 'xtables-lock', mountPath: '/run/xtables.lock' },
              ],
              env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } }],
              readinessProbe: { httpGet: { path: '/healthz', port: 10256, scheme: 'HTTP' }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

/**
 * Creates the proxy's account, ConfigMap and DaemonSet unless they exist;
 * `replaceConfig` writes config.conf even if the ConfigMap does; a ConfigMap
 * without kubeconfig.conf (an older kubesvc's) gets it. `server` is the API
 * address kube-proxy reaches from its node.
 */
export async function ensureKubeProxy(client: Client, configText: string, replaceConfig: boolean, server: string, logging: ComponentLogging = {}): Promise<void> {
  /** Whether an existing config.conf's logging section was changed (its pods read it at start: they are restarted). */
  let loggingChanged = false;
  const ensureConfigMap = async () => {
    const cm = kubeProxyConfigMap(withProxyLogging(configText, logging) ?? configText, server);
    const configMaps = client.resource<ConfigMap & KubeObject>(resourceTypes.configmaps);
    try {
      const current = await configMaps.get('kube-system', 'kube-proxy');
      const data = { ...current.data };
      if (replaceConfig) data['config.conf'] = configText;
      const logged = withProxyLogging(data['config.conf'] ?? '', logging);
      if (logged !== undefined) data['config.conf'] = logged;
      loggingChanged = logged !== undefined && current.data?.['config.conf'] !== logged;
      data['kubeconfig.conf'] ??= cm.data!['kubeconfig.conf']!;
      if (replaceConfig || loggingChanged || !current.data?.['kubeconfig.conf']) await configMaps.update({ ...current, data });
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
      await createIfMissing(client, resourceTypes.configmaps, cm);
    }
  };
  // What the DaemonSet's pods need (account, policy, their ConfigMap) first, side by side.
  await Promise.all([ensureAddonPolicy(client), createIfMissing(client, resourceTypes.serviceaccounts, systemAccount('kube-proxy')), ensureConfigMap()]);
  await createOrMigrate(client, resourceTypes.daemonsets, kubeProxyDaemonSet(), (current) => {
    if (!loggingChanged) return undefined;
    // As `kubectl rollout restart`: the pods start again and read the new logging settings.
    const template = current.spec!.template!;
    const annotations = { ...template.metadata?.annotations, 'kubectl.kubernetes.io/restartedAt': new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
    return { ...current, spec: { ...current.spec!, template: { ...template, metadata: { ...template.metadata, annotations } } } };
  });
}

type Containers = { securityContext?: { privileged?: boolean } }[];
const containersOf = (spec: unknown): Containers => (spec as { template?: { spec?: { containers?: Containers } } } | undefined)?.template?.spec?.containers ?? [];

/**
 * `current` is an older kubesvc's version of `desired`, whose containers
 * now run privileged (kube-proxy): none of its containers says anything
 * about privileged (a user's `privileged: false` stays).
 */
function lacksPrivileged(desired: unknown, current: unknown): boolean {
  return containersOf(desired).some((c) => c.securityContext?.privileged === true) && containersOf(current).every((c) => c.securityContext?.privileged === undefined);
}

/**
 * Creates `obj` unless it exists; one an older kubesvc made — reaching the API
 * through the data dir (`--data-dir`) or reading its configuration through
 * the API (`--config-map`), neither of which its identity may do now, or a
 * kube-proxy without the privileged securityContext its rules need now that
 * pods are isolated — is replaced.
 */
async function createOrMigrate<T extends KubeObject>(client: Client, type: ResourceType, obj: T, adjust?: (current: T) => T | undefined): Promise<void> {
  const resource = client.resource<T>(type);
  let current: T;
  try {
    current = await resource.get(obj.metadata.namespace, obj.metadata.name!);
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 404)) throw e;
    return createIfMissing(client, type, obj);
  }
  const spec = JSON.stringify(current.spec);
  // An older coredns was told `--upstream none` (the network had no way out): it now follows the node's resolv.conf.
  const older = spec.includes('--data-dir') || spec.includes('--config-map') || spec.includes('"--upstream","none"') || lacksPrivileged((obj as { spec?: unknown }).spec, current.spec);
  if (older) current = await resource.update({ ...obj, metadata: { ...current.metadata } });
  // Settings `up` was given that the (current) object does not have yet.
  const adjusted = adjust?.(current);
  if (adjusted) await resource.update(adjusted);
}
