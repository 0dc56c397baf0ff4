// Server-side apply of custom objects with the real kubectl: the field
// manager types a custom resource by its CRD version's structural schema, so
// map lists merge by their keys, sets by value, atomic lists and atomic maps
// are owned whole, and conflicts name the keyed entry in upstream's words.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { toolSkipReason } from './helpers/root.js';
import { toFieldSet } from '../src/apiserver/fieldmanager/typed.js';
import { typeOfStructuralSchema } from '../src/apiserver/fieldmanager/structural-type.js';
import { pathString } from '../src/apiserver/fieldmanager/fieldpath.js';

const routersCRD = join(import.meta.dirname, 'fixtures', 'crds', 'routers.fieldmanager.example.com.yaml');

const router = (name: string, spec: Record<string, unknown>) =>
  JSON.stringify({ apiVersion: 'fieldmanager.example.com/v1', kind: 'Router', metadata: { name, namespace: 'default' }, spec });

type Fields = Record<string, any>;

describe('server-side apply of custom objects follows the CRD schema', { skip: toolSkipReason(['kubectl']) }, () => {
  let t: TestApiServer;
  before(async () => {
    t = await startTestApiServer();
    await t.kubectl.ok(['apply', '-f', routersCRD]);
    await t.kubectl.ok(['wait', '--for=condition=Established', 'crd/routers.fieldmanager.example.com', '--timeout=30s']);
  });
  after(async () => {
    await t?.stop();
  });

  const apply = (manager: string, name: string, spec: Record<string, unknown>, force = false) =>
    t.kubectl(['apply', '--server-side', `--field-manager=${manager}`, ...(force ? ['--force-conflicts'] : []), '-f', '-'], { input: router(name, spec) });
  const applyOk = async (manager: string, name: string, spec: Record<string, unknown>, force = false) => {
    const r = await apply(manager, name, spec, force);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /router.fieldmanager.example.com\/\S+ serverside-applied/);
  };
  const get = async (name: string) => JSON.parse(await t.kubectl.ok(['get', 'routers', name, '--show-managed-fields', '-o', 'json']));
  const fieldsOf = async (name: string, manager: string): Promise<Fields | undefined> =>
    (await get(name)).metadata.managedFields.find((e: { manager: string }) => e.manager === manager)?.fieldsV1;

  test('two managers applying different entries of a map list both keep theirs', async () => {
    await applyOk('alice', 'maplist', { routes: [{ name: 'a', port: 80 }] });
    await applyOk('bob', 'maplist', { routes: [{ name: 'b', port: 81, path: '/b' }] });
    const obj = await get('maplist');
    assert.deepEqual(obj.spec.routes, [
      { name: 'a', port: 80 },
      { name: 'b', port: 81, path: '/b' },
    ]);
    assert.deepEqual((await fieldsOf('maplist', 'alice'))?.['f:spec']['f:routes'], { 'k:{"name":"a"}': { '.': {}, 'f:name': {}, 'f:port': {} } });
    assert.deepEqual((await fieldsOf('maplist', 'bob'))?.['f:spec']['f:routes'], { 'k:{"name":"b"}': { '.': {}, 'f:name': {}, 'f:path': {}, 'f:port': {} } });

    // Alice stops applying her entry: it goes, Bob's stays.
    await applyOk('alice', 'maplist', { labels: { owner: 'alice' } });
    assert.deepEqual((await get('maplist')).spec.routes, [{ name: 'b', port: 81, path: '/b' }]);
  });

  test('a conflict on the same keyed entry is a 409 in upstream words, and --force-conflicts takes it', async () => {
    await applyOk('alice', 'conflict', { routes: [{ name: 'a', port: 80 }] });
    const r = await apply('bob', 'conflict', { routes: [{ name: 'a', port: 90 }] });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Apply failed with 1 conflict: conflict with "alice": \.spec\.routes\[name="a"\]\.port/);
    assert.match(r.stderr, /Please review the fields above--they currently have other managers/);

    const raw = await t.request(
      'PATCH',
      '/apis/fieldmanager.example.com/v1/namespaces/default/routers/conflict?fieldManager=bob',
      router('conflict', { routes: [{ name: 'a', port: 90 }] }),
      { 'Content-Type': 'application/apply-patch+yaml' },
    );
    assert.equal(raw.status, 409);
    assert.equal(raw.json.reason, 'Conflict');
    assert.equal(raw.json.message, 'Apply failed with 1 conflict: conflict with "alice": .spec.routes[name="a"].port');
    assert.deepEqual(raw.json.details.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "alice"', field: '.spec.routes[name="a"].port' }]);

    // The same value is shared, not a conflict.
    await applyOk('carol', 'conflict', { routes: [{ name: 'a', port: 80 }] });

    await applyOk('bob', 'conflict', { routes: [{ name: 'a', port: 90 }] }, true);
    const obj = await get('conflict');
    assert.deepEqual(obj.spec.routes, [{ name: 'a', port: 90 }]);
    assert.deepEqual((await fieldsOf('conflict', 'bob'))?.['f:spec']['f:routes']['k:{"name":"a"}']['f:port'], {});
    for (const m of ['alice', 'carol']) {
      const routes = (await fieldsOf('conflict', m))?.['f:spec']['f:routes'];
      assert.deepEqual(routes, { 'k:{"name":"a"}': { '.': {}, 'f:name': {} } }, m);
    }
  });

  test('a map list keyed by two fields takes a key default the item leaves out', async () => {
    await applyOk('alice', 'listeners', { listeners: [{ port: 53, protocol: 'UDP', name: 'dns' }] });
    await applyOk('bob', 'listeners', { listeners: [{ port: 53, name: 'dns-tcp' }] });
    const obj = await get('listeners');
    assert.deepEqual(
      obj.spec.listeners.map((l: { port: number; protocol: string; name: string }) => [l.port, l.protocol, l.name]),
      [
        [53, 'UDP', 'dns'],
        [53, 'TCP', 'dns-tcp'],
      ],
    );
    assert.deepEqual(Object.keys((await fieldsOf('listeners', 'bob'))?.['f:spec']['f:listeners']), ['k:{"port":53,"protocol":"TCP"}']);
  });

  test('a set list merges by value', async () => {
    await applyOk('alice', 'set', { tags: ['x', 'y'] });
    await applyOk('bob', 'set', { tags: ['y', 'z'] });
    assert.deepEqual((await get('set')).spec.tags, ['x', 'y', 'z']);
    assert.deepEqual((await fieldsOf('set', 'alice'))?.['f:spec']['f:tags'], { 'v:"x"': {}, 'v:"y"': {} });
    assert.deepEqual((await fieldsOf('set', 'bob'))?.['f:spec']['f:tags'], { 'v:"y"': {}, 'v:"z"': {} });
    // Alice drops x; y is still Bob's too.
    await applyOk('alice', 'set', { tags: ['y'] });
    assert.deepEqual((await get('set')).spec.tags, ['y', 'z']);
  });

  test('atomic lists, lists without a list type and atomic maps are owned whole', async () => {
    await applyOk('alice', 'atomic', { servers: ['s1'], hosts: ['h1'], selector: { app: 'a' }, labels: { a: '1' } });
    const r = await apply('bob', 'atomic', { servers: ['s2'], hosts: ['h2'], selector: { tier: 'b' }, labels: { b: '2' } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Apply failed with 3 conflicts: conflicts with "alice":\n- \.spec\.hosts\n- \.spec\.selector\n- \.spec\.servers/);
    assert.deepEqual((await fieldsOf('atomic', 'alice'))?.['f:spec'], { 'f:hosts': {}, 'f:labels': { 'f:a': {} }, 'f:selector': {}, 'f:servers': {} });

    await applyOk('bob', 'atomic', { servers: ['s2'], hosts: ['h2'], selector: { tier: 'b' }, labels: { b: '2' } }, true);
    const obj = await get('atomic');
    assert.deepEqual(obj.spec.servers, ['s2']);
    assert.deepEqual(obj.spec.hosts, ['h2']);
    assert.deepEqual(obj.spec.selector, { tier: 'b' });
    // The granular map merges.
    assert.deepEqual(obj.spec.labels, { a: '1', b: '2' });
    assert.deepEqual((await fieldsOf('atomic', 'alice'))?.['f:spec'], { 'f:labels': { 'f:a': {} } });
  });

  test('what the schema cannot type is refused as structured-merge-diff refuses it', async () => {
    const r = await apply('alice', 'untyped', { routes: [{ name: 'a', port: 80 }], unknown: 1 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /failed to create typed patch object \(default\/untyped; fieldmanager\.example\.com\/v1, Kind=Router\): \.spec\.unknown: field not declared in schema/);
    assert.equal((await t.kubectl(['get', 'routers', 'untyped'])).code, 1, 'nothing was created');

    const send = (spec: Record<string, unknown>) =>
      t.request('PATCH', '/apis/fieldmanager.example.com/v1/namespaces/default/routers/untyped?fieldManager=alice', router('untyped', spec), {
        'Content-Type': 'application/apply-patch+yaml',
      });
    const undeclared = await send({ routes: [{ name: 'a', extra: true }] });
    assert.equal(undeclared.status, 500);
    assert.equal(undeclared.json.reason, undefined);
    assert.equal(undeclared.json.message, 'failed to create typed patch object (default/untyped; fieldmanager.example.com/v1, Kind=Router): .spec.routes[name="a"].extra: field not declared in schema');

    const duplicate = await send({ routes: [{ name: 'a' }, { name: 'a', port: 1 }], tags: ['x', 'x'] });
    assert.equal(
      duplicate.json.message,
      'failed to create typed patch object (default/untyped; fieldmanager.example.com/v1, Kind=Router): errors:\n' +
        '  .spec.routes: duplicate entries for key [name="a"]\n' +
        '  .spec.tags: duplicate entries for key [="x"]',
    );
    const keyless = await send({ routes: [{ port: 80 }] });
    assert.equal(
      keyless.json.message,
      'failed to create typed patch object (default/untyped; fieldmanager.example.com/v1, Kind=Router): .spec.routes: element 0: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
    );
  });

  test('preserved unknown fields are granular maps, an int-or-string a leaf, an embedded resource has typed metadata', async () => {
    await applyOk('alice', 'loose', {
      config: { a: { b: 1 }, list: [1, 2] },
      targetPort: 'http',
      template: { apiVersion: 'v1', kind: 'Pod', metadata: { labels: { app: 'x' }, finalizers: ['f1'] }, spec: { x: 1 } },
    });
    await applyOk('bob', 'loose', { config: { a: { c: 2 }, list: [1, 2] }, template: { metadata: { finalizers: ['f2'] } } });
    const obj = await get('loose');
    assert.deepEqual(obj.spec.config, { a: { b: 1, c: 2 }, list: [1, 2] });
    assert.deepEqual(obj.spec.template.metadata.finalizers, ['f1', 'f2']);
    const alice = (await fieldsOf('loose', 'alice'))?.['f:spec'];
    // Declared fields with content are not members themselves; the preserved (undeclared) ones are.
    assert.deepEqual(alice['f:config'], { 'f:a': { '.': {}, 'f:b': {} }, 'f:list': {} });
    assert.deepEqual(alice['f:targetPort'], {});
    assert.deepEqual(alice['f:template']['f:metadata']['f:finalizers'], { 'v:"f1"': {} });
  });
});

describe('the structural schema as the field manager types it', () => {
  const type = typeOfStructuralSchema(
    {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            ports: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { name: { type: 'string' }, port: { type: 'integer' } } } },
            plain: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
          },
        },
      },
    },
    false,
  );
  test('map lists by key, lists without a list type atomic, metadata as ObjectMeta', () => {
    const paths: string[] = [];
    const walk = (set: ReturnType<typeof toFieldSet>, prefix: string) => {
      for (const [k] of set.members) paths.push(`${prefix}${k}`);
      for (const [k, c] of set.children) walk(c.set, `${prefix}${k}/`);
    };
    walk(
      toFieldSet({ metadata: { labels: { a: 'b' } }, spec: { ports: [{ name: 'http', port: 80 }], plain: [{ name: 'x' }] } }, type),
      '',
    );
    assert.deepEqual(paths.sort(), ['f:metadata/f:labels/f:a', 'f:spec/f:plain', 'f:spec/f:ports/k:{"name":"http"}', 'f:spec/f:ports/k:{"name":"http"}/f:name', 'f:spec/f:ports/k:{"name":"http"}/f:port'].sort());
    assert.equal(pathString([{ field: 'spec' }, { field: 'ports' }, { key: [['name', 'http']] }]), '.spec.ports[name="http"]');
  });
});
