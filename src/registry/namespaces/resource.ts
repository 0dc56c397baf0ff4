// core/v1 namespaces. Deleting one marks it Terminating, removes everything in
// it, then removes the namespace itself (the namespace controller's job
// upstream; done here by the lifecycle hook the API server wires in).
import type { Namespace } from '../../api/types.js';
import type { KubeObject } from '../../api/object.js';
import { keepAllButStatus, validateDNS1123LabelName } from '../common.js';
import { statusSubresource, type ResourceDef } from '../resource.js';
import { table } from './table.js';

const ns = (o: KubeObject) => o as unknown as Namespace;

export interface NamespaceLifecycle {
  /** Deletes every namespaced object in the namespace, then finalizes and deletes it. */
  terminate(name: string): Promise<void>;
}

export function namespacesResource(lifecycle: NamespaceLifecycle): ResourceDef {
  return {
    group: '',
    version: 'v1',
    kind: 'Namespace',
    resource: 'namespaces',
    singular: 'namespace',
    shortNames: ['ns'],
    categories: [],
    namespaced: false,
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [
      statusSubresource({ group: '', version: 'v1', kind: 'Namespace' }),
      { name: 'finalize', group: '', version: 'v1', kind: 'Namespace', verbs: ['update'] },
    ],
    table,
    validateName: validateDNS1123LabelName,
    fields: (obj) => ({ 'status.phase': ns(obj).status?.phase ?? '' }),
    strategy: {
      prepareForCreate(obj) {
        const n = ns(obj);
        n.spec = { finalizers: ['kubernetes'] };
        n.status = { phase: 'Active' };
        n.metadata!.labels = { ...n.metadata!.labels, 'kubernetes.io/metadata.name': n.metadata!.name! };
      },
      prepareForUpdate(obj, old, ctx) {
        const n = ns(obj);
        n.metadata!.labels = { ...n.metadata!.labels, 'kubernetes.io/metadata.name': n.metadata!.name! };
        // spec.finalizers change only through the finalize subresource.
        if (ctx.subresource !== 'finalize') n.spec = structuredClone(ns(old).spec);
      },
      prepareForStatusUpdate: keepAllButStatus,
      gracefulDelete: (obj) => (ns(obj).spec?.finalizers?.length ? 0 : undefined),
      prepareForDelete(obj) {
        ns(obj).status = { ...ns(obj).status, phase: 'Terminating' };
      },
      afterDeleteRequested: (obj) => {
        void lifecycle.terminate(obj.metadata.name!);
      },
    },
  };
}
