// The root CA certificate publisher (pkg/controller/certificates/
// rootcacertpublisher): every active namespace has ConfigMap kube-root-ca.crt
// holding the cluster CA, which the service account volume of each pod
// projects as ca.crt so in-cluster clients can verify the API's certificate.
// Edits and deletions are undone; terminating namespaces are left alone.
import type { KubeObject } from '../api/object.js';
import type { ConfigMap as ConfigMapType, Namespace as NamespaceType } from '../api/types.js';
import { isNotFound, resourceTypes } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import { queueFor, type Controller, type ControllerContext } from './controller.js';

type ConfigMap = ConfigMapType & KubeObject;
type Namespace = NamespaceType & KubeObject;

export const rootCACertConfigMapName = 'kube-root-ca.crt';
const descriptionAnnotation = 'kubernetes.io/description';
const description =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. ' +
  'No other usages are guaranteed across distributions of Kubernetes clusters.';

export function createRootCAPublisher(ctx: ControllerContext): Controller {
  const rootCA = ctx.options.rootCA ?? '';
  const configMapsClient = ctx.factory.client.resource<ConfigMap>(resourceTypes.configmaps);
  let namespaces: Informer<Namespace>;
  let configMaps: Informer<ConfigMap>;
  const { queue } = queueFor('root-ca-cert-publisher', syncNamespace, 2);

  async function syncNamespace(name: string): Promise<void> {
    const ns = namespaces.get(name);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    const data = { 'ca.crt': rootCA };
    const cm = configMaps.get(`${name}/${rootCACertConfigMapName}`);
    if (!cm) {
      try {
        await configMapsClient.create(name, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: rootCACertConfigMapName, namespace: name, annotations: { [descriptionAnnotation]: description } },
          data,
        });
      } catch (e) {
        // Gone or terminating meanwhile: nothing to publish; a conflict means the cache is behind (the update comes through it).
        const code = (e as { code?: number }).code;
        if (isNotFound(e) || code === 403 || code === 409) return;
        throw e;
      }
      return;
    }
    if (JSON.stringify(cm.data ?? {}) === JSON.stringify(data) && cm.metadata.annotations?.[descriptionAnnotation]) return;
    await configMapsClient.update({ ...cm, data, metadata: { ...cm.metadata, annotations: { ...cm.metadata.annotations, [descriptionAnnotation]: description } } });
  }

  const onConfigMap = (cm: ConfigMap) => {
    if (cm.metadata.name === rootCACertConfigMapName) queue.add(cm.metadata.namespace!);
  };

  return {
    name: 'root-ca-cert-publisher',
    setup() {
      namespaces = ctx.factory.informer<Namespace>(resourceTypes.namespaces);
      configMaps = ctx.factory.informer<ConfigMap>(resourceTypes.configmaps);
      namespaces.on({ add: (ns) => queue.add(ns.metadata.name!), update: (_old, ns) => queue.add(ns.metadata.name!) });
      configMaps.on({ update: (_old, cm) => onConfigMap(cm), delete: onConfigMap });
    },
    run() {
      for (const ns of namespaces.list()) queue.add(ns.metadata.name!);
    },
    stop() {
      queue.shutdown();
    },
    idle: () => queue.idle(),
  };
}
