// Where nodes keep their heartbeat Leases (one per node, named after it), as
// the kubelet does: the API server lets a node touch only its own there, the
// node agent renews it, and the node lifecycle controller reads it.
export const nodeLeaseNamespace = 'kube-node-lease';
