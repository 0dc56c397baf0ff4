// Audit logging as kube-apiserver's: the policy file (audit.k8s.io/v1
// Policy) decides each request's level by its first matching rule, and the
// log backend writes one audit.k8s.io/v1 Event per line — with the request
// and response objects at the levels that keep them, the Audit-Id header,
// and refused requests too.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditDecision, parseAuditPolicy, type AuditAttributes } from '../src/apiserver/audit/policy.js';
import { startTestApiServer, waitFor, type TestApiServer } from './helpers/apiserver.js';
import { fixtures } from './helpers/fixtures.js';
import { startCli } from './helpers/cli.js';

const policyFile = join(fixtures, 'audit-policy.yaml');
const policy = parseAuditPolicy(readFileSync(policyFile, 'utf8'));
const admin = { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
const req = (a: Partial<AuditAttributes>): AuditAttributes => ({ user: admin, verb: 'get', resourceRequest: true, path: '', ...a });

test('the first matching rule gives the level; no rule: None', () => {
  assert.equal(auditDecision(policy, req({ resourceRequest: false, path: '/healthz' })).level, 'None');
  assert.equal(auditDecision(policy, req({ resourceRequest: false, path: '/healthz/ready' })).level, 'None');
  assert.equal(auditDecision(policy, req({ verb: 'watch', resource: 'endpoints' })).level, 'None');
  assert.equal(auditDecision(policy, req({ verb: 'create', resource: 'secrets' })).level, 'Metadata');
  assert.equal(auditDecision(policy, req({ verb: 'create', resource: 'pods' })).level, 'RequestResponse');
  assert.equal(auditDecision(policy, req({ verb: 'patch', resource: 'pods', subresource: 'status' })).level, 'RequestResponse');
  assert.equal(auditDecision(policy, req({ verb: 'get', resource: 'pods', subresource: 'log' })).level, 'Metadata');
  assert.deepEqual(auditDecision(policy, req({ verb: 'list', resource: 'services' })), { level: 'Metadata', omitStages: ['RequestReceived'], omitManagedFields: false });
  assert.equal(auditDecision(parseAuditPolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n'), req({})).level, 'None');
});

test('resources: "*", "*/status", "pods/*", resourceNames, groups, users and userGroups', () => {
  const p = parseAuditPolicy(`apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: Request
  users: ["alice"]
  resources: [{group: apps, resources: ["deployments/*"]}]
- level: RequestResponse
  userGroups: ["ops"]
  resources: [{group: "", resources: ["*/status"]}]
- level: Metadata
  resources: [{group: "", resources: ["configmaps"], resourceNames: ["settings"]}]
`);
  const alice = { username: 'alice', groups: [] };
  assert.equal(auditDecision(p, req({ user: alice, apiGroup: 'apps', resource: 'deployments', subresource: 'scale' })).level, 'Request');
  // As upstream's checker: "resource/*" covers the resource itself too.
  assert.equal(auditDecision(p, req({ user: alice, apiGroup: 'apps', resource: 'deployments' })).level, 'Request');
  assert.equal(auditDecision(p, req({ user: alice, apiGroup: 'apps', resource: 'replicasets' })).level, 'None');
  assert.equal(auditDecision(p, req({ user: alice, apiGroup: '', resource: 'deployments' })).level, 'None', 'another group');
  assert.equal(auditDecision(p, req({ user: { username: 'bob', groups: ['ops'] }, resource: 'pods', subresource: 'status' })).level, 'RequestResponse');
  assert.equal(auditDecision(p, req({ resource: 'configmaps', name: 'settings' })).level, 'Metadata');
  assert.equal(auditDecision(p, req({ resource: 'configmaps', name: 'other' })).level, 'None');
});

test('a policy that is not one is a clear error', () => {
  assert.throws(() => parseAuditPolicy('kind: Policy\napiVersion: audit.k8s.io/v1beta1\nrules: []\n'), /want kind Policy of apiVersion audit\.k8s\.io\/v1/);
  assert.throws(() => parseAuditPolicy('kind: Policy\napiVersion: audit.k8s.io/v1\nrules:\n- level: Everything\n'), /rules\[0\]\.level: Unsupported value: "Everything": supported values: "None", "Metadata", "Request", "RequestResponse"/);
  assert.throws(
    () => parseAuditPolicy('kind: Policy\napiVersion: audit.k8s.io/v1\nrules:\n- level: None\n  nonResourceURLs: [/x]\n  resources: [{group: ""}]\n'),
    /rules cannot apply to both regular resources and non-resource URLs/,
  );
});

describe('the audit log of a running API server', () => {
  let api: TestApiServer;
  let dir: string;
  let logPath: string;
  type Event = Record<string, any>;
  const events = (): Event[] => readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Event);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubesvc-audit-'));
    logPath = join(dir, 'audit.log');
    api = await startTestApiServer({ audit: { policyFile, logPath } });
  });
  after(async () => {
    await api?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('kubectl run: the pod create at RequestResponse, with its objects and without managedFields; a secret at Metadata; health checks not at all', async () => {
    await api.kubectl.ok(['run', 'audited', '--image=busybox', '--', 'sleep', '1']);
    await api.kubectl.ok(['create', 'secret', 'generic', 'hush', '--from-literal=k=v']);
    const created = await waitFor('the pod create event', () => events().find((e) => e.verb === 'create' && e.objectRef?.resource === 'pods'));
    assert.equal(created.kind, 'Event');
    assert.equal(created.apiVersion, 'audit.k8s.io/v1');
    assert.equal(created.level, 'RequestResponse');
    assert.equal(created.stage, 'ResponseComplete');
    assert.equal(created.requestURI, '/api/v1/namespaces/default/pods?fieldManager=kubectl-run');
    assert.deepEqual(created.objectRef, { resource: 'pods', namespace: 'default', apiVersion: 'v1' });
    assert.equal(created.user.username, 'kubernetes-admin');
    assert.ok(created.user.groups.includes('system:masters'));
    assert.deepEqual(created.responseStatus, { metadata: {}, code: 201 });
    assert.equal(created.requestObject.metadata.name, 'audited');
    assert.equal(created.responseObject.metadata.name, 'audited');
    assert.equal(created.responseObject.metadata.managedFields, undefined);
    assert.match(created.userAgent, /^kubectl\//);
    assert.match(created.requestReceivedTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(created.annotations['authorization.k8s.io/decision'], 'allow');
    const secret = await waitFor('the secret create event', () => events().find((e) => e.verb === 'create' && e.objectRef?.resource === 'secrets'));
    assert.equal(secret.level, 'Metadata');
    assert.equal(secret.requestObject, undefined, 'Metadata keeps no bodies (the secret stays out of the log)');
    assert.ok(!readFileSync(logPath, 'utf8').includes('"k":"dg=="'));
    await api.request('GET', '/healthz');
    assert.ok(!events().some((e) => e.requestURI?.startsWith('/healthz')));
    assert.ok(!events().some((e) => e.stage === 'RequestReceived'), 'the policy omits RequestReceived');
  });

  test('a refused request is recorded with its 403 and the decision; the Audit-Id header names the event', async () => {
    const res = await api.request('GET', '/api/v1/namespaces/default/secrets', undefined, {}, api.as({ name: 'mallory', groups: [] }));
    assert.equal(res.status, 403);
    const id = res.headers.get('audit-id');
    assert.ok(id);
    const refused = await waitFor('the refused list event', () => events().find((e) => e.auditID === id));
    assert.equal(refused.user.username, 'mallory');
    assert.equal(refused.responseStatus.code, 403);
    assert.equal(refused.responseStatus.reason, 'Forbidden');
    assert.equal(refused.annotations['authorization.k8s.io/decision'], 'forbid');
  });
});

test('kubesvc apiserver: --audit-policy-file and --audit-log-path go together; a bad policy is a clear message', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-audit-cli-'));
  try {
    const alone = startCli(['apiserver', '--data-dir', dir, '--port', '0', '--audit-log-path', join(dir, 'a.log')]);
    assert.equal(await alone.exited, 2);
    assert.match(alone.output(), /--audit-log-path needs --audit-policy-file/);
    const bad = startCli(['apiserver', '--data-dir', dir, '--port', '0', '--audit-log-path', join(dir, 'a.log'), '--audit-policy-file', join(dir, 'missing.yaml')]);
    assert.equal(await bad.exited, 2);
    assert.match(bad.output(), /loading audit policy file .*missing\.yaml/);
    assert.doesNotMatch(bad.output(), /\n\s+at /, 'no stack trace');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
