// The API as the cluster sees it, without namespaces: certificates in DER,
// the data dir's CA and serving certificate, the API served over TLS on a socket handed to it
// (real kubectl trusting the CA), and the `kubernetes` Endpoints and
// EndpointSlice the API server publishes and withdraws.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reconcileKubernetesEndpoints } from '../src/apiserver/endpoint-reconciler.js';
import { apiServerNames, ensureServingCert, type ServingCert } from '../src/apiserver/pki/serving-cert.js';
import { createCertificate } from '../src/apiserver/pki/x509.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { kubectlFor } from './helpers/kubectl.js';

describe('serving certificate', () => {
  test('DER layout: long lengths, GeneralizedTime from 2050, EC and RSA signers; read back by OpenSSL', () => {
    for (const type of ['ec', 'rsa'] as const) {
      const keys = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
      const dnsNames = Array.from({ length: 40 }, (_, i) => `name-${i}.example.test`);
      const pem = createCertificate({
        commonName: 'long',
        isCA: true,
        serial: Buffer.from([0x80, 1, 2, 3]),
        notBefore: new Date('2049-12-31T23:59:59Z'),
        notAfter: new Date('2051-06-01T00:00:00Z'),
        publicKey: keys.publicKey,
        privateKey: keys.privateKey,
        dnsNames,
        ips: ['10.96.0.1'],
      });
      const x = new X509Certificate(pem);
      assert.equal(x.serialNumber, '80010203', 'positive: a leading 0x80 byte is padded with 00');
      assert.equal(new Date(x.validFrom).toISOString(), '2049-12-31T23:59:59.000Z');
      assert.equal(new Date(x.validTo).toISOString(), '2051-06-01T00:00:00.000Z');
      assert.equal(x.subjectAltName?.split(', ').length, 41);
      assert.ok(x.verify(keys.publicKey), `${type}: self-signature verifies`);
      assert.ok(x.checkIssued(x));
    }
  });

  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-pki-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const names = apiServerNames('cluster.local', '10.96.0.1', ['172.18.0.1']);

  test('a CA "kubernetes" signs "kube-apiserver" for the names pods use; made once, again when the names change', async () => {
    const first = ensureServingCert(dir, names);
    const ca = new X509Certificate(first.caCert);
    const serving = new X509Certificate(first.cert);
    assert.equal(ca.subject, 'CN=kubernetes');
    assert.equal(ca.ca, true);
    assert.equal(serving.subject, 'CN=kube-apiserver');
    assert.ok(serving.checkIssued(ca) && serving.verify(ca.publicKey), 'signed by the CA');
    assert.ok(serving.checkPrivateKey(createPrivateKey(first.key)));
    for (const n of ['DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local', 'IP Address:10.96.0.1', 'IP Address:172.18.0.1']) {
      assert.ok(serving.subjectAltName?.split(', ').includes(n), `${n} in ${serving.subjectAltName}`);
    }
    assert.deepEqual(serving.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'serverAuth');
    assert.ok(new Date(serving.validTo).getTime() - Date.now() > 360 * 24 * 3600_000);
    assert.equal(readFileSync(join(dir, 'pki/ca.crt'), 'utf8'), first.caCert);
    assert.deepEqual(ensureServingCert(dir, names), first, 'kept as it is');
    const moved = ensureServingCert(dir, apiServerNames('cluster.local', '10.100.0.1', ['172.18.0.1']));
    assert.equal(moved.caCert, first.caCert, 'the CA stays');
    assert.notEqual(moved.cert, first.cert);
    assert.ok(new X509Certificate(moved.cert).subjectAltName?.includes('IP Address:10.100.0.1'));
  });
});

describe('API over TLS and the kubernetes endpoints', () => {
  let api: TestApiServer;
  let creds: ServingCert;
  let listener: Server;
  let tlsPort = 0;

  before(async () => {
    api = await startTestApiServer();
    creds = ensureServingCert(api.dataDir, apiServerNames('cluster.local', '10.96.0.1', []));
    listener = createServer();
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    tlsPort = (listener.address() as AddressInfo).port;
    api.server.http.serveOn(listener);
  });
  after(() => api.stop());

  test('https with the CA: /version, and kubectl through the admin kubeconfig pointed at the listener', async () => {
    const body = await new Promise<string>((resolve, reject) =>
      get({ host: '127.0.0.1', port: tlsPort, path: '/version', ca: creds.caCert, servername: 'kubernetes.default.svc' }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve(text));
      }).on('error', reject),
    );
    assert.equal(JSON.parse(body).minor, '32');
    const kubeconfig = join(api.dataDir, 'tls-kubeconfig');
    writeFileSync(
      kubeconfig,
      readFileSync(api.server.kubeconfigPath, 'utf8').replace(/( *)server: .*/, `$1server: https://127.0.0.1:${tlsPort}`),
    );
    const kubectl = kubectlFor(kubeconfig);
    try {
      assert.match(await kubectl.ok(['get', 'svc', 'kubernetes', '-o', 'name']), /^service\/kubernetes$/m);
    } finally {
      kubectl.cleanup();
    }
  });

  test('published: Endpoints (skip-mirror) and EndpointSlice naming the in-cluster address as https, Service targetPort 6443; withdrawn: both gone', async () => {
    await reconcileKubernetesEndpoints(api.server.registry, api.server.def, { ip: '172.18.0.1', port: 6443 });
    assert.match(await api.kubectl.ok(['get', 'endpoints', 'kubernetes']), /^kubernetes\s+172\.18\.0\.1:6443\s/m);
    const ep = JSON.parse(await api.kubectl.ok(['get', 'endpoints', 'kubernetes', '-o', 'json']));
    assert.equal(ep.metadata.labels['endpointslice.kubernetes.io/skip-mirror'], 'true');
    assert.deepEqual(ep.subsets, [{ addresses: [{ ip: '172.18.0.1' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }]);
    const slice = JSON.parse(await api.kubectl.ok(['get', 'endpointslice', 'kubernetes', '-o', 'json']));
    assert.equal(slice.metadata.labels['kubernetes.io/service-name'], 'kubernetes');
    assert.equal(slice.addressType, 'IPv4');
    assert.deepEqual(slice.endpoints, [{ addresses: ['172.18.0.1'], conditions: { ready: true } }]);
    assert.deepEqual(slice.ports, [{ name: 'https', port: 6443, protocol: 'TCP' }]);
    const svc = JSON.parse(await api.kubectl.ok(['get', 'svc', 'kubernetes', '-o', 'json']));
    assert.deepEqual(svc.spec.ports, [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }]);
    const rv = ep.metadata.resourceVersion;
    await reconcileKubernetesEndpoints(api.server.registry, api.server.def, { ip: '172.18.0.1', port: 6443 });
    assert.equal(JSON.parse(await api.kubectl.ok(['get', 'endpoints', 'kubernetes', '-o', 'json'])).metadata.resourceVersion, rv, 'nothing written when nothing changed');
    await reconcileKubernetesEndpoints(api.server.registry, api.server.def, undefined);
    for (const kind of ['endpoints', 'endpointslice']) {
      const r = await api.kubectl(['get', kind, 'kubernetes']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /NotFound/);
    }
  });
});
