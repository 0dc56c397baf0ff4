// Assembles the API server: storage (Secrets encrypted at rest), allocations
// (kept in the store, repaired from stored Services), registry, authentication and
// authorization, the default namespaces, the `kubernetes` Service and the
// bootstrap RBAC policy, the HTTPS listeners and the admin kubeconfig.
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Service } from '../api/types.js';
import type { KubeObject } from '../api/object.js';
import { errors } from '../api/status.js';
import { createRegistry, type Registry } from '../registry/registry.js';
import type { ResourceDef } from '../registry/resource.js';
import { createServiceAllocation } from '../registry/services/allocation.js';
import { openSqliteStore } from '../storage/sqlite.js';
import { openEtcdStore, type EtcdStoreOptions } from '../storage/etcd/store.js';
import { errorMessage } from '../util/errors.js';
import { encryptingStore } from '../storage/encrypting-store.js';
import { createTransformer } from '../storage/encryption.js';
import { ensureEncryptionConfig, loadEncryptionConfig } from '../storage/encryption-config.js';
import type { Store } from '../storage/store.js';
import { lockDataDir } from '../storage/data-dir-lock.js';
import { logger } from '../util/log.js';
import { agentSocketPath, apiServerSocketPath } from '../util/data-dir.js';
import { writeKubeconfig } from './kubeconfig.js';
import { buildResources } from './resources.js';
import { startApiServer, type RunningApiServer } from './server.js';
import { setupAuth, type ServerAuth } from './auth/setup.js';
import { ensureServiceAccountKeys } from '../auth/serviceaccount/index.js';
import { loadAuditPolicy } from './audit/policy.js';
import { createAuditor } from './audit/recorder.js';
import { logBackend } from './audit/log-backend.js';
import { bodyRead, objectSent } from './http-io.js';
import { ensureClusterCA, pkiDir } from './pki/ca.js';
import { issueClientCertificate, type ClientIdentity } from './pki/client-cert.js';
import { apiServerNames, ensureServingCert } from './pki/serving-cert.js';
import { accessReviewResources } from './reviews/access-reviews.js';
import { authenticationReviewResources } from './reviews/authentication-reviews.js';
import { createRbacResources } from '../registry/rbac/resource.js';
import { ensureBootstrapPolicy } from '../auth/rbac/bootstrap-reconcile.js';
import { ensureTokenBootstrap } from '../auth/bootstrap-token/ensure.js';
import { CONTROL_PLANE_IP } from '../agent/network.js';
import { componentUsers } from '../auth/user.js';
import { startLeaseEndpointReconciler, type LeaseEndpointReconciler } from './endpoint-reconciler.js';
import { createCustomResourceServing } from '../apiextensions/serving.js';
import type { TransportOptions } from '../client/transport.js';

const log = logger('apiserver');

export interface ApiServerConfig {
  dataDir: string;
  port: number;
  bind: string;
  serviceClusterIPRange: string;
  serviceNodePortRange: string;
  /** The port the `kubernetes` Service targets: the secure port the API serves pods on (default 6443, upstream's). */
  advertisePort?: number;
  /**
   * The ServiceAccount admission plugin: pods mount a token, the cluster CA
   * (kube-root-ca.crt) and their namespace. For clusters whose API pods can
   * reach and whose CA the controllers publish (`up`).
   */
  serviceAccountTokens?: boolean;
  bookmarkIntervalMs?: number;
  /** Use this store instead of SQLite in the data dir (tests). */
  store?: Store;
  /** Store objects in etcd (--etcd-servers and the TLS and prefix flags) instead of SQLite in the data dir. */
  etcd?: EtcdStoreOptions;
  /** Further addresses clients reach the API at (the serving certificate names them), e.g. the in-cluster 172.18.0.1. */
  advertiseAddresses?: string[];
  /**
   * --advertise-address: this server's address for the `kubernetes`
   * Endpoints, held as a lease in the store with the other API servers'
   * (upstream's lease endpoint reconciler) on advertisePort.
   */
  advertiseAddress?: string;
  clusterDomain?: string;
  /**
   * 'RBAC' (the Node and RBAC authorizers; every cluster's) or 'AlwaysAllow',
   * which exists only so bench/apiserver can measure what authorization
   * costs; no command line reaches it.
   */
  authorization?: 'RBAC' | 'AlwaysAllow';
  /** Audit logging (--audit-policy-file, --audit-log-path): every request recorded as the policy says. */
  audit?: { policyFile: string; logPath: string };
}

/** The store named on the command line cannot be reached: the API server does not start. */
export class StoreUnavailableError extends Error {}

/** Upstream's secure port: where the API answers inside the cluster, and the `kubernetes` Service's targetPort. */
export const defaultAdvertisePort = 6443;

export const defaultApiServerConfig = {
  port: 6443,
  bind: '127.0.0.1',
  serviceClusterIPRange: '10.96.0.0/12',
  serviceNodePortRange: '30000-32767',
};

export interface ApiServer {
  registry: Registry;
  defs: ResourceDef[];
  http: RunningApiServer;
  /** https://host:port of the TCP listener. */
  url: string;
  /** The admin kubeconfig (kubernetes-admin in system:masters), as kubeadm's admin.conf. */
  kubeconfigPath: string;
  socketPath: string;
  /** PEM of the cluster CA. */
  caCert: string;
  /**
   * Transport options for a component or test acting as `identity`: a fresh
   * client certificate from the cluster CA, over the data dir's socket
   * (default) or the TCP listener.
   */
  transportFor(identity: ClientIdentity, via?: 'socket' | 'tcp'): TransportOptions;
  def(resource: string): ResourceDef;
  close(): Promise<void>;
}

export async function runApiServer(config: ApiServerConfig): Promise<ApiServer> {
  // The data dir holds the database, keys and the admin kubeconfig: its owner's alone, as kubeadm keeps /etc/kubernetes/pki.
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(config.dataDir, 0o700);
  const unlock = lockDataDir(config.dataDir);
  let store: Store;
  try {
    // Secrets are encrypted at rest with the data dir's key (pki/encryption-config.yaml, made on first start).
    const encryption = loadEncryptionConfig(ensureEncryptionConfig(pkiDir(config.dataDir)));
    // Encrypted values are bound to their keys: a data dir whose keys move to upstream's layout has them sealed again.
    const moveValue = createTransformer(encryption).moveKey;
    store = encryptingStore(config.store ?? (config.etcd ? openEtcdStore(config.etcd) : openSqliteStore(join(config.dataDir, 'state.db'), { moveValue })), encryption);
  } catch (e) {
    unlock();
    throw e;
  }
  if (config.etcd && !config.store) {
    try {
      await store.check();
    } catch (e) {
      await store.close();
      unlock();
      throw new StoreUnavailableError(`etcd (--etcd-servers ${config.etcd.endpoints.join(',')}) does not answer: ${errorMessage(e)}`);
    }
  }
  try {
    return await assemble(config, store, unlock);
  } catch (e) {
    await store.close();
    unlock();
    throw e;
  }
}

async function assemble(config: ApiServerConfig, store: Store, unlock: () => void): Promise<ApiServer> {
  // Made (on a first start) on the thread pool while the rest is set up.
  const saKeys = ensureServiceAccountKeys(pkiDir(config.dataDir));
  saKeys.catch(() => undefined);
  const allocation = createServiceAllocation({ store, serviceClusterIPRange: config.serviceClusterIPRange, serviceNodePortRange: config.serviceNodePortRange });
  // Late-bound: authentication and authorization read the registry, and some resources ask them.
  let serverAuth: ServerAuth | undefined;
  const authOf = () => {
    if (!serverAuth) throw errors.serviceUnavailable('the API server is starting');
    return serverAuth;
  };
  const rbac = createRbacResources({ ruleResolver: () => serverAuth?.rbac });
  const defs: ResourceDef[] = [
    ...buildResources({ registry: () => registry, allocation, cluster: { ipFamilies: ['IPv4'] }, serviceAccountTokens: config.serviceAccountTokens, served: () => defs }),
    rbac.clusterRoles,
    rbac.clusterRoleBindings,
    rbac.roles,
    rbac.roleBindings,
    ...accessReviewResources({ authorizer: () => authOf().auth.authorizer, extensions: () => authOf().extensions }),
    ...authenticationReviewResources({ extensions: () => authOf().extensions }),
  ];
  // CRDs, and the custom resources they define, which come and go in `defs` as CRDs are established and deleted.
  const customResources = createCustomResourceServing(defs);
  defs.push(customResources.crds);
  const def = (resource: string) => defs.find((d) => d.resource === resource)!;
  const registry: Registry = createRegistry(store, {
    async checkNamespace(namespace, target) {
      if (target.resource === 'events') return;
      let ns: KubeObject;
      try {
        ns = await registry.get(def('namespaces'), undefined, namespace);
      } catch {
        throw errors.notFound({ group: '', resource: 'namespaces' }, namespace);
      }
      if ((ns.status as { phase?: string } | undefined)?.phase === 'Terminating') {
        throw errors.forbidden(
          { group: target.group, resource: target.resource },
          '',
          `unable to create new content in namespace ${namespace} because it is being terminated`,
        );
      }
    },
  });

  const { items: services } = await registry.list(def('services'), undefined);
  await allocation.restore(services as unknown as Service[]);

  const clusterDomain = config.clusterDomain ?? 'cluster.local';
  const ca = ensureClusterCA(config.dataDir);
  const bindAddress = ['0.0.0.0', '::', '127.0.0.1'].includes(config.bind) ? [] : [config.bind];
  // Every server names the in-cluster address too: on each machine of the cluster, kube-proxy and pods reach
  // the API there (served by `up`'s server itself, or by a joined machine's load balancer to any server).
  const serving = ensureServingCert(config.dataDir, apiServerNames(clusterDomain, allocation.firstAddress(), [...bindAddress, CONTROL_PLANE_IP, ...(config.advertiseAddresses ?? []), ...(config.advertiseAddress ? [config.advertiseAddress] : [])]));
  let address = '';
  const auth = (serverAuth = setupAuth({
    registry,
    def,
    rbac,
    keys: await saKeys,
    clusterDomain,
    externalAddress: () => address,
    authorization: config.authorization ?? 'RBAC',
  }));

  let ready = false;
  const socketPath = apiServerSocketPath(config.dataDir);
  const auditLog = config.audit ? logBackend(config.audit.logPath) : undefined;
  const auditor = config.audit && auditLog
    ? createAuditor({ policy: loadAuditPolicy(config.audit.policyFile), backend: auditLog, requestBody: bodyRead, responseObject: objectSent })
    : undefined;
  let http: RunningApiServer;
  try {
    await auth.ready;
    http = await startApiServer({
      registry,
      defs,
      port: config.port,
      bind: config.bind,
      tls: { cert: serving.cert, key: serving.key, clientCA: ca.cert },
      auth: auth.auth,
      extensions: auth.extensions,
      issuerDiscovery: auth.issuerDiscovery,
      socketPath,
      bookmarkIntervalMs: config.bookmarkIntervalMs,
      isReady: () => ready,
      agentSocket: (node) => agentSocketPath(config.dataDir, node),
      audit: auditor,
    });
  } catch (e) {
    auth.stop();
    await auditLog?.close();
    throw e;
  }
  address = http.address;
  await bootstrap(registry, def, allocation.firstAddress(), config.advertisePort ?? defaultAdvertisePort);
  await ensureBootstrapPolicy(registry, rbac);
  // cluster-info names the address other machines reach this server at when it advertises one (kubeadm's advertise address).
  const published = config.advertiseAddress ? `${config.advertiseAddress}:${config.advertisePort ?? http.address.split(':').pop()}` : http.address;
  await ensureTokenBootstrap(registry, def, { server: `https://${published}`, caCertPem: ca.cert });
  await customResources.start(registry);
  let endpointLease: LeaseEndpointReconciler | undefined;
  if (config.advertiseAddress) {
    endpointLease = await startLeaseEndpointReconciler(registry, def, { ip: config.advertiseAddress, port: config.advertisePort ?? defaultAdvertisePort });
  }
  ready = true;
  const url = `https://${http.address}`;
  const transportFor = (identity: ClientIdentity, via: 'socket' | 'tcp' = 'socket'): TransportOptions => {
    const creds = issueClientCertificate(ca, identity);
    const server = via === 'socket' ? { server: 'https://localhost', socketPath } : { server: url };
    return { ...server, ca: ca.cert, cert: creds.cert, key: creds.key };
  };
  const kubeconfigPath = join(config.dataDir, 'kubeconfig');
  writeKubeconfig(kubeconfigPath, { server: url, caCert: ca.cert, user: componentUsers.admin.name, credentials: issueClientCertificate(ca, componentUsers.admin) });
  log.info('ready', { url, kubeconfig: kubeconfigPath, socket: socketPath, services: services.length });

  return {
    registry,
    defs,
    http,
    url,
    kubeconfigPath,
    socketPath,
    caCert: ca.cert,
    transportFor,
    def,
    async close() {
      await endpointLease?.stop().catch((e: unknown) => log.error('cannot remove the endpoint lease', { error: errorMessage(e) }));
      customResources.stop();
      await http.close();
      auth.stop();
      await auditLog?.close();
      await store.close();
      unlock();
    },
  };
}

/** The objects every cluster has: the system namespaces and the `kubernetes` Service. */
async function bootstrap(registry: Registry, def: (r: string) => ResourceDef, kubernetesIP: string, targetPort: number) {
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    await registry.create(def('namespaces'), undefined, { metadata: { name } }).catch(ignoreExists);
  }
  const service: KubeObject = {
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      type: 'ClusterIP',
      clusterIP: kubernetesIP,
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort }],
      sessionAffinity: 'None',
    },
  };
  const existing = await registry.get(def('services'), 'default', 'kubernetes').catch((e: unknown) => {
    if ((e as { code?: number }).code === 404) return undefined; // not made yet: made below
    throw e;
  });
  if (!existing) {
    await registry.create(def('services'), 'default', service);
    return;
  }
  // Keep the target port in step with the advertised port (it may be configured).
  await registry.update(def('services'), 'default', 'kubernetes', (svc) => {
    const spec = svc.spec as Service['spec'];
    if (spec?.ports?.[0]) spec.ports[0].targetPort = targetPort;
    return svc;
  });
}

function ignoreExists(e: unknown) {
  if ((e as { code?: number }).code !== 409) throw e;
}
