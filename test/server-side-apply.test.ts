// Server-side apply and field ownership with the real kubectl: managedFields
// for every write, conflicts between managers and --force-conflicts, the
// client-side → server-side apply upgrade, and pruning of dropped fields.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

const deployment = (name: string, replicas: number, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.23.1
${extra}`;

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  time?: string;
  fieldsType: string;
  fieldsV1: Record<string, any>;
  subresource?: string;
}

describe('server-side apply with kubectl', () => {
  let t: TestApiServer;
  before(async () => {
    t = await startTestApiServer();
  });
  after(async () => {
    t.kubectl.cleanup();
    await t.stop();
  });

  const managedFields = async (name: string): Promise<Entry[]> =>
    JSON.parse(await t.kubectl.ok(['get', 'deploy', name, '--show-managed-fields', '-o', 'json'])).metadata.managedFields;

  test('kubectl apply then apply --server-side of the same Deployment: no conflicts, kubectl owns its fields', async () => {
    const manifest = deployment('csa', 2);
    assert.match(await t.kubectl.ok(['apply', '-f', '-'], { input: manifest }), /deployment.apps\/csa created/);
    let entries = await managedFields('csa');
    assert.deepEqual(
      entries.map((e) => [e.manager, e.operation, e.apiVersion, e.fieldsType]),
      [['kubectl-client-side-apply', 'Update', 'apps/v1', 'FieldsV1']],
    );
    const csa = entries[0].fieldsV1;
    assert.deepEqual(csa['f:spec']['f:replicas'], {});
    assert.deepEqual(csa['f:metadata']['f:annotations'], { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} });
    assert.deepEqual(csa['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"nginx"}'], { '.': {}, 'f:image': {}, 'f:name': {} });
    assert.match(entries[0].time ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    assert.match(await t.kubectl.ok(['apply', '--server-side', '-f', '-'], { input: manifest.replace('replicas: 2', 'replicas: 3') }), /deployment.apps\/csa serverside-applied/);
    assert.equal(await t.kubectl.ok(['get', 'deploy', 'csa', '-o', 'jsonpath={.spec.replicas}']), '3');
    // kubectl 1.32 migrates its client-side apply entry (csaupgrade): the annotation to kubectl-last-applied, the rest to kubectl.
    entries = await managedFields('csa');
    assert.deepEqual(
      entries.map((e) => [e.manager, e.operation]),
      [
        ['kubectl-last-applied', 'Apply'],
        ['kubectl', 'Apply'],
      ],
    );
    const apply = entries[1];
    assert.deepEqual(apply.fieldsV1['f:spec']['f:replicas'], {});
    assert.equal(apply.apiVersion, 'apps/v1');
    assert.deepEqual(entries[0].fieldsV1, { 'f:metadata': { 'f:annotations': { 'f:kubectl.kubernetes.io/last-applied-configuration': {} } } });
    // The annotation follows what kubectl applied (lastappliedupdater).
    const annotation = await t.kubectl.ok(['get', 'deploy', 'csa', '-o', 'jsonpath={.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}']);
    assert.equal(JSON.parse(annotation).spec.replicas, 3);
    // And client-side apply again still works.
    assert.match(await t.kubectl.ok(['apply', '-f', '-'], { input: manifest }), /deployment.apps\/csa configured/);
  });

  test('a second manager conflicts on replicas with upstream text, then --force-conflicts takes it', async () => {
    await t.kubectl.ok(['apply', '--server-side', '-f', '-'], { input: deployment('owned', 2) });
    const conflict = await t.kubectl(['apply', '--server-side', '--field-manager=other', '-f', '-'], { input: deployment('owned', 5) });
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.spec\.replicas/);
    assert.match(conflict.stderr, /Please review the fields above--they currently have other managers/);

    const raw = await t.request(
      'PATCH',
      '/apis/apps/v1/namespaces/default/deployments/owned?fieldManager=other',
      JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'owned' }, spec: { replicas: 5 } }),
      { 'Content-Type': 'application/apply-patch+yaml' },
    );
    assert.equal(raw.status, 409);
    assert.equal(raw.json.reason, 'Conflict');
    assert.deepEqual(raw.json.details, { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl"', field: '.spec.replicas' }] });

    // The same value is shared ownership, no conflict.
    await t.kubectl.ok(['apply', '--server-side', '--field-manager=same', '-f', '-'], { input: deployment('owned', 2) });
    let entries = await managedFields('owned');
    assert.deepEqual(entries.find((e) => e.manager === 'same')?.fieldsV1['f:spec']['f:replicas'], {});
    assert.deepEqual(entries.find((e) => e.manager === 'kubectl')?.fieldsV1['f:spec']['f:replicas'], {});

    assert.match(await t.kubectl.ok(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'], { input: deployment('owned', 5) }), /serverside-applied/);
    assert.equal(await t.kubectl.ok(['get', 'deploy', 'owned', '-o', 'jsonpath={.spec.replicas}']), '5');
    entries = await managedFields('owned');
    assert.deepEqual(entries.find((e) => e.manager === 'other')?.fieldsV1['f:spec']['f:replicas'], {});
    for (const m of ['kubectl', 'same']) assert.equal(entries.find((e) => e.manager === m)?.fieldsV1['f:spec']['f:replicas'], undefined, m);

    // Two conflicts: the plural form, one line per path under its manager.
    const two = await t.request(
      'PATCH',
      '/apis/apps/v1/namespaces/default/deployments/owned?fieldManager=kubectl',
      JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'owned' }, spec: { replicas: 1, template: { spec: { containers: [{ name: 'nginx', image: 'nginx:2' }] } } } }),
      { 'Content-Type': 'application/apply-patch+yaml' },
    );
    assert.equal(two.status, 409);
    assert.equal(
      two.json.message,
      'Apply failed with 3 conflicts: conflicts with "other":\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image\nconflicts with "same":\n- .spec.template.spec.containers[name="nginx"].image',
    );
    assert.equal(two.json.details.causes.length, 3);
  });

  test('kubectl scale is an Update of the scale subresource, and apply then conflicts on replicas', async () => {
    await t.kubectl.ok(['apply', '--server-side', '--field-manager=deployer', '-f', '-'], { input: deployment('scaled', 2) });
    assert.match(await t.kubectl.ok(['scale', 'deploy', 'scaled', '--replicas=4']), /scaled/);
    const entries = await managedFields('scaled');
    const scale = entries.find((e) => e.subresource === 'scale');
    assert.equal(scale?.manager, 'kubectl');
    assert.equal(scale?.operation, 'Update');
    assert.deepEqual(scale?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
    assert.equal(entries.find((e) => e.manager === 'deployer')?.fieldsV1['f:spec']['f:replicas'], undefined);
    const r = await t.kubectl(['apply', '--server-side', '--field-manager=deployer', '-f', '-'], { input: deployment('scaled', 2) });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps\/v1: \.spec\.replicas/);
  });

  test('fields dropped from the configuration are removed unless another manager owns them', async () => {
    await t.kubectl.ok(['apply', '--server-side', '-f', '-'], { input: deployment('pruned', 1, '        env:\n        - {name: A, value: "1"}\n        - {name: B, value: "2"}\n') });
    await t.kubectl.ok(['label', 'deploy', 'pruned', 'team=x']);
    await t.kubectl.ok(['apply', '--server-side', '-f', '-'], { input: deployment('pruned', 1, '        env:\n        - {name: A, value: "1"}\n').replace('  labels: {app: pruned}\n', '') });
    const obj = JSON.parse(await t.kubectl.ok(['get', 'deploy', 'pruned', '-o', 'json']));
    assert.deepEqual(obj.spec.template.spec.containers[0].env, [{ name: 'A', value: '1' }]);
    // app was only the applier's; team is kubectl-label's.
    assert.deepEqual(obj.metadata.labels, { team: 'x' });
  });

  test('non-apply writes record their manager: create, edit via patch, the User-Agent default, and [{}] resets', async () => {
    await t.kubectl.ok(['create', 'deployment', 'made', '--image=nginx']);
    await t.kubectl.ok(['patch', 'deploy', 'made', '-p', '{"spec":{"replicas":2}}']);
    let entries = await managedFields('made');
    assert.deepEqual(entries.map((e) => e.manager).sort(), ['kubectl-create', 'kubectl-patch']);
    assert.deepEqual(entries.find((e) => e.manager === 'kubectl-patch')?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
    // Without fieldManager the User-Agent names the manager.
    const raw = await t.request('PATCH', '/apis/apps/v1/namespaces/default/deployments/made', JSON.stringify({ metadata: { labels: { ua: 'yes' } } }), {
      'Content-Type': 'application/merge-patch+json',
      'User-Agent': 'my-tool/1.0 (linux)',
    });
    assert.equal(raw.status, 200);
    assert.deepEqual(raw.json.metadata.managedFields.find((e: Entry) => e.manager === 'my-tool')?.fieldsV1, { 'f:metadata': { 'f:labels': { 'f:ua': {} } } });
    // The default output hides them; a [{}] write strips them.
    assert.doesNotMatch(await t.kubectl.ok(['get', 'deploy', 'made', '-o', 'yaml']), /managedFields/);
    await t.kubectl.ok(['patch', 'deploy', 'made', '--type=merge', '-p', '{"metadata":{"managedFields":[{}]}}']);
    assert.equal((await managedFields('made')) ?? undefined, undefined);
    // Untracked from then on (until the next apply), as upstream.
    await t.kubectl.ok(['patch', 'deploy', 'made', '-p', '{"spec":{"replicas":3}}']);
    entries = await managedFields('made');
    assert.equal(entries ?? undefined, undefined);
    await t.kubectl.ok(['apply', '--server-side', '--field-manager=late', '-f', '-'], { input: deployment('made', 3).replace('  labels: {app: made}\n', '').replace('nginx:1.23.1', 'nginx') });
    entries = await managedFields('made');
    assert.deepEqual(entries.map((e) => [e.manager, e.operation]).sort(), [['before-first-apply', 'Update'], ['late', 'Apply']]);
  });

  test('list keys and atomic maps follow upstream\'s markers: ports by port and protocol, selectors atomic', async () => {
    // Service ports are +listMapKey=port,+listMapKey=protocol; ServiceSpec.selector is +mapType=atomic.
    await t.kubectl.ok(['create', 'service', 'clusterip', 'keyed', '--tcp=80:8080']);
    const svc = JSON.parse(await t.kubectl.ok(['get', 'svc', 'keyed', '--show-managed-fields', '-o', 'json'])).metadata.managedFields as Entry[];
    const created = svc.find((e) => e.manager === 'kubectl-create');
    assert.equal(created?.operation, 'Update');
    const spec = created?.fieldsV1['f:spec'];
    assert.deepEqual(Object.keys(spec['f:ports']).filter((k) => k !== '.'), ['k:{"port":80,"protocol":"TCP"}']);
    assert.deepEqual(spec['f:ports']['k:{"port":80,"protocol":"TCP"}'], { '.': {}, 'f:name': {}, 'f:port': {}, 'f:protocol': {}, 'f:targetPort': {} });
    assert.deepEqual(spec['f:selector'], {});

    // LabelSelector is +structType=atomic; containers are keyed by name, their ports by containerPort and protocol.
    await t.kubectl.ok(['apply', '--server-side', '-f', '-'], {
      input: deployment('keyed', 1).replace('      - name: nginx\n', '      - name: web\n') + '        ports:\n        - {containerPort: 80, protocol: TCP}\n',
    });
    const applied = (await managedFields('keyed')).find((e) => e.manager === 'kubectl');
    assert.deepEqual(applied?.fieldsV1['f:spec']['f:selector'], {});
    assert.deepEqual(applied?.fieldsV1['f:spec']['f:template']['f:spec']['f:containers'], {
      'k:{"name":"web"}': {
        '.': {},
        'f:image': {},
        'f:name': {},
        'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } },
      },
    });

    // A port without its protocol is keyed by the schema's default (ContainerPort.Protocol is +default="TCP"), as upstream keys it.
    await t.kubectl.ok(['apply', '--server-side', '-f', '-'], {
      input: deployment('keyed-default', 1) + '        ports:\n        - containerPort: 80\n',
    });
    const defaulted = (await managedFields('keyed-default')).find((e) => e.manager === 'kubectl');
    assert.deepEqual(defaulted?.fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"nginx"}']['f:ports'], {
      'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} },
    });
  });

  test('apply with managedFields set is a 400', async () => {
    const r = await t.request(
      'PATCH',
      '/apis/apps/v1/namespaces/default/deployments/mf?fieldManager=x',
      JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'mf', managedFields: [{ manager: 'x' }] } }),
      { 'Content-Type': 'application/apply-patch+yaml' },
    );
    assert.equal(r.status, 400);
    assert.equal(r.json.message, 'metadata.managedFields must be nil');
  });

  test('write options as upstream validates them: fieldManager required for apply and at most 128 printable bytes, force only for apply, dryRun only All', async () => {
    const path = '/api/v1/namespaces/default/configmaps';
    const expectInvalid = async (r: { status: number; json: any }, message: string) => {
      assert.equal(r.status, 422);
      assert.equal(r.json.reason, 'Invalid');
      assert.equal(r.json.message, message);
    };
    const applyType = { 'Content-Type': 'application/apply-patch+yaml' };
    await expectInvalid(
      await t.request('PATCH', `${path}/opts`, '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"opts"}}', applyType),
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
    await expectInvalid(
      await t.request('PATCH', `${path}/opts?force=true`, '{"data":{"a":"1"}}', { 'Content-Type': 'application/merge-patch+json' }),
      'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
    );
    await expectInvalid(
      await t.request('POST', `${path}?fieldManager=${'m'.repeat(129)}`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'opts' } }),
      'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes',
    );
    await expectInvalid(
      await t.request('POST', `${path}?fieldManager=bell%07`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'opts' } }),
      'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "bell\\a": invalid character U+0007 (at position 4)',
    );
    await expectInvalid(
      await t.request('POST', `${path}?dryRun=Some`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'opts' } }),
      'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Some"}: supported values: "All"',
    );
    // Nothing was written.
    assert.equal((await t.request('GET', `${path}/opts`)).status, 404);
  });
});
