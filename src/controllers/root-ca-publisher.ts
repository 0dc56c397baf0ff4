// The root CA certificate publisher (pkg/controller/certificates/
// rootcacertpublisher): every active namespace has ConfigMap kube-root-ca.crt
// holding the cluster CA, which the service account volume of each pod
// projects as ca.crt so in-cluster clients can verify the API's certificate.
// Edits and deletions are undone; terminating namespaces are left alone.
import { resourceTypes } from '../client/client.js';
import type { Controller, ControllerContext } from './controller.js';
import { createPerNamespaceController, createUnlessGone } from './per-namespace.js';
import type { ConfigMapObject as ConfigMap } from '../api/types.js';


export const rootCACertConfigMapName = 'kube-root-ca.crt';
const descriptionAnnotation = 'kubernetes.io/description';
const description =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. ' +
  'No other usages are guaranteed across distributions of Kubernetes clusters.';

export function createRootCAPublisher(ctx: ControllerContext): Controller {
  const data = { 'ca.crt': ctx.options.rootCA ?? '' };
  return createPerNamespaceController<ConfigMap>(ctx, {
    name: 'root-ca-cert-publisher',
    type: resourceTypes.configmaps,
    keeps: [rootCACertConfigMapName],
    watchUpdates: true,
    async sync(namespace, cached, client) {
      const cm = cached(rootCACertConfigMapName);
      if (!cm) {
        const annotations = { [descriptionAnnotation]: description };
        await createUnlessGone(client, namespace, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: rootCACertConfigMapName, namespace, annotations }, data });
        return;
      }
      if (JSON.stringify(cm.data ?? {}) === JSON.stringify(data) && cm.metadata.annotations?.[descriptionAnnotation]) return;
      await client.update({ ...cm, data, metadata: { ...cm.metadata, annotations: { ...cm.metadata.annotations, [descriptionAnnotation]: description } } });
    },
  });
}
