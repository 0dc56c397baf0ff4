// The Node authorizer (with NodeRestriction's limits folded in): a kubelet,
// system:node:<name> in system:nodes, may read the secrets, configmaps and
// service accounts of the pods bound to its node and request their tokens,
// write only its own Node, the status of its own pods and its own Lease in
// kube-node-lease, and otherwise do what the system:node rules allow.
// Anyone else: no opinion.
import type { Attributes, Authorizer, AuthorizerResult, PolicyRule } from '../attributes.js';
import { nodeNameOf } from '../user.js';
import { ruleAllows } from '../rbac/rules.js';
import type { NodeGraph } from './node-graph.js';
import { nodeLeaseNamespace } from '../../api/node-lease.js';

const noOpinion = (reason = ''): AuthorizerResult => ({ decision: 'no-opinion', reason });
const allow: AuthorizerResult = { decision: 'allow', reason: '' };
const readVerbs = new Set(['get', 'list', 'watch']);
const leaseVerbs = new Set(['get', 'create', 'update', 'patch', 'delete']);
/** api.NamespaceNodeLease. */

export function createNodeAuthorizer(graph: NodeGraph, nodeRules: readonly PolicyRule[]): Authorizer {
  const noRelation = (node: string) => noOpinion(`no relationship found between node '${node}' and this object`);
  return {
    authorize(attrs: Attributes): AuthorizerResult {
      const node = nodeNameOf(attrs.user);
      if (!node) return noOpinion();
      if (attrs.resourceRequest && attrs.apiGroup === 'coordination.k8s.io' && attrs.resource === 'leases') return authorizeLease(node, attrs);
      if (!attrs.resourceRequest || attrs.apiGroup !== '') return rules(attrs);
      const { resource, subresource, namespace = '', name = '', verb } = attrs;
      switch (resource) {
        case 'secrets':
        case 'configmaps':
          // One object at a time: get, or a list/watch narrowed to one name.
          if (!readVerbs.has(verb) || subresource) return noOpinion(`can only read individual ${resource}`);
          if (!name) return noOpinion(`can only read individual ${resource}`);
          return graph.related(node, resource, namespace, name) ? allow : noRelation(node);
        case 'serviceaccounts':
          if (subresource === 'token' && verb === 'create') return graph.related(node, 'serviceaccounts', namespace, name) ? allow : noRelation(node);
          if (!subresource && verb === 'get') return graph.related(node, 'serviceaccounts', namespace, name) ? allow : noRelation(node);
          return noOpinion(`can only get individual serviceaccounts or create their tokens`);
        case 'nodes':
          if (!readVerbs.has(verb) && name !== node && !(verb === 'create' && !name)) return noOpinion(`node '${node}' cannot modify node '${name}'`);
          return rules(attrs);
        case 'pods':
          if (subresource === 'status' && graph.podNode(namespace, name) !== node) return noRelation(node);
          return rules(attrs);
        default:
          return rules(attrs);
      }
    },
  };

  /**
   * authorizeLease: a node keeps its own heartbeat Lease in kube-node-lease
   * and touches no other. A create carries no name here; the lease
   * registry's admission checks it (NodeRestriction).
   */
  function authorizeLease(node: string, attrs: Attributes): AuthorizerResult {
    if (!leaseVerbs.has(attrs.verb)) return noOpinion('can only get, create, update, patch, or delete a node lease');
    if (attrs.namespace !== nodeLeaseNamespace) return noOpinion(`can only access leases in the "${nodeLeaseNamespace}" system namespace`);
    if (attrs.verb !== 'create' && attrs.name !== node) return noOpinion('can only access node lease with the same name as the requesting node');
    return allow;
  }

  function rules(attrs: Attributes): AuthorizerResult {
    return nodeRules.some((r) => ruleAllows(attrs, r)) ? allow : noOpinion();
  }
}
