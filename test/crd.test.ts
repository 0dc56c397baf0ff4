// CustomResourceDefinitions end to end with the real kubectl: a CRD is
// validated, established and served (discovery, short names, categories,
// printer columns, explain), its objects are validated, pruned and
// defaulted by the schema, the status and scale subresources split the
// object as upstream's do, watches see the objects, and deleting the CRD
// removes its objects.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpsRaw, startTestApiServer, waitFor, type TestApiServer } from './helpers/apiserver.js';

const fixtures = join(import.meta.dirname, 'fixtures', 'crds');
const certificatesCRD = join(fixtures, 'certificates.cert-manager.io.yaml');
const webappsCRD = join(fixtures, 'webapps.apps.example.com.yaml');

const certificate = (name: string, spec: string) => `apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: ${name}
  namespace: default
  labels: {app: ${name}}
spec:
${spec}`;

describe('CustomResourceDefinitions', () => {
  let t: TestApiServer;
  before(async () => {
    t = await startTestApiServer();
    await t.kubectl.ok(['apply', '-f', certificatesCRD, '-f', webappsCRD]);
    await t.kubectl.ok(['wait', '--for=condition=Established', 'crd/certificates.cert-manager.io', 'crd/webapps.apps.example.com', '--timeout=30s']);
  });
  after(async () => {
    await t?.stop();
  });

  describe('the CRD', () => {
    it('is defaulted and gets NamesAccepted, Established and its accepted names', async () => {
      const crd = JSON.parse(await t.kubectl.ok(['get', 'crd', 'certificates.cert-manager.io', '-o', 'json']));
      assert.equal(crd.spec.names.singular, 'certificate');
      assert.equal(crd.spec.names.listKind, 'CertificateList');
      assert.deepEqual(crd.spec.conversion, { strategy: 'None' });
      const conditions = Object.fromEntries(crd.status.conditions.map((c: { type: string }) => [c.type, c]));
      assert.deepEqual(
        { status: conditions.NamesAccepted.status, reason: conditions.NamesAccepted.reason, message: conditions.NamesAccepted.message },
        { status: 'True', reason: 'NoConflicts', message: 'no conflicts found' },
      );
      assert.deepEqual(
        { status: conditions.Established.status, reason: conditions.Established.reason, message: conditions.Established.message },
        { status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
      );
      assert.equal(crd.status.acceptedNames.kind, 'Certificate');
      assert.deepEqual(crd.status.acceptedNames.shortNames, ['cert', 'certs']);
      assert.deepEqual(crd.status.storedVersions, ['v1']);
    });

    it('prints NAME and CREATED AT', async () => {
      const out = await t.kubectl.ok(['get', 'crd']);
      const lines = out.trim().split('\n');
      assert.match(lines[0], /^NAME\s+CREATED AT$/);
      assert.match(lines[1], /^certificates\.cert-manager\.io\s+\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      assert.match(lines[2], /^webapps\.apps\.example\.com\s+/);
    });

    it('refuses invalid definitions with upstream messages', async () => {
      const bad = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: things.example.com
spec:
  group: example
  names: {plural: widgets, kind: Widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            properties:
              size: {type: string}
`;
      const r = await t.kubectl(['apply', '-f', '-'], { input: bad });
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        'The CustomResourceDefinition "things.example.com" is invalid: \n' +
          '* metadata.name: Invalid value: "things.example.com": must be spec.names.plural+"."+spec.group\n' +
          '* spec.group: Invalid value: "example": should be a domain with at least one dot\n' +
          '* spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields\n',
      );
    });
  });

  describe('discovery', () => {
    it('lists the resources with short names and categories', async () => {
      const out = await t.kubectl.ok(['api-resources', '--api-group=cert-manager.io', '-o', 'wide']);
      const [header, row] = out.trim().split('\n');
      assert.match(header, /^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND\s+VERBS\s+CATEGORIES$/);
      assert.match(row, /^certificates\s+cert,certs\s+cert-manager\.io\/v1\s+true\s+Certificate\s+create,delete,deletecollection,get,list,patch,update,watch\s+cert-manager$/);
    });

    it('serves every version of a group, the preferred first', async () => {
      const group = await t.request('GET', '/apis/apps.example.com');
      assert.deepEqual(group.json.versions, [
        { groupVersion: 'apps.example.com/v1', version: 'v1' },
        { groupVersion: 'apps.example.com/v1beta1', version: 'v1beta1' },
      ]);
      assert.deepEqual(group.json.preferredVersion, { groupVersion: 'apps.example.com/v1', version: 'v1' });
      const resources = await t.request('GET', '/apis/apps.example.com/v1');
      assert.deepEqual(
        resources.json.resources.map((r: { name: string }) => r.name),
        ['webapps', 'webapps/status', 'webapps/scale'],
      );
    });
  });

  describe('custom objects', () => {
    it('creates a valid object with defaults and prints the columns', async () => {
      await t.kubectl.ok(['apply', '-f', '-'], {
        input: certificate('web', '  secretName: web-tls\n  issuerRef: {name: letsencrypt}\n  dnsNames: [example.com]\n  privateKey: {algorithm: RSA, size: 2048}\n'),
      });
      const obj = JSON.parse(await t.kubectl.ok(['get', 'cert', 'web', '-o', 'json']));
      assert.equal(obj.spec.duration, '2160h', 'defaulted from the schema');
      assert.equal(obj.metadata.generation, 1);
      const out = await t.kubectl.ok(['get', 'certificates']);
      assert.match(out, /^NAME\s+READY\s+SECRET\s+AGE\nweb\s+web-tls\s+\d+s\n$/);
      const wide = await t.kubectl.ok(['get', 'certs', '-o', 'wide']);
      assert.match(wide, /^NAME\s+READY\s+SECRET\s+ISSUER\s+STATUS\s+AGE\nweb\s+web-tls\s+letsencrypt\s+\d+s\n$/);
    });

    it('refuses invalid objects with the schema errors', async () => {
      const r = await t.kubectl(['apply', '-f', '-'], {
        input: certificate(
          'bad',
          '  secretName: ""\n  issuerRef: {kind: ClusterIssuer}\n  dnsNames: [Example_com]\n  privateKey: {algorithm: DSA, size: big}\n  revisionHistoryLimit: 0\n',
        ),
      });
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        'The Certificate "bad" is invalid: \n' +
          `* spec.dnsNames[0]: Invalid value: "Example_com": spec.dnsNames[0] in body should match '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'\n` +
          '* spec.issuerRef.name: Required value\n' +
          '* spec.privateKey.algorithm: Unsupported value: "DSA": supported values: "RSA", "ECDSA", "Ed25519"\n' +
          '* spec.privateKey.size: Invalid value: "string": spec.privateKey.size in body must be of type integer: "string"\n' +
          '* spec.revisionHistoryLimit: Invalid value: 0: spec.revisionHistoryLimit in body should be greater than 0\n' +
          '* spec.secretName: Invalid value: "": spec.secretName in body should be at least 1 chars long\n',
      );
    });

    it('refuses unknown fields when strict, warns and prunes them otherwise', async () => {
      const input = certificate('unknown', '  secretName: a\n  issuerRef: {name: x}\n  foo: bar\n');
      const strict = await t.kubectl(['apply', '-f', '-'], { input });
      assert.equal(
        strict.stderr,
        'Error from server (BadRequest): error when creating "STDIN": Certificate in version "v1" cannot be handled as a Certificate: strict decoding error: unknown field "spec.foo"\n',
      );
      const warn = await t.kubectl(['apply', '--validate=warn', '-f', '-'], { input });
      assert.equal(warn.code, 0, warn.stderr);
      assert.equal(warn.stderr, 'Warning: unknown field "spec.foo"\n');
      const obj = JSON.parse(await t.kubectl.ok(['get', 'cert', 'unknown', '-o', 'json']));
      assert.equal(obj.spec.foo, undefined, 'pruned');
      await t.kubectl.ok(['delete', 'cert', 'unknown']);
    });

    it('lists by label selector and by category', async () => {
      await t.kubectl.ok(['apply', '-f', '-'], { input: certificate('api', '  secretName: api-tls\n  issuerRef: {name: letsencrypt}\n') });
      assert.equal(await t.kubectl.ok(['get', 'certs', '-l', 'app=api', '-o', 'name']), 'certificate.cert-manager.io/api\n');
      assert.equal(await t.kubectl.ok(['get', 'cert-manager', '-o', 'name']), 'certificate.cert-manager.io/api\ncertificate.cert-manager.io/web\n');
      await t.kubectl.ok(['delete', 'cert', 'api']);
    });

    it('explains the kind from the published schema', async () => {
      const out = await t.kubectl.ok(['explain', 'certificate.spec.privateKey']);
      assert.match(out, /^GROUP:\s+cert-manager\.io\nKIND:\s+Certificate\nVERSION:\s+v1\n\nFIELD: privateKey <Object>\n/);
      assert.match(out, /algorithm\t<string>\n {2}enum: RSA, ECDSA, Ed25519\n/);
      assert.match(out, /size\t<integer>\n/);
    });

    it('applies server-side and reports the field manager', async () => {
      await t.kubectl.ok(['apply', '--server-side', '--field-manager=ops', '-f', '-'], {
        input: certificate('ssa', '  secretName: ssa-tls\n  issuerRef: {name: letsencrypt}\n  usages: [server auth]\n'),
      });
      const obj = JSON.parse(await t.kubectl.ok(['get', 'cert', 'ssa', '-o', 'json', '--show-managed-fields']));
      assert.equal(obj.spec.secretName, 'ssa-tls');
      assert.ok(obj.metadata.managedFields.some((m: { manager: string; operation: string }) => m.manager === 'ops' && m.operation === 'Apply'));
      await t.kubectl.ok(['delete', 'cert', 'ssa']);
    });
  });

  describe('status subresource', () => {
    it('keeps status out of main writes and spec out of status writes', async () => {
      const statusPatch = JSON.stringify({ spec: { secretName: 'ignored' }, status: { conditions: [{ type: 'Ready', status: 'True', message: 'Certificate is up to date and has not expired' }] } });
      await t.kubectl.ok(['patch', 'cert', 'web', '--subresource=status', '--type=merge', '-p', statusPatch]);
      await t.kubectl.ok(['patch', 'cert', 'web', '--type=merge', '-p', JSON.stringify({ spec: { secretName: 'web-tls-2' }, status: { conditions: [] } })]);
      const obj = JSON.parse(await t.kubectl.ok(['get', 'cert', 'web', '-o', 'json']));
      assert.equal(obj.spec.secretName, 'web-tls-2');
      assert.equal(obj.status.conditions[0].status, 'True');
      assert.equal(obj.metadata.generation, 2, 'only the spec change counts');
      const wide = await t.kubectl.ok(['get', 'cert', 'web', '-o', 'wide']);
      assert.match(wide, /\nweb\s+True\s+web-tls-2\s+letsencrypt\s+Certificate is up to date and has not expired\s+\d+s\n$/);
    });

    it('validates status writes against the schema', async () => {
      const r = await t.kubectl(['patch', 'cert', 'web', '--subresource=status', '--type=merge', '-p', '{"status":{"revision":"one"}}']);
      assert.equal(r.stderr, 'The Certificate "web" is invalid: status.revision: Invalid value: "string": status.revision in body must be of type integer: "string"\n');
    });
  });

  describe('scale subresource and versions', () => {
    it('scales through the CRD paths and defaults', async () => {
      await t.kubectl.ok(['apply', '-f', '-'], {
        input: 'apiVersion: apps.example.com/v1\nkind: WebApp\nmetadata: {name: shop, namespace: default}\nspec:\n  image: nginx\n  port: http\n  config: {anything: {nested: true}}\n',
      });
      const created = JSON.parse(await t.kubectl.ok(['get', 'wa', 'shop', '-o', 'json']));
      assert.equal(created.spec.replicas, 1);
      assert.equal(created.spec.size, 'small');
      assert.deepEqual(created.spec.config, { anything: { nested: true } }, 'preserved unknown fields');
      assert.equal(await t.kubectl.ok(['scale', 'webapp', 'shop', '--replicas=3']), 'webapp.apps.example.com/shop scaled\n');
      await t.kubectl.ok(['patch', 'wa', 'shop', '--subresource=status', '--type=merge', '-p', '{"status":{"replicas":2,"selector":"app=shop"}}']);
      const scale = await t.request('GET', '/apis/apps.example.com/v1/namespaces/default/webapps/shop/scale');
      assert.deepEqual({ kind: scale.json.kind, apiVersion: scale.json.apiVersion, spec: scale.json.spec, status: scale.json.status }, {
        kind: 'Scale',
        apiVersion: 'autoscaling/v1',
        spec: { replicas: 3 },
        status: { replicas: 2, selector: 'app=shop' },
      });
      assert.match(await t.kubectl.ok(['get', 'wa']), /^NAME\s+REPLICAS\s+SIZE\nshop\s+3\s+small\n$/);
      const r = await t.kubectl(['scale', 'webapp', 'shop', '--replicas=11']);
      // The scale write is validated as the custom object it changes, its x-kubernetes-validations rule included.
      assert.equal(
        r.stderr,
        'The WebApp "shop" is invalid: \n' +
          '* spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10\n' +
          '* spec: Invalid value: "object": at most ten replicas\n',
      );
    });

    it('serves the same object in every version, apiVersion rewritten', async () => {
      const beta = JSON.parse(await t.kubectl.ok(['get', 'webapps.v1beta1.apps.example.com', 'shop', '-o', 'json']));
      assert.equal(beta.apiVersion, 'apps.example.com/v1beta1');
      assert.equal(beta.spec.replicas, 3);
    });

    it('refuses strategic merge patches of custom objects', async () => {
      const r = await t.request('PATCH', '/apis/apps.example.com/v1/namespaces/default/webapps/shop', { spec: { replicas: 2 } }, {
        'Content-Type': 'application/strategic-merge-patch+json',
      });
      assert.equal(r.status, 415);
      assert.equal(
        r.json.message,
        'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
      );
    });

    it('takes kubectl apply of a changed object (the OpenAPI PATCH offers no strategic merge, so kubectl sends a merge patch)', async () => {
      const published = await t.request('GET', '/openapi/v3/apis/apps.example.com/v1');
      const patch = (published.json as { paths: Record<string, { patch?: { requestBody: { content: object } } }> }).paths['/apis/apps.example.com/v1/namespaces/{namespace}/webapps/{name}']!.patch!;
      assert.deepEqual(Object.keys(patch.requestBody.content), ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json']);
      const webapp = (n: number) => `apiVersion: apps.example.com/v1\nkind: WebApp\nmetadata: {name: applied}\nspec: {image: nginx, replicas: ${n}}\n`;
      await t.kubectl.ok(['apply', '-f', '-'], { input: webapp(1) });
      assert.match(await t.kubectl.ok(['apply', '-f', '-'], { input: webapp(2) }), /webapp.apps.example.com\/applied configured/);
      assert.equal(await t.kubectl.ok(['get', 'webapp', 'applied', '-o', 'jsonpath={.spec.replicas}']), '2');
    });
  });

  describe('watch', () => {
    it('sees custom objects added and deleted', async () => {
      const collection = '/apis/cert-manager.io/v1/namespaces/default/certificates';
      const { resourceVersion } = (await t.request('GET', collection)).json.metadata;
      const watching = httpsRaw(
        `${t.server.url}${collection}?watch=true&timeoutSeconds=3&resourceVersion=${resourceVersion}`,
        { method: 'GET', headers: {}, ca: t.admin.ca, cert: t.admin.cert, key: t.admin.key },
      );
      await t.kubectl.ok(['apply', '-f', '-'], { input: certificate('watched', '  secretName: w\n  issuerRef: {name: x}\n') });
      await t.kubectl.ok(['delete', 'cert', 'watched']);
      const events = (await watching).text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; object: { kind: string; metadata: { name: string } } });
      assert.deepEqual(
        events.map((e) => `${e.type} ${e.object.kind}/${e.object.metadata.name}`),
        ['ADDED Certificate/watched', 'DELETED Certificate/watched'],
      );
    });
  });

  describe('deleting the CRD', () => {
    it('removes its objects, ends the watches on it and stops serving the resource', async () => {
      assert.ok((await t.kubectl.ok(['get', 'certs', '-A', '-o', 'name'])).includes('certificate.cert-manager.io/web'));
      const collection = '/apis/cert-manager.io/v1/certificates';
      const { resourceVersion } = (await t.request('GET', collection)).json.metadata;
      const watching = httpsRaw(`${t.server.url}${collection}?watch=true&timeoutSeconds=60&resourceVersion=${resourceVersion}`, {
        method: 'GET',
        headers: {},
        ca: t.admin.ca,
        cert: t.admin.cert,
        key: t.admin.key,
      });
      await t.kubectl.ok(['delete', 'crd', 'certificates.cert-manager.io', '--timeout=30s']);
      // The watch ends with the resource (long before its 60 s), having seen the objects go.
      const ended = await Promise.race([watching, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 10_000))]);
      assert.ok(ended, 'the watch on the custom resource ended when its CRD went');
      assert.match(ended.text, /"type":"DELETED".*"name":"web"/);
      assert.equal((await t.request('GET', '/apis/cert-manager.io/v1/certificates')).status, 404);
      assert.equal((await t.request('GET', '/apis/cert-manager.io')).status, 404);
      const gone = await t.kubectl(['get', 'crd', 'certificates.cert-manager.io']);
      assert.equal(gone.stderr, 'Error from server (NotFound): customresourcedefinitions.apiextensions.k8s.io "certificates.cert-manager.io" not found\n');
      await t.kubectl.ok(['apply', '-f', certificatesCRD]);
      await t.kubectl.ok(['wait', '--for=condition=Established', 'crd/certificates.cert-manager.io', '--timeout=30s']);
      await waitFor('served again', async () => (await t.kubectl(['get', 'certificates', '-A'])).code === 0);
      const after = await t.kubectl(['get', 'certificates', '-A']);
      assert.deepEqual([after.stdout, after.stderr], ['', 'No resources found\n'], 'the old objects went with the old CRD');
    });
  });
});

describe('CustomResourceDefinition lifecycle', () => {
  const crdYaml = (plural: string, kind: string, scope: string, extra = '') => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ${plural}.example.com}
spec:
  group: example.com
  names: {plural: ${plural}, kind: ${kind}${extra}}
  scope: ${scope}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`;

  it('refuses names another CRD of the group took, and serves established CRDs again after a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-crd-'));
    let t = await startTestApiServer({ dataDir });
    try {
      await t.kubectl.ok(['apply', '-f', '-'], { input: crdYaml('widgets', 'Widget', 'Cluster') });
      await t.kubectl.ok(['wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=30s']);
      await t.kubectl.ok(['apply', '-f', '-'], { input: crdYaml('gadgets', 'Gadget', 'Cluster', ', shortNames: [widgets]') });
      await t.kubectl.ok(['wait', '--for=condition=NamesAccepted=False', 'crd/gadgets.example.com', '--timeout=30s']);
      const gadgets = JSON.parse(await t.kubectl.ok(['get', 'crd', 'gadgets.example.com', '-o', 'json']));
      const conditions = gadgets.status.conditions.map((c: { type: string; status: string; reason: string; message: string }) => [c.type, c.status, c.reason, c.message]);
      assert.deepEqual(conditions, [
        ['NamesAccepted', 'False', 'ShortNamesConflict', '"widgets" is already in use'],
        ['Established', 'False', 'NotAccepted', 'not all names are accepted'],
      ]);
      assert.equal((await t.request('GET', '/apis/example.com/v1/gadgets')).status, 404, 'not served until established');

      await t.kubectl.ok(['apply', '-f', '-'], { input: 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\ncolor: blue\n' });
      assert.match(await t.kubectl.ok(['get', 'widgets']), /^NAME\s+AGE\nw1\s+\d+s\n$/);
      await t.stop();
      t = await startTestApiServer({ dataDir });
      const widget = JSON.parse(await t.kubectl.ok(['get', 'widget', 'w1', '-o', 'json']));
      assert.equal(widget.color, 'blue', 'unknown fields preserved');
    } finally {
      await t.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('deletes custom objects with their namespace', async () => {
    const t = await startTestApiServer();
    try {
      await t.kubectl.ok(['apply', '-f', '-'], { input: crdYaml('things', 'Thing', 'Namespaced') });
      await t.kubectl.ok(['wait', '--for=condition=Established', 'crd/things.example.com', '--timeout=30s']);
      await t.kubectl.ok(['create', 'namespace', 'team']);
      await t.kubectl.ok(['apply', '-f', '-'], { input: 'apiVersion: example.com/v1\nkind: Thing\nmetadata: {name: t1, namespace: team}\n' });
      await t.kubectl.ok(['delete', 'namespace', 'team', '--timeout=30s']);
      assert.equal((await t.request('GET', '/apis/example.com/v1/namespaces/team/things/t1')).status, 404);
    } finally {
      await t.stop();
    }
  });
});
