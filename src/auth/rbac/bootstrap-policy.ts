// The cluster roles and bindings every API server ensures at start
// (plugin/pkg/auth/authorizer/rbac/bootstrappolicy, as of v1.32): the
// user-facing roles (cluster-admin; admin, edit and view aggregated from
// their system:aggregate-to-* parts), the roles of the system's components
// and of the kube-controller-manager's controllers, each with the bootstrap
// label and autoupdate annotation. Rule data is upstream's, including
// resources kubesvc does not serve. Separately, what kubeadm adds
// (CoreDNS's role and kube-proxy's binding).
import type { PolicyRule } from '../attributes.js';
import { groups, users } from '../user.js';
import {
  autoUpdateAnnotation,
  bootstrappingLabel,
  rbacGroup,
  ruleWildcard,
  subjectKinds,
  type ClusterRole,
  type ClusterRoleBinding,
  type Subject,
} from './types.js';

/** A set of cluster roles and bindings to ensure. */
export interface PolicySet {
  clusterRoles: ClusterRole[];
  clusterRoleBindings: ClusterRoleBinding[];
}

const read = ['get', 'list', 'watch'];
const write = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const readWrite = [...read, ...write];

const core = '';
const apps = 'apps';
const authentication = 'authentication.k8s.io';
const authorization = 'authorization.k8s.io';
const autoscaling = 'autoscaling';
const batch = 'batch';
const certificates = 'certificates.k8s.io';
const coordination = 'coordination.k8s.io';
const discovery = 'discovery.k8s.io';
const events = 'events.k8s.io';
const extensions = 'extensions';
const networking = 'networking.k8s.io';
const node = 'node.k8s.io';
const policy = 'policy';
const resourceGroup = 'resource.k8s.io';
const storage = 'storage.k8s.io';

const sorted = (values: string[]) => [...values].sort();

/** rbacv1helpers.NewRule(verbs).Groups(groups).Resources(resources)[.Names(names)].RuleOrDie(): every list sorted. */
function rule(verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]): PolicyRule {
  const r: PolicyRule = { verbs: sorted(verbs), apiGroups: sorted(apiGroups), resources: sorted(resources) };
  if (resourceNames) r.resourceNames = sorted(resourceNames);
  return r;
}

/** NewRule(verbs).URLs(urls). */
function urls(verbs: string[], nonResourceURLs: string[]): PolicyRule {
  return { verbs: sorted(verbs), nonResourceURLs: sorted(nonResourceURLs) };
}

/** eventsRule: what every component that records events holds. */
const eventsRule = () => rule(['create', 'update', 'patch'], [core, events], ['events']);

const defaultMetadata = () => ({ labels: { ...bootstrappingLabel }, annotations: { [autoUpdateAnnotation]: 'true' } });

function clusterRole(name: string, rules: PolicyRule[], labels: Record<string, string> = {}): ClusterRole {
  const metadata = defaultMetadata();
  return { apiVersion: `${rbacGroup}/v1`, kind: 'ClusterRole', metadata: { name, labels: { ...metadata.labels, ...labels }, annotations: metadata.annotations }, rules };
}

/** A role whose rules the aggregation controller gathers from the roles labelled `aggregateFrom` (it has none of its own). */
function aggregatedClusterRole(name: string, aggregateFrom: string, labels: Record<string, string> = {}): ClusterRole {
  const { rules: _none, ...role } = clusterRole(name, [], labels);
  return { ...role, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [aggregateFrom]: 'true' } }] } };
}

export const userSubject = (name: string): Subject => ({ apiGroup: rbacGroup, kind: subjectKinds.user, name });
export const groupSubject = (name: string): Subject => ({ apiGroup: rbacGroup, kind: subjectKinds.group, name });
export const serviceAccountSubject = (namespace: string, name: string): Subject => ({ kind: subjectKinds.serviceAccount, name, namespace });

function clusterRoleBinding(name: string, subjects: Subject[], roleName = name, metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } = defaultMetadata()): ClusterRoleBinding {
  const binding: ClusterRoleBinding = {
    apiVersion: `${rbacGroup}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name, ...metadata },
    roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: roleName },
  };
  if (subjects.length) binding.subjects = subjects;
  return binding;
}

const aggregateToAdmin = 'rbac.authorization.k8s.io/aggregate-to-admin';
const aggregateToEdit = 'rbac.authorization.k8s.io/aggregate-to-edit';
const aggregateToView = 'rbac.authorization.k8s.io/aggregate-to-view';

/** The user-facing roles: cluster-admin, and admin ⊇ edit ⊇ view gathered by the aggregation controller. */
const userFacingRoles: ClusterRole[] = [
  clusterRole('cluster-admin', [rule([ruleWildcard], [ruleWildcard], [ruleWildcard]), urls([ruleWildcard], [ruleWildcard])]),
  aggregatedClusterRole('admin', aggregateToAdmin),
  aggregatedClusterRole('edit', aggregateToEdit, { [aggregateToAdmin]: 'true' }),
  aggregatedClusterRole('view', aggregateToView, { [aggregateToEdit]: 'true' }),
  clusterRole(
    'system:aggregate-to-admin',
    [rule(['create'], [authorization], ['localsubjectaccessreviews']), rule(readWrite, [rbacGroup], ['roles', 'rolebindings'])],
    { [aggregateToAdmin]: 'true' },
  ),
  clusterRole(
    'system:aggregate-to-edit',
    [
      // Read on the escalating resources (view leaves them out).
      rule(read, [core], ['pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward', 'secrets', 'services/proxy']),
      rule(['impersonate'], [core], ['serviceaccounts']),
      rule(write, [core], ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
      rule(['create'], [core], ['pods/eviction']),
      rule(write, [core], ['replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/proxy', 'persistentvolumeclaims', 'configmaps', 'secrets']),
      rule(['create'], [core], ['serviceaccounts/token']),
      rule(write, [core, events], ['events']),
      rule(write, [apps], ['statefulsets', 'statefulsets/scale', 'daemonsets', 'deployments', 'deployments/scale', 'deployments/rollback', 'replicasets', 'replicasets/scale']),
      rule(write, [autoscaling], ['horizontalpodautoscalers']),
      rule(write, [batch], ['jobs', 'cronjobs']),
      rule(write, [extensions], ['daemonsets', 'deployments', 'deployments/scale', 'deployments/rollback', 'ingresses', 'replicasets', 'replicasets/scale', 'replicationcontrollers/scale', 'networkpolicies']),
      rule(write, [policy], ['poddisruptionbudgets']),
      rule(write, [networking], ['networkpolicies', 'ingresses']),
      rule(readWrite, [coordination], ['leases']),
      rule(write, [resourceGroup], ['resourceclaims', 'resourceclaimtemplates']),
    ],
    { [aggregateToEdit]: 'true' },
  ),
  clusterRole(
    'system:aggregate-to-view',
    [
      rule(read, [core], ['pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'configmaps']),
      rule(read, [core], ['limitranges', 'resourcequotas', 'bindings', 'pods/status', 'resourcequotas/status', 'namespaces/status', 'replicationcontrollers/status', 'pods/log']),
      // Reading namespaces at namespace scope means reading this namespace: which namespaces one has access to.
      rule(read, [core], ['namespaces']),
      rule(read, [core, events], ['events']),
      rule(read, [discovery], ['endpointslices']),
      rule(read, [apps], [
        'controllerrevisions',
        'statefulsets', 'statefulsets/status', 'statefulsets/scale',
        'daemonsets', 'daemonsets/status',
        'deployments', 'deployments/status', 'deployments/scale',
        'replicasets', 'replicasets/status', 'replicasets/scale',
      ]),
      rule(read, [autoscaling], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
      rule(read, [batch], ['jobs', 'cronjobs', 'cronjobs/status', 'jobs/status']),
      rule(read, [extensions], [
        'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status',
        'ingresses', 'ingresses/status', 'replicasets', 'replicasets/scale', 'replicasets/status',
        'replicationcontrollers/scale', 'networkpolicies',
      ]),
      rule(read, [policy], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
      rule(read, [networking], ['ingresses', 'ingresses/status', 'networkpolicies']),
      rule(read, [resourceGroup], ['resourceclaims', 'resourceclaims/status', 'resourceclaimtemplates']),
    ],
    { [aggregateToView]: 'true' },
  ),
];

/** What a node (the kubelet) holds, before the Node authorizer narrows it (NodeRules). */
const nodeRules: PolicyRule[] = [
  rule(['create'], [authentication], ['tokenreviews']),
  rule(['create'], [authorization], ['subjectaccessreviews', 'localsubjectaccessreviews']),
  rule(read, [core], ['services']),
  rule(['create', 'get', 'list', 'watch'], [core], ['nodes']),
  rule(['update', 'patch'], [core], ['nodes/status']),
  rule(['update', 'patch'], [core], ['nodes']),
  eventsRule(),
  rule(read, [core], ['pods']),
  rule(['create', 'delete'], [core], ['pods']),
  rule(['update', 'patch'], [core], ['pods/status']),
  rule(['create'], [core], ['pods/eviction']),
  rule(read, [core], ['secrets', 'configmaps']),
  rule(['get'], [core], ['persistentvolumeclaims', 'persistentvolumes']),
  rule(['get'], [core], ['endpoints']),
  rule(['create', 'get', 'list', 'watch'], [certificates], ['certificatesigningrequests']),
  rule(['get', 'create', 'update', 'patch', 'delete'], [coordination], ['leases']),
  rule(['get'], [storage], ['volumeattachments']),
  rule(['create'], [core], ['serviceaccounts/token']),
  rule(['get', 'update', 'patch'], [core], ['persistentvolumeclaims/status']),
  rule(read, [storage], ['csidrivers']),
  rule(['get', 'create', 'update', 'patch', 'delete'], [storage], ['csinodes']),
  rule(read, [node], ['runtimeclasses']),
  rule(['get'], [resourceGroup], ['resourceclaims']),
  rule(['deletecollection'], [resourceGroup], ['resourceslices']),
  rule(['get'], [core], ['serviceaccounts']),
];

/** The roles of the system's components and of discovery. */
const systemRoles: ClusterRole[] = [
  clusterRole('system:discovery', [urls(['get'], ['/livez', '/readyz', '/healthz', '/version', '/version/', '/openapi', '/openapi/*', '/api', '/api/*', '/apis', '/apis/*'])]),
  clusterRole('system:monitoring', [
    urls(['get'], ['/metrics', '/metrics/slis', '/livez', '/readyz', '/healthz', '/livez/*', '/readyz/*', '/healthz/*', '/statusz']),
    rule(['get'], [core], ['nodes/metrics']),
  ]),
  clusterRole('system:basic-user', [
    rule(['create'], [authorization], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
    rule(['create'], [authentication], ['selfsubjectreviews']),
  ]),
  clusterRole('system:public-info-viewer', [urls(['get'], ['/livez', '/readyz', '/healthz', '/version', '/version/'])]),
  clusterRole('system:auth-delegator', [rule(['create'], [authentication], ['tokenreviews']), rule(['create'], [authorization], ['subjectaccessreviews'])]),
  clusterRole('system:node', nodeRules),
  clusterRole('system:node-proxier', [
    rule(['list', 'watch'], [core], ['services', 'endpoints']),
    rule(read, [core], ['nodes']),
    eventsRule(),
    rule(['list', 'watch'], [networking], ['servicecidrs']),
    rule(['list', 'watch'], [discovery], ['endpointslices']),
  ]),
  clusterRole('system:kube-controller-manager', [
    eventsRule(),
    // Leader election.
    rule(['create'], [coordination], ['leases']),
    rule(['get', 'update'], [coordination], ['leases'], ['kube-controller-manager']),
    // The identities of the controllers (--use-service-account-credentials).
    rule(['create'], [core], ['secrets', 'serviceaccounts']),
    rule(['delete'], [core], ['secrets']),
    rule(['get'], [core], ['namespaces', 'configmaps', 'secrets', 'serviceaccounts']),
    rule(['update'], [core], ['secrets', 'serviceaccounts']),
    rule(['create'], [authentication], ['tokenreviews']),
    rule(['create'], [authorization], ['subjectaccessreviews']),
    // The shared informers.
    rule(['list', 'watch'], [ruleWildcard], [ruleWildcard]),
    rule(['create'], [core], ['serviceaccounts/token']),
  ]),
  clusterRole('system:kube-scheduler', [
    eventsRule(),
    rule(['create'], [coordination], ['leases']),
    rule(['get', 'update', 'list', 'watch'], [coordination], ['leases'], ['kube-scheduler']),
    rule(readWrite, [coordination], ['leasecandidates']),
    rule(read, [core], ['nodes']),
    rule(['get', 'list', 'watch', 'delete'], [core], ['pods']),
    rule(['create'], [core], ['pods/binding', 'bindings']),
    rule(['patch', 'update'], [core], ['pods/status']),
    rule(read, [core], ['replicationcontrollers', 'services']),
    rule(read, [apps, extensions], ['replicasets']),
    rule(read, [apps], ['statefulsets']),
    rule(read, [policy], ['poddisruptionbudgets']),
    rule(read, [core], ['persistentvolumeclaims', 'persistentvolumes']),
    rule(['create'], [authentication], ['tokenreviews']),
    rule(['create'], [authorization], ['subjectaccessreviews']),
    rule(read, [storage], ['csinodes']),
    rule(read, [storage], ['volumeattachments']),
    rule(read, [core], ['namespaces']),
    rule(read, [storage], ['csidrivers']),
    rule(read, [storage], ['csistoragecapacities']),
    rule(read, [resourceGroup], ['deviceclasses']),
    rule(['get', 'list', 'watch', 'update', 'patch'], [resourceGroup], ['resourceclaims']),
    rule(['get', 'list', 'watch', 'update', 'patch'], [resourceGroup], ['resourceclaims/status']),
    rule(['update'], [core], ['pods/finalizers']),
    rule(read, [resourceGroup], ['resourceslices']),
    rule(['create', 'delete'], [resourceGroup], ['resourceclaims']),
  ]),
  clusterRole('system:volume-scheduler', [
    rule(['get', 'list', 'watch', 'update', 'patch'], [core], ['persistentvolumes']),
    rule(read, [storage], ['storageclasses']),
    rule(['get', 'list', 'watch', 'update', 'patch'], [core], ['persistentvolumeclaims']),
  ]),
  clusterRole('system:kube-dns', [rule(['list', 'watch'], [core], ['endpoints', 'services'])]),
  // TLS bootstrap: what a bootstrap token's user may ask, and the approver's SubjectAccessReview permissions.
  clusterRole('system:node-bootstrapper', [rule(['create', 'get', 'list', 'watch'], [certificates], ['certificatesigningrequests'])]),
  clusterRole('system:certificates.k8s.io:certificatesigningrequests:nodeclient', [rule(['create'], [certificates], ['certificatesigningrequests/nodeclient'])]),
  clusterRole('system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [rule(['create'], [certificates], ['certificatesigningrequests/selfnodeclient'])]),
  clusterRole('system:certificates.k8s.io:kube-apiserver-client-approver', [rule(['approve'], [certificates], ['signers'], ['kubernetes.io/kube-apiserver-client'])]),
  clusterRole('system:certificates.k8s.io:kube-apiserver-client-kubelet-approver', [rule(['approve'], [certificates], ['signers'], ['kubernetes.io/kube-apiserver-client-kubelet'])]),
  clusterRole('system:service-account-issuer-discovery', [
    urls(['get'], ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/']),
  ]),
];

const systemBindings: ClusterRoleBinding[] = [
  clusterRoleBinding('cluster-admin', [groupSubject(groups.masters)]),
  clusterRoleBinding('system:monitoring', [groupSubject('system:monitoring')]),
  clusterRoleBinding('system:discovery', [groupSubject(groups.authenticated)]),
  clusterRoleBinding('system:basic-user', [groupSubject(groups.authenticated)]),
  clusterRoleBinding('system:public-info-viewer', [groupSubject(groups.authenticated), groupSubject(groups.unauthenticated)]),
  clusterRoleBinding('system:node-proxier', [userSubject(users.kubeProxy)]),
  clusterRoleBinding('system:kube-controller-manager', [userSubject(users.controllerManager)]),
  clusterRoleBinding('system:kube-dns', [serviceAccountSubject('kube-system', 'kube-dns')]),
  clusterRoleBinding('system:kube-scheduler', [userSubject(users.scheduler)]),
  clusterRoleBinding('system:volume-scheduler', [userSubject(users.scheduler)]),
  // Nodes are authorized by the Node authorizer; the binding exists without subjects.
  clusterRoleBinding('system:node', []),
  clusterRoleBinding('system:service-account-issuer-discovery', [groupSubject(groups.serviceAccounts)]),
];

/**
 * The roles of the kube-controller-manager's controllers kubesvc runs
 * (controller_policy.go), each bound to the controller's service account in
 * kube-system, as with --use-service-account-credentials.
 */
const controllerRoleRules: Record<string, PolicyRule[]> = {
  'certificate-controller': [
    rule(['delete', 'get', 'list', 'watch'], [certificates], ['certificatesigningrequests']),
    rule(['update'], [certificates], ['certificatesigningrequests/approval', 'certificatesigningrequests/status']),
    rule(['approve'], [certificates], ['signers'], ['kubernetes.io/kube-apiserver-client-kubelet']),
    rule(['sign'], [certificates], ['signers'], ['kubernetes.io/legacy-unknown', 'kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving']),
    rule(['create'], [authorization], ['subjectaccessreviews']),
    eventsRule(),
  ],
  'clusterrole-aggregation-controller': [rule(['escalate', 'get', 'list', 'watch', 'update', 'patch'], [rbacGroup], ['clusterroles'])],
  'daemon-set-controller': [
    rule(read, [extensions, apps], ['daemonsets']),
    rule(['update'], [extensions, apps], ['daemonsets/status']),
    rule(['update'], [extensions, apps], ['daemonsets/finalizers']),
    rule(['list', 'watch'], [core], ['nodes']),
    rule(['list', 'watch', 'create', 'delete', 'patch'], [core], ['pods']),
    rule(['create'], [core], ['pods/binding']),
    rule(['get', 'list', 'watch', 'create', 'delete', 'update', 'patch'], [apps], ['controllerrevisions']),
    eventsRule(),
  ],
  'disruption-controller': [
    rule(read, [extensions, apps], ['deployments']),
    rule(read, [apps, extensions], ['replicasets']),
    rule(read, [core], ['replicationcontrollers']),
    rule(read, [policy], ['poddisruptionbudgets']),
    rule(read, [apps], ['statefulsets']),
    rule(['update'], [policy], ['poddisruptionbudgets/status']),
    rule(['patch', 'update'], [core], ['pods/status']),
    rule(['get'], [ruleWildcard], ['*/scale']),
    eventsRule(),
  ],
  'deployment-controller': [
    rule(['get', 'list', 'watch', 'update'], [extensions, apps], ['deployments']),
    rule(['update'], [extensions, apps], ['deployments/status']),
    rule(['update'], [extensions, apps], ['deployments/finalizers']),
    rule(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'], [apps, extensions], ['replicasets']),
    // TODO(upstream): remove "update" once pods are no longer labelled by the deployment controller.
    rule(['get', 'list', 'watch', 'update'], [core], ['pods']),
    eventsRule(),
  ],
  'endpoint-controller': [
    rule(read, [core], ['services', 'pods']),
    rule(['get', 'list', 'create', 'update', 'delete'], [core], ['endpoints']),
    rule(['create'], [core], ['endpoints/restricted']),
    eventsRule(),
  ],
  'endpointslice-controller': [
    rule(read, [core], ['services', 'pods', 'nodes']),
    // The OwnerReferencesPermissionEnforcement admission plugin asks for update on services/finalizers.
    rule(['update'], [core], ['services/finalizers']),
    rule(['get', 'list', 'create', 'update', 'delete'], [discovery], ['endpointslices']),
    eventsRule(),
  ],
  'endpointslicemirroring-controller': [
    rule(read, [core], ['services', 'endpoints']),
    rule(['update'], [core], ['services/finalizers']),
    rule(['update'], [core], ['endpoints/finalizers']),
    rule(['get', 'list', 'create', 'update', 'delete'], [discovery], ['endpointslices']),
    eventsRule(),
  ],
  'generic-garbage-collector': [rule(['get', 'list', 'watch', 'patch', 'update', 'delete'], [ruleWildcard], [ruleWildcard]), eventsRule()],
  'namespace-controller': [
    rule(['get', 'list', 'watch', 'delete'], [core], ['namespaces']),
    rule(['update'], [core], ['namespaces/finalize', 'namespaces/status']),
    rule(['get', 'list', 'delete', 'deletecollection'], [ruleWildcard], [ruleWildcard]),
  ],
  'node-controller': [
    rule(['get', 'list', 'update', 'delete', 'patch'], [core], ['nodes']),
    rule(['patch', 'update'], [core], ['nodes/status']),
    // Marks pods on an unready node NotReady.
    rule(['patch', 'update'], [core], ['pods/status']),
    rule(['list', 'get', 'delete'], [core], ['pods']),
    eventsRule(),
  ],
  'replicaset-controller': [
    rule(['get', 'list', 'watch', 'update'], [apps, extensions], ['replicasets']),
    rule(['update'], [apps, extensions], ['replicasets/status']),
    rule(['update'], [apps, extensions], ['replicasets/finalizers']),
    rule(['list', 'watch', 'patch', 'create', 'delete'], [core], ['pods']),
    eventsRule(),
  ],
  'job-controller': [
    rule(['get', 'list', 'watch', 'update', 'patch'], [batch], ['jobs']),
    rule(['update', 'patch'], [batch], ['jobs/status']),
    rule(['update'], [batch], ['jobs/finalizers']),
    rule(['list', 'watch', 'create', 'delete', 'patch'], [core], ['pods']),
    eventsRule(),
  ],
  'ttl-after-finished-controller': [rule(['get', 'list', 'watch', 'delete'], [batch], ['jobs']), eventsRule()],
  'cronjob-controller': [
    rule(['get', 'list', 'watch', 'update'], [batch], ['cronjobs']),
    rule(['get', 'list', 'watch', 'create', 'update', 'delete', 'patch'], [batch], ['jobs']),
    rule(['update'], [batch], ['cronjobs/status']),
    rule(['update'], [batch], ['cronjobs/finalizers']),
    rule(['list', 'delete'], [core], ['pods']),
    eventsRule(),
  ],
  'root-ca-cert-publisher': [rule(['create', 'update'], [core], ['configmaps']), eventsRule()],
  'statefulset-controller': [
    rule(['list', 'watch'], [core], ['pods']),
    rule(read, [apps], ['statefulsets']),
    rule(['update'], [apps], ['statefulsets/status']),
    rule(['update'], [apps], ['statefulsets/finalizers']),
    rule(['get', 'create', 'delete', 'update', 'patch'], [core], ['pods']),
    rule(['get', 'create', 'delete', 'update', 'patch', 'list', 'watch'], [apps], ['controllerrevisions']),
    rule(['get', 'create'], [core], ['persistentvolumeclaims']),
    // StatefulSetAutoDeletePVC (on by default): the claims' owner references follow the retention policy.
    rule(['update', 'delete'], [core], ['persistentvolumeclaims']),
    eventsRule(),
  ],
  'service-account-controller': [rule(['create'], [core], ['serviceaccounts']), eventsRule()],
  'service-controller': [
    rule(read, [core], ['services']),
    rule(['patch', 'update'], [core], ['services/status']),
    rule(['list', 'watch'], [core], ['nodes']),
    eventsRule(),
  ],
};

const controllerRolePrefix = 'system:controller:';

const controllerRoles = Object.entries(controllerRoleRules).map(([name, rules]) => clusterRole(controllerRolePrefix + name, rules));
const controllerBindings = Object.keys(controllerRoleRules).map((name) =>
  clusterRoleBinding(controllerRolePrefix + name, [serviceAccountSubject('kube-system', name)]),
);

export const bootstrapPolicy: PolicySet = {
  clusterRoles: [...userFacingRoles, ...systemRoles, ...controllerRoles],
  clusterRoleBindings: [...systemBindings, ...controllerBindings],
};

/**
 * What kubeadm adds to the bootstrap policy for its add-ons: CoreDNS's role
 * and binding to kube-system/coredns, and system:node-proxier for the
 * kube-proxy DaemonSet's service account (kubeadm:node-proxier).
 */
export const kubeadmPolicy: PolicySet = {
  clusterRoles: [
    {
      apiVersion: `${rbacGroup}/v1`,
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [core], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: [discovery], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
  ],
  clusterRoleBindings: [
    clusterRoleBinding('system:coredns', [serviceAccountSubject('kube-system', 'coredns')], 'system:coredns', {}),
    clusterRoleBinding('kubeadm:node-proxier', [serviceAccountSubject('kube-system', 'kube-proxy')], 'system:node-proxier', {}),
  ],
};
