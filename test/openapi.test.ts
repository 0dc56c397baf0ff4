// OpenAPI v3 documents and unknown field detection: the shapes kubectl relies
// on (explain, server-side validation, client-side apply patches).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupVersionDocument, openApiIndex, type OpenApiResource } from '../src/apiserver/openapi/document.js';
import { decodeTyped } from '../src/apiserver/openapi/typed-decode.js';
import type { GroupVersionKind } from '../src/apiserver/openapi/schemas.js';
import schemas from '../src/apiserver/openapi/schemas.json' with { type: 'json' };

type Json = Record<string, any>;

const core = (resource: string, kind: string, namespaced: boolean, subresources: OpenApiResource['subresources'] = []): OpenApiResource => ({
  group: '',
  version: 'v1',
  resource,
  kind,
  namespaced,
  subresources,
});
const apps = (resource: string, kind: string, scale: boolean): OpenApiResource => ({
  group: 'apps',
  version: 'v1',
  resource,
  kind,
  namespaced: true,
  subresources: [
    { name: 'status', group: 'apps', version: 'v1', kind },
    ...(scale ? [{ name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale' }] : []),
  ],
});

const CORE: OpenApiResource[] = [
  core('namespaces', 'Namespace', false, [{ name: 'status', group: '', version: 'v1', kind: 'Namespace' }]),
  core('services', 'Service', true, [{ name: 'status', group: '', version: 'v1', kind: 'Service' }]),
  core('endpoints', 'Endpoints', true),
  core('pods', 'Pod', true, [
    { name: 'status', group: '', version: 'v1', kind: 'Pod' },
    { name: 'binding', group: '', version: 'v1', kind: 'Binding' },
    { name: 'log', group: '', version: 'v1', kind: 'Pod' },
    { name: 'exec', group: '', version: 'v1', kind: 'PodExecOptions' },
  ]),
  core('nodes', 'Node', false, [{ name: 'status', group: '', version: 'v1', kind: 'Node' }]),
  core('events', 'Event', true),
  core('configmaps', 'ConfigMap', true),
];
const APPS = [apps('deployments', 'Deployment', true), apps('replicasets', 'ReplicaSet', true), apps('daemonsets', 'DaemonSet', false)];
const DISCOVERY: OpenApiResource[] = [
  { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', kind: 'EndpointSlice', namespaced: true, subresources: [] },
];

const all = schemas as Record<string, Json>;

test('Service schema has its GVK and upstream description', () => {
  const service = all['io.k8s.api.core.v1.Service'];
  assert.deepEqual(service['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Service', version: 'v1' }]);
  assert.match(service.description, /^Service is a named abstraction of software service/);
  assert.deepEqual(service.properties.spec.allOf, [{ $ref: '#/components/schemas/io.k8s.api.core.v1.ServiceSpec' }]);
  assert.equal(service.type, 'object');
});

test('spec.sessionAffinity carries its description and enum', () => {
  const field = all['io.k8s.api.core.v1.ServiceSpec'].properties.sessionAffinity;
  assert.equal(field.type, 'string');
  assert.match(field.description, /^Supports "ClientIP" and "None"\. Used to maintain session affinity\./);
  assert.match(field.description, /Possible enum values:\n - `"ClientIP"` is the Client IP based\.\n - `"None"` - no session affinity\.$/);
  assert.deepEqual(field.enum, ['ClientIP', 'None']);
  assert.deepEqual(all['io.k8s.api.core.v1.ServiceSpec'].properties.type.enum, ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort']);
});

test('special types are shaped as upstream v3 publishes them', () => {
  assert.equal(all['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].format, 'int-or-string');
  assert.deepEqual(all['io.k8s.apimachinery.pkg.api.resource.Quantity'].oneOf, [{ type: 'string' }, { type: 'number' }]);
  assert.equal(all['io.k8s.apimachinery.pkg.apis.meta.v1.Time'].format, 'date-time');
  const port = all['io.k8s.api.core.v1.ServicePort'];
  assert.deepEqual(port.properties.targetPort.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString' }]);
  assert.deepEqual(port.required, ['port']);
  assert.equal(all['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'].properties.generation.format, 'int64');
  assert.deepEqual(all['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'].properties.labels.additionalProperties, { type: 'string' });
});

test('lists that strategic merge patch merges carry their merge keys', () => {
  const containers = all['io.k8s.api.core.v1.PodSpec'].properties.containers;
  assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(all['io.k8s.api.core.v1.ServiceSpec'].properties.ports['x-kubernetes-patch-merge-key'], 'port');
});

/** The unknown fields typed decoding finds (and drops) in a copy of a well-typed object. */
function unknownFields(gvk: GroupVersionKind, obj: object): string[] {
  const copy = structuredClone(obj) as Record<string, unknown>;
  const result = decodeTyped(gvk, copy);
  assert.equal(result.error, undefined);
  return result.unknown;
}

test('unknownFields names unknown fields as strict decoding does', () => {
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', labels: { 'app.kubernetes.io/name': 'web' }, foo: 1 },
    spec: { foo: true, selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }, { port: 81, bar: 'x' }] },
  };
  assert.deepEqual(unknownFields({ group: '', version: 'v1', kind: 'Service' }, service), ['metadata.foo', 'spec.foo', 'spec.ports[1].bar']);
  const nested = { spec: { ports: [{ port: 80, bar: 1 }] } };
  assert.deepEqual(unknownFields({ group: '', version: 'v1', kind: 'Service' }, nested), ['spec.ports[0].bar']);
});

test('unknownFields accepts valid objects, maps and free-form types', () => {
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default', annotations: { a: 'b' }, creationTimestamp: null },
    spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }], sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 10 } } },
    status: { loadBalancer: {} },
  };
  assert.deepEqual(unknownFields({ group: '', version: 'v1', kind: 'Service' }, service), []);
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' }, managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }] },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'nginx:1.27',
              args: ['--port', '8080'],
              ports: [{ containerPort: 8080, name: 'http' }],
              env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
              resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: 0.1 } },
              readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 5 },
            },
          ],
          volumes: [{ name: 'cfg', configMap: { name: 'web' } }],
          terminationGracePeriodSeconds: 30,
        },
      },
    },
  };
  assert.deepEqual(unknownFields({ group: 'apps', version: 'v1', kind: 'Deployment' }, deployment), []);
  deployment.spec.template.spec.containers[0] = { ...deployment.spec.template.spec.containers[0], imagePullPolicyy: 'Always' } as never;
  assert.deepEqual(unknownFields({ group: 'apps', version: 'v1', kind: 'Deployment' }, deployment), [
    'spec.template.spec.containers[0].imagePullPolicyy',
  ]);
  assert.deepEqual(unknownFields({ group: 'example.com', version: 'v1', kind: 'Widget' }, { spec: { x: 1 } }), []);
});

test('each group-version document has PATCH with GVK and fieldValidation for every kind', () => {
  for (const [gv, resources] of [
    [{ group: '', version: 'v1' }, CORE],
    [{ group: 'apps', version: 'v1' }, APPS],
    [{ group: 'discovery.k8s.io', version: 'v1' }, DISCOVERY],
  ] as const) {
    const doc = groupVersionDocument(gv, resources) as Json;
    assert.equal(doc.openapi, '3.0.0');
    const patches = Object.values(doc.paths as Record<string, Json>).flatMap((p) => (p.patch ? [p.patch] : []));
    for (const r of resources) {
      const patch = patches.find((op) => op['x-kubernetes-group-version-kind'].kind === r.kind);
      assert.ok(patch, `PATCH for ${r.kind}`);
      assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: r.group, version: r.version, kind: r.kind });
      assert.equal(patch['x-kubernetes-action'], 'patch');
      assert.ok(patch.parameters.some((p: Json) => p.name === 'fieldValidation' && p.in === 'query'), `fieldValidation for ${r.kind}`);
      assert.deepEqual(Object.keys(patch.requestBody.content).sort(), [
        'application/apply-patch+yaml',
        'application/json-patch+json',
        'application/merge-patch+json',
        'application/strategic-merge-patch+json',
      ]);
      assert.deepEqual(patch.requestBody.content['application/merge-patch+json'].schema, {
        $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch',
      });
      const schemaName = Object.keys(doc.components.schemas).find((n) =>
        (doc.components.schemas[n]['x-kubernetes-group-version-kind'] ?? []).some((g: Json) => g.kind === r.kind && g.group === r.group),
      );
      assert.ok(schemaName, `schema for ${r.kind}`);
    }
    assert.deepEqual(doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.Patch'].type, 'object');
  }
});

test('paths as kubectl explain and upstream clients expect them', () => {
  const doc = groupVersionDocument({ group: '', version: 'v1' }, CORE) as Json;
  const list = doc.paths['/api/v1/namespaces/{namespace}/services'].get;
  assert.deepEqual(list['x-kubernetes-group-version-kind'], { group: '', version: 'v1', kind: 'Service' });
  assert.equal(list['x-kubernetes-action'], 'list');
  assert.equal(list.operationId, 'listCoreV1NamespacedService');
  assert.equal(doc.paths['/api/v1/services'].get.operationId, 'listCoreV1ServiceForAllNamespaces');
  assert.equal(doc.paths['/api/v1/nodes/{name}'].get.operationId, 'readCoreV1Node');
  assert.equal(doc.paths['/api/v1/namespaces/{namespace}/services/{name}/status'].patch.operationId, 'patchCoreV1NamespacedServiceStatus');
  assert.equal(doc.paths['/api/v1/namespaces/{namespace}/pods/{name}/binding'].post['x-kubernetes-group-version-kind'].kind, 'Binding');
  assert.ok(doc.paths['/api/v1/namespaces/{namespace}/pods/{name}/log'].get);
  assert.equal(doc.paths['/api/v1/namespaces/{namespace}/pods/{name}/exec'].post['x-kubernetes-action'], 'connect');
  assert.ok(!doc.components.schemas['io.k8s.api.apps.v1.Deployment'], 'only schemas reachable from this group-version');

  const appsDoc = groupVersionDocument({ group: 'apps', version: 'v1' }, APPS) as Json;
  const scale = appsDoc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'].patch;
  assert.deepEqual(scale['x-kubernetes-group-version-kind'], { group: 'autoscaling', version: 'v1', kind: 'Scale' });
  assert.ok(appsDoc.components.schemas['io.k8s.api.autoscaling.v1.Scale']);
  assert.ok(appsDoc.components.schemas['io.k8s.api.core.v1.PodTemplateSpec']);
});

test('index lists each group-version with a stable hash', () => {
  const gvs = [
    { group: '', version: 'v1' },
    { group: 'apps', version: 'v1' },
    { group: 'autoscaling', version: 'v1' },
    { group: 'discovery.k8s.io', version: 'v1' },
  ];
  const index = openApiIndex(gvs) as { paths: Record<string, { serverRelativeURL: string }> };
  assert.deepEqual(Object.keys(index.paths), ['api/v1', 'apis/apps/v1', 'apis/autoscaling/v1', 'apis/discovery.k8s.io/v1']);
  assert.match(index.paths['apis/apps/v1'].serverRelativeURL, /^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/);
  assert.deepEqual(openApiIndex(gvs), index);
  assert.notEqual(index.paths['api/v1'].serverRelativeURL.split('=')[1], index.paths['apis/apps/v1'].serverRelativeURL.split('=')[1]);

  const exact = openApiIndex(gvs.slice(0, 2), [...CORE, ...APPS]) as typeof index;
  const other = openApiIndex(gvs.slice(0, 2), [...CORE.slice(1), ...APPS]) as typeof index;
  assert.notEqual(exact.paths['api/v1'].serverRelativeURL, other.paths['api/v1'].serverRelativeURL, 'hash follows the document');
  assert.equal(exact.paths['apis/apps/v1'].serverRelativeURL, other.paths['apis/apps/v1'].serverRelativeURL);
});
