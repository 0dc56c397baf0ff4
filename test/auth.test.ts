// Who gets in, as a kubeadm cluster decides it: client certificates of the
// cluster CA, signed ServiceAccount tokens bound to what they name,
// system:anonymous for the rest; then RBAC with upstream's bootstrap policy,
// impersonation, access reviews and issuer discovery — through the real
// kubectl and raw HTTPS against the API server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey, createVerify, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createCertificate } from '../src/apiserver/pki/x509.js';
import { newKeyPair, pem } from '../src/apiserver/pki/ca.js';
import { createTokenIssuer, clusterIssuer } from '../src/auth/serviceaccount/index.js';
import { componentUsers } from '../src/auth/user.js';
import { createClient, resourceTypes, type Client } from '../src/client/client.js';
import { createTransport } from '../src/client/transport.js';
import { startControllers, type RunningControllers } from '../src/controllers/manager.js';
import { startTestApiServer, waitFor, type TestApiServer } from './helpers/apiserver.js';

const run = promisify(execFile);

const unauthorized = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };

describe('authentication and authorization', () => {
  let t: TestApiServer;
  let client: Client;
  let controllers: RunningControllers;
  const none = {};
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

  before(async () => {
    t = await startTestApiServer({ serviceAccountTokens: true });
    client = createClient(createTransport(t.admin), 'auth-test');
    controllers = await startControllers(client, { only: ['serviceaccount', 'clusterrole-aggregation'] });
    await waitFor('default ServiceAccount', async () => (await t.kubectl(['get', 'sa', 'default'])).code === 0);
  });
  after(async () => {
    await controllers.stop();
    client.close();
    await t.stop();
  });

  test('anonymous: health and version only; everything else 403 in upstream words', async () => {
    for (const path of ['/version', '/healthz', '/livez', '/readyz']) assert.equal((await t.request('GET', path, undefined, {}, none)).status, 200, path);
    const api = await t.request('GET', '/api', undefined, {}, none);
    assert.equal(api.status, 403);
    assert.equal(api.json.message, 'forbidden: User "system:anonymous" cannot get path "/api"');
    const create = await t.request('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'x' } }, {}, none);
    assert.equal(create.status, 403);
    assert.equal(create.json.message, 'configmaps is forbidden: User "system:anonymous" cannot create resource "configmaps" in API group "" in the namespace "default"');
    const node = await t.request('GET', '/api/v1/nodes/n1', undefined, {}, none);
    assert.equal(node.json.message, 'nodes "n1" is forbidden: User "system:anonymous" cannot get resource "nodes" in API group "" at the cluster scope');
  });

  test('a local user without the kubeconfig: the data dir is closed to them, and the API says 401 to a made-up token and 403 anonymously', async (ctx) => {
    if (process.getuid?.() !== 0) return ctx.skip('needs root to act as another user');
    const asNobody = (cmd: string[]) => run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', ...cmd]).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    const ls = await asNobody(['ls', t.dataDir]);
    assert.notEqual(ls.code, 0, 'the data dir is 0700');
    assert.match(ls.stderr, /Permission denied/);
    const url = `${t.server.url}/api/v1/namespaces/default/configmaps`;
    const post = ['curl', '-sk', '-X', 'POST', '-H', 'Content-Type: application/json', '-d', '{"metadata":{"name":"pwned"}}', url];
    const forged = await asNobody([...post.slice(0, 2), '-H', 'Authorization: Bearer made-up', ...post.slice(2)]);
    assert.deepEqual(JSON.parse(forged.stdout), unauthorized);
    const anonymous = await asNobody(post);
    assert.equal(JSON.parse(anonymous.stdout).code, 403);
    assert.equal((await t.kubectl(['get', 'cm', 'pwned'])).code, 1, 'nothing was created');
  });

  test('client certificates: CN and O are the user and groups; another CA, an expired one, a server certificate are 401', async () => {
    const who = await t.kubectl.ok(['auth', 'whoami', '-o', 'json']);
    assert.deepEqual(JSON.parse(who).status.userInfo, { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] });
    const bob = t.as({ name: 'bob', groups: ['devs'] });
    const review = await t.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, {}, bob);
    assert.equal(review.status, 201);
    assert.deepEqual(review.json.status.userInfo, { username: 'bob', groups: ['devs', 'system:authenticated'] });

    const caKey = createPrivateKey(readFileSync(join(t.dataDir, 'pki/ca.key')));
    const leaf = (opts: { issuerKey: typeof caKey; notAfter: Date; usage?: 'client' | 'server' }) => {
      const pair = newKeyPair();
      const cert = createCertificate({
        commonName: 'mallory',
        organizations: ['system:masters'],
        isCA: false,
        usage: opts.usage ?? 'client',
        serial: randomBytes(8),
        notBefore: new Date(Date.now() - 3600_000),
        notAfter: opts.notAfter,
        publicKey: pair.publicKey,
        issuer: { commonName: 'kubernetes', privateKey: opts.issuerKey },
      });
      return { cert, key: pem(pair.privateKey) };
    };
    const otherCA = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const cases = {
      'another CA': leaf({ issuerKey: otherCA, notAfter: new Date(Date.now() + 3600_000) }),
      expired: leaf({ issuerKey: caKey, notAfter: new Date(Date.now() - 60_000) }),
      'a serving certificate': leaf({ issuerKey: caKey, notAfter: new Date(Date.now() + 3600_000), usage: 'server' }),
    };
    for (const [what, creds] of Object.entries(cases)) {
      const r = await t.request('GET', '/api/v1/namespaces', undefined, {}, creds);
      assert.equal(r.status, 401, what);
      assert.deepEqual(r.json, unauthorized, what);
    }
  });

  test('ServiceAccount tokens: kubectl create token works; forged, expired and revoked tokens are 401', async () => {
    await t.kubectl.ok(['create', 'serviceaccount', 'robot']);
    const token = (await t.kubectl.ok(['create', 'token', 'robot'])).trim();
    const self = await t.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, bearer(token), none);
    assert.equal(self.json.status.userInfo.username, 'system:serviceaccount:default:robot');
    assert.deepEqual(self.json.status.userInfo.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);

    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const saKey = createPrivateKey(readFileSync(join(t.dataDir, 'pki/sa.key')));
    const forgeries = {
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`,
      'another key': createTokenIssuer({ privateKey: otherKey, issuer: clusterIssuer() }).issue({ namespace: 'default', serviceAccount: claims['kubernetes.io'].serviceaccount, audiences: claims.aud, expirationSeconds: 3600 }).token,
      'tampered claims': `${h}.${b64({ ...claims, sub: 'system:serviceaccount:kube-system:default' })}.${s}`,
      expired: createTokenIssuer({ privateKey: saKey, issuer: clusterIssuer(), now: () => Date.now() - 2 * 3600_000 }).issue({
        namespace: 'default',
        serviceAccount: claims['kubernetes.io'].serviceaccount,
        audiences: claims.aud,
        expirationSeconds: 600,
      }).token,
      'another audience': createTokenIssuer({ privateKey: saKey, issuer: clusterIssuer() }).issue({ namespace: 'default', serviceAccount: claims['kubernetes.io'].serviceaccount, audiences: ['vault'], expirationSeconds: 600 }).token,
    };
    for (const [what, forged] of Object.entries(forgeries)) {
      const r = await t.request('GET', '/api', undefined, bearer(forged), none);
      assert.equal(r.status, 401, what);
      assert.deepEqual(r.json, unauthorized, what);
    }
    // TokenReview (as the admin) says why.
    const review = await t.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
    assert.equal(review.json.status.authenticated, true);
    assert.equal(review.json.status.user.username, 'system:serviceaccount:default:robot');

    // Deleting the account revokes its tokens on the next request.
    await t.kubectl.ok(['delete', 'serviceaccount', 'robot']);
    assert.equal((await t.request('GET', '/api', undefined, bearer(token), none)).status, 401);
    const gone = await t.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
    assert.equal(gone.json.status.authenticated, false);
    assert.match(gone.json.status.error, /not found|invalidated/);
  });

  test('a token bound to a pod dies with the pod; TokenRequest refuses a uid that does not match', async () => {
    await t.kubectl.ok(['run', 'holder', '--image=nginx']);
    const pod = JSON.parse(await t.kubectl.ok(['get', 'pod', 'holder', '-o', 'json']));
    const answer = await t.request('POST', '/api/v1/namespaces/default/serviceaccounts/default/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'holder', uid: pod.metadata.uid } },
    });
    assert.equal(answer.status, 201);
    const token = answer.json.status.token as string;
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    assert.deepEqual(claims['kubernetes.io'].pod, { name: 'holder', uid: pod.metadata.uid });
    assert.equal((await t.request('GET', '/api', undefined, bearer(token), none)).status, 200);
    const wrong = await t.request('POST', '/api/v1/namespaces/default/serviceaccounts/default/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'holder', uid: 'not-it' } },
    });
    assert.equal(wrong.status, 409);
    const short = await t.request('POST', '/api/v1/namespaces/default/serviceaccounts/default/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 60 } });
    assert.equal(short.status, 422);
    assert.equal(short.json.message, 'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes');
    await t.kubectl.ok(['delete', 'pod', 'holder', '--grace-period=0', '--force']);
    await waitFor('the token refused', async () => (await t.request('GET', '/api', undefined, bearer(token), none)).status === 401);
  });

  test('RBAC: the default ServiceAccount may do nothing beyond discovery until a RoleBinding grants it', async () => {
    const sa = 'system:serviceaccount:default:default';
    const list = await t.kubectl.ok(['auth', 'can-i', '--list', `--as=${sa}`]);
    assert.match(list, /selfsubjectaccessreviews\.authorization\.k8s\.io/);
    assert.doesNotMatch(list, /^pods/m);
    const denied = await t.kubectl(['get', 'pods', `--as=${sa}`]);
    assert.equal(denied.code, 1);
    assert.equal(denied.stderr.trim(), `Error from server (Forbidden): pods is forbidden: User "${sa}" cannot list resource "pods" in API group "" in the namespace "default"`);
    assert.equal((await t.kubectl(['auth', 'can-i', 'list', 'pods', `--as=${sa}`])).stdout.trim(), 'no');

    await t.kubectl.ok(['create', 'rolebinding', 'default-view', '--clusterrole=view', '--serviceaccount=default:default']);
    await t.kubectl.ok(['get', 'pods', `--as=${sa}`]);
    assert.equal((await t.kubectl(['auth', 'can-i', 'list', 'pods', `--as=${sa}`])).stdout.trim(), 'yes');
    assert.equal((await t.kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'kube-system', `--as=${sa}`])).stdout.trim(), 'no');
    assert.equal((await t.kubectl(['auth', 'can-i', 'get', 'secrets', `--as=${sa}`])).stdout.trim(), 'no', 'view does not read secrets');
    await t.kubectl.ok(['delete', 'rolebinding', 'default-view']);
    assert.equal((await t.kubectl(['get', 'pods', `--as=${sa}`])).code, 1, 'revoked with the binding');
  });

  test('RBAC: no escalation — a user can grant only what they hold, unless allowed to escalate or bind', async () => {
    await t.kubectl.ok(['create', 'role', 'pod-reader', '--verb=get,list', '--resource=pods']);
    await t.kubectl.ok(['create', 'rolebinding', 'alice-admin', '--clusterrole=admin', '--user=alice']);
    // alice (namespace admin) may make roles within her own rights, not beyond them.
    await t.kubectl.ok(['create', 'role', 'reader2', '--verb=get', '--resource=pods', '--as=alice']);
    const escalate = await t.kubectl(['create', 'role', 'node-reader', '--verb=get', '--resource=nodes', '--as=alice']);
    assert.equal(escalate.code, 1);
    assert.match(escalate.stderr, /is attempting to grant RBAC permissions not currently held/);
    const bind = await t.kubectl(['create', 'rolebinding', 'sneaky', '--clusterrole=cluster-admin', '--user=alice', '--as=alice']);
    assert.equal(bind.code, 1);
    assert.match(bind.stderr, /forbidden/);
    await t.kubectl.ok(['create', 'rolebinding', 'bob-reads', '--role=pod-reader', '--user=bob', '--as=alice']);
  });

  test('impersonation needs the impersonate verb', async () => {
    const r = await t.request('GET', '/api/v1/namespaces', undefined, { 'Impersonate-User': 'kubernetes-admin' }, t.as({ name: 'eve', groups: [] }));
    assert.equal(r.status, 403);
    assert.equal(r.json.message, 'users "kubernetes-admin" is forbidden: User "eve" cannot impersonate resource "users" in API group "" at the cluster scope');
  });

  test('issuer discovery: service accounts may read it; its JWKS verifies their tokens', async () => {
    assert.equal((await t.request('GET', '/.well-known/openid-configuration', undefined, {}, none)).status, 403);
    const token = (await t.kubectl.ok(['create', 'token', 'default'])).trim();
    const config = await t.request('GET', '/.well-known/openid-configuration', undefined, bearer(token), none);
    assert.equal(config.status, 200);
    assert.equal(config.json.issuer, 'https://kubernetes.default.svc.cluster.local');
    const jwks = await t.request('GET', '/openid/v1/jwks', undefined, bearer(token), none);
    const [h, p, s] = token.split('.') as [string, string, string];
    const kid = JSON.parse(Buffer.from(h, 'base64url').toString()).kid;
    const jwk = jwks.json.keys.find((k: { kid: string }) => k.kid === kid);
    assert.ok(jwk, 'the token names a published key');
    const verified = createVerify('RSA-SHA256').update(`${h}.${p}`).verify(createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url'));
    assert.ok(verified);
  });

  test('the node identity reads only what its pods use', async () => {
    const node = createClient(createTransport(t.as(componentUsers.node('node-9'))), 'kubelet');
    try {
      await assert.rejects(node.resource(resourceTypes.secrets).get('default', 'anything'), /no relationship found between node 'node-9' and this object/);
      await assert.rejects(node.resource(resourceTypes.nodes).patch(undefined, 'node-8', { metadata: { labels: { a: 'b' } } }), /node 'node-9' cannot modify node 'node-8'/);
      await node.resource(resourceTypes.services).list(undefined);
    } finally {
      node.close();
    }
  });
});
