// Bootstrap tokens: the format, the authenticator's verdicts, cluster-info's
// JWS signatures, and kubeadm's CA pin checked against openssl's reckoning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBootstrapTokenAuthenticator } from '../../src/auth/bootstrap-token/authenticator.js';
import { caCertHash, clusterInfoKubeconfig, readClusterInfoKubeconfig } from '../../src/auth/bootstrap-token/cluster-info.js';
import { computeDetachedSignature, detachedTokenIsValid } from '../../src/auth/bootstrap-token/jws.js';
import { generateToken, hasExpired, parseToken, tokenGroups, tokenSecret, type TokenSecret } from '../../src/auth/bootstrap-token/token.js';
import { ensureClusterCA } from '../../src/apiserver/pki/ca.js';
import { signedData, signingTokens } from '../../src/controllers/bootstrap/signer.js';
import { tokenListRows } from '../../src/cli/token.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('tokens are [a-z0-9]{6}.[a-z0-9]{16}; anything else is refused in ParseToken\'s words', () => {
  for (let i = 0; i < 50; i++) assert.match(generateToken(), /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  assert.deepEqual(parseToken('abcdef.0123456789abcdef'), { id: 'abcdef', secret: '0123456789abcdef' });
  assert.throws(() => parseToken('ABCDEF.0123456789abcdef'), {
    message: 'token "ABCDEF.0123456789abcdef" was not of form "\\\\A([a-z0-9]{6})\\\\.([a-z0-9]{16})\\\\z"',
  });
});

test('a token Secret is kubeadm\'s: type, name, data keys, RFC 3339 expiration', () => {
  const s = tokenSecret({ token: 'abcdef.0123456789abcdef', ttlMs: 3600_000, description: 'd', groups: ['system:bootstrappers:kubeadm:default-node-token'], now: new Date('2024-01-01T00:00:00Z') });
  assert.equal(s.metadata.name, 'bootstrap-token-abcdef');
  assert.equal(s.metadata.namespace, 'kube-system');
  assert.equal(s.type, 'bootstrap.kubernetes.io/token');
  const data = Object.fromEntries(Object.entries(s.data!).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
  assert.deepEqual(data, {
    'token-id': 'abcdef',
    'token-secret': '0123456789abcdef',
    description: 'd',
    expiration: '2024-01-01T01:00:00Z',
    'usage-bootstrap-signing': 'true',
    'usage-bootstrap-authentication': 'true',
    'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token',
  });
  assert.equal(hasExpired(s, new Date('2024-01-01T00:59:59Z')), false);
  assert.equal(hasExpired(s, new Date('2024-01-01T01:00:00Z')), true);
  assert.equal(hasExpired({ data: { expiration: b64('tomorrow') } }), true, 'an unparseable expiration counts as expired');
  const rows = tokenListRows([{ ...s, metadata: { ...s.metadata } }], new Date('2024-01-01T00:00:00Z'));
  assert.deepEqual(rows[1], ['abcdef.0123456789abcdef', '1h', '2024-01-01T01:00:00Z', 'authentication,signing', 'd', 'system:bootstrappers:kubeadm:default-node-token']);
});

function secretFor(overrides: Record<string, string | undefined> = {}, type = 'bootstrap.kubernetes.io/token'): TokenSecret {
  const data: Record<string, string> = {};
  const plain: Record<string, string | undefined> = {
    'token-id': 'abcdef',
    'token-secret': '0123456789abcdef',
    'usage-bootstrap-authentication': 'true',
    'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token',
    ...overrides,
  };
  for (const [k, v] of Object.entries(plain)) if (v !== undefined) data[k] = b64(v);
  return { metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system' }, type, data };
}

test('the authenticator: system:bootstrap:<id> in system:bootstrappers and the extra groups; refusals as upstream', () => {
  const token = 'abcdef.0123456789abcdef';
  const authn = (secret: TokenSecret | undefined, t = token) => createBootstrapTokenAuthenticator((ns, name) => (ns === 'kube-system' && name === 'bootstrap-token-abcdef' ? secret : undefined)).authenticate(t);
  assert.deepEqual(authn(secretFor()), { user: { name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token'] } });
  assert.equal(authn(secretFor(), 'not-a-token'), undefined, 'not a bootstrap token: not this authenticator\'s');
  const refused = (s: TokenSecret | undefined, t = token) => {
    const r = authn(s, t);
    assert.ok(r && 'rejected' in r, JSON.stringify(r));
    return r.rejected;
  };
  assert.equal(refused(undefined), 'no secret');
  assert.equal(refused(secretFor(), 'abcdef.0123456789abcdey'), 'Bootstrap secret kube-system/bootstrap-token-abcdef matching bearer token system:bootstrap:abcdef has invalid value for key token-secret.');
  assert.equal(refused(secretFor({}, 'Opaque')), 'Bootstrap secret kube-system/bootstrap-token-abcdef matching bearer token system:bootstrap:abcdef has invalid type, expected bootstrap.kubernetes.io/token.');
  assert.equal(refused(secretFor({ expiration: '2000-01-01T00:00:00Z' })), 'Bootstrap secret kube-system/bootstrap-token-abcdef matching bearer token system:bootstrap:abcdef has expired.');
  assert.equal(refused(secretFor({ 'usage-bootstrap-authentication': undefined })), 'Bootstrap secret kube-system/bootstrap-token-abcdef matching bearer token system:bootstrap:abcdef not marked usage-bootstrap-authentication=true.');
  assert.equal(
    refused(secretFor({ 'auth-extra-groups': 'system:masters' })),
    'Bootstrap secret kube-system/bootstrap-token-abcdef matching bearer token system:bootstrap:abcdef has invalid value for key auth-extra-groups: bootstrap group "system:masters" is invalid (must match \\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\\z).',
  );
  assert.deepEqual(tokenGroups(secretFor({ 'auth-extra-groups': 'system:bootstrappers:b,system:bootstrappers:a,system:bootstrappers:a' })), [
    'system:bootstrappers',
    'system:bootstrappers:a',
    'system:bootstrappers:b',
  ]);
});

test('cluster-info is signed per signing token, re-signed when the kubeconfig changes, unsigned when the token goes', () => {
  const kubeconfig = clusterInfoKubeconfig('https://10.0.0.1:6443', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  assert.deepEqual(readClusterInfoKubeconfig(kubeconfig).server, 'https://10.0.0.1:6443');
  const sig = computeDetachedSignature(kubeconfig, 'abcdef', '0123456789abcdef');
  assert.match(sig, /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/);
  assert.equal(Buffer.from(sig.split('.')[0]!, 'base64url').toString(), '{"alg":"HS256","kid":"abcdef"}');
  assert.ok(detachedTokenIsValid(sig, kubeconfig, 'abcdef', '0123456789abcdef'));
  assert.ok(!detachedTokenIsValid(sig, kubeconfig + ' ', 'abcdef', '0123456789abcdef'));
  assert.ok(!detachedTokenIsValid(sig, kubeconfig, 'abcdef', '0123456789abcdeg'));

  const signing = { ...secretFor({ 'usage-bootstrap-signing': 'true' }) };
  const tokens = signingTokens([signing as TokenSecret, secretFor()]);
  assert.deepEqual([...tokens], [['abcdef', '0123456789abcdef']], 'only tokens marked for signing sign');
  const data = signedData({ kubeconfig }, tokens)!;
  assert.equal(data['jws-kubeconfig-abcdef'], sig);
  assert.equal(signedData(data, tokens), undefined, 'nothing to change');
  assert.deepEqual(signedData(data, new Map()), { kubeconfig }, 'the signature of a token that is gone is removed');
  assert.deepEqual(signingTokens([secretFor({ 'usage-bootstrap-signing': 'true', expiration: '2000-01-01T00:00:00Z' })]).size, 0, 'expired tokens do not sign');
});

test('the CA pin is sha256 of the DER SubjectPublicKeyInfo, as openssl computes it for kubeadm', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-pin-'));
  try {
    const ca = ensureClusterCA(dir);
    const hash = caCertHash(ca.cert);
    assert.match(hash, /^sha256:[0-9a-f]{64}$/);
    let openssl: string;
    try {
      const file = join(dir, 'ca.pem');
      writeFileSync(file, ca.cert);
      const der = execFileSync('openssl', ['x509', '-in', file, '-pubkey', '-noout']);
      const spki = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: der });
      openssl = execFileSync('openssl', ['dgst', '-sha256', '-hex'], { input: spki }).toString().trim().split(' ').pop()!;
    } catch {
      if (process.env.CI === 'true') throw new Error('openssl is missing: install the Debian package openssl');
      t.skip('openssl is not installed');
      return;
    }
    assert.equal(hash, `sha256:${openssl}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
