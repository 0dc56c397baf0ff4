// The field manager's parts: FieldsV1 encoding, set operations, typed field
// sets and comparisons by schema, managed fields entries, conflicts and the
// "ancient-changes" cap, and whole updates and applies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../src/api/status.js';
import type { KubeObject } from '../src/api/object.js';
import { FieldPathError, FieldSet, parseElement, pathString, serializeElement } from '../src/apiserver/fieldmanager/fieldpath.js';
import { compare, toFieldSet, typeOfKind } from '../src/apiserver/fieldmanager/typed.js';
import { capUpdateManagers, conflictError, decodeManagedFields, encodeManagedFields, ManagedFieldsError } from '../src/apiserver/fieldmanager/managed.js';
import { applyConfiguration, recordUpdate, type FieldManagerScope } from '../src/apiserver/fieldmanager/field-manager.js';

const deploy: FieldManagerScope = { kind: 'Deployment', apiVersion: 'apps/v1', subresource: '', hasStatus: true };

describe('FieldsV1', () => {
  it('decodes and encodes members, "." and every element form in upstream order', () => {
    const fields = {
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': {
        'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {} } },
        'f:finalizers': { 'v:"a"': {} },
        'f:list': { 'i:0': {} },
      },
    };
    const set = FieldSet.fromFieldsV1(fields);
    assert.ok(set.has([{ field: 'metadata' }, { field: 'labels' }]));
    assert.ok(!set.has([{ field: 'metadata' }]));
    assert.ok(set.has([{ field: 'spec' }, { field: 'ports' }, { key: [['port', 80], ['protocol', 'TCP']] }]));
    assert.deepEqual(set.toFieldsV1(), {
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': {
        'f:finalizers': { 'v:"a"': {} },
        'f:list': { 'i:0': {} },
        'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {} } },
      },
    });
  });

  it('sorts key fields by name and prints paths as upstream', () => {
    const pe = parseElement('k:{"protocol":"TCP","port":80}');
    assert.equal(serializeElement(pe), 'k:{"port":80,"protocol":"TCP"}');
    assert.equal(pathString([{ field: 'spec' }, { field: 'ports' }, pe, { field: 'name' }]), '.spec.ports[port=80,protocol="TCP"].name');
    assert.equal(pathString([{ field: 'finalizers' }, { value: 'x' }]), '.finalizers[="x"]');
    assert.equal(pathString([{ field: 'l' }, { index: 2 }]), '.l[2]');
  });

  it('refuses what is not a field set', () => {
    assert.throws(() => FieldSet.fromFieldsV1({ 'x:y': {} }), FieldPathError);
    assert.throws(() => FieldSet.fromFieldsV1({ 'k:{': {} }), FieldPathError);
    assert.throws(() => FieldSet.fromFieldsV1({ 'f:a': 1 }), FieldPathError);
  });
});

describe('set operations', () => {
  const a = FieldSet.fromFieldsV1({ 'f:spec': { 'f:replicas': {}, 'f:paused': {} }, 'f:metadata': { 'f:labels': { 'f:a': {} } } });
  const b = FieldSet.fromFieldsV1({ 'f:spec': { 'f:replicas': {} }, 'f:data': {} });
  it('union, difference, intersection, empty', () => {
    assert.deepEqual(a.union(b).toFieldsV1(), { 'f:data': {}, 'f:metadata': { 'f:labels': { 'f:a': {} } }, 'f:spec': { 'f:paused': {}, 'f:replicas': {} } });
    assert.deepEqual(a.difference(b).toFieldsV1(), { 'f:metadata': { 'f:labels': { 'f:a': {} } }, 'f:spec': { 'f:paused': {} } });
    assert.deepEqual(a.intersection(b).toFieldsV1(), { 'f:spec': { 'f:replicas': {} } });
    assert.ok(a.difference(a).empty());
    assert.deepEqual(
      a.paths().map((p) => pathString(p)),
      ['.metadata.labels.a', '.spec.paused', '.spec.replicas'],
    );
  });
});

describe('typed field sets', () => {
  const type = typeOfKind('Deployment');
  const obj = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }], resources: {} }] } },
    },
  };
  it('owns leaves, map entries and list items; maps and structs with content only through it', () => {
    assert.deepEqual(toFieldSet(obj, type).toFieldsV1(), {
      'f:apiVersion': {},
      'f:kind': {},
      'f:metadata': { 'f:labels': { 'f:app': {} }, 'f:name': {} },
      'f:spec': {
        'f:replicas': {},
        // LabelSelector is +structType=atomic upstream: owned as a whole.
        'f:selector': {},
        'f:template': {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:containers': {
              'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } }, 'f:resources': {} },
            },
          },
        },
      },
    });
  });
  it('finalizers are a set of values, atomic lists are leaves', () => {
    const svc = toFieldSet({ metadata: { finalizers: ['a'] }, spec: { externalIPs: ['1.2.3.4'] } }, typeOfKind('Service'));
    assert.deepEqual(svc.toFieldsV1(), { 'f:metadata': { 'f:finalizers': { 'v:"a"': {} } }, 'f:spec': { 'f:externalIPs': {} } });
  });
  it('keys lists and treats maps as upstream\'s +listType/+listMapKey/+mapType markers say', () => {
    const svc = toFieldSet(
      {
        metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'o', uid: 'u1' }] },
        spec: { selector: { app: 'web' }, ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }, { port: 80, protocol: 'UDP' }] },
      },
      typeOfKind('Service'),
    );
    assert.deepEqual(svc.toFieldsV1(), {
      'f:metadata': { 'f:ownerReferences': { 'k:{"uid":"u1"}': {} } },
      'f:spec': {
        'f:ports': {
          'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {}, 'f:protocol': {}, 'f:targetPort': {} },
          'k:{"port":80,"protocol":"UDP"}': { '.': {}, 'f:port': {}, 'f:protocol': {} },
        },
        'f:selector': {},
      },
    });
    const pod = toFieldSet(
      {
        spec: {
          nodeSelector: { disk: 'ssd' },
          containers: [{ name: 'web', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'A', value: '1' }], command: ['sh'] }],
          tolerations: [{ key: 'k', operator: 'Exists' }],
          topologySpreadConstraints: [{ topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', maxSkew: 1 }],
        },
      },
      typeOfKind('Pod'),
    );
    assert.deepEqual(pod.toFieldsV1(), {
      'f:spec': {
        'f:containers': {
          'k:{"name":"web"}': {
            '.': {},
            'f:command': {},
            'f:env': { 'k:{"name":"A"}': { '.': {}, 'f:name': {}, 'f:value': {} } },
            'f:name': {},
            'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } },
          },
        },
        'f:nodeSelector': {},
        'f:tolerations': {},
        'f:topologySpreadConstraints': { 'k:{"topologyKey":"zone","whenUnsatisfiable":"DoNotSchedule"}': { '.': {}, 'f:maxSkew': {}, 'f:topologyKey': {}, 'f:whenUnsatisfiable': {} } },
      },
    });
  });
  it('fills a key field an item leaves out from the schema\'s default, as structured-merge-diff does', () => {
    // +default="TCP" on ServicePort.Protocol and ContainerPort.Protocol, +default="" on LocalObjectReference.Name (k8s.io/api core/v1/types.go).
    const svc = toFieldSet({ spec: { ports: [{ port: 80, targetPort: 8080 }] } }, typeOfKind('Service'));
    assert.deepEqual(svc.toFieldsV1(), { 'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {}, 'f:targetPort': {} } } } });
    const pod = toFieldSet({ spec: { imagePullSecrets: [{}], ephemeralContainers: [{ name: 'dbg', ports: [{ containerPort: 53, protocol: 'UDP' }, { containerPort: 53 }] }] } }, typeOfKind('Pod'));
    assert.deepEqual(pod.toFieldsV1(), {
      'f:spec': {
        'f:ephemeralContainers': {
          'k:{"name":"dbg"}': {
            '.': {},
            'f:name': {},
            'f:ports': {
              'k:{"containerPort":53,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} },
              'k:{"containerPort":53,"protocol":"UDP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} },
            },
          },
        },
        'f:imagePullSecrets': { 'k:{"name":""}': {} },
      },
    });
    // A live item with the defaulted field is the same item as the applied one without it.
    const live = { spec: { ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] } };
    const c = compare(live, { spec: { ports: [{ port: 80, targetPort: 8080 }] } }, typeOfKind('Service'));
    assert.deepEqual(c.removed.toFieldsV1(), { 'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { 'f:protocol': {} } } } });
    assert.ok(c.added.empty());
  });
  it('compares: added, modified and removed paths', () => {
    const next = structuredClone(obj) as any;
    next.spec.replicas = 3;
    next.spec.template.spec.containers.push({ name: 'side', image: 'busybox' });
    delete next.metadata.labels;
    const c = compare(obj, next, type);
    assert.deepEqual(c.modified.toFieldsV1(), { 'f:spec': { 'f:replicas': {} } });
    assert.deepEqual(c.added.toFieldsV1(), { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"side"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } } } });
    assert.deepEqual(c.removed.toFieldsV1(), { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } });
  });
});

describe('managed fields entries', () => {
  it('refuses entries upstream refuses', () => {
    assert.throws(() => decodeManagedFields([{ manager: 'x', operation: 'Patch', apiVersion: 'v1', fieldsType: 'FieldsV1' }]), /operation must be `Apply` or `Update`/);
    assert.throws(() => decodeManagedFields([{ manager: 'x', operation: 'Update', fieldsType: 'FieldsV1' }]), /apiVersion must not be empty/);
    assert.throws(() => decodeManagedFields([{ manager: 'x', operation: 'Update', apiVersion: 'v1' }]), ManagedFieldsError);
  });
  it('merges Update entries beyond 10 into ancient-changes, oldest first', () => {
    const entries = Array.from({ length: 12 }, (_, i) => ({
      manager: `m${String(i).padStart(2, '0')}`,
      operation: 'Update',
      apiVersion: 'apps/v1',
      time: `2024-01-01T00:00:${String(i).padStart(2, '0')}Z`,
      fieldsType: 'FieldsV1',
      fieldsV1: { [`f:f${i}`]: {} },
    }));
    const managed = decodeManagedFields(entries);
    capUpdateManagers(managed);
    const out = encodeManagedFields(managed)!;
    assert.equal(out.length, 10);
    const ancient = out.find((e) => e.manager === 'ancient-changes')!;
    assert.deepEqual(ancient.fieldsV1, { 'f:f0': {}, 'f:f1': {}, 'f:f2': {} });
    assert.equal(ancient.time, '2024-01-01T00:00:02Z');
  });
  it('words one conflict and several as upstream', () => {
    const one = conflictError([{ manager: '{"manager":"kubectl-client-side-apply","operation":"Update","apiVersion":"v1"}', path: [{ field: 'spec' }, { field: 'replicas' }] }]);
    assert.ok(one instanceof StatusError);
    assert.equal(one.code, 409);
    assert.equal(one.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .spec.replicas');
    assert.deepEqual(one.status.details, { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using v1', field: '.spec.replicas' }] });
  });
});

describe('updates and applies', () => {
  const base = (): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'u1' },
    spec: { replicas: 2, template: { spec: { containers: [{ name: 'c', image: 'a' }] } } },
  });

  it('an update takes what it changed from other managers and keeps its entries merged', () => {
    const created = base();
    recordUpdate(undefined, created, 'creator', deploy);
    assert.deepEqual(created.metadata.managedFields?.map((e) => e.manager), ['creator']);
    const next = structuredClone(created);
    (next.spec as any).replicas = 5;
    recordUpdate(created, next, 'scaler', deploy);
    const byManager = Object.fromEntries(next.metadata.managedFields!.map((e: any) => [e.manager, e.fieldsV1]));
    assert.deepEqual(byManager.scaler, { 'f:spec': { 'f:replicas': {} } });
    assert.equal(byManager.creator['f:spec']['f:replicas'], undefined);
  });

  it('apply conflicts, shares equal values, and force takes ownership', () => {
    const live = base();
    recordUpdate(undefined, live, 'creator', deploy);
    const config = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3 } } as KubeObject;
    assert.throws(() => applyConfiguration(live, config, 'ssa', false, deploy), /Apply failed with 1 conflict: conflict with "creator" using apps\/v1: \.spec\.replicas/);
    const shared = applyConfiguration(live, { ...config, spec: { replicas: 2 } }, 'ssa', false, deploy);
    assert.deepEqual(
      (shared.metadata.managedFields as any[]).map((e) => [e.manager, e.fieldsV1?.['f:spec']?.['f:replicas']]),
      [
        ['ssa', {}],
        ['creator', {}],
      ],
    );
    const forced = applyConfiguration(live, config, 'ssa', true, deploy);
    assert.equal((forced.spec as any).replicas, 3);
    assert.equal((forced.metadata.managedFields as any[]).find((e) => e.manager === 'creator').fieldsV1['f:spec']['f:replicas'], undefined);
  });

  it('status writes own only status and keep the live entries', () => {
    const live = base();
    recordUpdate(undefined, live, 'creator', deploy);
    const next = structuredClone(live) as any;
    next.status = { replicas: 2 };
    next.metadata.managedFields = [{}];
    recordUpdate(live, next, 'controller', { ...deploy, subresource: 'status' });
    const entry = next.metadata.managedFields.find((e: any) => e.manager === 'controller');
    assert.deepEqual(entry, { manager: 'controller', operation: 'Update', apiVersion: 'apps/v1', time: entry.time, fieldsType: 'FieldsV1', fieldsV1: { 'f:status': { 'f:replicas': {} } }, subresource: 'status' });
    assert.ok(next.metadata.managedFields.some((e: any) => e.manager === 'creator'));
  });
});
