// core/v1 nodes: registered and kept fresh by each node agent.
import type { KubeObject } from '../../api/object.js';
import { keepAllButStatus, validateDNS1123SubdomainName } from '../common.js';
import { standardVerbs, statusSubresource, type ResourceDef } from '../resource.js';
import { validateNode, validateNodeUpdate } from '../workloads/validation.js';
import type { Node } from '../../api/types.js';
import { table } from './table.js';

export const nodesResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Node',
  resource: 'nodes',
  singular: 'node',
  shortNames: ['no'],
  categories: [],
  namespaced: false,
  verbs: standardVerbs,
  subresources: [statusSubresource({ group: '', version: 'v1', kind: 'Node' })],
  table,
  validateName: validateDNS1123SubdomainName,
  fields: (obj: KubeObject) => ({ 'spec.unschedulable': String((obj.spec as { unschedulable?: boolean } | undefined)?.unschedulable ?? false) }),
  strategy: {
    prepareForCreate(obj) {
      obj.spec ??= {};
      obj.status ??= {};
    },
    prepareForStatusUpdate: keepAllButStatus,
    validate: (obj) => validateNode(obj as unknown as Node),
    validateUpdate: (obj, old) => validateNodeUpdate(obj as unknown as Node, old as unknown as Node),
  },
};
