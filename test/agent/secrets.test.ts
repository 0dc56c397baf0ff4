// Secrets in pods, as the kubelet puts them there (needs root): environment
// variables from secretKeyRef and envFrom secretRef, secret volumes with
// items and modes in the atomic writer's layout, kept current while the pod
// runs (a subPath mount is not), the upstream messages for what is missing,
// and projected service account tokens from the token request, refreshed
// when near expiry and kept when a refresh fails. The atomic writer and the
// token manager's refresh rule are also checked on their own (no root).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../../src/api/object.js';
import type { Pod } from '../../src/api/types.js';
import { resourceTypes } from '../../src/client/client.js';
import type { NodeNetwork } from '../../src/agent/contracts.js';
import { startAgent, type Agent } from '../../src/agent/agent.js';
import { apiServiceAccountTokens } from '../../src/agent/api-sources.js';
import { createNodeNetwork, destroyClusterNetwork } from '../../src/agent/network.js';
import { createTokenManager, requiresRefresh, type ServiceAccountTokenRequest } from '../../src/agent/token-manager.js';
import { writeAtomic, type Payload } from '../../src/agent/atomic-writer.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/apiserver.js';
import { namespaceSkipReason } from '../helpers/root.js';

type PodObj = Pod & KubeObject;
type PodSpec = NonNullable<Pod['spec']>;

interface TokenCall {
  namespace: string;
  serviceAccountName: string;
  req: ServiceAccountTokenRequest;
}

/** The token request the agent is given: tokens "<audience>-<n>", expiring as `lifetimeSeconds` says, or failing while `failure` is set. */
function fakeTokens() {
  const calls: TokenCall[] = [];
  const state = { failure: undefined as string | undefined, lifetimeSeconds: (req: ServiceAccountTokenRequest) => req.expirationSeconds };
  return {
    calls,
    state,
    async request(namespace: string, serviceAccountName: string, req: ServiceAccountTokenRequest) {
      calls.push({ namespace, serviceAccountName, req });
      if (state.failure) throw new Error(state.failure);
      const expires = new Date(Date.now() + state.lifetimeSeconds(req) * 1000);
      return { token: `${req.audiences[0] ?? 'api'}-${calls.length}`, expirationTimestamp: expires.toISOString().replace(/\.\d{3}Z$/, 'Z') };
    },
  };
}

describe('the atomic writer', () => {
  const file = (data: string, mode = 0o644) => ({ data: Buffer.from(data), mode });
  const tsDirs = (dir: string) => readdirSync(dir).filter((n) => /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\./.test(n));

  test('a timestamped directory, ..data pointing at it, one link per top-level name; unchanged payloads are not written again', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kubesvc-atomic-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const first: Payload = new Map([
      ['top', file('1')],
      ['nested/deeper/file', file('2', 0o400)],
      ['nested/other', file('3', 0o600)],
    ]);
    assert.equal(writeAtomic(dir, first), true);
    const [ts] = tsDirs(dir);
    assert.equal(readlinkSync(join(dir, '..data')), ts);
    assert.equal(readlinkSync(join(dir, 'top')), '..data/top');
    assert.equal(readlinkSync(join(dir, 'nested')), '..data/nested');
    assert.equal(readFileSync(join(dir, 'nested/deeper/file'), 'utf8'), '2');
    assert.equal(lstatSync(join(dir, ts!)).mode & 0o777, 0o755);
    assert.equal(lstatSync(join(dir, ts!, 'nested/deeper/file')).mode & 0o777, 0o400);
    assert.equal(lstatSync(join(dir, ts!, 'nested/other')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir).sort(), ['..data', ts, 'nested', 'top'].sort());

    assert.equal(writeAtomic(dir, new Map(first)), false, 'nothing changed');
    assert.deepEqual(tsDirs(dir), [ts]);

    assert.equal(writeAtomic(dir, new Map([['top', file('1b')], ['added', file('4')]])), true);
    const [ts2] = tsDirs(dir);
    assert.notEqual(ts2, ts);
    assert.equal(existsSync(join(dir, ts!)), false, 'the old version is removed');
    assert.deepEqual(readdirSync(dir).sort(), ['..data', ts2, 'added', 'top'].sort(), 'the links of names gone are removed');
    assert.equal(readFileSync(join(dir, 'top'), 'utf8'), '1b');
    assert.equal(writeAtomic(dir, new Map([['top', file('1b', 0o640)], ['added', file('4')]])), true, 'a changed mode is a change');
  });

  test('paths that are absolute, climb out or use the reserved ".." names are refused', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kubesvc-atomic-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    for (const [path, message] of [
      ['/etc/passwd', 'invalid path: must be relative path: /etc/passwd'],
      ['a/../../b', "invalid path: must not contain '..': a/../../b"],
      ['..data', "invalid path: must not start with '..': ..data"],
      ['', 'invalid path: must not be empty: ""'],
      ['x'.repeat(256), 'invalid path: filenames must be less than or equal to 255 characters'],
    ]) {
      assert.throws(() => writeAtomic(dir, new Map([[path!, file('x')]])), { message });
    }
    assert.deepEqual(readdirSync(dir), [], 'nothing written');
  });
});

describe("the token manager's refresh rule", () => {
  const issued = 1_000_000_000_000;
  const token = (seconds: number) => ({ expiresAt: issued + seconds * 1000, expirationSeconds: seconds });

  test('older than 80% of the lifetime, or than 24 h, less the jitter; or issued in the future', () => {
    assert.equal(requiresRefresh(token(600), issued + 480_000, 0), false);
    assert.equal(requiresRefresh(token(600), issued + 480_001, 0), true);
    assert.equal(requiresRefresh(token(600), issued + 470_001, 10_000), true, 'the jitter makes it earlier');
    assert.equal(requiresRefresh(token(48 * 3600), issued + 24 * 3600_000, 0), false);
    assert.equal(requiresRefresh(token(48 * 3600), issued + 24 * 3600_000 + 1, 0), true, 'a day at the most');
    assert.equal(requiresRefresh(token(600), issued - 1, 0), true, 'the clock went back');
  });

  test('a failed request: an error without a token, the cached token while it is valid, an error once it expired', async () => {
    let now = issued;
    let fail: string | undefined;
    let n = 0;
    const manager = createTokenManager(
      async () => {
        if (fail) throw new Error(fail);
        return { token: `t${++n}`, expirationTimestamp: new Date(now + 600_000).toISOString() };
      },
      { now: () => now, random: () => 0 },
    );
    const req = { audiences: [], expirationSeconds: 600, boundPod: { name: 'p', uid: 'u1' } };
    fail = 'refused';
    await assert.rejects(manager.get('ns', 'sa', req), { message: 'failed to fetch token: refused' });
    fail = undefined;
    assert.deepEqual(await manager.get('ns', 'sa', req), { token: 't1' });
    now += 300_000;
    assert.deepEqual(await manager.get('ns', 'sa', req), { token: 't1' }, 'cached');
    now += 200_000;
    fail = 'refused';
    assert.deepEqual(await manager.get('ns', 'sa', req), { token: 't1', refreshError: 'refused' });
    now += 200_000;
    await assert.rejects(manager.get('ns', 'sa', req), /^Error: token ns\/sa for pod p \(u1\), audiences \[\], 600s expired and refresh failed: refused$/);
    fail = undefined;
    assert.deepEqual(await manager.get('ns', 'sa', req), { token: 't2' });
    manager.forgetPod('u1');
    assert.deepEqual(await manager.get('ns', 'sa', req), { token: 't3' }, 'forgotten with its pod');
  });
});

describe('secrets in pods', { skip: namespaceSkipReason(['ip', 'unshare', 'nsenter', 'setpriv', 'kubectl']), timeout: 240_000 }, () => {
  const clusterId = `t${randomBytes(3).toString('hex')}`;
  const nodeName = 'node-s';
  const tokens = fakeTokens();
  let cluster: TestCluster;
  let network: NodeNetwork;
  let agent: Agent;
  let stateDir: string;
  /** Mount points live here, not in the host's /etc. */
  let mounts: string;

  const pods = () => cluster.client.resource<PodObj>(resourceTypes.pods);
  const secrets = () => cluster.client.resource(resourceTypes.secrets);
  const exec = (pod: string, cmd: string[]) => cluster.kubectl.ok(['exec', pod, '--', ...cmd]);
  const sh = (pod: string, script: string) => exec(pod, ['sh', '-c', script]);

  async function putSecret(name: string, stringData: Record<string, string>) {
    const obj = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, stringData };
    try {
      const old = await secrets().get('default', name);
      await secrets().update({ ...obj, metadata: { ...obj.metadata, resourceVersion: old.metadata.resourceVersion } } as KubeObject);
    } catch {
      await secrets().create('default', obj as KubeObject);
    }
  }

  function createPod(name: string, spec: Partial<PodSpec>, labels: Record<string, string> = {}) {
    return pods().create('default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default', labels: { t: 'secrets', ...labels } },
      spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }], ...spec },
    } as PodObj);
  }

  const running = (name: string) =>
    waitFor(`${name} Running`, async () => {
      const p = await pods().get('default', name);
      return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.state?.running ? p : undefined;
    }, 30_000);

  const eventMessages = async (pod: string, reason: string) =>
    (await cluster.client.resource(resourceTypes.events).list('default', { fieldSelector: `involvedObject.name=${pod},reason=${reason}` })).items.map((e) => String(e.message));

  before(async () => {
    cluster = await startTestCluster({ only: [] });
    network = await createNodeNetwork({ clusterId, nodeName, nodeIndex: 0, peers: [] });
    stateDir = mkdtempSync(join(tmpdir(), 'kubesvc-agent-secrets-'));
    mounts = mkdtempSync(join(tmpdir(), 'kubesvc-secret-mounts-'));
    agent = await startAgent({
      client: cluster.client,
      nodeName,
      nodeIndex: 0,
      clusterId,
      stateDir,
      dataDir: cluster.dataDir,
      network,
      volumeResyncMs: 300,
      requestServiceAccountToken: tokens.request,
    });
    // "2fa" is a valid Secret key but not a valid variable name.
    await putSecret('db', { user: 'admin', password: 's3cr3t', '2fa': 'x' });
  });

  after(async () => {
    await cluster?.client
      .resource(resourceTypes.pods)
      .list('default', { labelSelector: 't=secrets' })
      .then((l) => Promise.all(l.items.map((p) => pods().delete('default', p.metadata.name!, { gracePeriodSeconds: 0 }))))
      .catch(() => undefined);
    await agent?.stop();
    await network?.destroy();
    await destroyClusterNetwork(clusterId).catch(() => undefined);
    await cluster?.stop();
    for (const dir of [stateDir, mounts]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('environment variables from secretKeyRef and envFrom secretRef (optional ones skipped, invalid names reported)', async () => {
    await createPod('env', {
      containers: [
        {
          name: 'c',
          image: 'busybox',
          command: ['sleep', '3600'],
          envFrom: [{ secretRef: { name: 'db' }, prefix: 'DB_' }, { secretRef: { name: 'db' } }, { secretRef: { name: 'absent', optional: true } }],
          env: [
            { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
            { name: 'URL', value: 'postgres://$(DB_user):$(PASSWORD)@db' },
            { name: 'OPT', valueFrom: { secretKeyRef: { name: 'absent', key: 'k', optional: true } } },
            { name: 'OPT_KEY', valueFrom: { secretKeyRef: { name: 'db', key: 'nokey', optional: true } } },
          ],
        },
      ],
    });
    await running('env');
    const env = await exec('env', ['env']);
    assert.match(env, /^DB_user=admin$/m);
    assert.match(env, /^DB_password=s3cr3t$/m);
    assert.match(env, /^DB_2fa=x$/m);
    assert.match(env, /^user=admin$/m);
    assert.match(env, /^PASSWORD=s3cr3t$/m);
    assert.match(env, /^URL=postgres:\/\/admin:s3cr3t@db$/m);
    assert.doesNotMatch(env, /^OPT(_KEY)?=/m);
    await waitFor('the InvalidEnvironmentVariableNames event', async () =>
      (await eventMessages('env', 'InvalidEnvironmentVariableNames')).includes(
        'Keys [2fa] from the EnvFrom secret default/db were skipped since they are considered invalid environment variable names.',
      ),
    );
  });

  test('a secret volume: items, modes and the atomic layout; kept current after the Secret changes, a subPath mount is not', async () => {
    await putSecret('tls', { 'tls.crt': 'CERT-1', 'tls.key': 'KEY-1', extra: 'E' });
    await createPod('vol', {
      volumes: [
        { name: 'certs', secret: { secretName: 'tls', defaultMode: 0o440, items: [{ key: 'tls.crt', path: 'certs/server.crt' }, { key: 'tls.key', path: 'server.key', mode: 0o400 }] } },
        { name: 'all', secret: { secretName: 'tls' } },
      ],
      containers: [
        {
          name: 'c',
          image: 'busybox',
          command: ['sleep', '3600'],
          volumeMounts: [
            { name: 'certs', mountPath: `${mounts}/certs`, readOnly: true },
            { name: 'all', mountPath: `${mounts}/all`, readOnly: true },
            { name: 'all', mountPath: `${mounts}/pinned.crt`, subPath: 'tls.crt' },
          ],
        },
      ],
    });
    await running('vol');
    const certs = `${mounts}/certs`;
    const all = `${mounts}/all`;
    assert.equal(await sh('vol', `cat ${certs}/certs/server.crt ${certs}/server.key`), 'CERT-1KEY-1');
    assert.equal((await sh('vol', `stat -L -c %a ${certs}/certs/server.crt ${certs}/server.key ${all}/tls.crt`)).split('\n').join(' ').trim(), '440 400 644');
    assert.equal((await sh('vol', `readlink ${certs}/certs ${certs}/server.key ${all}/extra`)).trim(), '..data/certs\n..data/server.key\n..data/extra');
    const listing = (dir: string) => sh('vol', `ls -A ${dir}`).then((s) => s.trim().split('\n'));
    const layout = await listing(all);
    assert.deepEqual(
      layout.filter((n) => !/^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\./.test(n)),
      ['..data', 'extra', 'tls.crt', 'tls.key'],
    );
    assert.equal(layout.length, 5, `one timestamped directory: ${layout.join(' ')}`);
    assert.equal(await sh('vol', `cat ${mounts}/pinned.crt`), 'CERT-1');

    await putSecret('tls', { 'tls.crt': 'CERT-2', 'tls.key': 'KEY-2', added: 'A' });
    await waitFor('the new certificate in the volume', async () => (await sh('vol', `cat ${all}/tls.crt`)) === 'CERT-2', 20_000);
    const after = await listing(all);
    assert.deepEqual(
      after.filter((n) => !n.startsWith('..')),
      ['added', 'tls.crt', 'tls.key'],
      'a removed key is gone, an added one is there',
    );
    assert.equal(after.length, 5, `the old timestamped directory is gone: ${after.join(' ')}`);
    // Each volume is refreshed on its own, as the kubelet's are: the other one may follow a moment later.
    await waitFor('the new certificate in the other volume', async () => (await sh('vol', `cat ${certs}/certs/server.crt ${certs}/server.key`)) === 'CERT-2KEY-2', 20_000);
    assert.equal(await sh('vol', `cat ${mounts}/pinned.crt`), 'CERT-1', 'a subPath mount keeps what it was made from');
  });

  test("what is missing gives the kubelet's messages: CreateContainerConfigError for env, FailedMount for volumes, until it exists", async () => {
    await createPod('no-secret', { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'later', key: 'p' } } }] }] });
    await createPod('no-key', { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'db', key: 'missing' } } }] }] });
    await createPod('no-volume', { volumes: [{ name: 'v', secret: { secretName: 'later-vol' } }] });
    await createPod('no-item', { volumes: [{ name: 'v', projected: { sources: [{ secret: { name: 'db', items: [{ key: 'zz', path: 'zz' }] } }] } }] });

    const waiting = (name: string) =>
      waitFor(`${name} waiting with CreateContainerConfigError`, async () => {
        const w = (await pods().get('default', name)).status?.containerStatuses?.[0]?.state?.waiting;
        return w?.reason === 'CreateContainerConfigError' ? w.message : undefined;
      }, 20_000);
    assert.equal(await waiting('no-secret'), 'secret "later" not found');
    assert.equal(await waiting('no-key'), "couldn't find key missing in Secret default/db");
    await waitFor('the Failed event', async () => (await eventMessages('no-secret', 'Failed')).includes('Error: secret "later" not found'));
    await waitFor('FailedMount for the missing Secret', async () =>
      (await eventMessages('no-volume', 'FailedMount')).includes('MountVolume.SetUp failed for volume "v" : secret "later-vol" not found'),
    );
    await waitFor('FailedMount for the missing key', async () =>
      (await eventMessages('no-item', 'FailedMount')).includes('MountVolume.SetUp failed for volume "v" : references non-existent secret key: zz'),
    );
    assert.equal((await pods().get('default', 'no-volume')).status?.phase, 'Pending');

    // Once they exist, the retries (with back-off) get the pods going.
    await putSecret('later', { p: 'now' });
    await putSecret('later-vol', { f: 'here' });
    await running('no-secret');
    await running('no-volume');
    assert.match(await exec('no-secret', ['env']), /^P=now$/m);
  });

  test('projected service account tokens come from the token request, are refreshed near expiry and kept when a refresh fails', async () => {
    // The audience-less token is handed out already past 80% of its 600 s: every resync refreshes it.
    tokens.state.lifetimeSeconds = (req) => (req.audiences.length ? req.expirationSeconds : 100);
    const pod = await createPod(
      'sa',
      {
        serviceAccountName: 'robot',
        volumes: [
          {
            name: 'tok',
            projected: {
              sources: [
                { serviceAccountToken: { path: 'token', expirationSeconds: 600 } },
                { serviceAccountToken: { path: 'vault-token', audience: 'vault', expirationSeconds: 7200 } },
                { secret: { name: 'db', items: [{ key: 'user', path: 'user', mode: 0o400 }] } },
                { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
              ],
            },
          },
        ],
        containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], volumeMounts: [{ name: 'tok', mountPath: `${mounts}/sa`, readOnly: true }] }],
      },
      { tier: 'one' },
    );
    await running('sa');
    const dir = `${mounts}/sa`;
    const forPod = () => tokens.calls.filter((c) => c.req.boundPod.uid === pod.metadata.uid);
    const first = forPod();
    assert.deepEqual(first[0], { namespace: 'default', serviceAccountName: 'robot', req: { audiences: [], expirationSeconds: 600, boundPod: { name: 'sa', uid: pod.metadata.uid } } });
    assert.deepEqual(first[1], { namespace: 'default', serviceAccountName: 'robot', req: { audiences: ['vault'], expirationSeconds: 7200, boundPod: { name: 'sa', uid: pod.metadata.uid } } });
    assert.equal(await sh('sa', `cat ${dir}/user; echo; stat -L -c %a ${dir}/user ${dir}/token`), 'admin\n400\n644\n');

    const tokenNumber = async () => Number(/^api-(\d+)$/.exec(await sh('sa', `cat ${dir}/token`))?.[1]);
    const before = await tokenNumber();
    await waitFor('a refreshed token in the volume', async () => (await tokenNumber()) > before, 20_000);
    assert.equal(forPod().filter((c) => c.req.audiences[0] === 'vault').length, 1, 'the fresh token is not asked for again');
    assert.match(await sh('sa', `cat ${dir}/vault-token`), /^vault-\d+$/);

    // A failing refresh keeps the token the volume holds.
    tokens.state.failure = 'the API server is away';
    const failedFrom = tokens.calls.length;
    await waitFor('refreshes that fail', () => tokens.calls.length >= failedFrom + 3, 20_000);
    const kept = await sh('sa', `cat ${dir}/token`);
    assert.match(kept, /^api-\d+$/);
    assert.equal(Number(kept.slice(4)) <= failedFrom, true, 'the last token obtained before the failures');
    tokens.state.failure = undefined;

    // Labels are refreshed like the rest of the volume.
    await pods().patch('default', 'sa', { metadata: { labels: { tier: 'two' } } });
    await waitFor('the new labels in the volume', async () => (await sh('sa', `cat ${dir}/labels`)).includes('tier="two"'), 20_000);
  });

  test("the agent's own token source is the API's TokenRequest, bound to the pod", async () => {
    await cluster.client.resource(resourceTypes.serviceaccounts).create('default', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'default' } });
    const request = apiServiceAccountTokens(cluster.client);
    const sa = await pods().get('default', 'sa');
    const got = await request('default', 'robot', { audiences: [], expirationSeconds: 600, boundPod: { name: 'sa', uid: sa.metadata.uid! } });
    const claims = JSON.parse(Buffer.from(got.token.split('.')[1] ?? '', 'base64url').toString());
    assert.equal(claims.sub, 'system:serviceaccount:default:robot');
    assert.deepEqual(claims['kubernetes.io']?.pod, { name: 'sa', uid: sa.metadata.uid });
    assert.ok(Math.abs(Date.parse(got.expirationTimestamp) - Date.now() - 600_000) < 60_000, got.expirationTimestamp);
    const env = await pods().get('default', 'env');
    await assert.rejects(request('default', 'robot', { audiences: [], expirationSeconds: 600, boundPod: { name: 'env', uid: env.metadata.uid! } }), /cannot bind token for serviceaccount "robot" to pod running with different serviceaccount name/);
  });

  test('no token is a FailedMount until the token request succeeds', async () => {
    tokens.state.failure = 'the API server is away';
    await createPod('sa-later', { volumes: [{ name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }] });
    await waitFor('FailedMount for the token', async () =>
      (await eventMessages('sa-later', 'FailedMount')).includes('MountVolume.SetUp failed for volume "tok" : failed to fetch token: the API server is away'),
    );
    assert.equal((await pods().get('default', 'sa-later')).status?.phase, 'Pending');
    tokens.state.failure = undefined;
    await running('sa-later');
    const last = tokens.calls.filter((c) => c.req.boundPod.name === 'sa-later').at(-1);
    assert.equal(last?.req.expirationSeconds, 3600, 'an hour when the source sets no expirationSeconds');
    assert.equal(last?.serviceAccountName, 'default', 'the default account when the pod names none');
  });
});
