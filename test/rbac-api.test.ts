// RBAC objects through the registry over a real (SQLite) store: upstream's
// validation messages and decoding defaults, roleRef immutability, the
// tables, escalation prevention for a user and an authorizer passed as the
// API server passes them, the policy cache the authorizer reads, the
// bootstrap policy's reconciliation on start, and the aggregation controller.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../src/api/object.js';
import { StatusError } from '../src/api/status.js';
import type { Authorizer } from '../src/auth/attributes.js';
import { createRbacAuthorizer, type RbacAuthorizer } from '../src/auth/rbac/authorizer.js';
import { bootstrapPolicy, kubeadmPolicy } from '../src/auth/rbac/bootstrap-policy.js';
import { ensureBootstrapPolicy } from '../src/auth/rbac/bootstrap-reconcile.js';
import { createPolicyCache, type PolicyCache } from '../src/auth/rbac/policy-cache.js';
import type { ClusterRole, ClusterRoleBinding, Role } from '../src/auth/rbac/types.js';
import type { UserInfo } from '../src/auth/user.js';
import type { Client, ResourceClient, ResourceType } from '../src/client/client.js';
import type { EventRecorder } from '../src/client/events.js';
import { createInformerFactory } from '../src/client/informer-factory.js';
import { aggregatedRules, createClusterRoleAggregationController } from '../src/controllers/clusterrole-aggregation.js';
import { defaultControllerOptions } from '../src/controllers/controller.js';
import { createRbacResources, rbacDefs, type RbacResourceDefs } from '../src/registry/rbac/resource.js';
import { createRegistry, type Registry, type WriteOptions } from '../src/registry/registry.js';
import type { ResourceDef } from '../src/registry/resource.js';
import { openSqliteStore } from '../src/storage/sqlite.js';
import { setQuiet } from '../src/util/log.js';

setQuiet(true);

const group = 'rbac.authorization.k8s.io';
const bob: UserInfo = { name: 'bob', groups: ['system:authenticated'] };
const alice: UserInfo = { name: 'alice', groups: ['system:authenticated'] };
const admin: UserInfo = { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };

const roleRef = (kind: string, name: string) => ({ apiGroup: group, kind, name });
const userSubject = (name: string) => ({ kind: 'User', apiGroup: group, name });
const podReaderRules = [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }];

function tempRegistry() {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-rbac-'));
  const store = openSqliteStore(join(dir, 'state.db'));
  return {
    registry: createRegistry(store),
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The message of the StatusError `write` is refused with, and its code. */
async function refusal(write: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await write;
  } catch (e) {
    assert.ok(e instanceof StatusError, String(e));
    return { code: e.code, message: e.status.message ?? '' };
  }
  assert.fail('the write was accepted');
}

describe('RBAC validation, defaults and tables', () => {
  let t: ReturnType<typeof tempRegistry>;
  before(() => (t = tempRegistry()));
  after(() => t.close());

  const create = (def: ResourceDef, ns: string | undefined, obj: Record<string, unknown>) => t.registry.create(def, ns, obj as KubeObject);
  const invalid = async (def: ResourceDef, ns: string | undefined, obj: Record<string, unknown>) => {
    const r = await refusal(create(def, ns, obj));
    assert.equal(r.code, 422, r.message);
    return r.message;
  };

  test('rules: verbs, never non-resource URLs in a Role, never both kinds in one rule, groups and resources', async () => {
    assert.equal(
      await invalid(rbacDefs.roles, 'team', { metadata: { name: 'r1' }, rules: [{ verbs: [], apiGroups: [''], resources: ['pods'] }] }),
      'Role.rbac.authorization.k8s.io "r1" is invalid: rules[0].verbs: Required value: verbs must contain at least one value',
    );
    assert.equal(
      await invalid(rbacDefs.roles, 'team', { metadata: { name: 'r2' }, rules: [{ verbs: ['get'], resources: ['pods'], nonResourceURLs: ['/healthz'] }] }),
      'Role.rbac.authorization.k8s.io "r2" is invalid: [rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs, ' +
        'rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: rules cannot apply to both regular resources and non-resource URLs]',
    );
    assert.equal(
      await invalid(rbacDefs.clusterRoles, undefined, { metadata: { name: 'c1' }, rules: [{ verbs: ['get'] }] }),
      'ClusterRole.rbac.authorization.k8s.io "c1" is invalid: [rules[0].apiGroups: Required value: resource rules must supply at least one api group, ' +
        'rules[0].resources: Required value: resource rules must supply at least one resource]',
    );
    await create(rbacDefs.clusterRoles, undefined, { metadata: { name: 'healthz' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }] });
  });

  test('aggregationRule: at least one selector, each a valid label selector', async () => {
    assert.equal(
      await invalid(rbacDefs.clusterRoles, undefined, { metadata: { name: 'agg' }, aggregationRule: {} }),
      'ClusterRole.rbac.authorization.k8s.io "agg" is invalid: aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil',
    );
    assert.equal(
      await invalid(rbacDefs.clusterRoles, undefined, {
        metadata: { name: 'agg' },
        aggregationRule: { clusterRoleSelectors: [{ matchExpressions: [{ key: 'a', operator: 'Maybe' }] }] },
      }),
      'ClusterRole.rbac.authorization.k8s.io "agg" is invalid: [aggregationRule.clusterRoleSelectors[0].matchExpressions[0].operator: Invalid value: "Maybe": not a valid selector operator, ' +
        'aggregationRule.clusterRoleSelectors[0]: Invalid value: "null": invalid label selector.]',
    );
  });

  test('names are path segments: colons are fine, slashes and dot-dot are not', async () => {
    await create(rbacDefs.clusterRoles, undefined, { metadata: { name: 'system:coredns' }, rules: [] });
    await create(rbacDefs.clusterRoleBindings, undefined, { metadata: { name: 'system:coredns' }, roleRef: roleRef('ClusterRole', 'system:coredns') });
    assert.equal(
      await invalid(rbacDefs.clusterRoles, undefined, { metadata: { name: 'a/b%c' } }),
      `ClusterRole.rbac.authorization.k8s.io "a/b%c" is invalid: [metadata.name: Invalid value: "a/b%c": may not contain '/', metadata.name: Invalid value: "a/b%c": may not contain '%']`,
    );
    assert.equal(await invalid(rbacDefs.roles, 'team', { metadata: { name: '..' } }), `Role.rbac.authorization.k8s.io ".." is invalid: metadata.name: Invalid value: "..": may not be '..'`);
  });

  test('roleRef: the RBAC group, a Role or ClusterRole (only a ClusterRole for cluster bindings), a name', async () => {
    assert.equal(
      await invalid(rbacDefs.roleBindings, 'team', { metadata: { name: 'b' }, roleRef: { apiGroup: 'example.com', kind: 'Foo', name: '' } }),
      'RoleBinding.rbac.authorization.k8s.io "b" is invalid: [roleRef.apiGroup: Unsupported value: "example.com": supported values: "rbac.authorization.k8s.io", ' +
        'roleRef.kind: Unsupported value: "Foo": supported values: "Role", "ClusterRole", roleRef.name: Required value]',
    );
    assert.equal(
      await invalid(rbacDefs.clusterRoleBindings, undefined, { metadata: { name: 'b' }, roleRef: roleRef('Role', 'x') }),
      'ClusterRoleBinding.rbac.authorization.k8s.io "b" is invalid: roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
    );
  });

  test('subjects: known kinds with their apiGroup, names, a namespace for cluster-bound service accounts', async () => {
    assert.equal(
      await invalid(rbacDefs.clusterRoleBindings, undefined, {
        metadata: { name: 'b' },
        roleRef: roleRef('ClusterRole', 'view'),
        subjects: [
          { kind: 'ServiceAccount', name: 'robot' },
          { kind: 'Robot', name: 'r2' },
          { kind: 'ServiceAccount', apiGroup: group, name: 'Bad_Name', namespace: 'x' },
          { kind: 'User', apiGroup: 'example.com', name: 'u' },
          { kind: 'Group', name: '' },
        ],
      }),
      'ClusterRoleBinding.rbac.authorization.k8s.io "b" is invalid: [subjects[0].namespace: Required value, ' +
        'subjects[1].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group", ' +
        'subjects[2].name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\'), ' +
        'subjects[2].apiGroup: Unsupported value: "rbac.authorization.k8s.io": supported values: "", ' +
        'subjects[3].apiGroup: Unsupported value: "example.com": supported values: "rbac.authorization.k8s.io", ' +
        'subjects[4].name: Required value]',
    );
  });

  test('defaults: the RBAC group for roleRef and User/Group subjects; a RoleBinding\'s service account may omit its namespace', async () => {
    const { object } = await create(rbacDefs.roleBindings, 'team', {
      metadata: { name: 'defaults' },
      roleRef: { kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'User', name: 'u' }, { kind: 'Group', name: 'g' }, { kind: 'ServiceAccount', name: 'robot' }],
    });
    assert.deepEqual(object.roleRef, roleRef('ClusterRole', 'view'));
    assert.deepEqual(object.subjects, [userSubject('u'), { kind: 'Group', apiGroup: group, name: 'g' }, { kind: 'ServiceAccount', name: 'robot' }]);
  });

  test('roleRef cannot change; subjects can', async () => {
    await create(rbacDefs.roleBindings, 'team', { metadata: { name: 'fixed' }, roleRef: roleRef('ClusterRole', 'view') });
    const r = await refusal(t.registry.update(rbacDefs.roleBindings, 'team', 'fixed', (b) => ({ ...b, roleRef: roleRef('ClusterRole', 'edit') })));
    assert.deepEqual(r, {
      code: 422,
      message:
        'RoleBinding.rbac.authorization.k8s.io "fixed" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: cannot change roleRef',
    });
    const { object } = await t.registry.update(rbacDefs.roleBindings, 'team', 'fixed', (b) => ({ ...b, subjects: [userSubject('x')] }));
    assert.deepEqual(object.subjects, [userSubject('x')]);
  });

  test('tables: roles show their creation time, bindings their role and (wide) subjects', () => {
    const created = '2024-05-06T07:08:09Z';
    const now = new Date('2024-05-06T07:10:09Z');
    assert.deepEqual(
      rbacDefs.clusterRoles.table.columns.map((c) => [c.name, c.type, c.priority]),
      [
        ['Name', 'string', 0],
        ['Created At', 'date', 0],
      ],
    );
    assert.deepEqual(rbacDefs.roles.table.cells({ metadata: { name: 'r', creationTimestamp: created } }, now), ['r', created]);
    assert.deepEqual(
      rbacDefs.clusterRoleBindings.table.columns.map((c) => [c.name, c.priority]),
      [
        ['Name', 0],
        ['Role', 0],
        ['Age', 0],
        ['Users', 1],
        ['Groups', 1],
        ['ServiceAccounts', 1],
      ],
    );
    const binding = {
      metadata: { name: 'b', creationTimestamp: created },
      roleRef: roleRef('ClusterRole', 'view'),
      subjects: [userSubject('u1'), userSubject('u2'), { kind: 'Group', name: 'g' }, { kind: 'ServiceAccount', name: 'robot', namespace: 'kube-system' }],
    };
    assert.deepEqual(rbacDefs.clusterRoleBindings.table.cells(binding, now), ['b', 'ClusterRole/view', '2m', 'u1, u2', 'g', 'kube-system/robot']);
    assert.deepEqual(rbacDefs.roleBindings.table.cells({ ...binding, subjects: [] }, now), ['b', 'ClusterRole/view', '2m', '', '', '']);
  });
});

describe('RBAC escalation prevention', () => {
  let t: ReturnType<typeof tempRegistry>;
  let cache: PolicyCache;
  let authorizer: RbacAuthorizer;
  before(async () => {
    t = tempRegistry();
    cache = createPolicyCache(t.registry, rbacDefs);
    await cache.ready;
    authorizer = createRbacAuthorizer(cache);
    // What the cluster admin set up (internal writes: no user).
    const setup: [keyof RbacResourceDefs, string | undefined, Record<string, unknown>][] = [
      ['clusterRoles', undefined, { metadata: { name: 'pod-reader' }, rules: podReaderRules }],
      ['clusterRoles', undefined, { metadata: { name: 'secret-admin' }, rules: [{ verbs: ['*'], apiGroups: [''], resources: ['secrets'] }] }],
      ['roleBindings', 'team', { metadata: { name: 'bob-reads-pods' }, roleRef: roleRef('ClusterRole', 'pod-reader'), subjects: [userSubject('bob')] }],
      [
        'clusterRoles',
        undefined,
        { metadata: { name: 'almost-admin' }, rules: [{ verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'], apiGroups: ['*'], resources: ['*'] }] },
      ],
      ['clusterRoleBindings', undefined, { metadata: { name: 'alice' }, roleRef: roleRef('ClusterRole', 'almost-admin'), subjects: [userSubject('alice')] }],
    ];
    for (const [kind, ns, obj] of setup) await t.registry.create(rbacDefs[kind], ns, obj as KubeObject);
  });
  after(async () => {
    cache.stop();
    await t.close();
  });

  const as = (user: UserInfo): WriteOptions => ({ user, authorizer });
  const notHeld = (user: UserInfo, missing: string) =>
    `user "${user.name}" (groups=[${user.groups.map((g) => `"${g}"`).join(' ')}]) is attempting to grant RBAC permissions not currently held:\n${missing}`;

  test('a role the user holds the rules of is accepted; anything more is refused with the missing rules', async () => {
    await t.registry.create(rbacDefs.roles, 'team', { metadata: { name: 'pods-get' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] }, as(bob));
    const secrets = { metadata: { name: 'secrets' }, rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['secrets'] }, ...podReaderRules] };
    assert.deepEqual(await refusal(t.registry.create(rbacDefs.roles, 'team', secrets, as(bob))), {
      code: 403,
      message: `roles.rbac.authorization.k8s.io "secrets" is forbidden: ${notHeld(bob, '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}')}`,
    });
    // Bob's pods rights are the namespace's, not another's nor the cluster's.
    assert.equal((await refusal(t.registry.create(rbacDefs.roles, 'other', { metadata: { name: 'p' }, rules: podReaderRules }, as(bob)))).code, 403);
    assert.equal(
      (await refusal(t.registry.create(rbacDefs.clusterRoles, undefined, { metadata: { name: 'p' }, rules: podReaderRules }, as(bob)))).message,
      `clusterroles.rbac.authorization.k8s.io "p" is forbidden: ${notHeld(bob, '{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}')}`,
    );
  });

  test('updates are checked too, except those changing only owner references and finalizers', async () => {
    const addDelete = (r: KubeObject) => ({ ...r, rules: [{ verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods'] }] });
    assert.equal((await refusal(t.registry.update(rbacDefs.roles, 'team', 'pods-get', addDelete, as(bob)))).code, 403);
    await t.registry.create(rbacDefs.roles, 'team', { metadata: { name: 'powerful' }, rules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }] });
    const owned = (r: KubeObject) => ({ ...r, metadata: { ...r.metadata, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: 'u-1' }] } });
    const { object } = await t.registry.update(rbacDefs.roles, 'team', 'powerful', owned, as(bob));
    assert.equal(object.metadata.ownerReferences?.[0]?.name, 'owner');
  });

  test('"escalate" on roles lets a user write any role', async () => {
    await t.registry.create(rbacDefs.roles, 'team', { metadata: { name: 'escalator' }, rules: [{ verbs: ['escalate'], apiGroups: [group], resources: ['roles'] }] });
    await t.registry.create(rbacDefs.roleBindings, 'team', { metadata: { name: 'bob-escalates' }, roleRef: roleRef('Role', 'escalator'), subjects: [userSubject('bob')] });
    const secrets = { metadata: { name: 'secrets' }, rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['secrets'] }] };
    await t.registry.create(rbacDefs.roles, 'team', secrets, as(bob));
    await t.registry.update(rbacDefs.roles, 'team', 'pods-get', (r) => ({ ...r, rules: [{ verbs: ['*'], apiGroups: [''], resources: ['pods'] }] }), as(bob));
    await t.registry.delete(rbacDefs.roleBindings, 'team', 'bob-escalates');
  });

  test('bindings: to a role the user holds the rules of, or may "bind"; a missing role is a 404', async () => {
    const bind = (name: string, kind: string, role: string) => ({ metadata: { name }, roleRef: roleRef(kind, role), subjects: [userSubject('carol')] });
    await t.registry.create(rbacDefs.roleBindings, 'team', bind('carol-pods', 'ClusterRole', 'pod-reader'), as(bob));
    assert.deepEqual(await refusal(t.registry.create(rbacDefs.roleBindings, 'team', bind('carol-secrets', 'ClusterRole', 'secret-admin'), as(bob))), {
      code: 403,
      message: `rolebindings.rbac.authorization.k8s.io "carol-secrets" is forbidden: ${notHeld(bob, '{APIGroups:[""], Resources:["secrets"], Verbs:["*"]}')}`,
    });
    assert.deepEqual(await refusal(t.registry.create(rbacDefs.roleBindings, 'team', bind('carol-nope', 'ClusterRole', 'nope'), as(bob))), {
      code: 404,
      message: 'clusterroles.rbac.authorization.k8s.io "nope" not found',
    });

    await t.registry.create(rbacDefs.roles, 'team', {
      metadata: { name: 'binder' },
      rules: [{ verbs: ['bind'], apiGroups: [group], resources: ['clusterroles'], resourceNames: ['secret-admin'] }],
    });
    await t.registry.create(rbacDefs.roleBindings, 'team', { metadata: { name: 'bob-binds' }, roleRef: roleRef('Role', 'binder'), subjects: [userSubject('bob')] });
    await t.registry.create(rbacDefs.roleBindings, 'team', bind('carol-secrets', 'ClusterRole', 'secret-admin'), as(bob));
    // "bind" was granted in team only.
    assert.equal((await refusal(t.registry.create(rbacDefs.clusterRoleBindings, undefined, bind('carol-secrets', 'ClusterRole', 'secret-admin'), as(bob)))).code, 403);
    // A subjects-only update of a binding to a role the user does not hold is checked as well.
    await t.registry.create(rbacDefs.clusterRoleBindings, undefined, bind('secret-admins', 'ClusterRole', 'secret-admin'));
    assert.equal((await refusal(t.registry.update(rbacDefs.clusterRoleBindings, undefined, 'secret-admins', (b) => ({ ...b, subjects: [userSubject('bob')] }), as(bob)))).code, 403);
  });

  test('system:masters and internal writes are never checked', async () => {
    await t.registry.create(rbacDefs.clusterRoles, undefined, { metadata: { name: 'anything' }, rules: [{ verbs: ['*'], nonResourceURLs: ['*'] }] }, as(admin));
    await t.registry.create(rbacDefs.clusterRoleBindings, undefined, { metadata: { name: 'anything' }, roleRef: roleRef('ClusterRole', 'anything') }, as(admin));
  });

  test('an aggregationRule takes cluster-admin\'s rules', async () => {
    const aggregated = { metadata: { name: 'gathered' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { gather: 'true' } }] } };
    assert.deepEqual(await refusal(t.registry.create(rbacDefs.clusterRoles, undefined, aggregated, as(alice))), {
      code: 403,
      message: 'clusterroles.rbac.authorization.k8s.io "gathered" is forbidden: must have cluster-admin privileges to use the aggregationRule',
    });
    // Alice may create plain roles within her rules.
    await t.registry.create(rbacDefs.clusterRoles, undefined, { metadata: { name: 'plain' }, rules: podReaderRules }, as(alice));
  });

  test('the rule resolver can be given to the definitions when the request\'s authorizer is a chain', async () => {
    const chain: Authorizer = { authorize: (attrs) => authorizer.authorize(attrs) };
    const withResolver = createRbacResources({ ruleResolver: () => authorizer });
    await t.registry.create(withResolver.roles, 'team', { metadata: { name: 'chained' }, rules: podReaderRules }, { user: bob, authorizer: chain });
    const r = await refusal(t.registry.create(rbacDefs.roles, 'team', { metadata: { name: 'unresolved' }, rules: podReaderRules }, { user: bob, authorizer: chain }));
    assert.equal(r.code, 500);
  });

  test('the policy cache has every write by the time it returns', async () => {
    const dave: UserInfo = { name: 'dave', groups: [] };
    const canList = () => authorizer.authorize({ user: dave, verb: 'list', resourceRequest: true, apiGroup: '', resource: 'pods', namespace: 'team' }).decision;
    assert.equal(canList(), 'no-opinion');
    await t.registry.create(rbacDefs.roleBindings, 'team', { metadata: { name: 'dave' }, roleRef: roleRef('ClusterRole', 'pod-reader'), subjects: [userSubject('dave')] });
    assert.equal(canList(), 'allow');
    await t.registry.delete(rbacDefs.roleBindings, 'team', 'dave');
    assert.equal(canList(), 'no-opinion');
  });

  test('the policy cache lists again until the registry answers', async () => {
    let failures = 1;
    const flaky: Registry = {
      ...t.registry,
      async list(...args: Parameters<Registry['list']>) {
        if (failures-- > 0) throw new Error('store unavailable');
        return t.registry.list(...args);
      },
    };
    const second = createPolicyCache(flaky, rbacDefs, { retryMs: 10 });
    await second.ready;
    assert.ok(second.clusterRole('pod-reader'));
    second.stop();
  });
});

describe('bootstrap policy', () => {
  let t: ReturnType<typeof tempRegistry>;
  before(() => (t = tempRegistry()));
  after(() => t.close());

  const getRole = async (name: string) => (await t.registry.get(rbacDefs.clusterRoles, undefined, name)) as ClusterRole;
  const getBinding = async (name: string) => (await t.registry.get(rbacDefs.clusterRoleBindings, undefined, name)) as ClusterRoleBinding;

  test('creates every role and binding, labelled and marked for autoupdate; a second run writes nothing', async () => {
    const first = await ensureBootstrapPolicy(t.registry, rbacDefs);
    assert.equal(first.created.length, bootstrapPolicy.clusterRoles.length + bootstrapPolicy.clusterRoleBindings.length);
    const admin = await getRole('cluster-admin');
    assert.deepEqual(admin.metadata.labels, { 'kubernetes.io/bootstrapping': 'rbac-defaults' });
    assert.deepEqual(admin.metadata.annotations, { 'rbac.authorization.kubernetes.io/autoupdate': 'true' });
    assert.deepEqual((await getBinding('cluster-admin')).subjects, [{ apiGroup: group, kind: 'Group', name: 'system:masters' }]);
    assert.equal((await getBinding('system:node')).subjects, undefined);
    assert.deepEqual((await getBinding('system:kube-dns')).subjects, [{ kind: 'ServiceAccount', name: 'kube-dns', namespace: 'kube-system' }]);

    const revision = await t.registry.store.currentRevision();
    assert.deepEqual(await ensureBootstrapPolicy(t.registry, rbacDefs), { created: [], updated: [] });
    assert.equal(await t.registry.store.currentRevision(), revision);
  });

  test('restores what is missing and keeps what users added; leaves autoupdate=false alone', async () => {
    await t.registry.update(rbacDefs.clusterRoles, undefined, 'system:discovery', (r) => ({
      ...r,
      rules: [
        { verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version/'] },
        { verbs: ['get'], nonResourceURLs: ['/custom'] },
      ],
    }));
    await t.registry.update(rbacDefs.clusterRoleBindings, undefined, 'system:public-info-viewer', (b) => ({ ...b, subjects: [userSubject('extra')] }));
    await t.registry.update(rbacDefs.clusterRoles, undefined, 'system:basic-user', (r) => ({
      ...r,
      metadata: { ...r.metadata, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'false' } },
      rules: [],
    }));
    await t.registry.delete(rbacDefs.clusterRoleBindings, undefined, 'system:kube-dns');
    await t.registry.create(rbacDefs.clusterRoleBindings, undefined, { metadata: { name: 'system:kube-dns' }, roleRef: roleRef('ClusterRole', 'view') } as KubeObject);

    const summary = await ensureBootstrapPolicy(t.registry, rbacDefs);
    assert.deepEqual(summary, {
      created: [],
      updated: ['clusterroles/system:discovery', 'clusterrolebindings/system:public-info-viewer', 'clusterrolebindings/system:kube-dns'],
    });
    assert.deepEqual((await getRole('system:discovery')).rules?.slice(1), [
      { verbs: ['get'], nonResourceURLs: ['/custom'] },
      { verbs: ['get'], nonResourceURLs: ['/version'] },
    ]);
    assert.deepEqual((await getBinding('system:public-info-viewer')).subjects, [
      userSubject('extra'),
      { apiGroup: group, kind: 'Group', name: 'system:authenticated' },
      { apiGroup: group, kind: 'Group', name: 'system:unauthenticated' },
    ]);
    assert.deepEqual((await getRole('system:basic-user')).rules, []);
    assert.deepEqual((await getBinding('system:kube-dns')).roleRef, roleRef('ClusterRole', 'system:kube-dns'));
    assert.deepEqual(await ensureBootstrapPolicy(t.registry, rbacDefs), { created: [], updated: [] });
  });

  test("kubeadm's additions: CoreDNS's role and binding, kube-proxy's service account as node proxier", async () => {
    const summary = await ensureBootstrapPolicy(t.registry, rbacDefs, kubeadmPolicy);
    assert.deepEqual(summary.created, ['clusterroles/system:coredns', 'clusterrolebindings/system:coredns', 'clusterrolebindings/kubeadm:node-proxier']);
    assert.deepEqual((await getBinding('kubeadm:node-proxier')).roleRef, roleRef('ClusterRole', 'system:node-proxier'));
    assert.deepEqual((await getRole('system:coredns')).rules, [
      { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
    ]);
  });
});

/** A client whose resources are the registry's (no HTTP): what an informer and the controller's updates use. */
function registryClient(registry: Registry, defs: ResourceDef[]): Client {
  const defOf = (type: ResourceType) => defs.find((d) => d.group === type.group && d.resource === type.resource)!;
  return {
    transport: undefined as unknown as Client['transport'],
    close() {},
    resource<T extends KubeObject>(type: ResourceType): ResourceClient<T> {
      const def = defOf(type);
      const client: Partial<ResourceClient<T>> = {
        type,
        get: async (ns, name) => (await registry.get(def, ns, name)) as T,
        list: async (ns) => {
          const { items, resourceVersion } = await registry.list(def, ns);
          return { items: items as T[], resourceVersion };
        },
        update: async (obj) => (await registry.update(def, obj.metadata.namespace, obj.metadata.name!, () => obj)).object as T,
        watch(ns, query, onEvent) {
          const started = registry.watch(def, ns, query.resourceVersion, {}, (e) => onEvent({ type: e.type, object: e.object as T }));
          return { close: () => void started.then(({ watch }) => watch.stop()) };
        },
      };
      return client as ResourceClient<T>;
    },
  };
}

describe('ClusterRole aggregation', () => {
  const labelled = (name: string, labels: Record<string, string>, rules: ClusterRole['rules']): ClusterRole => ({ metadata: { name, labels }, rules });

  test('the union of the selected roles\' rules, selector by selector, in name order, each rule once', () => {
    const view = { metadata: { name: 'view' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { v: 'true' } }, { matchExpressions: [{ key: 'e', operator: 'Exists' }] }] } };
    const all = [
      labelled('b', { v: 'true' }, [{ verbs: ['get'], apiGroups: [''], resources: ['b'] }]),
      labelled('a', { v: 'true', e: '' }, [{ verbs: ['get'], apiGroups: [''], resources: ['a'] }, { verbs: ['get'], apiGroups: [''], resources: ['b'] }]),
      labelled('c', { e: 'x' }, [{ verbs: ['list'], apiGroups: [''], resources: ['c'], resourceNames: [] }]),
      labelled('view', { v: 'true' }, [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]),
      labelled('d', {}, [{ verbs: ['delete'], apiGroups: [''], resources: ['d'] }]),
    ];
    assert.deepEqual(aggregatedRules(view, all), [
      { verbs: ['get'], apiGroups: [''], resources: ['a'] },
      { verbs: ['get'], apiGroups: [''], resources: ['b'] },
      { verbs: ['list'], apiGroups: [''], resources: ['c'], resourceNames: [] },
    ]);
  });

  test('the controller fills admin, edit and view from the bootstrap policy and follows changes', async () => {
    const t = tempRegistry();
    const clusterRoles = rbacDefs.clusterRoles;
    await ensureBootstrapPolicy(t.registry, rbacDefs);
    const client = registryClient(t.registry, [clusterRoles]);
    const factory = createInformerFactory(client);
    const controller = createClusterRoleAggregationController({ factory, client, events: {} as EventRecorder, options: defaultControllerOptions });
    const rulesOf = async (name: string) => ((await t.registry.get(clusterRoles, undefined, name)) as Role).rules ?? [];
    const settle = async () => {
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 20));
        await controller.idle();
      }
    };
    try {
      controller.setup();
      await factory.start();
      controller.run();
      await settle();
      const viewParts = bootstrapPolicy.clusterRoles.find((r) => r.metadata.name === 'system:aggregate-to-view')!.rules!;
      const editParts = bootstrapPolicy.clusterRoles.find((r) => r.metadata.name === 'system:aggregate-to-edit')!.rules!;
      const adminParts = bootstrapPolicy.clusterRoles.find((r) => r.metadata.name === 'system:aggregate-to-admin')!.rules!;
      assert.deepEqual(await rulesOf('view'), viewParts);
      // Selected roles in name order: system:aggregate-to-edit, then view (labelled aggregate-to-edit).
      assert.deepEqual(await rulesOf('edit'), [...editParts, ...viewParts]);
      assert.deepEqual(await rulesOf('admin'), [...editParts, ...viewParts, ...adminParts]);

      const extra = { verbs: ['get'], apiGroups: ['example.com'], resources: ['widgets'] };
      await t.registry.create(clusterRoles, undefined, labelled('widgets-view', { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' }, [extra]) as KubeObject);
      await settle();
      assert.deepEqual((await rulesOf('view')).at(-1), extra);
      assert.deepEqual(await rulesOf('admin'), [...editParts, ...viewParts, extra, ...adminParts], 'admin gathers edit, which gathers view');

      await t.registry.delete(clusterRoles, undefined, 'widgets-view');
      await settle();
      assert.deepEqual(await rulesOf('view'), viewParts);
      assert.deepEqual(await rulesOf('admin'), [...editParts, ...viewParts, ...adminParts]);
    } finally {
      controller.stop();
      factory.stop();
      await t.close();
    }
  });
});
