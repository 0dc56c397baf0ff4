// CertificateSigningRequests: PKCS#10 made and read (checked with openssl),
// validation messages word for word, the printer's columns, and the signer's
// and approver's checks of a kubelet client request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import { errorString } from '../../src/api/field-errors.js';
import { createCertificateRequest, parseCertificateRequest } from '../../src/apiserver/pki/pkcs10.js';
import { ensureClusterCA } from '../../src/apiserver/pki/ca.js';
import { validateApprovalUpdate, validateCreate, validateStatusUpdate, validateUpdate } from '../../src/registry/certificates/validation.js';
import { table } from '../../src/registry/certificates/table.js';
import { certificateDuration, signRequest } from '../../src/controllers/certificates/signer.js';
import { kubeletClientError } from '../../src/controllers/certificates/recognize.js';

const key = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
const pemOf = (cn: string, o: string[] = ['system:nodes'], privateKey = key()) => createCertificateRequest({ commonName: cn, organizations: o, privateKey });

function csr(spec: Partial<CertificateSigningRequest['spec']> = {}, status?: CertificateSigningRequest['status']): CertificateSigningRequest {
  return {
    metadata: { name: 'csr-1' },
    spec: {
      request: Buffer.from(pemOf('system:node:n1')).toString('base64'),
      signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
      usages: ['digital signature', 'client auth'],
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

const messages = (errs: ReturnType<typeof validateCreate>) => errs.map(errorString);

test('a request made here parses back, verifies, and is one openssl accepts', (t) => {
  const pem = pemOf('system:node:n1', ['system:nodes']);
  const parsed = parseCertificateRequest(pem);
  assert.equal(parsed.commonName, 'system:node:n1');
  assert.deepEqual(parsed.organizations, ['system:nodes']);
  assert.equal(parsed.publicKeyAlgorithm, 'ec');
  parsed.checkSignature();
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  parseCertificateRequest(createCertificateRequest({ commonName: 'alice', privateKey: rsa })).checkSignature();
  // A flipped byte in the signed part fails the signature check with Go's words.
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
  der[der.indexOf(Buffer.from('n1')) + 1] ^= 1;
  const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  assert.throws(() => parseCertificateRequest(tampered).checkSignature(), { message: 'x509: ECDSA verification failure' });
  try {
    const out = execFileSync('openssl', ['req', '-verify', '-noout', '-subject'], { input: pem, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
    assert.match(out, /O\s*=\s*system:nodes, CN\s*=\s*system:node:n1/);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOENT') throw e;
    if (process.env.CI === 'true') throw new Error('openssl is missing: install the Debian package openssl', { cause: e });
    t.skip('openssl is not installed');
  }
});

test('validation on create, word for word as upstream', () => {
  assert.deepEqual(messages(validateCreate(csr())), []);
  assert.deepEqual(messages(validateCreate(csr({ signerName: '' }))), ['spec.signerName: Required value: signerName must be provided']);
  assert.deepEqual(messages(validateCreate(csr({ signerName: 'kubernetes.io' }))), [
    "spec.signerName: Invalid value: \"kubernetes.io\": must be a fully qualified domain and path of the form 'example.com/signer-name'",
  ]);
  assert.deepEqual(messages(validateCreate(csr({ signerName: 'example/signer' }))), ['spec.signerName: Invalid value: "example": should be a domain with at least two segments separated by dots']);
  assert.deepEqual(messages(validateCreate(csr({ signerName: 'kubernetes.io/legacy-unknown' }))), [
    'spec.signerName: Invalid value: "kubernetes.io/legacy-unknown": the legacy signerName is not allowed via this API version',
  ]);
  assert.deepEqual(messages(validateCreate(csr({ usages: [] }))), ['spec.usages: Required value: usages must be provided']);
  assert.deepEqual(messages(validateCreate(csr({ usages: ['client auth', 'client auth'] }))), ['spec.usages[1]: Duplicate value: "client auth"']);
  assert.match(messages(validateCreate(csr({ usages: ['bogus'] })))[0]!, /^spec\.usages\[0\]: Unsupported value: "bogus": supported values: "any", "cert sign", /);
  assert.deepEqual(messages(validateCreate(csr({ expirationSeconds: 599 }))), ['spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)']);
  const [bad] = messages(validateCreate(csr({ request: Buffer.from('hello').toString('base64') })));
  assert.equal(bad, 'spec.request: Invalid value: []byte{0x68, 0x65, 0x6c, 0x6c, 0x6f}: PEM block type must be CERTIFICATE REQUEST');
  assert.deepEqual(messages(validateCreate(csr({}, { conditions: [{ type: 'Approved', status: 'False' }] }))), [
    'status.conditions[0].status: Unsupported value: "False": supported values: "True"',
  ]);
  assert.deepEqual(
    messages(validateCreate(csr({}, { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Denied', status: 'True' }] }))),
    ['status.conditions[1].type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive'],
  );
});

test('updates: approval only through /approval, the certificate only through /status and only once', () => {
  const old = csr();
  const approved = csr({}, { conditions: [{ type: 'Approved', status: 'True', reason: 'r' }] });
  assert.deepEqual(messages(validateUpdate(approved, old)), ['status.conditions: Forbidden: updates may not add a condition of type "Approved"']);
  assert.deepEqual(messages(validateApprovalUpdate(approved, old)), []);
  assert.deepEqual(messages(validateApprovalUpdate(old, approved)), ['status.conditions: Forbidden: updates may not remove a condition of type "Approved"']);
  const cert = Buffer.from(ensureCACert()).toString('base64');
  const issued = csr({}, { ...approved.status, certificate: cert });
  assert.deepEqual(messages(validateUpdate(issued, approved)), ['status.certificate: Forbidden: updates may not set certificate content']);
  assert.deepEqual(messages(validateStatusUpdate(issued, approved)), []);
  assert.deepEqual(messages(validateStatusUpdate(csr({}, { ...approved.status, certificate: Buffer.from('junk').toString('base64') }), approved)), [
    'status.certificate: Invalid value: "<certificate data>": must contain at least one CERTIFICATE PEM block',
  ]);
  const reissued = csr({}, { ...approved.status, certificate: Buffer.from(ensureCACert()).toString('base64') });
  assert.deepEqual(messages(validateStatusUpdate(reissued, issued)), ['status.certificate: Forbidden: updates may not modify existing certificate content']);
});

let dirs: string[] = [];
/** A certificate: a fresh CA's. */
function ensureCACert(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-csr-'));
  dirs.push(dir);
  return ensureClusterCA(dir).cert;
}
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

test('kubectl get csr: NAME AGE SIGNERNAME REQUESTOR REQUESTEDDURATION CONDITION', () => {
  assert.deepEqual(
    table.columns.map((c) => c.name),
    ['Name', 'Age', 'SignerName', 'Requestor', 'RequestedDuration', 'Condition'],
  );
  const now = new Date('2024-01-01T00:10:00Z');
  const obj = { ...csr({ username: 'system:bootstrap:abcdef', expirationSeconds: 3600 }, { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'eA==' }), metadata: { name: 'csr-1', creationTimestamp: '2024-01-01T00:00:00Z' } };
  assert.deepEqual(table.cells(obj as never, now), ['csr-1', '10m', 'kubernetes.io/kube-apiserver-client-kubelet', 'system:bootstrap:abcdef', '60m', 'Approved,Issued']);
  assert.equal(table.cells(csr() as never, now)[4], '<none>');
  assert.equal(table.cells(csr() as never, now)[5], 'Pending');
  assert.equal(table.cells(csr({}, { conditions: [{ type: 'Denied', status: 'True' }, { type: 'Failed', status: 'True' }] }) as never, now)[5], 'Denied,Failed');
});

test('the kubelet client rules the approver and signer apply, in upstream\'s words', () => {
  const parsed = (cn: string, o: string[]) => parseCertificateRequest(pemOf(cn, o));
  assert.equal(kubeletClientError(parsed('system:node:n1', ['system:nodes']), ['digital signature', 'client auth']), undefined);
  assert.equal(kubeletClientError(parsed('system:node:n1', ['system:nodes']), ['digital signature', 'key encipherment', 'client auth']), undefined);
  assert.equal(kubeletClientError(parsed('system:node:n1', ['system:masters']), ['digital signature', 'client auth']), 'subject organization is not system:nodes');
  assert.equal(kubeletClientError(parsed('alice', ['system:nodes']), ['digital signature', 'client auth']), 'subject common name does not begin with system:node:');
  assert.equal(kubeletClientError(parsed('system:node:n1', ['system:nodes']), ['client auth']), 'usages did not match [client auth digital signature key encipherment]');
});

test('the signer: the cluster CA signs the request\'s subject for the requested duration, capped; invalid requests fail', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-sign-'));
  try {
    const ca = ensureClusterCA(dir);
    const signing = { cert: ca.cert, key: ca.key.export({ type: 'pkcs8', format: 'pem' }) as string, durationMs: 8760 * 3600_000 };
    const now = new Date('2030-01-01T00:00:00Z');
    const verdict = signRequest(csr({ expirationSeconds: 3600 }), signing, new Date());
    assert.ok(verdict && 'certificate' in verdict);
    const cert = new X509Certificate(verdict.certificate);
    assert.ok(cert.verify(new X509Certificate(ca.cert).publicKey), 'signed by the cluster CA');
    assert.equal(cert.subject.split('\n').sort().join(','), 'CN=system:node:n1,O=system:nodes');
    assert.equal(Date.parse(cert.validTo) - Date.parse(cert.validFrom), 3600_000, 'a short certificate lives its requested duration');
    assert.equal(certificateDuration(undefined, 8760 * 3600_000), 8760 * 3600_000);
    assert.equal(certificateDuration(10 * 365 * 86400, 8760 * 3600_000), 8760 * 3600_000);
    assert.equal(certificateDuration(60, 8760 * 3600_000), 600_000);
    assert.deepEqual(signRequest(csr({ request: Buffer.from(pemOf('system:node:n1', ['system:masters'])).toString('base64') }), signing, now), {
      failed: 'subject organization is not system:nodes',
    });
    assert.deepEqual(signRequest(csr({ signerName: 'kubernetes.io/kube-apiserver-client', usages: ['server auth'] }), signing, now), {
      failed: 'invalid usage for client certificate: server auth',
    });
    assert.equal(signRequest(csr({ signerName: 'example.com/other' }), signing, now), undefined, 'another signer\'s request is not ours');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
