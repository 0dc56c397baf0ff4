// A real server answering protobuf: every kind the issue names, fetched as
// JSON and as protobuf, must be the same object field for field (single
// objects, lists and a watch stream); errors are protobuf Status; custom
// resources get upstream's 406 for protobuf-only Accept; curl with the
// admin's client certificate gets the same bytes a Go client would parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startTestApiServer, waitFor, type TestApiServer } from './helpers/apiserver.js';
import { toolSkipReason } from './helpers/root.js';
import { decodeObject, decodeWatchFrames } from '../src/apiserver/protobuf/wire.js';

const execFileAsync = promisify(execFile);
const PB = 'application/vnd.kubernetes.protobuf';
const CLIENT_GO_ACCEPT = `${PB}, application/json`;

function raw(t: TestApiServer, method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; type: string; body: Buffer }>((resolve, reject) => {
    const req = httpsRequest(t.server.url + path, { method, headers: { 'Content-Type': 'application/json', ...headers }, ca: t.admin.ca, cert: t.admin.cert, key: t.admin.key }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks) }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The JSON object as a protobuf client sees it: null is Go's nil/zero, and embedded kinds carry no apiVersion/kind. */
function asProtobufSees(v: unknown, embedded = false): unknown {
  if (Array.isArray(v)) return v.map((x) => asProtobufSees(x, embedded));
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === null) continue;
    if (embedded && (k === 'apiVersion' || k === 'kind')) continue;
    out[k] = asProtobufSees(x, k === 'items' || k === 'volumeClaimTemplates');
  }
  return out;
}

const ns = 'pb';
const labels = { app: 'web' };
const template = { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }], resources: { requests: { cpu: '100m' } } }] } };
const OBJECTS: [string, Record<string, unknown>][] = [
  [`/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', labels }, data: { a: 'b' }, binaryData: { bin: Buffer.from([0, 1, 255]).toString('base64') } }],
  [`/api/v1/namespaces/${ns}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { user: 'admin' }, data: { pw: Buffer.from('x').toString('base64') } }],
  [`/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa' }, automountServiceAccountToken: false }],
  [`/api/v1/namespaces/${ns}/services`, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc' }, spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'b', port: 81, targetPort: 8081 }], sessionAffinity: 'ClientIP' } }],
  [`/api/v1/namespaces/${ns}/endpoints`, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'ep' }, subsets: [{ addresses: [{ ip: '10.244.0.5' }], ports: [{ port: 80, protocol: 'TCP' }] }] }],
  [`/api/v1/namespaces/${ns}/pods`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels }, spec: { ...template.spec, volumes: [{ name: 'v', emptyDir: {} }], terminationGracePeriodSeconds: 0 } }],
  [`/api/v1/namespaces/${ns}/events`, { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' }, involvedObject: { kind: 'Pod', name: 'p', namespace: ns }, reason: 'Pulled', message: 'ok', type: 'Normal', count: 1, firstTimestamp: '2024-05-06T07:08:09Z', eventTime: '2024-05-06T07:08:09.123456Z', reportingComponent: 'kubelet', reportingInstance: 'n', action: 'Pull', source: { component: 'kubelet' } }],
  [`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'sl' }, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready: true } }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }],
  [`/apis/apps/v1/namespaces/${ns}/deployments`, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 0, selector: { matchLabels: labels }, template, strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } } } }],
  [`/apis/apps/v1/namespaces/${ns}/replicasets`, { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs' }, spec: { replicas: 0, selector: { matchLabels: labels }, template } }],
  [`/apis/apps/v1/namespaces/${ns}/daemonsets`, { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'ds' }, spec: { selector: { matchLabels: labels }, template } }],
  [`/apis/apps/v1/namespaces/${ns}/statefulsets`, { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'st' }, spec: { replicas: 0, serviceName: 'svc', selector: { matchLabels: labels }, template, volumeClaimTemplates: [{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] } }],
  [`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec: { holderIdentity: 'n', leaseDurationSeconds: 40, renewTime: '2024-05-06T07:08:09.123456Z' } }],
  [`/apis/batch/v1/namespaces/${ns}/jobs`, { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { suspend: true, template: { spec: { ...template.spec, restartPolicy: 'Never' } } } }],
  [`/apis/batch/v1/namespaces/${ns}/cronjobs`, { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'cj' }, spec: { schedule: '*/5 * * * *', suspend: true, jobTemplate: { spec: { template: { spec: { ...template.spec, restartPolicy: 'Never' } } } } } }],
  ['/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'pb-node', labels: { 'kubernetes.io/hostname': 'pb-node' } }, spec: { podCIDR: '10.244.9.0/24', taints: [{ key: 'k', effect: 'NoSchedule' }] } }],
];

test('protobuf responses equal the JSON ones, field for field, for every kind, list and a watch', async (t) => {
  const s = await startTestApiServer();
  try {
    assert.equal((await s.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).status, 201);
    const kinds = [['/api/v1/namespaces', 'pb'] as const];
    for (const [path, obj] of OBJECTS) {
      // create answered in protobuf: the same object a JSON GET returns next
      const created = await raw(s, 'POST', path, { Accept: CLIENT_GO_ACCEPT }, JSON.stringify(obj));
      assert.equal(created.status, 201, `${path}: ${created.body.toString()}`);
      assert.equal(created.type, PB);
      const name = (obj.metadata as { name: string }).name;
      const json = (await s.request('GET', `${path}/${name}`)).json;
      assert.deepEqual(decodeObject(created.body), asProtobufSees(json), `create of ${obj.kind}`);
    }
    for (const [path, name] of [...kinds, ...OBJECTS.map(([p, o]) => [p, (o.metadata as { name: string }).name] as const)]) {
      const json = (await s.request('GET', `${path}/${name}`)).json;
      const pb = await raw(s, 'GET', `${path}/${name}`, { Accept: CLIENT_GO_ACCEPT });
      assert.equal(pb.status, 200);
      assert.equal(pb.type, PB);
      assert.deepEqual(decodeObject(pb.body), asProtobufSees(json), `get ${path}/${name}`);
      const list = (await s.request('GET', path)).json;
      const pbList = await raw(s, 'GET', path, { Accept: PB });
      assert.equal(pbList.type, PB);
      const decoded = decodeObject(pbList.body);
      assert.equal(decoded.kind, list.kind);
      assert.deepEqual(decoded, asProtobufSees(list), `list ${path}`);
    }
    // update and patch answer protobuf too
    const cmPath = `/api/v1/namespaces/${ns}/configmaps/cm`;
    const patched = await raw(s, 'PATCH', cmPath, { Accept: CLIENT_GO_ACCEPT, 'Content-Type': 'application/merge-patch+json' }, '{"data":{"c":"d"}}');
    assert.equal(patched.type, PB);
    assert.deepEqual(decodeObject(patched.body), asProtobufSees((await s.request('GET', cmPath)).json));

    await t.test('a watch streams protobuf WatchEvent frames', async () => {
      const rv = (await s.request('GET', `/api/v1/namespaces/${ns}/configmaps`)).json.metadata.resourceVersion;
      const chunks: Buffer[] = [];
      let type = '';
      const req = httpsRequest(`${s.server.url}/api/v1/namespaces/${ns}/configmaps?watch=1&resourceVersion=${rv}`, { headers: { Accept: CLIENT_GO_ACCEPT }, ca: s.admin.ca, cert: s.admin.cert, key: s.admin.key }, (res) => {
        type = String(res.headers['content-type']);
        res.on('data', (c: Buffer) => chunks.push(c));
      });
      req.end();
      try {
        await s.request('POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'w' }, data: { x: '1' } });
        await s.request('PATCH', `/api/v1/namespaces/${ns}/configmaps/w`, { data: { x: '2' } }, { 'Content-Type': 'application/merge-patch+json' });
        const live = (await s.request('GET', `/api/v1/namespaces/${ns}/configmaps/w`)).json;
        await s.request('DELETE', `/api/v1/namespaces/${ns}/configmaps/w`);
        const events = await waitFor('three watch events', () => {
          const { events } = decodeWatchFrames(Buffer.concat(chunks));
          return events.length >= 3 ? events : undefined;
        });
        assert.equal(type, `${PB};stream=watch`);
        assert.deepEqual(events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
        assert.deepEqual(events[1]!.object, asProtobufSees(live));
      } finally {
        req.destroy();
      }
    });

    await t.test('errors are protobuf Status; Tables stay JSON; protobuf-only Accept on a custom resource is 406', async () => {
      const missing = await raw(s, 'GET', `/api/v1/namespaces/${ns}/pods/nope`, { Accept: PB });
      assert.equal(missing.status, 404);
      assert.equal(missing.type, PB);
      const status = decodeObject(missing.body);
      assert.equal(status.kind, 'Status');
      assert.equal(status.reason, 'NotFound');
      assert.equal(status.code, 404);
      assert.equal(status.message, 'pods "nope" not found');

      const table = await raw(s, 'GET', `/api/v1/namespaces/${ns}/pods`, { Accept: `${PB};as=Table;v=v1;g=meta.k8s.io, application/json;as=Table;v=v1;g=meta.k8s.io, application/json` });
      assert.equal(table.type, 'application/json');
      assert.equal(JSON.parse(table.body.toString()).kind, 'Table');

      const crd = {
        apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'crontabs.stable.example.com' },
        spec: { group: 'stable.example.com', scope: 'Namespaced', names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab' },
          versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { cron: { type: 'string' } } } } } } }] },
      };
      assert.equal((await s.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status, 201);
      const crPath = `/apis/stable.example.com/v1/namespaces/${ns}/crontabs`;
      await waitFor('the CRD served', async () => (await s.request('POST', crPath, { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'c' }, spec: { cron: '* * * * *' } })).status === 201);
      const refused = await raw(s, 'GET', `${crPath}/c`, { Accept: PB });
      assert.equal(refused.status, 406);
      const refusal = decodeObject(refused.body);
      assert.equal(refusal.reason, 'NotAcceptable');
      assert.equal(refusal.message, 'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf');
      const fallback = await raw(s, 'GET', `${crPath}/c`, { Accept: CLIENT_GO_ACCEPT });
      assert.equal(fallback.status, 200);
      assert.equal(fallback.type, 'application/json');
      assert.equal(JSON.parse(fallback.body.toString()).spec.cron, '* * * * *');
      const refusedWatch = await raw(s, 'GET', `${crPath}?watch=1`, { Accept: PB });
      assert.equal(refusedWatch.status, 406);
      assert.equal(decodeObject(refusedWatch.body).message, 'only the following media types are accepted: application/json;stream=watch, application/vnd.kubernetes.protobuf;stream=watch');
    });

    await t.test('curl with the admin client certificate of the data dir kubeconfig', { skip: toolSkipReason(['curl']) }, async () => {
      const kubeconfig = parseYaml(readFileSync(join(s.dataDir, 'kubeconfig'), 'utf8'));
      const dir = mkdtempSync(join(tmpdir(), 'kubesvc-pb-curl-'));
      try {
        const user = kubeconfig.users[0].user;
        const cluster = kubeconfig.clusters[0].cluster;
        const file = (name: string, b64: string) => {
          writeFileSync(join(dir, name), Buffer.from(b64, 'base64'), { mode: 0o600 });
          return join(dir, name);
        };
        const curl = async (accept: string) =>
          (await execFileAsync('curl', ['-sS', '--fail', '--cacert', join(dir, 'ca.crt'), '--cert', join(dir, 'admin.crt'), '--key', join(dir, 'admin.key'),
            '-H', `Accept: ${accept}`, `${s.server.url}/api/v1/namespaces/${ns}/services/svc`], { encoding: 'buffer' })).stdout;
        file('ca.crt', cluster['certificate-authority-data']);
        file('admin.crt', user['client-certificate-data']);
        file('admin.key', user['client-key-data']);
        const svc = decodeObject(await curl(PB));
        assert.equal(svc.kind, 'Service');
        assert.deepEqual(svc, asProtobufSees(JSON.parse((await curl('application/json')).toString())));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  } finally {
    await s.stop();
  }
});
