// The service account token library on its own: the kubeadm-style sa.key /
// sa.pub pair, RS256 signing and the forgeries verification refuses, the
// bound and legacy tokens upstream issues, TokenRequest's expiration rules
// (the 3607 s extension), the validator's time, audience, issuer and
// bound-object checks (revocation on the next request, cache or not), and
// issuer discovery (a JWK alone verifies a token).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatusError } from '../src/api/status.js';
import {
  boundTokenClaims,
  clusterIssuer,
  createTokenIssuer,
  createTokenValidator,
  decodeJwt,
  defaultJwksUri,
  ensureServiceAccountKeys,
  expirationExtensionSeconds,
  jwks,
  keyId,
  openIdConfiguration,
  signJwt,
  type BoundObjectLookup,
  type BoundTokenRequest,
  type LiveObject,
  type LiveSecret,
  type ServiceAccountKeys,
  type TokenValidation,
  type TokenValidatorOptions,
} from '../src/auth/serviceaccount/index.js';
import { VerifiedTokenCache } from '../src/auth/serviceaccount/token-cache.js';

const issuer = clusterIssuer();
const t0 = Date.UTC(2025, 0, 1) / 1000;
const sa = { name: 'default', uid: 'sa-uid-1' };
const pod = { name: 'web', uid: 'pod-uid-1' };
const node = { name: 'node-a', uid: 'node-uid-1' };
const secret = { name: 'default-token', uid: 'secret-uid-1' };

let dir: string;
let keys: ServiceAccountKeys;
let otherKey: KeyObject;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sa-tokens-'));
  keys = await ensureServiceAccountKeys(join(dir, 'pki'));
  otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The cluster as the validator sees it, with a settable clock (milliseconds). */
class World {
  clock = t0 * 1000;
  serviceAccounts = new Map<string, LiveObject>([['ns1/default', { uid: sa.uid }]]);
  pods = new Map<string, LiveObject>([['ns1/web', { uid: pod.uid }]]);
  secrets = new Map<string, LiveSecret>([['ns1/default-token', { uid: secret.uid }]]);
  nodes = new Map<string, LiveObject>([['node-a', { uid: node.uid }]]);
  lookups: string[] = [];
  readonly lookup: BoundObjectLookup = {
    serviceAccount: async (ns, name) => this.seen('serviceaccount', this.serviceAccounts.get(`${ns}/${name}`)),
    pod: async (ns, name) => this.seen('pod', this.pods.get(`${ns}/${name}`)),
    secret: (ns, name) => this.seen('secret', this.secrets.get(`${ns}/${name}`)),
    node: async (name) => this.seen('node', this.nodes.get(name)),
  };
  readonly issuer = () => createTokenIssuer({ privateKey: keys.privateKey, keyId: keys.keyId, issuer, now: () => this.clock });
  validator(opts: Partial<TokenValidatorOptions> = {}) {
    return createTokenValidator({ publicKeys: [keys.publicKey], issuers: [issuer], audiences: [issuer], lookup: this.lookup, now: () => this.clock, ...opts });
  }
  /** A TokenRequest's token, bound to the pod (on its node) unless told otherwise. */
  token(req: Partial<BoundTokenRequest> = {}) {
    const { claims } = boundTokenClaims({ namespace: 'ns1', serviceAccount: sa, pod, node, apiAudiences: [issuer], ...req });
    return this.issuer().issue(claims);
  }
  /** A token signed with the real key whose payload says anything. */
  signed(payload: Record<string, unknown>) {
    return signJwt(payload, keys.privateKey, keys.keyId);
  }
  private seen<T>(kind: string, v: T): T {
    this.lookups.push(kind);
    return v;
  }
}

function errorOf(r: TokenValidation): string {
  assert.ok('error' in r, `expected a rejection, got ${JSON.stringify(r)}`);
  return r.error;
}

function userOf(r: TokenValidation) {
  assert.ok('user' in r, `expected a user, got ${JSON.stringify(r)}`);
  return r;
}

const segments = (token: string) => token.split('.') as [string, string, string];
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const json = (segment: string) => JSON.parse(Buffer.from(segment, 'base64url').toString()) as Record<string, unknown>;

describe('sa.key and sa.pub', () => {
  test('made once as kubeadm lays them out: RSA 2048 PKCS#1 key 0600, SPKI public key 0644, pki dir 0700', () => {
    const pki = join(dir, 'pki');
    assert.equal(statSync(pki).mode & 0o777, 0o700);
    assert.equal(statSync(join(pki, 'sa.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(pki, 'sa.pub')).mode & 0o777, 0o644);
    assert.match(readFileSync(join(pki, 'sa.key'), 'utf8'), /^-----BEGIN RSA PRIVATE KEY-----\n/);
    assert.match(readFileSync(join(pki, 'sa.pub'), 'utf8'), /^-----BEGIN PUBLIC KEY-----\n/);
    assert.equal(keys.privateKey.asymmetricKeyDetails?.modulusLength, 2048);
  });

  test('reused: the same files and key id on every start; sa.pub made again if it went missing', async () => {
    const pki = join(dir, 'pki');
    const before = [readFileSync(join(pki, 'sa.key'), 'utf8'), readFileSync(join(pki, 'sa.pub'), 'utf8')];
    const again = await ensureServiceAccountKeys(pki);
    assert.equal(again.keyId, keys.keyId);
    assert.ok(again.publicKey.equals(keys.publicKey));
    assert.deepEqual([readFileSync(join(pki, 'sa.key'), 'utf8'), readFileSync(join(pki, 'sa.pub'), 'utf8')], before);
    unlinkSync(join(pki, 'sa.pub'));
    assert.equal((await ensureServiceAccountKeys(pki)).keyId, keys.keyId);
    assert.equal(readFileSync(join(pki, 'sa.pub'), 'utf8'), before[1]);
  });

  test('kid: the unpadded base64url SHA-256 of the DER public key, stable and distinct per key', () => {
    const der = keys.publicKey.export({ type: 'spki', format: 'der' });
    assert.equal(keys.keyId, createHash('sha256').update(der).digest('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
    assert.match(keys.keyId, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(keyId(createPublicKey(keys.privateKey)), keys.keyId);
    assert.notEqual(keyId(createPublicKey(otherKey)), keys.keyId);
  });

  test('a broken sa.key or an sa.pub of another key is an error, never silently replaced', async () => {
    const pki = join(dir, 'broken');
    await ensureServiceAccountKeys(pki);
    writeFileSync(join(pki, 'sa.pub'), createPublicKey(otherKey).export({ type: 'spki', format: 'pem' }));
    await assert.rejects(ensureServiceAccountKeys(pki), /sa\.pub is not the public key of .*sa\.key/);
    writeFileSync(join(pki, 'sa.key'), 'not a key');
    await assert.rejects(ensureServiceAccountKeys(pki), /sa\.key existed but it could not be loaded properly/);
  });
});

describe('bound tokens', () => {
  test('round trip: upstream-shaped claims, and the user with pod, node and credential id', async () => {
    const w = new World();
    const issued = w.token();
    const [h, p] = segments(issued.token);
    assert.deepEqual(json(h), { alg: 'RS256', kid: keys.keyId });
    const payload = json(p);
    assert.deepEqual(Object.keys(payload), ['aud', 'exp', 'iat', 'iss', 'jti', 'kubernetes.io', 'nbf', 'sub']);
    assert.match(payload.jti as string, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual({ ...payload, jti: undefined }, {
      aud: [issuer],
      exp: t0 + 3600,
      iat: t0,
      iss: 'https://kubernetes.default.svc.cluster.local',
      jti: undefined,
      'kubernetes.io': { namespace: 'ns1', node, pod, serviceaccount: sa },
      nbf: t0,
      sub: 'system:serviceaccount:ns1:default',
    });
    assert.equal(issued.expirationTimestamp, '2025-01-01T01:00:00Z');
    const r = userOf(await w.validator().validate(issued.token));
    assert.deepEqual(r, {
      user: {
        name: 'system:serviceaccount:ns1:default',
        uid: sa.uid,
        groups: ['system:serviceaccounts', 'system:serviceaccounts:ns1'],
        extra: {
          'authentication.kubernetes.io/pod-name': ['web'],
          'authentication.kubernetes.io/pod-uid': [pod.uid],
          'authentication.kubernetes.io/credential-id': [`JTI=${payload.jti as string}`],
          'authentication.kubernetes.io/node-name': ['node-a'],
          'authentication.kubernetes.io/node-uid': [node.uid],
        },
      },
      audiences: [issuer],
    });
    assert.notEqual(w.token().payload.jti, payload.jti, 'every token gets its own jti');
  });

  test('an unbound token: only the account, and only the credential id in extra', async () => {
    const w = new World();
    const issued = w.token({ pod: undefined, node: undefined });
    assert.deepEqual(issued.payload['kubernetes.io'], { namespace: 'ns1', serviceaccount: sa });
    const r = userOf(await w.validator().validate(issued.token));
    assert.deepEqual(r.user.extra, { 'authentication.kubernetes.io/credential-id': [`JTI=${issued.payload.jti}`] });
  });

  test("a pod's node is reported, not checked; a node found without uid is named alone", async () => {
    const w = new World();
    const issued = w.token({ node: { name: 'node-gone' } });
    assert.deepEqual(issued.payload['kubernetes.io'].node, { name: 'node-gone' });
    const r = userOf(await w.validator().validate(issued.token));
    assert.deepEqual(r.user.extra?.['authentication.kubernetes.io/node-name'], ['node-gone']);
    assert.equal(r.user.extra?.['authentication.kubernetes.io/node-uid'], undefined);
    assert.deepEqual(w.lookups, ['serviceaccount', 'pod']);
  });

  test('a token bound to a secret and a pod at once is an internal error, as upstream', () => {
    const w = new World();
    assert.throws(() => w.token({ secret }), /internal error, token can only be bound to one object type/);
  });
});

describe('TokenRequest expiration', () => {
  const plan = (req: Partial<BoundTokenRequest>) => boundTokenClaims({ namespace: 'ns1', serviceAccount: sa, apiAudiences: [issuer], ...req });

  test('an hour by default, the issuer as audience', () => {
    const { claims, warnings } = plan({});
    assert.equal(claims.expirationSeconds, 3600);
    assert.deepEqual(claims.audiences, [issuer]);
    assert.deepEqual(warnings, []);
  });

  test("less than 10 minutes or more than 2^32 s is invalid, in upstream's words", () => {
    for (const [seconds, message] of [
      [599, 'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes'],
      [2 ** 32 + 1, 'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 4294967297: may not specify a duration larger than 2^32 seconds'],
    ] as const) {
      assert.throws(
        () => plan({ expirationSeconds: seconds }),
        (e: unknown) => e instanceof StatusError && e.code === 422 && e.reason === 'Invalid' && e.message === message,
      );
    }
    assert.equal(plan({ expirationSeconds: 600 }).claims.expirationSeconds, 600);
  });

  test('--service-account-max-token-expiration shortens with a warning', () => {
    const { claims, warnings } = plan({ expirationSeconds: 7200, maxExpirationSeconds: 3600 });
    assert.equal(claims.expirationSeconds, 3600);
    assert.deepEqual(warnings, ['requested expiration of 7200 seconds shortened to 3600 seconds']);
  });

  test('3607 s for a pod and the API audiences: a year, warnafter at the hour and 7 s, status at the hour', async () => {
    const w = new World();
    const issued = w.token({ expirationSeconds: 3607 });
    assert.equal(issued.payload.exp - issued.payload.iat, expirationExtensionSeconds);
    assert.equal(expirationExtensionSeconds, 365 * 24 * 3600);
    assert.equal(issued.payload['kubernetes.io'].warnafter, t0 + 3607);
    assert.deepEqual(Object.keys(issued.payload['kubernetes.io']), ['namespace', 'node', 'pod', 'serviceaccount', 'warnafter']);
    assert.equal(issued.expirationTimestamp, '2025-01-01T01:00:07Z');
    w.clock += 30 * 24 * 3600_000;
    userOf(await w.validator().validate(issued.token));
  });

  test('no extension without a pod, for other audiences, when disabled, or for any other lifetime', () => {
    for (const req of [
      { expirationSeconds: 3607 },
      { expirationSeconds: 3607, pod, audiences: ['vault'] },
      { expirationSeconds: 3607, pod, extendExpiration: false },
      { expirationSeconds: 3608, pod },
      { expirationSeconds: 3607, pod, maxExpirationSeconds: 3600 },
    ]) {
      const { claims } = plan(req);
      assert.equal(claims.warnAfterSeconds, undefined, JSON.stringify(req));
      assert.ok(claims.expirationSeconds <= 3608, JSON.stringify(req));
    }
  });
});

describe('forgeries and malformed tokens', () => {
  const rejectedWith = async (token: string, pattern: RegExp) => {
    assert.match(errorOf(await new World().validator().validate(token)), pattern);
  };

  test('alg "none", with or without the signature, is refused', async () => {
    const [, p, s] = segments(new World().token().token);
    const none = b64({ alg: 'none', typ: 'JWT' });
    await rejectedWith(`${none}.${p}.`, /^unexpected signature algorithm "none"; expected \["RS256"\]$/);
    await rejectedWith(`${none}.${p}.${s}`, /unexpected signature algorithm "none"/);
  });

  test('HS256 keyed with the public key (the classic confusion) is refused', async () => {
    const [, p] = segments(new World().token().token);
    const h = b64({ alg: 'HS256', kid: keys.keyId });
    const secretPem = keys.publicKey.export({ type: 'spki', format: 'pem' });
    const mac = createHmac('sha256', secretPem).update(`${h}.${p}`).digest('base64url');
    await rejectedWith(`${h}.${p}.${mac}`, /^unexpected signature algorithm "HS256"/);
    await rejectedWith(`${b64({ alg: 'RS512', kid: keys.keyId })}.${p}.${mac}`, /unexpected signature algorithm "RS512"/);
  });

  test("another RSA key's signature is refused, whatever kid it claims", async () => {
    const payload = new World().token().payload;
    await rejectedWith(signJwt({ ...payload }, otherKey, keys.keyId), /^invalid signature$/);
    await rejectedWith(signJwt({ ...payload }, otherKey, keyId(createPublicKey(otherKey))), /^invalid signature, no keys found$/);
    const noKid = `${b64({ alg: 'RS256' })}.${b64(payload)}`;
    await rejectedWith(`${noKid}.${sign('sha256', Buffer.from(noKid), otherKey).toString('base64url')}`, /^invalid signature$/);
  });

  test('a kid-less token signed by a trusted key verifies against every key', async () => {
    const payload = new World().token().payload;
    const input = `${b64({ alg: 'RS256' })}.${b64(payload)}`;
    const token = `${input}.${sign('sha256', Buffer.from(input), keys.privateKey).toString('base64url')}`;
    userOf(await new World().validator({ publicKeys: [createPublicKey(otherKey), keys.publicKey] }).validate(token));
  });

  test('tampered claims or header, or a signature swapped from another token, are refused', async () => {
    const w = new World();
    const [h, p, s] = segments(w.token().token);
    const [, , s2] = segments(w.token({ pod: undefined, node: undefined }).token);
    const claims = json(p);
    await rejectedWith(`${h}.${b64({ ...claims, sub: 'system:serviceaccount:kube-system:admin' })}.${s}`, /^invalid signature$/);
    await rejectedWith(`${h}.${b64({ ...claims, exp: (claims.exp as number) + 1 })}.${s}`, /^invalid signature$/);
    await rejectedWith(`${b64({ ...json(h), typ: 'JWT' })}.${p}.${s}`, /^invalid signature$/);
    await rejectedWith(`${h}.${p}.${s2}`, /^invalid signature$/);
    await rejectedWith(`${h}.${p}.${s.slice(0, -4)}`, /^invalid signature$/);
    await rejectedWith(`${b64({ ...json(h), crit: ['exp'] })}.${p}.${s}`, /critical/);
  });

  test('malformed tokens are not ours: segments, base64url, JSON', async () => {
    const [h, p, s] = segments(new World().token().token);
    const cases: [string, string][] = [
      ['', 'malformed token: 1 segments, want 3'],
      [`${h}.${p}`, 'malformed token: 2 segments, want 3'],
      [`${h}.${p}.${s}.x`, 'malformed token: 4 segments, want 3'],
      [`${h}.${p}!.${s}`, 'malformed token: payload is not base64url'],
      [`${h}.${p}==.${s}`, 'malformed token: payload is not base64url'],
      [`${h}.${p}.${s}=`, 'malformed token: signature is not base64url'],
      [`${h}.${b64('{"iss":')}.${s}`, 'malformed token: payload is not JSON'],
      [`${h}.${b64([1, 2])}.${s}`, 'malformed token: payload is not a JSON object'],
      [`${b64('null')}.${p}.${s}`, 'malformed token: header is not a JSON object'],
      [`${b64('RS256')}.${p}.${s}`, 'malformed token: header is not JSON'],
    ];
    for (const [token, error] of cases) {
      assert.deepEqual(await new World().validator().validate(token), { error, unrecognized: true }, token);
    }
    assert.deepEqual(decodeJwt('a.b'), { error: 'malformed token: 2 segments, want 3' });
  });

  test("another issuer's token is not ours, signed or not", async () => {
    const w = new World();
    const token = w.token().token;
    assert.deepEqual(await w.validator({ issuers: ['https://other.example'] }).validate(token), {
      error: `token issuer "${issuer}" is not a service account issuer`,
      unrecognized: true,
    });
    const r = await w.validator().validate(w.signed({ ...w.token().payload, iss: 'https://evil.example' }));
    assert.deepEqual(r, { error: 'token issuer "https://evil.example" is not a service account issuer', unrecognized: true });
  });

  test('every issuer given is accepted (issuer migration)', async () => {
    const w = new World();
    const old = createTokenIssuer({ privateKey: keys.privateKey, issuer: 'https://old.example', now: () => w.clock });
    const token = old.issue(boundTokenClaims({ namespace: 'ns1', serviceAccount: sa, apiAudiences: [issuer] }).claims).token;
    userOf(await w.validator({ issuers: [issuer, 'https://old.example'] }).validate(token));
  });
});

describe('times and audiences', () => {
  test('exp with a minute of leeway: valid 60 s after, expired 61 s after', async () => {
    const w = new World();
    const token = w.token().token;
    const v = w.validator();
    w.clock = (t0 + 3600 + 60) * 1000;
    userOf(await v.validate(token));
    w.clock += 1000;
    assert.equal(errorOf(await v.validate(token)), 'service account token has expired');
  });

  test('nbf and iat with a minute of leeway', async () => {
    const w = new World();
    const claims = w.token().payload;
    const v = w.validator();
    w.clock = (t0 - 60) * 1000;
    userOf(await v.validate(w.signed({ ...claims })));
    w.clock -= 1000;
    assert.equal(errorOf(await v.validate(w.signed({ ...claims }))), 'service account token is not valid yet');
    assert.equal(errorOf(await v.validate(w.signed({ ...claims, nbf: undefined }))), 'service account token is issued in the future');
    w.clock = t0 * 1000;
    assert.equal(errorOf(await v.validate(w.signed({ ...claims, exp: 'soon' }))), 'malformed token: claim "exp" is not a number');
  });

  test('audiences: the API audiences by default, or those a review names', async () => {
    const w = new World();
    const vault = w.token({ audiences: ['vault', 'other'] }).token;
    assert.equal(
      errorOf(await w.validator().validate(vault)),
      `token audiences ["vault" "other"] is invalid for the target audiences ["${issuer}"]`,
    );
    assert.deepEqual(userOf(await w.validator().validate(vault, ['other', 'x'])).audiences, ['other']);
    assert.match(errorOf(await w.validator().validate(vault, [])), /is invalid for the target audiences \["https:/, 'none named: the API audiences');
    assert.deepEqual(userOf(await w.validator().validate(w.signed({ ...w.token().payload, aud: issuer }))).audiences, [issuer]);
  });

  test('a token without audiences gets the API audiences', async () => {
    const w = new World();
    const r = userOf(await w.validator().validate(w.signed({ ...w.token().payload, aud: undefined })));
    assert.deepEqual(r.audiences, [issuer]);
    assert.match(errorOf(await w.validator().validate(w.signed({ ...w.token().payload, aud: undefined }), ['vault'])), /is invalid for the target audiences \["vault"\]/);
  });
});

describe('bound objects, looked up on every request', () => {
  test('the bound pod: gone or replaced invalidates; deleting counts only a minute after its deletionTimestamp', async () => {
    const w = new World();
    const token = w.token().token;
    const v = w.validator();
    userOf(await v.validate(token));
    w.pods.set('ns1/web', { uid: pod.uid, deletionTimestamp: new Date(w.clock + 30_000).toISOString() });
    userOf(await v.validate(token));
    w.pods.set('ns1/web', { uid: pod.uid, deletionTimestamp: new Date(w.clock - 60_000).toISOString() });
    userOf(await v.validate(token));
    w.pods.set('ns1/web', { uid: pod.uid, deletionTimestamp: new Date(w.clock - 61_000).toISOString() });
    assert.equal(errorOf(await v.validate(token)), 'service account token has been invalidated');
    w.pods.set('ns1/web', { uid: 'pod-uid-2' });
    assert.equal(errorOf(await v.validate(token)), 'pod UID (pod-uid-2) does not match service account pod ref claim (pod-uid-1)');
    w.pods.delete('ns1/web');
    assert.equal(errorOf(await v.validate(token)), 'service account token has been invalidated');
  });

  test('the account: gone, recreated with another uid, or deleted', async () => {
    const w = new World();
    const token = w.token().token;
    const v = w.validator();
    w.serviceAccounts.set('ns1/default', { uid: 'sa-uid-2' });
    assert.equal(errorOf(await v.validate(token)), 'service account UID (sa-uid-2) does not match claim (sa-uid-1)');
    w.serviceAccounts.set('ns1/default', { uid: sa.uid, deletionTimestamp: new Date(w.clock - 120_000).toISOString() });
    assert.equal(errorOf(await v.validate(token)), 'service account ns1/default has been deleted');
    w.serviceAccounts.delete('ns1/default');
    assert.equal(errorOf(await v.validate(token)), 'serviceaccounts "default" not found');
  });

  test('a secret-bound token dies with its secret', async () => {
    const w = new World();
    const issued = w.token({ pod: undefined, node: undefined, secret });
    assert.deepEqual(issued.payload['kubernetes.io'], { namespace: 'ns1', secret, serviceaccount: sa });
    const v = w.validator();
    assert.equal(userOf(await v.validate(issued.token)).user.extra?.['authentication.kubernetes.io/pod-name'], undefined);
    w.secrets.set('ns1/default-token', { uid: 'secret-uid-2' });
    assert.equal(errorOf(await v.validate(issued.token)), 'secret UID (secret-uid-2) does not match service account secret ref claim (secret-uid-1)');
    w.secrets.delete('ns1/default-token');
    assert.equal(errorOf(await v.validate(issued.token)), 'service account token has been invalidated');
  });

  test('a node-bound token dies with its node and names it', async () => {
    const w = new World();
    const token = w.token({ pod: undefined }).token;
    const v = w.validator();
    const r = userOf(await v.validate(token));
    assert.deepEqual(r.user.extra?.['authentication.kubernetes.io/node-uid'], [node.uid]);
    assert.deepEqual(w.lookups, ['serviceaccount', 'node']);
    w.nodes.set('node-a', { uid: 'node-uid-2' });
    assert.equal(errorOf(await v.validate(token)), 'node UID (node-uid-2) does not match service account node ref claim (node-uid-1)');
    w.nodes.delete('node-a');
    assert.equal(errorOf(await v.validate(token)), 'service account token has been invalidated');
  });

  test('a lookup that fails is a rejection with its reason', async () => {
    const w = new World();
    const v = w.validator({ lookup: { ...w.lookup, serviceAccount: async () => Promise.reject(new Error('storage unavailable')) } });
    assert.equal(errorOf(await v.validate(w.token().token)), 'storage unavailable');
  });

  test('private claims of the wrong shape are refused', async () => {
    const w = new World();
    const claims = w.token().payload;
    const bad = w.signed({ ...claims, 'kubernetes.io': { namespace: 'ns1', serviceaccount: { name: 7 } } });
    assert.equal(errorOf(await w.validator().validate(bad)), 'service account token claims could not be validated due to unexpected private claim');
  });
});

describe('legacy secret-based tokens', () => {
  const subject = { namespace: 'ns1', serviceAccountName: 'default', serviceAccountUID: sa.uid, secretName: 'default-token' };

  test("upstream's legacy claims, no expiry, signed with the same key", () => {
    const token = new World().issuer().issueLegacySecretToken(subject);
    const [h, p] = segments(token);
    assert.deepEqual(json(h), { alg: 'RS256', kid: keys.keyId });
    assert.deepEqual(json(p), {
      iss: 'kubernetes/serviceaccount',
      'kubernetes.io/serviceaccount/namespace': 'ns1',
      'kubernetes.io/serviceaccount/secret.name': 'default-token',
      'kubernetes.io/serviceaccount/service-account.name': 'default',
      'kubernetes.io/serviceaccount/service-account.uid': sa.uid,
      sub: 'system:serviceaccount:ns1:default',
    });
    assert.deepEqual(Object.keys(json(p)), Object.keys(json(p)).sort());
  });

  test('valid while its Secret holds it, for the API audiences, years later', async () => {
    const w = new World();
    const token = w.issuer().issueLegacySecretToken(subject);
    w.secrets.set('ns1/default-token', { uid: secret.uid, token });
    w.clock += 5 * 365 * 24 * 3600_000;
    assert.deepEqual(userOf(await w.validator().validate(token)), {
      user: { name: 'system:serviceaccount:ns1:default', uid: sa.uid, groups: ['system:serviceaccounts', 'system:serviceaccounts:ns1'] },
      audiences: [issuer],
    });
  });

  test('the Secret deleted, being deleted or holding another token; the account replaced', async () => {
    const w = new World();
    const token = w.issuer().issueLegacySecretToken(subject);
    const v = w.validator();
    w.secrets.set('ns1/default-token', { uid: secret.uid, token, deletionTimestamp: new Date(w.clock + 30_000).toISOString() });
    assert.equal(errorOf(await v.validate(token)), 'Token has been invalidated');
    w.secrets.set('ns1/default-token', { uid: secret.uid, token: `${token}x` });
    assert.equal(errorOf(await v.validate(token)), "Token does not match server's copy");
    w.secrets.set('ns1/default-token', { uid: secret.uid });
    assert.equal(errorOf(await v.validate(token)), "Token does not match server's copy");
    w.secrets.set('ns1/default-token', { uid: secret.uid, token });
    w.serviceAccounts.set('ns1/default', { uid: 'sa-uid-2' });
    assert.equal(errorOf(await v.validate(token)), 'ServiceAccount UID (sa-uid-2) does not match claim (sa-uid-1)');
    w.secrets.delete('ns1/default-token');
    assert.equal(errorOf(await v.validate(token)), 'Token has been invalidated');
  });

  test('claims missing or a subject that disagrees', async () => {
    const w = new World();
    const claims = json(segments(w.issuer().issueLegacySecretToken(subject))[1]);
    const v = w.validator();
    assert.equal(errorOf(await v.validate(w.signed({ ...claims, 'kubernetes.io/serviceaccount/secret.name': undefined }))), 'secretName claim is missing');
    assert.equal(errorOf(await v.validate(w.signed({ ...claims, sub: 'system:serviceaccount:ns1:admin' }))), 'sub claim is invalid');
  });
});

describe('the verified-token cache', () => {
  test('a cached token is still checked for time and bound objects on every request', async () => {
    const w = new World();
    const token = w.token().token;
    const v = w.validator({ cacheSize: 8 });
    userOf(await v.validate(token));
    userOf(await v.validate(token));
    assert.deepEqual(w.lookups, ['serviceaccount', 'pod', 'serviceaccount', 'pod']);
    w.pods.delete('ns1/web');
    assert.equal(errorOf(await v.validate(token)), 'service account token has been invalidated');
    w.pods.set('ns1/web', { uid: pod.uid });
    w.clock = (t0 + 3600 + 61) * 1000;
    assert.equal(errorOf(await v.validate(token)), 'service account token has expired');
  });

  test('bounded, least recently used first out; entries lapse with their token', () => {
    const cache = new VerifiedTokenCache(2);
    const entry = { kind: 'bound' as const, payload: {} };
    cache.set('a', entry, 1000);
    cache.set('b', entry, 1000);
    assert.ok(cache.get('a', 0));
    cache.set('c', entry, 1000);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('b', 0), undefined);
    assert.ok(cache.get('a', 1000));
    assert.equal(cache.get('a', 1001), undefined);
    assert.equal(cache.size, 1);
    const off = new VerifiedTokenCache(0);
    off.set('a', entry, 1000);
    assert.equal(off.size, 0);
  });

  test('repeat requests skip the crypto: cached validation is much cheaper', async () => {
    const w = new World();
    const token = w.token().token;
    const time = async (cacheSize: number) => {
      const v = w.validator({ cacheSize });
      const start = process.hrtime.bigint();
      for (let i = 0; i < 300; i++) userOf(await v.validate(token));
      return Number(process.hrtime.bigint() - start);
    };
    const uncached = await time(0);
    const cached = await time(8);
    assert.ok(cached < uncached, `cached ${cached} ns, uncached ${uncached} ns`);
  });
});

describe('issuer discovery', () => {
  test('the OpenID configuration as upstream serves it', () => {
    assert.equal(defaultJwksUri('192.168.1.10:6443'), 'https://192.168.1.10:6443/openid/v1/jwks');
    assert.deepEqual(openIdConfiguration(issuer, defaultJwksUri('192.168.1.10:6443')), {
      issuer: 'https://kubernetes.default.svc.cluster.local',
      jwks_uri: 'https://192.168.1.10:6443/openid/v1/jwks',
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
    assert.throws(() => openIdConfiguration('http://kubernetes.default.svc', 'https://a/openid/v1/jwks'), /issuer URL must use https scheme/);
    assert.throws(() => openIdConfiguration('https://a?x=1', 'https://a/openid/v1/jwks'), /may not include a query/);
    assert.throws(() => openIdConfiguration(issuer, 'http://a/openid/v1/jwks'), /jwksURI requires https scheme/);
  });

  test('the JWK set alone verifies a token with node:crypto', () => {
    const set = jwks([{ publicKey: keys.publicKey, keyId: keys.keyId }]);
    assert.equal(set.keys.length, 1);
    const jwk = set.keys[0]!;
    assert.deepEqual(Object.keys(jwk), ['use', 'kty', 'kid', 'alg', 'n', 'e']);
    assert.deepEqual({ ...jwk, n: undefined }, { use: 'sig', kty: 'RSA', kid: keys.keyId, alg: 'RS256', n: undefined, e: 'AQAB' });
    assert.deepEqual(jwks([{ publicKey: keys.publicKey }]), set, 'kid derived from the key');
    const [h, p, s] = segments(new World().token().token);
    assert.equal(json(h).kid, jwk.kid);
    const key = createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
    assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url')));
    assert.ok(!verify('sha256', Buffer.from(`${h}.${p}x`), key, Buffer.from(s, 'base64url')));
    assert.deepEqual(jwks([{ publicKey: keys.privateKey }]), set, 'a private key publishes its public half only');
    assert.throws(() => jwks([{ publicKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey }]), /want RSA/);
  });
});
