// RBAC evaluation without the API server: what one rule allows (verbs,
// groups, resources and subresources, names, non-resource URLs), Covers and
// the escalation message's compact rule list, and the authorizer — which
// bindings apply to a user, the reason it gives, the rules it lists for
// SelfSubjectRulesReview, and what a request costs with many bindings.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Attributes, PolicyRule } from '../src/auth/attributes.js';
import { createRbacAuthorizer } from '../src/auth/rbac/authorizer.js';
import { compactRules, compactString } from '../src/auth/rbac/compact.js';
import { createPolicyStore } from '../src/auth/rbac/policy-source.js';
import { covers, ruleAllows } from '../src/auth/rbac/rules.js';
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding, Subject } from '../src/auth/rbac/types.js';
import type { UserInfo } from '../src/auth/user.js';

const rbac = 'rbac.authorization.k8s.io';
const bob: UserInfo = { name: 'bob', groups: ['devs', 'system:authenticated'] };

const resource = (verb: string, res: string, more: Partial<Attributes> = {}): Attributes => ({
  user: bob,
  verb,
  resourceRequest: true,
  apiGroup: '',
  resource: res,
  ...more,
});
const path = (verb: string, p: string): Attributes => ({ user: bob, verb, resourceRequest: false, path: p });

describe('ruleAllows', () => {
  test('verbs: listed or "*"', () => {
    const rule: PolicyRule = { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] };
    assert.equal(ruleAllows(resource('get', 'pods'), rule), true);
    assert.equal(ruleAllows(resource('delete', 'pods'), rule), false);
    assert.equal(ruleAllows(resource('delete', 'pods'), { ...rule, verbs: ['*'] }), true);
  });

  test('apiGroups: exact or "*"', () => {
    const rule: PolicyRule = { verbs: ['get'], apiGroups: ['apps'], resources: ['deployments'] };
    assert.equal(ruleAllows(resource('get', 'deployments', { apiGroup: 'apps' }), rule), true);
    assert.equal(ruleAllows(resource('get', 'deployments', { apiGroup: 'extensions' }), rule), false);
    assert.equal(ruleAllows(resource('get', 'deployments', { apiGroup: 'extensions' }), { ...rule, apiGroups: ['*'] }), true);
  });

  test('resources: "*", exact, resource/subresource and "*/subresource"', () => {
    const rule = (resources: string[]): PolicyRule => ({ verbs: ['get'], apiGroups: [''], resources });
    const logs = resource('get', 'pods', { subresource: 'log' });
    assert.equal(ruleAllows(logs, rule(['pods'])), false, 'a resource does not grant its subresources');
    assert.equal(ruleAllows(logs, rule(['pods/log'])), true);
    assert.equal(ruleAllows(logs, rule(['*/log'])), true);
    assert.equal(ruleAllows(logs, rule(['*/status'])), false);
    assert.equal(ruleAllows(logs, rule(['*'])), true);
    assert.equal(ruleAllows(resource('get', 'pods'), rule(['*/log'])), false, '*/sub needs a subresource');
    assert.equal(ruleAllows(resource('get', 'pods'), rule(['pods/log'])), false);
  });

  test('resourceNames: only requests that name one of them (never list or create without a name)', () => {
    const rule: PolicyRule = { verbs: ['get', 'list', 'create'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] };
    assert.equal(ruleAllows(resource('get', 'configmaps', { name: 'a' }), rule), true);
    assert.equal(ruleAllows(resource('get', 'configmaps', { name: 'b' }), rule), false);
    assert.equal(ruleAllows(resource('list', 'configmaps'), rule), false);
    assert.equal(ruleAllows(resource('create', 'configmaps'), rule), false);
    assert.equal(ruleAllows(resource('list', 'configmaps'), { ...rule, resourceNames: [] }), true, 'an empty list is no restriction');
  });

  test('nonResourceURLs: exact, "*", and a trailing "*" as a prefix; never for resource requests', () => {
    const rule: PolicyRule = { verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*'] };
    assert.equal(ruleAllows(path('get', '/healthz'), rule), true);
    assert.equal(ruleAllows(path('get', '/healthz/etcd'), rule), false);
    assert.equal(ruleAllows(path('get', '/apis/apps/v1'), rule), true);
    assert.equal(ruleAllows(path('get', '/apis'), rule), false, '"/apis/*" needs the slash');
    assert.equal(ruleAllows(path('post', '/healthz'), rule), false);
    assert.equal(ruleAllows(path('get', '/anything'), { verbs: ['*'], nonResourceURLs: ['*'] }), true);
    assert.equal(ruleAllows(resource('get', 'pods'), rule), false);
    assert.equal(ruleAllows(path('get', '/healthz'), { verbs: ['get'], apiGroups: ['*'], resources: ['*'] }), false);
  });
});

describe('covers', () => {
  const podsRead: PolicyRule = { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] };

  test('breaks the servant rules down: the uncovered tuples are listed one by one', () => {
    const r = covers([{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], [podsRead]);
    assert.equal(r.covered, false);
    assert.deepEqual(r.uncovered, [
      { verbs: ['list'], apiGroups: [''], resources: ['pods'] },
      { verbs: ['watch'], apiGroups: [''], resources: ['pods'] },
    ]);
  });

  test('wildcards cover anything; several owner rules cover together', () => {
    assert.equal(covers([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], [podsRead]).covered, true);
    assert.equal(
      covers(
        [
          { verbs: ['get'], apiGroups: [''], resources: ['pods'] },
          { verbs: ['list', 'watch'], apiGroups: [''], resources: ['pods', 'services'] },
        ],
        [podsRead],
      ).covered,
      true,
    );
  });

  test('resource names: a named owner rule covers only those names, never all', () => {
    const named: PolicyRule = { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a', 'b'] };
    assert.equal(covers([named], [{ ...named, resourceNames: ['a'] }]).covered, true);
    assert.equal(covers([named], [{ ...named, resourceNames: ['c'] }]).covered, false);
    assert.equal(covers([named], [{ ...named, resourceNames: undefined }]).covered, false);
    assert.equal(covers([{ ...named, resourceNames: undefined }], [named]).covered, true);
  });

  test('non-resource URLs: prefix owners cover longer paths', () => {
    assert.equal(covers([{ verbs: ['get'], nonResourceURLs: ['/apis/*'] }], [{ verbs: ['get'], nonResourceURLs: ['/apis/apps'] }]).covered, true);
    assert.equal(covers([{ verbs: ['get'], nonResourceURLs: ['/apis/*'] }], [{ verbs: ['get'], nonResourceURLs: ['/api'] }]).covered, false);
    assert.equal(covers([{ verbs: ['*'], nonResourceURLs: ['*'] }], [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }]).covered, true);
  });

  test('the escalation message compacts the missing tuples by resource, as upstream prints them', () => {
    const { uncovered } = covers([], [podsRead, { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['x', 'y'] }, { verbs: ['get'], nonResourceURLs: ['/metrics'] }]);
    assert.deepEqual(compactRules(uncovered).map(compactString).sort(), [
      '{APIGroups:[""], Resources:["pods"], Verbs:["get" "list" "watch"]}',
      '{APIGroups:[""], Resources:["secrets"], ResourceNames:["x"], Verbs:["get"]}',
      '{APIGroups:[""], Resources:["secrets"], ResourceNames:["y"], Verbs:["get"]}',
      '{NonResourceURLs:["/metrics"], Verbs:["get"]}',
    ]);
  });
});

function clusterRole(name: string, rules: PolicyRule[]): ClusterRole {
  return { metadata: { name }, rules };
}
function role(namespace: string, name: string, rules: PolicyRule[]): Role {
  return { metadata: { name, namespace }, rules };
}
function crb(name: string, roleName: string, subjects: Subject[]): ClusterRoleBinding {
  return { metadata: { name }, roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: roleName }, subjects };
}
function rb(namespace: string, name: string, kind: 'Role' | 'ClusterRole', roleName: string, subjects: Subject[]): RoleBinding {
  return { metadata: { name, namespace }, roleRef: { apiGroup: rbac, kind, name: roleName }, subjects };
}
const user = (name: string): Subject => ({ kind: 'User', apiGroup: rbac, name });
const group = (name: string): Subject => ({ kind: 'Group', apiGroup: rbac, name });
const sa = (name: string, namespace?: string): Subject => ({ kind: 'ServiceAccount', name, namespace });

describe('RBAC authorizer', () => {
  const podReader = clusterRole('pod-reader', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }]);
  const healthz = clusterRole('healthz', [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }]);
  const secretsRole = role('team', 'secrets', [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]);

  test('a user by name, a group by membership; cluster bindings apply everywhere', () => {
    const store = createPolicyStore({ clusterRoles: [podReader], clusterRoleBindings: [crb('read-pods', 'pod-reader', [user('alice'), group('devs')])] });
    const authz = createRbacAuthorizer(store);
    assert.deepEqual(authz.authorize(resource('list', 'pods', { namespace: 'x' })), {
      decision: 'allow',
      reason: 'RBAC: allowed by ClusterRoleBinding "read-pods" of ClusterRole "pod-reader" to Group "devs"',
    });
    const alice: UserInfo = { name: 'alice', groups: [] };
    assert.equal(authz.authorize({ ...resource('get', 'pods'), user: alice }).reason, 'RBAC: allowed by ClusterRoleBinding "read-pods" of ClusterRole "pod-reader" to User "alice"');
    assert.deepEqual(authz.authorize({ ...resource('get', 'pods'), user: { name: 'carol', groups: ['ops'] } }), { decision: 'no-opinion', reason: '' });
    assert.equal(authz.authorize(resource('delete', 'pods')).decision, 'no-opinion');
  });

  test('role bindings apply in their namespace only; a ServiceAccount subject without a namespace is in the binding\'s', () => {
    const robot: UserInfo = { name: 'system:serviceaccount:team:robot', groups: ['system:serviceaccounts', 'system:serviceaccounts:team'] };
    const store = createPolicyStore({
      roles: [secretsRole],
      clusterRoles: [podReader],
      roleBindings: [rb('team', 'robot-secrets', 'Role', 'secrets', [sa('robot')]), rb('team', 'pods', 'ClusterRole', 'pod-reader', [sa('robot', 'team')])],
    });
    const authz = createRbacAuthorizer(store);
    assert.deepEqual(authz.authorize({ ...resource('get', 'secrets', { namespace: 'team', name: 's' }), user: robot }), {
      decision: 'allow',
      reason: 'RBAC: allowed by RoleBinding "robot-secrets/team" of Role "secrets" to ServiceAccount "robot/team"',
    });
    assert.equal(authz.authorize({ ...resource('get', 'pods', { namespace: 'team' }), user: robot }).reason, 'RBAC: allowed by RoleBinding "pods/team" of ClusterRole "pod-reader" to ServiceAccount "robot/team"');
    assert.equal(authz.authorize({ ...resource('get', 'secrets', { namespace: 'other' }), user: robot }).decision, 'no-opinion');
    assert.equal(authz.authorize({ ...resource('get', 'secrets'), user: robot }).decision, 'no-opinion', 'cluster scope sees no role bindings');
    const lookalike: UserInfo = { name: 'system:serviceaccount:other:robot', groups: [] };
    assert.equal(authz.authorize({ ...resource('get', 'secrets', { namespace: 'team' }), user: lookalike }).decision, 'no-opinion');
  });

  test('a ServiceAccount subject of a ClusterRoleBinding needs its namespace', () => {
    const store = createPolicyStore({ clusterRoles: [podReader], clusterRoleBindings: [crb('no-ns', 'pod-reader', [sa('robot')])] });
    const robot: UserInfo = { name: 'system:serviceaccount:default:robot', groups: [] };
    assert.equal(createRbacAuthorizer(store).authorize({ ...resource('get', 'pods'), user: robot }).decision, 'no-opinion');
  });

  test('non-resource requests; a missing role is named in the no-opinion reason', () => {
    const store = createPolicyStore({
      clusterRoles: [healthz],
      clusterRoleBindings: [crb('a-health', 'healthz', [group('system:authenticated')]), crb('b-gone', 'gone', [user('bob')])],
    });
    const authz = createRbacAuthorizer(store);
    assert.equal(authz.authorize(path('get', '/healthz')).reason, 'RBAC: allowed by ClusterRoleBinding "a-health" of ClusterRole "healthz" to Group "system:authenticated"');
    assert.deepEqual(authz.authorize(path('get', '/metrics')), { decision: 'no-opinion', reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found' });
  });

  test('follows changes of the source: new bindings, changed roles, deletions', () => {
    const store = createPolicyStore({ clusterRoles: [podReader] });
    const authz = createRbacAuthorizer(store);
    assert.equal(authz.authorize(resource('get', 'pods')).decision, 'no-opinion');
    const binding = crb('bob-pods', 'pod-reader', [user('bob')]);
    store.put('clusterRoleBindings', binding);
    assert.equal(authz.authorize(resource('get', 'pods')).decision, 'allow');
    assert.equal(authz.authorize(resource('get', 'services')).decision, 'no-opinion');
    store.put('clusterRoles', clusterRole('pod-reader', [{ verbs: ['get'], apiGroups: [''], resources: ['pods', 'services'] }]));
    assert.equal(authz.authorize(resource('get', 'services')).decision, 'allow');
    store.put('roleBindings', rb('team', 'local', 'ClusterRole', 'pod-reader', [user('dave')]));
    const dave: UserInfo = { name: 'dave', groups: [] };
    assert.equal(authz.authorize({ ...resource('get', 'pods', { namespace: 'team' }), user: dave }).decision, 'allow');
    store.remove('roleBindings', rb('team', 'local', 'ClusterRole', 'pod-reader', []));
    assert.equal(authz.authorize({ ...resource('get', 'pods', { namespace: 'team' }), user: dave }).decision, 'no-opinion');
    store.remove('clusterRoleBindings', binding);
    assert.equal(authz.authorize(resource('get', 'pods')).decision, 'no-opinion');
  });

  test('rulesFor: cluster rules, then the namespace\'s, split as SelfSubjectRulesReview reports them', () => {
    const store = createPolicyStore({
      roles: [secretsRole],
      clusterRoles: [podReader, healthz],
      clusterRoleBindings: [crb('pods', 'pod-reader', [group('devs')]), crb('health', 'healthz', [group('devs')]), crb('gone', 'gone', [user('bob')])],
      roleBindings: [rb('team', 'secrets', 'Role', 'secrets', [user('bob')])],
    });
    const authz = createRbacAuthorizer(store);
    assert.deepEqual(authz.rulesFor(bob, 'team'), {
      resourceRules: [
        { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] },
        { verbs: ['get'], apiGroups: [''], resources: ['secrets'] },
      ],
      nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }],
      incomplete: false,
      evaluationError: 'clusterrole.rbac.authorization.k8s.io "gone" not found',
    });
    assert.deepEqual(authz.rulesFor(bob, '').resourceRules, [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }]);
  });

  test('fast: a request among 5,000 bindings takes microseconds', () => {
    const clusterRoles = Array.from({ length: 50 }, (_, i) => clusterRole(`role-${i}`, [{ verbs: ['get', 'list'], apiGroups: ['apps'], resources: [`things${i}`] }]));
    const clusterRoleBindings = Array.from({ length: 5000 }, (_, i) => crb(`binding-${i}`, `role-${i % 50}`, [user(`user-${i}`), group(`group-${i % 100}`)]));
    const roleBindings = Array.from({ length: 2000 }, (_, i) => rb('team', `rb-${i}`, 'ClusterRole', `role-${i % 50}`, [user(`user-${i}`)]));
    const authz = createRbacAuthorizer(createPolicyStore({ clusterRoles, clusterRoleBindings, roleBindings }));
    const someone: UserInfo = { name: 'user-4242', groups: ['group-7', 'group-8', 'system:authenticated'] };
    const attrs: Attributes = { user: someone, verb: 'list', resourceRequest: true, apiGroup: 'apps', resource: 'things42', namespace: 'team' };
    const denied: Attributes = { ...attrs, resource: 'nothing' };
    assert.equal(authz.authorize(attrs).decision, 'allow');
    const n = 20_000;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      authz.authorize(attrs);
      authz.authorize(denied);
    }
    const perRequestUs = Number(process.hrtime.bigint() - start) / 1000 / (2 * n);
    assert.ok(perRequestUs < 200, `authorize took ${perRequestUs.toFixed(1)} µs per request`);
  });
});
