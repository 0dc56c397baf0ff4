// The three PATCH formats. Expected strategic-merge results were checked against
// `kubectl patch --local`, which runs the same apimachinery strategicpatch code as kube-apiserver.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../src/api/status.js';
import { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS } from '../src/apiserver/patch/json-patch.js';
import { applyMergePatch } from '../src/apiserver/patch/merge-patch.js';
import { applyStrategicMergePatch, goFormat, mergeKeysOf, supportsStrategicMergePatch } from '../src/apiserver/patch/strategic-merge-patch.js';
import { applyPatch } from '../src/apiserver/patch/index.js';

type Obj = Record<string, any>;

/** Asserts fn throws a StatusError with this code and message (or 422 cause message). */
function throwsStatus(fn: () => unknown, code: number, message: string | RegExp): StatusError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof StatusError, `expected a StatusError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  const text = code === 422 ? (caught.status.details?.causes?.[0]?.message ?? '') : caught.message;
  if (typeof message === 'string') assert.equal(text, message);
  else assert.match(text, message);
  return caught;
}

/** Runs a patch function and checks neither input changed. */
function pure<T>(original: unknown, patch: unknown, fn: (o: unknown, p: unknown) => T): T {
  const before = JSON.stringify([original, patch]);
  const out = fn(original, patch);
  assert.equal(JSON.stringify([original, patch]), before, 'inputs were mutated');
  return out;
}

const smp = (original: unknown, patch: unknown, kind: string) => pure(original, patch, (o, p) => applyStrategicMergePatch(o, p, kind)) as Obj;

function service(): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'example-svc', namespace: 'default', labels: { app: 'example' } },
    spec: {
      clusterIP: '10.96.0.10',
      ports: [
        { name: 'http', port: 80, protocol: 'TCP', targetPort: 80 },
        { name: 'metrics', port: 9090, protocol: 'TCP', targetPort: 9090 },
      ],
      selector: { app: 'example' },
      type: 'ClusterIP',
    },
  };
}

function deployment(): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'hello-world', namespace: 'default', finalizers: ['a', 'b', 'c'] },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'hello-world' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'hello-world' } },
        spec: {
          containers: [
            {
              name: 'hello',
              image: 'registry/hello:2.0',
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: '2' },
              ],
              ports: [{ containerPort: 8080, protocol: 'TCP' }],
            },
            { name: 'sidecar', image: 'registry/sidecar:1.0' },
          ],
          tolerations: [{ key: 'k1', operator: 'Exists' }],
        },
      },
    },
  };
}

const containers = (d: Obj): Obj[] => d.spec.template.spec.containers;

describe('strategic merge patch', () => {
  it('applies the client-side apply patch kubectl sends for a 2-port service', () => {
    const lastApplied = '{"apiVersion":"v1","kind":"Service",...}\n';
    const patch = {
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied }, labels: { app: 'example2' } },
      spec: {
        '$setElementOrder/ports': [{ port: 8080 }],
        ports: [
          { name: 'http', port: 8080, targetPort: 8080 },
          { $patch: 'delete', port: 80 },
        ],
        selector: { app: 'example2' },
      },
    };
    const out = smp(service(), patch, 'Service');
    assert.deepEqual(out.metadata, {
      name: 'example-svc',
      namespace: 'default',
      labels: { app: 'example2' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied },
    });
    // Port 80 is gone, 8080 is new; 9090 was never in the applied config, so it is server-only and
    // stays, ranked before the new port (the real apiserver's order).
    assert.deepEqual(out.spec.ports, [
      { name: 'metrics', port: 9090, protocol: 'TCP', targetPort: 9090 },
      { name: 'http', port: 8080, targetPort: 8080 },
    ]);
    assert.deepEqual(out.spec.selector, { app: 'example2' });
    assert.equal(out.spec.clusterIP, '10.96.0.10');
    assert.equal(out.spec.type, 'ClusterIP');
  });

  it('applies the same patch to a service that had only the applied port', () => {
    const svc = service();
    svc.spec.ports = [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }];
    const out = smp(
      svc,
      { spec: { '$setElementOrder/ports': [{ port: 8080 }], ports: [{ name: 'http', port: 8080, targetPort: 8080 }, { $patch: 'delete', port: 80 }] } },
      'Service',
    );
    assert.deepEqual(out.spec.ports, [{ name: 'http', port: 8080, targetPort: 8080 }]);
  });

  it('updates a container image by name in a Deployment, leaving the rest of the container alone', () => {
    const patch = { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'hello' }, { name: 'sidecar' }], containers: [{ image: 'registry/hello:3.0', name: 'hello' }] } } } };
    const out = smp(deployment(), patch, 'Deployment');
    const expected = deployment();
    containers(expected)[0].image = 'registry/hello:3.0';
    assert.deepEqual(out, expected);
  });

  it('updates an image by name the same way in a Pod, a ReplicaSet and a DaemonSet', () => {
    const podSpec = () => ({ containers: [{ name: 'c', image: 'old', ports: [{ containerPort: 80 }] }] });
    const pod = smp({ kind: 'Pod', spec: podSpec() }, { spec: { containers: [{ name: 'c', image: 'new' }] } }, 'Pod');
    assert.deepEqual(pod.spec.containers, [{ name: 'c', image: 'new', ports: [{ containerPort: 80 }] }]);
    for (const kind of ['ReplicaSet', 'DaemonSet']) {
      const out = smp({ spec: { template: { spec: podSpec() } } }, { spec: { template: { spec: { containers: [{ name: 'c', image: 'new' }] } } } }, kind);
      assert.deepEqual(out.spec.template.spec.containers, [{ name: 'c', image: 'new', ports: [{ containerPort: 80 }] }], kind);
    }
  });

  it('merges env by name: changes in place, keeps the rest, puts a new variable first', () => {
    const patch = { spec: { template: { spec: { containers: [{ name: 'hello', env: [{ name: 'B', value: 'two' }, { name: 'C', value: '3' }] }] } } } };
    const out = smp(deployment(), patch, 'Deployment');
    // Without $setElementOrder an element the server list does not know goes before the server
    // elements ranked after the previous patch element, as upstream orders it.
    assert.deepEqual(containers(out)[0].env, [
      { name: 'A', value: '1' },
      { name: 'B', value: 'two' },
      { name: 'C', value: '3' },
    ]);
    const onlyNew = smp(deployment(), { spec: { template: { spec: { containers: [{ name: 'hello', env: [{ name: 'Z', value: '9' }] }] } } } }, 'Deployment');
    assert.deepEqual(containers(onlyNew)[0].env.map((e: Obj) => e.name), ['Z', 'A', 'B']);
  });

  it('orders env as $setElementOrder says', () => {
    const patch = {
      spec: { template: { spec: { containers: [{ name: 'hello', '$setElementOrder/env': [{ name: 'C' }, { name: 'B' }, { name: 'A' }], env: [{ name: 'C', value: '3' }] }] } } },
    };
    const out = smp(deployment(), patch, 'Deployment');
    assert.deepEqual(containers(out)[0].env, [
      { name: 'C', value: '3' },
      { name: 'B', value: '2' },
      { name: 'A', value: '1' },
    ]);
  });

  it('reorders a list with only $setElementOrder, server-only elements first', () => {
    const out = smp(deployment(), { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'sidecar' }] } } } }, 'Deployment');
    assert.deepEqual(containers(out).map((c) => c.name), ['hello', 'sidecar']);
    const swapped = smp(deployment(), { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'hello' }] } } } }, 'Deployment');
    assert.deepEqual(containers(swapped).map((c) => c.name), ['sidecar', 'hello']);
  });

  it('deletes list elements with $patch: delete', () => {
    const out = smp(deployment(), { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } }, 'Deployment');
    assert.deepEqual(containers(out).map((c) => c.name), ['hello']);
    // Deleting an element that is not there is fine.
    const none = smp(deployment(), { spec: { template: { spec: { containers: [{ name: 'nope', $patch: 'delete' }] } } } }, 'Deployment');
    assert.equal(containers(none).length, 2);
  });

  it('deletes and adds in one list the way the real apiserver orders them', () => {
    // The new element takes the deleted one's slot in upstream's in-place Go slice, so the
    // $setElementOrder pass ranks it after the server-only element.
    const pod = { kind: 'Pod', spec: { containers: [{ name: 'a' }, { name: 'b' }] } };
    const out = smp(pod, { spec: { '$setElementOrder/containers': [{ name: 'c' }], containers: [{ name: 'c' }, { name: 'a', $patch: 'delete' }] } }, 'Pod');
    assert.deepEqual(out.spec.containers, [{ name: 'b' }, { name: 'c' }]);
  });

  it('replaces a whole list with a $patch: replace element', () => {
    const out = smp(deployment(), { spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x', env: null }] } } } }, 'Deployment');
    assert.deepEqual(containers(out), [{ name: 'only', image: 'x' }]);
  });

  it('unions merged scalar lists and removes with $deleteFromPrimitiveList', () => {
    const out = smp(deployment(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['b'], finalizers: ['d'] } }, 'Deployment');
    assert.deepEqual(out.metadata.finalizers, ['d', 'a', 'c']);
    const union = smp(deployment(), { metadata: { finalizers: ['c', 'a'] } }, 'Deployment');
    assert.deepEqual(union.metadata.finalizers, ['b', 'c', 'a']);
    const ordered = smp(deployment(), { metadata: { '$setElementOrder/finalizers': ['c', 'a'], '$deleteFromPrimitiveList/finalizers': ['b'] } }, 'Deployment');
    assert.deepEqual(ordered.metadata.finalizers, ['c', 'a']);
    // An empty list merges to no change: only null clears a merged list.
    assert.deepEqual(smp(deployment(), { metadata: { finalizers: [] } }, 'Deployment').metadata.finalizers, ['a', 'b', 'c']);
    assert.equal(smp(deployment(), { metadata: { finalizers: null } }, 'Deployment').metadata.finalizers, undefined);
  });

  it('keeps only the listed keys with $retainKeys', () => {
    // What kubectl apply sends when the strategy changes to Recreate.
    const out = smp(deployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }, 'Deployment');
    assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
    throwsStatus(() => applyStrategicMergePatch(deployment(), { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: {} } } }, 'Deployment'), 400, 'invalid patch format of retainKeys');
    throwsStatus(() => applyStrategicMergePatch(deployment(), { spec: { strategy: { $retainKeys: 'type' } } }, 'Deployment'), 400, 'invalid patch format of retainKeys');
  });

  it('replaces and empties maps with $patch', () => {
    const replaced = smp(service(), { metadata: { labels: { $patch: 'replace', tier: 'web', gone: null } } }, 'Service');
    assert.deepEqual(replaced.metadata.labels, { tier: 'web' });
    const emptied = smp(service(), { spec: { selector: { $patch: 'delete' } } }, 'Service');
    assert.deepEqual(emptied.spec.selector, {});
    // Upstream has no map-level merge directive: it is an error, not a no-op.
    throwsStatus(() => applyStrategicMergePatch(service(), { spec: { $patch: 'merge', type: 'NodePort' } }, 'Service'), 400, /^unknown patch type: merge in map: map\[\$patch:merge type:NodePort\]$/);
  });

  it('deletes keys set to null and drops nulls from new values', () => {
    const out = smp(deployment(), { spec: { replicas: null, strategy: { rollingUpdate: null, type: 'Recreate' }, paused: null, progressDeadlineSeconds: 600, newMap: { a: 1, b: null } } }, 'Deployment');
    assert.equal('replicas' in out.spec, false);
    assert.equal('paused' in out.spec, false);
    assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
    assert.equal(out.spec.progressDeadlineSeconds, 600);
    assert.deepEqual(out.spec.newMap, { a: 1 });
  });

  it('replaces lists that have no merge strategy', () => {
    const out = smp(deployment(), { spec: { template: { spec: { tolerations: [{ key: 'k2', operator: 'Exists', value: null }] } } } }, 'Deployment');
    assert.deepEqual(out.spec.template.spec.tolerations, [{ key: 'k2', operator: 'Exists' }]);
    const ep = smp({ kind: 'Endpoints', subsets: [{ addresses: [{ ip: '10.0.0.1' }] }] }, { subsets: [{ addresses: [{ ip: '10.0.0.2' }] }] }, 'Endpoints');
    assert.deepEqual(ep.subsets, [{ addresses: [{ ip: '10.0.0.2' }] }]);
    const svc = smp(service(), { spec: { externalIPs: ['1.2.3.4'] } }, 'Service');
    assert.deepEqual(svc.spec.externalIPs, ['1.2.3.4']);
  });

  it('merges status conditions by type and node addresses by type', () => {
    const node = {
      kind: 'Node',
      status: {
        conditions: [{ type: 'Ready', status: 'False' }, { type: 'MemoryPressure', status: 'False' }],
        addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
      },
    };
    const out = smp(node, { status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'Hostname', address: 'n1' }] } }, 'Node');
    assert.deepEqual(out.status.conditions, [{ type: 'Ready', status: 'True' }, { type: 'MemoryPressure', status: 'False' }]);
    assert.deepEqual(out.status.addresses, [{ type: 'Hostname', address: 'n1' }, { type: 'InternalIP', address: '10.0.0.1' }]);
  });

  it('takes new fields from the patch without their directives', () => {
    const out = smp({ kind: 'Pod', spec: {} }, { spec: { volumes: [{ name: 'v', emptyDir: {} }, { name: 'x', $patch: 'delete' }], '$setElementOrder/volumes': [{ name: 'v' }] } }, 'Pod');
    assert.deepEqual(out.spec.volumes, [{ name: 'v', emptyDir: {} }]);
  });

  it('reports malformed patches as kube-apiserver does', () => {
    throwsStatus(() => applyStrategicMergePatch(service(), { spec: { ports: [{ name: 'x' }] } }, 'Service'), 400, 'map: map[name:x] does not contain declared merge key: port');
    throwsStatus(() => applyStrategicMergePatch(service(), { spec: { ports: [{ $patch: 'delete', name: 'http' }] } }, 'Service'), 400, 'map: map[$patch:delete name:http] does not contain declared merge key: port');
    throwsStatus(() => applyStrategicMergePatch(service(), { spec: { ports: [{ $patch: 'merge', port: 80 }] } }, 'Service'), 400, 'merging lists cannot yet be specified in the patch');
    throwsStatus(
      () => applyStrategicMergePatch(service(), { spec: { '$setElementOrder/ports': [{ port: 80 }], ports: [{ port: 9090, name: 'm' }] } }, 'Service'),
      400,
      "The order in patch list:\n[map[name:m port:9090]]\n doesn't match $setElementOrder list:\n[map[port:80]]\n",
    );
    throwsStatus(() => applyStrategicMergePatch({ metadata: { finalizers: [] } }, { metadata: { finalizers: [['x']] } }, 'Deployment'), 422, 'lists of lists are not supported');
    throwsStatus(() => applyStrategicMergePatch(deployment(), { metadata: { finalizers: [1] } }, 'Deployment'), 400, 'list element types are not identical: [[a b c] [1]]');
    throwsStatus(() => applyStrategicMergePatch(deployment(), { metadata: { '$deleteFromPrimitiveListfinalizers': ['a'] } }, 'Deployment'), 400, 'invalid patch format of primitive list');
    throwsStatus(() => applyStrategicMergePatch(service(), [], 'Service'), 400, 'json: cannot unmarshal array into Go value of type map[string]interface {}');
    throwsStatus(() => applyStrategicMergePatch({}, {}, 'Widget'), 415, /^the body of the request was in an unknown format/);
  });

  it('treats a null patch as empty and never touches its inputs', () => {
    const d = deployment();
    assert.deepEqual(smp(d, null, 'Deployment'), d);
    const out = smp(d, { spec: { template: { spec: { containers: [{ name: 'hello', image: 'new' }] } } } }, 'Deployment');
    out.spec.template.spec.containers[1].image = 'mutated';
    assert.equal(containers(d)[1].image, 'registry/sidecar:1.0', 'the result must not share objects with the input');
  });

  it('formats values as Go does in error messages', () => {
    assert.equal(goFormat({ b: [1, 'x'], a: null, c: { d: true } }), 'map[a:<nil> b:[1 x] c:map[d:true]]');
  });

  it('describes one PodSpec wherever it appears', () => {
    assert.equal(mergeKeysOf('Pod')['spec.containers'], 'name');
    for (const kind of ['Deployment', 'ReplicaSet', 'DaemonSet']) {
      const keys = mergeKeysOf(kind);
      assert.equal(keys['spec.template.spec.containers'], 'name', kind);
      assert.equal(keys['spec.template.spec.containers.env'], 'name', kind);
      assert.equal(keys['spec.template.spec.containers.ports'], 'containerPort', kind);
      assert.equal(keys['spec.template.spec.initContainers.volumeMounts'], 'mountPath', kind);
      assert.equal(keys['spec.template.spec.volumes'], 'name', kind);
      assert.equal(keys['spec.template.metadata.finalizers'], '', kind);
      assert.equal(keys['status.conditions'], 'type', kind);
    }
    assert.deepEqual(mergeKeysOf('Service'), { 'metadata.finalizers': '', 'metadata.ownerReferences': 'uid', 'spec.ports': 'port', 'status.conditions': 'type' });
    assert.equal(mergeKeysOf('Pod')['spec.tolerations'], undefined);
    assert.equal(mergeKeysOf('Node')['status.addresses'], 'type');
    assert.equal(mergeKeysOf('Node')['spec.podCIDRs'], '');
    for (const kind of ['Service', 'Endpoints', 'Pod', 'Node', 'Namespace', 'Event', 'ConfigMap', 'Deployment', 'ReplicaSet', 'DaemonSet', 'EndpointSlice', 'Scale']) {
      assert.ok(supportsStrategicMergePatch(kind), kind);
    }
  });
});

describe('JSON patch', () => {
  const jp = (original: unknown, ops: unknown) => pure(original, ops, applyJsonPatch) as Obj;

  it('adds, replaces and removes', () => {
    const out = jp(service(), [
      { op: 'replace', path: '/spec/ports/0/port', value: 81 },
      { op: 'add', path: '/metadata/labels/tier', value: 'web' },
      { op: 'add', path: '/spec/ports/-', value: { name: 'dns', port: 53 } },
      { op: 'remove', path: '/spec/clusterIP' },
      { op: 'add', path: '/spec/externalIPs', value: ['1.2.3.4'] },
    ]);
    assert.equal(out.spec.ports[0].port, 81);
    assert.deepEqual(out.metadata.labels, { app: 'example', tier: 'web' });
    assert.deepEqual(out.spec.ports[2], { name: 'dns', port: 53 });
    assert.equal('clusterIP' in out.spec, false);
    assert.deepEqual(out.spec.externalIPs, ['1.2.3.4']);
  });

  it('moves, copies and passes tests', () => {
    const out = jp(service(), [
      { op: 'test', path: '/spec/selector', value: { app: 'example' } },
      { op: 'copy', from: '/spec/selector', path: '/metadata/labels' },
      { op: 'move', from: '/spec/ports/1', path: '/spec/ports/0' },
      { op: 'test', path: '/spec/nothing', value: null },
    ]);
    assert.deepEqual(out.metadata.labels, { app: 'example' });
    assert.deepEqual(out.spec.ports.map((p: Obj) => p.port), [9090, 80]);
  });

  it('follows the apiserver library on lax paths', () => {
    assert.equal(jp(service(), [{ op: 'replace', path: '/spec/ports/-1/port', value: 1 }]).spec.ports[1].port, 1);
    assert.equal(jp(service(), [{ op: 'replace', path: '/spec/sessionAffinity', value: 'None' }]).spec.sessionAffinity, 'None');
    assert.equal(jp(service(), [{ op: 'add', path: '/spec/x' }]).spec.x, null);
    assert.equal(jp(service(), [{ op: 'copy', from: '/spec/missing', path: '/spec/y' }]).spec.y, null);
  });

  it('rejects a failed test with 422 and the library message', () => {
    const err = throwsStatus(() => applyJsonPatch(service(), [{ op: 'test', path: '/spec/ports/0/port', value: 81 }]), 422, 'testing value /spec/ports/0/port failed: test failed');
    assert.equal(err.message, 'the server rejected our request due to an error in our request');
    assert.equal(err.status.reason, 'Invalid');
  });

  it('rejects unappliable operations with the library messages', () => {
    const cases: [unknown, string][] = [
      [{ op: 'remove', path: '/spec/foo' }, "error in remove for path: '/spec/foo': Unable to remove nonexistent key: foo: missing value"],
      [{ op: 'remove', path: '/spec/foo/bar' }, 'remove operation does not apply: doc is missing path: "/spec/foo/bar": missing value'],
      [{ op: 'add', path: '/spec/nope/x', value: 1 }, 'add operation does not apply: doc is missing path: "/spec/nope/x": missing value'],
      [{ op: 'add', path: '/spec/ports/7', value: 1 }, "error in add for path: '/spec/ports/7': Unable to access invalid index: 7: invalid index referenced"],
      [{ op: 'replace', path: '/spec/ports/5', value: 1 }, 'replace operation does not apply: doc is missing key: /spec/ports/5: missing value'],
      [{ op: 'replace', path: '/spec/nope/x', value: 1 }, 'replace operation does not apply: doc is missing path: /spec/nope/x: missing value'],
      [{ op: 'move', from: '/spec/foo', path: '/spec/bar' }, "error in move for path: 'foo': Unable to remove nonexistent key: foo: missing value"],
      [{ op: 'test', path: '/spec/nope/foo', value: 1 }, 'test operation does not apply: is missing path: /spec/nope/foo: missing value'],
      [{ op: 'frob', path: '/spec' }, 'Unexpected kind: frob'],
      [{ path: '/spec' }, 'Unexpected kind: unknown'],
      [{ op: 'add', value: 1 }, 'add operation failed to decode path: missing value'],
    ];
    for (const [op, message] of cases) throwsStatus(() => applyJsonPatch(service(), [op]), 422, message);
  });

  it('rejects undecodable patches with 400 and oversized ones with 413', () => {
    throwsStatus(() => applyJsonPatch(service(), { op: 'remove' }), 400, 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    throwsStatus(() => applyJsonPatch(service(), ['x']), 400, 'json: cannot unmarshal string into Go value of type jsonpatch.Operation');
    const many = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({ op: 'test', path: '/kind', value: 'Service' }));
    throwsStatus(() => applyJsonPatch(service(), many), 413, `Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001`);
  });

  it('applies all operations or none', () => {
    const svc = service();
    throwsStatus(() => applyJsonPatch(svc, [{ op: 'remove', path: '/spec/clusterIP' }, { op: 'test', path: '/kind', value: 'Pod' }]), 422, 'testing value /kind failed: test failed');
    assert.equal(svc.spec.clusterIP, '10.96.0.10');
  });
});

describe('merge patch', () => {
  const mp = (original: unknown, patch: unknown) => pure(original, patch, applyMergePatch) as Obj;

  it('replaces arrays instead of merging them', () => {
    const out = mp(service(), { spec: { ports: [{ port: 81 }] } });
    assert.deepEqual(out.spec.ports, [{ port: 81 }]);
    assert.deepEqual(out.spec.selector, { app: 'example' });
  });

  it('merges objects recursively and deletes keys set to null', () => {
    // What `kubectl label svc example-svc tier=web app-` sends.
    const out = mp(service(), { metadata: { labels: { tier: 'web', app: null } }, spec: { clusterIP: null } });
    assert.deepEqual(out.metadata.labels, { tier: 'web' });
    assert.equal('clusterIP' in out.spec, false);
    assert.equal(out.spec.type, 'ClusterIP');
  });

  it('prunes nulls from values that had nothing to merge into', () => {
    const out = mp(service(), { spec: { sessionAffinityConfig: { clientIP: { timeoutSeconds: 10, x: null } } }, status: { loadBalancer: { ingress: [{ ip: '1.2.3.4', hostname: null }] } } });
    assert.deepEqual(out.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10 } });
    assert.deepEqual(out.status.loadBalancer.ingress, [{ ip: '1.2.3.4' }]);
  });

  it('scales a Scale object as kubectl scale does', () => {
    const scale = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web' }, spec: { replicas: 1 }, status: { replicas: 1 } };
    assert.deepEqual(mp(scale, { spec: { replicas: 3 } }).spec, { replicas: 3 });
  });

  it('rejects a patch that is not an object', () => {
    throwsStatus(() => applyMergePatch(service(), [1]), 400, 'Invalid JSON Patch');
    throwsStatus(() => applyMergePatch(service(), null), 400, 'Invalid JSON Patch');
  });
});

describe('applyPatch', () => {
  it('dispatches on the Content-Type, ignoring parameters', () => {
    const svc = service();
    assert.equal((applyPatch('application/json-patch+json', svc, [{ op: 'replace', path: '/spec/type', value: 'NodePort' }], 'Service') as Obj).spec.type, 'NodePort');
    assert.deepEqual((applyPatch('application/merge-patch+json; charset=utf-8', svc, { spec: { ports: [{ port: 1 }] } }, 'Service') as Obj).spec.ports, [{ port: 1 }]);
    assert.equal((applyPatch('application/strategic-merge-patch+json', svc, { spec: { ports: [{ port: 1 }] } }, 'Service') as Obj).spec.ports.length, 3);
  });

  it('rejects other media types with 415 and leaves server-side apply to its own path', () => {
    throwsStatus(
      () => applyPatch('application/json', service(), {}, 'Service'),
      415,
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml',
    );
    assert.throws(() => applyPatch('application/apply-patch+yaml', service(), {}, 'Service'), /server-side apply/);
  });
});

describe('keys that look like JavaScript internals', () => {
  it('stores "__proto__" and "constructor" as ordinary keys', () => {
    const cm = { kind: 'ConfigMap', data: { a: '1' } };
    const patch = JSON.parse('{"data":{"__proto__":{"polluted":true},"constructor":"x"}}');
    for (const out of [applyMergePatch(cm, patch), applyStrategicMergePatch(cm, patch, 'ConfigMap')] as Obj[]) {
      assert.ok(Object.hasOwn(out.data, '__proto__'));
      assert.equal(out.data.constructor, 'x');
      assert.equal(Object.getPrototypeOf(out.data), Object.prototype);
    }
    assert.equal(({} as Obj).polluted, undefined);
  });
});
