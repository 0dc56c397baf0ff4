// The CertificateSigningRequest strategies through the API: the requester's
// identity is the server's to write, a plain update changes metadata only,
// /status keeps the approval conditions, /approval keeps the certificate,
// and the signing admission check guards /status.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { startTestApiServer, type TestApiServer } from '../helpers/apiserver.js';
import { createCertificateRequest } from '../../src/apiserver/pki/pkcs10.js';

let api: TestApiServer;
before(async () => {
  api = await startTestApiServer();
});
after(() => api.stop());

const path = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const request = () =>
  Buffer.from(createCertificateRequest({ commonName: 'system:node:n1', organizations: ['system:nodes'], privateKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey })).toString('base64');

test('create writes the requester into spec and starts with an empty status', async () => {
  const r = await api.request('POST', path, {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name: 'c1' },
    spec: { request: request(), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'], username: 'someone-else', groups: ['system:masters'] },
    status: { conditions: [{ type: 'Approved', status: 'True' }] },
  });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.spec.username, 'kubernetes-admin');
  assert.deepEqual(r.json.spec.groups, ['system:masters', 'system:authenticated']);
  assert.deepEqual(r.json.status, {});
  const missing = await api.request('POST', path, { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'c2' }, spec: { request: request(), usages: ['client auth'] } });
  assert.equal(missing.status, 422);
  assert.equal(missing.json.message, 'CertificateSigningRequest.certificates.k8s.io "c2" is invalid: spec.signerName: Required value: signerName must be provided');
});

test('updates: the object keeps spec and status, /approval sets conditions only, /status cannot touch the approval', async () => {
  const live = (await api.request('GET', `${path}/c1`)).json;
  const plain = await api.request('PUT', `${path}/c1`, { ...live, metadata: { ...live.metadata, labels: { a: 'b' } }, spec: { ...live.spec, usages: ['client auth'] }, status: { conditions: [{ type: 'Approved', status: 'True' }] } });
  assert.equal(plain.status, 200, plain.text);
  assert.deepEqual(plain.json.metadata.labels, { a: 'b' });
  assert.deepEqual(plain.json.spec.usages, ['digital signature', 'client auth']);
  assert.deepEqual(plain.json.status, {});
  const approved = await api.request('PUT', `${path}/c1/approval`, { ...plain.json, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'R', message: 'M' }], certificate: 'eA==' } });
  assert.equal(approved.status, 200, approved.text);
  const [condition] = approved.json.status.conditions;
  assert.equal(condition.type, 'Approved');
  assert.ok(condition.lastUpdateTime && condition.lastTransitionTime, 'timestamps are filled');
  assert.equal(approved.json.status.certificate, undefined, 'the approval subresource does not set the certificate');
  const flipped = await api.request('PUT', `${path}/c1/status`, { ...approved.json, status: { conditions: [{ ...condition, reason: 'Changed' }] } });
  assert.equal(flipped.status, 200, flipped.text);
  assert.equal(flipped.json.status.conditions[0].reason, 'R', '/status keeps Approved as it was');
  const denied = await api.request('PUT', `${path}/c1/approval`, { ...flipped.json, status: { conditions: [condition, { type: 'Denied', status: 'True' }] } });
  assert.equal(denied.status, 422);
  assert.match(denied.json.message, /status\.conditions\[1\]\.type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive/);
});

test('CertificateSigning: setting the certificate needs sign on the signer', async () => {
  await api.kubectl.ok(['create', 'clusterrole', 'csr-status-only', '--verb=update', '--resource=certificatesigningrequests/status']);
  await api.kubectl.ok(['create', 'clusterrolebinding', 'csr-status-only', '--clusterrole=csr-status-only', '--user=signer']);
  const live = (await api.request('GET', `${path}/c1`)).json;
  const r = await api.request('PUT', `${path}/c1/status`, { ...live, status: { ...live.status, certificate: 'eA==' } }, { 'Impersonate-User': 'signer' });
  assert.equal(r.status, 403, r.text);
  assert.equal(r.json.message, 'certificatesigningrequests.certificates.k8s.io "c1" is forbidden: user not permitted to sign requests with signerName "kubernetes.io/kube-apiserver-client-kubelet"');
});
