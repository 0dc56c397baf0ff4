// Tests for protobuf request bodies, read by the one protobuf codec
// (apiserver/protobuf) with zero values as unset. The fixtures are real bodies:
// kubectl 1.32.4 (protobuf) and kubectl 1.31.9 (JSON) were run with the same
// command lines against a recording server on 127.0.0.1; the decoded protobuf
// must equal the JSON body once the empty values the JSON encoder writes for
// non-pointer structs (`"resources": {}`, `"creationTimestamp": null`,
// `"status": {}`) are dropped, since the decoder treats empty as unset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtobufDecodeError } from '../src/apiserver/protobuf/codec.js';
import { canDecode, decodeObject, isProtobufContentType } from '../src/apiserver/protobuf/read.js';
import { message } from '../src/apiserver/protobuf/declarations.js';

/** A request body as decode.ts reads it. */
function decodeProtobufObject(body: Buffer): { apiVersion: string; kind: string; object: Record<string, unknown> } {
  const object = decodeObject(body, { zeroIsUnset: true });
  return { apiVersion: object.apiVersion as string, kind: object.kind as string, object };
}

/** The kinds the request decoder read before it became the shared codec: each must still decode. */
const REQUEST_KINDS = [
  'v1/Namespace', 'v1/Service', 'v1/Pod', 'v1/ConfigMap', 'v1/Secret', 'v1/ServiceAccount',
  'apps/v1/Deployment', 'apps/v1/ReplicaSet', 'apps/v1/DaemonSet',
  'rbac.authorization.k8s.io/v1/Role', 'rbac.authorization.k8s.io/v1/ClusterRole',
  'rbac.authorization.k8s.io/v1/RoleBinding', 'rbac.authorization.k8s.io/v1/ClusterRoleBinding',
  'authorization.k8s.io/v1/SubjectAccessReview', 'authorization.k8s.io/v1/LocalSubjectAccessReview',
  'authorization.k8s.io/v1/SelfSubjectAccessReview', 'authorization.k8s.io/v1/SelfSubjectRulesReview',
  'authentication.k8s.io/v1/TokenRequest', 'authentication.k8s.io/v1/TokenReview', 'authentication.k8s.io/v1/SelfSubjectReview',
  'policy/v1/PodDisruptionBudget', 'policy/v1/Eviction', 'policy/v1beta1/Eviction',
  'batch/v1/Job', 'batch/v1/CronJob',
];

interface Capture {
  command: string;
  path: string;
  protobuf: string;
  json: Record<string, unknown>;
}

const CAPTURES: Capture[] = [
  {
    command: 'kubectl create deployment web --image=nginx --replicas=3 --port=80',
    path: '/apis/apps/v1/namespaces/default/deployments',
    protobuf:
      '6b3873000a150a07617070732f7631120a4465706c6f796d656e7412b8010a1f0a0377656212001a0022002a00320038' +
      '0042005a0a0a0361707012037765621286010803120c0a0a0a0361707012037765621a6c0a1c0a0012001a0022002a00' +
      '3200380042005a0a0a036170701203776562124c122e0a056e67696e7812056e67696e782a00320a0a00100018502200' +
      '2a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a0100c20100' +
      '22020a00280038001a0c0800100018002000280038001a002200',
    json: {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": "web", "creationTimestamp": null, "labels": {"app": "web"}}, "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"creationTimestamp": null, "labels": {"app": "web"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx", "ports": [{"containerPort": 80}], "resources": {}}]}}, "strategy": {}}, "status": {}},
  },
  {
    command: 'kubectl create service nodeport ns1 --tcp=80:8080',
    path: '/api/v1/namespaces/default/services',
    protobuf:
      '6b3873000a0d0a02763112075365727669636512680a1f0a036e733112001a0022002a003200380042005a0a0a036170' +
      '7012036e733112410a1b0a0738302d38303830120354435018502207080010903f1a002800120a0a0361707012036e73' +
      '311a0022084e6f6465506f72743a00420052005a00600068001a020a001a002200',
    json: {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "ns1", "creationTimestamp": null, "labels": {"app": "ns1"}}, "spec": {"ports": [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}], "selector": {"app": "ns1"}, "type": "NodePort"}, "status": {"loadBalancer": {}}},
  },
  {
    command: 'kubectl create service clusterip c1 --tcp=5678:8080 --clusterip=None',
    path: '/api/v1/namespaces/default/services',
    protobuf:
      '6b3873000a0d0a027631120753657276696365126d0a1d0a02633112001a0022002a003200380042005a090a03617070' +
      '1202633112480a1e0a09353637382d38303830120354435018ae2c2207080010903f1a00280012090a03617070120263' +
      '311a044e6f6e652209436c757374657249503a00420052005a00600068001a020a001a002200',
    json: {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "c1", "creationTimestamp": null, "labels": {"app": "c1"}}, "spec": {"ports": [{"name": "5678-8080", "protocol": "TCP", "port": 5678, "targetPort": 8080}], "selector": {"app": "c1"}, "clusterIP": "None", "type": "ClusterIP"}, "status": {"loadBalancer": {}}},
  },
  {
    command: 'kubectl create service externalname e1 --external-name=www.example.com',
    path: '/api/v1/namespaces/default/services',
    protobuf:
      '6b3873000a0d0a027631120753657276696365125b0a1d0a02653112001a0022002a003200380042005a090a03617070' +
      '12026531123612090a03617070120265311a00220c45787465726e616c4e616d653a004200520f7777772e6578616d70' +
      '6c652e636f6d5a00600068001a020a001a002200',
    json: {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "e1", "creationTimestamp": null, "labels": {"app": "e1"}}, "spec": {"selector": {"app": "e1"}, "type": "ExternalName", "externalName": "www.example.com"}, "status": {"loadBalancer": {}}},
  },
  {
    command: 'kubectl create service loadbalancer lb1 --tcp=80:http',
    path: '/api/v1/namespaces/default/services',
    protobuf:
      '6b3873000a0d0a027631120753657276696365126f0a1f0a036c623112001a0022002a003200380042005a0a0a036170' +
      '7012036c623112480a1e0a0738302d6874747012035443501850220a080110001a04687474702800120a0a0361707012' +
      '036c62311a00220c4c6f616442616c616e6365723a00420052005a00600068001a020a001a002200',
    json: {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "lb1", "creationTimestamp": null, "labels": {"app": "lb1"}}, "spec": {"ports": [{"name": "80-http", "protocol": "TCP", "port": 80, "targetPort": "http"}], "selector": {"app": "lb1"}, "type": "LoadBalancer"}, "status": {"loadBalancer": {}}},
  },
  {
    command: 'kubectl create service nodeport np2 --tcp=80:8080 --node-port=30080',
    path: '/api/v1/namespaces/default/services',
    protobuf:
      '6b3873000a0d0a027631120753657276696365126a0a1f0a036e703212001a0022002a003200380042005a0a0a036170' +
      '7012036e703212430a1d0a0738302d38303830120354435018502207080010903f1a002880eb01120a0a036170701203' +
      '6e70321a0022084e6f6465506f72743a00420052005a00600068001a020a001a002200',
    json: {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "np2", "creationTimestamp": null, "labels": {"app": "np2"}}, "spec": {"ports": [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080, "nodePort": 30080}], "selector": {"app": "np2"}, "type": "NodePort"}, "status": {"loadBalancer": {}}},
  },
  {
    command: 'kubectl create namespace foo',
    path: '/api/v1/namespaces',
    protobuf:
      '6b3873000a0f0a02763112094e616d657370616365121b0a130a03666f6f12001a0022002a0032003800420012001a02' +
      '0a001a002200',
    json: {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "foo", "creationTimestamp": null}, "spec": {}, "status": {}},
  },
  {
    command: 'kubectl create deployment zero --image=nginx --replicas=0',
    path: '/apis/apps/v1/namespaces/default/deployments',
    protobuf:
      '6b3873000a150a07617070732f7631120a4465706c6f796d656e7412af010a210a047a65726f12001a0022002a003200' +
      '380042005a0b0a0361707012047a65726f127c0800120d0a0b0a0361707012047a65726f1a610a1d0a0012001a002200' +
      '2a003200380042005a0b0a0361707012047a65726f124012220a056e67696e7812056e67696e782a0042006a00720080' +
      '0100880100900100a201001a00320042004a0052005800600068008201008a01009a0100c2010022020a00280038001a' +
      '0c0800100018002000280038001a002200',
    json: {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": "zero", "creationTimestamp": null, "labels": {"app": "zero"}}, "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "zero"}}, "template": {"metadata": {"creationTimestamp": null, "labels": {"app": "zero"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}]}}, "strategy": {}}, "status": {}},
  },
  {
    command: 'kubectl create configmap cm --from-literal=a=b',
    path: '/api/v1/namespaces/default/configmaps',
    protobuf:
      '6b3873000a0f0a0276311209436f6e6669674d6170121c0a120a02636d12001a0022002a0032003800420012060a0161' +
      '1201621a002200',
    json: {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "cm", "creationTimestamp": null}, "data": {"a": "b"}},
  },
  {
    command: 'kubectl create secret generic s1 --from-literal=k=v',
    path: '/api/v1/namespaces/default/secrets',
    protobuf:
      '6b3873000a0c0a0276311206536563726574121e0a120a02733112001a0022002a0032003800420012060a016b120176' +
      '1a001a002200',
    json: {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "s1", "creationTimestamp": null}, "data": {"k": "dg=="}},
  },
  {
    command: 'kubectl create serviceaccount sa1',
    path: '/api/v1/namespaces/default/serviceaccounts',
    protobuf:
      '6b3873000a140a027631120e536572766963654163636f756e7412150a130a0373613112001a0022002a003200380042' +
      '001a002200',
    json: {"kind": "ServiceAccount", "apiVersion": "v1", "metadata": {"name": "sa1", "creationTimestamp": null}},
  },
  {
    command: 'kubectl create deployment multi --image=busybox --image=nginx',
    path: '/apis/apps/v1/namespaces/default/deployments',
    protobuf:
      '6b3873000a150a07617070732f7631120a4465706c6f796d656e7412dd010a230a056d756c746912001a0022002a0032' +
      '00380042005a0c0a0361707012056d756c746912a7010801120e0a0c0a0361707012056d756c74691a8a010a1e0a0012' +
      '001a0022002a003200380042005a0c0a0361707012056d756c7469126812260a0762757379626f78120762757379626f' +
      '782a0042006a007200800100880100900100a2010012220a056e67696e7812056e67696e782a0042006a007200800100' +
      '880100900100a201001a00320042004a0052005800600068008201008a01009a0100c2010022020a00280038001a0c08' +
      '00100018002000280038001a002200',
    json: {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": "multi", "creationTimestamp": null, "labels": {"app": "multi"}}, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "multi"}}, "template": {"metadata": {"creationTimestamp": null, "labels": {"app": "multi"}}, "spec": {"containers": [{"name": "busybox", "image": "busybox", "resources": {}}, {"name": "nginx", "image": "nginx", "resources": {}}]}}, "strategy": {}}, "status": {}},
  },
  {
    command: 'kubectl create deployment cmd --image=busybox -- sleep 10',
    path: '/apis/apps/v1/namespaces/default/deployments',
    protobuf:
      '6b3873000a150a07617070732f7631120a4465706c6f796d656e7412bb010a1f0a03636d6412001a0022002a00320038' +
      '0042005a0a0a036170701203636d641289010801120c0a0a0a036170701203636d641a6f0a1c0a0012001a0022002a00' +
      '3200380042005a0a0a036170701203636d64124f12310a0762757379626f78120762757379626f781a05736c6565701a' +
      '0231302a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a0100' +
      'c2010022020a00280038001a0c0800100018002000280038001a002200',
    json: {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": "cmd", "creationTimestamp": null, "labels": {"app": "cmd"}}, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "cmd"}}, "template": {"metadata": {"creationTimestamp": null, "labels": {"app": "cmd"}}, "spec": {"containers": [{"name": "busybox", "image": "busybox", "command": ["sleep", "10"], "resources": {}}]}}, "strategy": {}}, "status": {}},
  },
  {
    command: 'kubectl create deployment pp --image=nginx --port=8080 --replicas=1 -n team',
    path: '/apis/apps/v1/namespaces/team/deployments',
    protobuf:
      '6b3873000a150a07617070732f7631120a4465706c6f796d656e7412b9010a210a02707012001a047465616d22002a00' +
      '3200380042005a090a03617070120270701285010801120b0a090a03617070120270701a6c0a1b0a0012001a0022002a' +
      '003200380042005a090a0361707012027070124d122f0a056e67696e7812056e67696e782a00320b0a00100018903f22' +
      '002a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a0100c201' +
      '0022020a00280038001a0c0800100018002000280038001a002200',
    json: {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": "pp", "namespace": "team", "creationTimestamp": null, "labels": {"app": "pp"}}, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "pp"}}, "template": {"metadata": {"creationTimestamp": null, "labels": {"app": "pp"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx", "ports": [{"containerPort": 8080}], "resources": {}}]}}, "strategy": {}}, "status": {}},
  },
  {
    command: 'kubectl create configmap cm2 --from-literal=x=1 --from-literal=y=two -n team',
    path: '/api/v1/namespaces/team/configmaps',
    protobuf:
      '6b3873000a0f0a0276311209436f6e6669674d6170122b0a170a03636d3212001a047465616d22002a00320038004200' +
      '12060a017812013112080a0179120374776f1a002200',
    json: {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "cm2", "namespace": "team", "creationTimestamp": null}, "data": {"x": "1", "y": "two"}},
  },
  {
    command: 'kubectl create service clusterip both --tcp=80:8080 --tcp=443:8443',
    path: '/api/v1/namespaces/default/services',
    protobuf:
      '6b3873000a0d0a027631120753657276696365128b010a210a04626f746812001a0022002a003200380042005a0b0a03' +
      '6170701204626f746812620a1b0a0738302d38303830120354435018502207080010903f1a0028000a1d0a083434332d' +
      '38343433120354435018bb032207080010fb411a002800120b0a036170701204626f74681a002209436c757374657249' +
      '503a00420052005a00600068001a020a001a002200',
    json: {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "both", "creationTimestamp": null, "labels": {"app": "both"}}, "spec": {"ports": [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}, {"name": "443-8443", "protocol": "TCP", "port": 443, "targetPort": 8443}], "selector": {"app": "both"}, "type": "ClusterIP"}, "status": {"loadBalancer": {}}},
  },
];

// `kubectl create job j1 --image=busybox`.
const JOB_BODY =
  '6b3873000a0f0a0862617463682f763112034a6f62127a0a120a026a3112001a0022002a00320038004200125a32580a' +
  '100a0012001a0022002a00320038004200124412210a026a31120762757379626f782a0042006a007200800100880100' +
  '900100a201001a054e65766572320042004a0052005800600068008201008a01009a0100c201001a082000280030003a' +
  '001a002200';

/** Drops null, {} and [] recursively: what omitempty-free JSON writes for unset structs. */
function withoutEmpty(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutEmpty);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const y = withoutEmpty(x);
      if (y === null || y === undefined) continue;
      if (Array.isArray(y) && y.length === 0) continue;
      if (typeof y === 'object' && !Array.isArray(y) && Object.keys(y).length === 0) continue;
      out[k] = y;
    }
    return out;
  }
  return v;
}

for (const c of CAPTURES) {
  test(`decodes the body of: ${c.command}`, () => {
    const decoded = decodeProtobufObject(Buffer.from(c.protobuf, 'hex'));
    assert.equal(decoded.apiVersion, c.json['apiVersion']);
    assert.equal(decoded.kind, c.json['kind']);
    assert.deepEqual(decoded.object, withoutEmpty(c.json));
  });
}

function capture(prefix: string): Capture {
  const c = CAPTURES.find((x) => x.command.startsWith(prefix));
  assert.ok(c, prefix);
  return c;
}

test('kubectl create namespace: exactly the decoded object', () => {
  const decoded = decodeProtobufObject(Buffer.from(capture('kubectl create namespace foo').protobuf, 'hex'));
  assert.deepEqual(decoded, {
    apiVersion: 'v1',
    kind: 'Namespace',
    object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'foo' } },
  });
});

test('pointer fields present on the wire survive as zero (replicas: 0)', () => {
  const decoded = decodeProtobufObject(Buffer.from(capture('kubectl create deployment zero').protobuf, 'hex'));
  const spec = decoded.object['spec'] as Record<string, unknown>;
  assert.equal(spec['replicas'], 0);
  // minReadySeconds and paused are non-pointers sent as zero: they must vanish.
  assert.equal('minReadySeconds' in spec, false);
  assert.equal('paused' in spec, false);
});

test('IntOrString decodes to a number or a string', () => {
  const lb = decodeProtobufObject(Buffer.from(capture('kubectl create service loadbalancer').protobuf, 'hex'));
  const np = decodeProtobufObject(Buffer.from(capture('kubectl create service nodeport np2').protobuf, 'hex'));
  const port = (o: Record<string, unknown>) => ((o['spec'] as Record<string, unknown>)['ports'] as Record<string, unknown>[])[0]!;
  assert.equal(port(lb.object)['targetPort'], 'http');
  assert.equal(port(np.object)['targetPort'], 8080);
  assert.equal(port(np.object)['nodePort'], 30080);
});

test('bytes map values (Secret.data) become base64 like the JSON encoder', () => {
  const decoded = decodeProtobufObject(Buffer.from(capture('kubectl create secret generic').protobuf, 'hex'));
  assert.deepEqual(decoded.object['data'], { k: 'dg==' });
});

// ---- hand-built bodies for what kubectl's generators never send ----

function varint(n: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}
/** varint field */
const fv = (field: number, n: number | bigint): Buffer => Buffer.concat([varint(field * 8), varint(n)]);
/** length-delimited field (string, bytes or an already-encoded message) */
const fb = (field: number, v: string | Buffer): Buffer => {
  const b = typeof v === 'string' ? Buffer.from(v) : v;
  return Buffer.concat([varint(field * 8 + 2), varint(b.length), b]);
};
/** nested message field */
const fm = (field: number, ...parts: Buffer[]): Buffer => fb(field, Buffer.concat(parts));
const MAGIC = Buffer.from('6b387300', 'hex');
const envelope = (apiVersion: string, kind: string, raw: Buffer, contentEncoding = ''): Buffer =>
  Buffer.concat([MAGIC, fm(1, fb(1, apiVersion), fb(2, kind)), fb(2, raw), fb(3, contentEncoding), fb(4, '')]);

test('metadata: times, labels with empty values, owner references, unknown fields', () => {
  const meta = fm(
    1,
    fb(1, 'p1'),
    fb(3, 'team'),
    fv(7, 0),
    fm(8, fv(1, 1700000000), fv(2, 5)), // creationTimestamp
    fm(9), // deletionTimestamp: zero time is an empty message → null → omitted
    fm(11, fb(1, 'a'), fb(2, '')), // labels {a: ""}
    fm(11, fb(1, 'b'), fb(2, 'c')),
    fm(13, fb(5, 'apps/v1'), fb(1, 'ReplicaSet'), fb(3, 'rs'), fb(4, 'u-1'), fv(6, 1), fv(7, 0)),
    fm(17, fb(1, 'kubectl'), fb(2, 'Apply'), fm(4)), // managedFields, its zero time left out
    fv(99, 7), // unknown field
  );
  const spec = fm(2, fm(2, fb(1, 'c'), fb(2, 'img')), fb(3, 'Always'));
  const decoded = decodeProtobufObject(envelope('v1', 'Pod', Buffer.concat([meta, spec, fm(3, fb(1, 'Running'))])));
  assert.deepEqual(decoded.object, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'p1',
      namespace: 'team',
      creationTimestamp: '2023-11-14T22:13:20Z',
      labels: { a: '', b: 'c' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u-1', controller: true, blockOwnerDeletion: false }],
      managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
    },
    spec: { containers: [{ name: 'c', image: 'img' }], restartPolicy: 'Always' },
    // Decoded as upstream's decoder reads it; the pod strategy decides what a create keeps.
    status: { phase: 'Running' },
  });
});

test('pod spec: inline volume sources, probes, env, resources, pointers', () => {
  const container = Buffer.concat([
    fb(1, 'web'),
    fb(2, 'nginx'),
    fb(3, 'sh'),
    fb(3, ''), // an empty argument is an argument
    fm(6, fb(1, 'http'), fv(3, 8080), fb(4, 'TCP')),
    fm(7, fb(1, 'A'), fb(2, '1')),
    fm(7, fb(1, 'B'), fm(3, fm(3, fm(1, fb(1, 'cm')), fb(2, 'key')))), // configMapKeyRef with inline name
    fm(8, fm(1, fb(1, 'cpu'), fm(2, fb(1, '500m'))), fm(2, fb(1, 'memory'), fm(2, fb(1, '64Mi')))),
    fm(9, fb(1, 'data'), fb(3, '/data')),
    fm(11, fm(1, fm(2, fb(1, '/healthz'), fm(2, fv(1, 1), fb(3, 'http')))), fv(4, 5), fv(6, 0)), // readinessProbe
    fm(10, fm(1, fm(3, fm(1, fv(1, 0), fv(2, 8080)))), fv(2, 3)), // livenessProbe tcpSocket
  ]);
  const podSpec = Buffer.concat([
    fm(1, fb(1, 'data'), fm(2, fm(2))), // volume with emptyDir: {}
    fm(1, fb(1, 'cfg'), fm(2, fm(19, fm(1, fb(1, 'cm')), fv(3, 420)))),
    fm(2, container),
    fv(4, 0), // terminationGracePeriodSeconds: 0 is meaningful
    fb(6, 'ClusterFirst'),
    fm(7, fb(1, 'disk'), fb(2, 'ssd')),
    fv(11, 0),
    fm(22, fb(1, 'k'), fb(2, 'Exists'), fv(5, 30)),
  ]);
  const decoded = decodeProtobufObject(envelope('v1', 'Pod', Buffer.concat([fm(1, fb(1, 'p')), fm(2, podSpec)])));
  assert.deepEqual(decoded.object['spec'], {
    volumes: [
      { name: 'data', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'cm', defaultMode: 420 } },
    ],
    containers: [
      {
        name: 'web',
        image: 'nginx',
        command: ['sh', ''],
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
        env: [
          { name: 'A', value: '1' },
          { name: 'B', valueFrom: { configMapKeyRef: { name: 'cm', key: 'key' } } },
        ],
        resources: { limits: { cpu: '500m' }, requests: { memory: '64Mi' } },
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
        readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
        livenessProbe: { tcpSocket: { port: 8080 }, initialDelaySeconds: 3 },
      },
    ],
    terminationGracePeriodSeconds: 0,
    dnsPolicy: 'ClusterFirst',
    nodeSelector: { disk: 'ssd' },
    tolerations: [{ key: 'k', operator: 'Exists', tolerationSeconds: 30 }],
  });
});

test('service: pointer strings and session affinity config', () => {
  const spec = Buffer.concat([
    fm(1, fb(1, 'dns'), fb(2, 'UDP'), fb(6, ''), fv(3, 53), fm(4, fv(1, 0), fv(2, 0)), fv(5, 0)),
    fb(3, '10.96.0.10'),
    fb(18, '10.96.0.10'),
    fb(4, 'ClusterIP'),
    fb(7, 'ClientIP'),
    fm(14, fm(1, fv(1, 10800))),
    fb(19, 'IPv4'),
    fb(17, 'SingleStack'),
    fb(22, 'Local'),
    fv(13, 1),
  ]);
  const decoded = decodeProtobufObject(envelope('v1', 'Service', Buffer.concat([fm(1, fb(1, 'kube-dns')), fm(2, spec), fm(3, fm(1))])));
  assert.deepEqual(decoded.object['spec'], {
    // appProtocol is a *string: present-but-empty stays; targetPort/nodePort zero are unset.
    ports: [{ name: 'dns', protocol: 'UDP', appProtocol: '', port: 53 }],
    clusterIP: '10.96.0.10',
    clusterIPs: ['10.96.0.10'],
    type: 'ClusterIP',
    sessionAffinity: 'ClientIP',
    sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
    ipFamilies: ['IPv4'],
    ipFamilyPolicy: 'SingleStack',
    internalTrafficPolicy: 'Local',
    publishNotReadyAddresses: true,
  });
  assert.equal('status' in decoded.object, false);
});

test('deployment strategy: IntOrString pointers keep 0 and percentages', () => {
  const spec = fm(2, fv(1, 2), fm(4, fb(1, 'RollingUpdate'), fm(2, fm(1, fv(1, 1), fb(3, '25%')), fm(2, fv(1, 0), fv(2, 0)))), fv(6, 0));
  const decoded = decodeProtobufObject(envelope('apps/v1', 'Deployment', Buffer.concat([fm(1, fb(1, 'd')), spec])));
  assert.deepEqual(decoded.object['spec'], {
    replicas: 2,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 0 } },
    revisionHistoryLimit: 0,
  });
});

test('replicasets and daemonsets share the pod template', () => {
  const template = fm(3, fm(1, fm(11, fb(1, 'app'), fb(2, 'x'))), fm(2, fm(2, fb(1, 'c'), fb(2, 'i'))));
  const rs = decodeProtobufObject(
    envelope('apps/v1', 'ReplicaSet', Buffer.concat([fm(1, fb(1, 'rs')), fm(2, fv(1, 1), fm(2, fm(1, fb(1, 'app'), fb(2, 'x'))), template)])),
  );
  assert.deepEqual(rs.object['spec'], {
    replicas: 1,
    selector: { matchLabels: { app: 'x' } },
    template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
  });
  const ds = decodeProtobufObject(
    envelope(
      'apps/v1',
      'DaemonSet',
      Buffer.concat([
        fm(1, fb(1, 'ds')),
        fm(2, fm(1, fm(2, fb(1, 'app'), fb(2, 'In'), fb(3, 'x'))), fm(2, fm(1), fm(2)), fm(3, fb(1, 'OnDelete'))),
      ]),
    ),
  );
  assert.deepEqual(ds.object['spec'], {
    selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['x'] }] },
    updateStrategy: { type: 'OnDelete' },
  });
});

test('every kind read before decodes an empty object', () => {
  for (const gvk of REQUEST_KINDS) {
    const i = gvk.lastIndexOf('/');
    const apiVersion = gvk.slice(0, i);
    const kind = gvk.slice(i + 1);
    assert.deepEqual(decodeProtobufObject(envelope(apiVersion, kind, Buffer.alloc(0))).object, { apiVersion, kind });
  }
});

test('kubectl create job: a batch/v1 Job decodes', () => {
  type Job = { kind: string; apiVersion: string; metadata: { name: string }; spec: { template: { spec: { restartPolicy: string; containers: { name: string; image: string }[] } } } };
  const decoded = decodeProtobufObject(Buffer.from(JOB_BODY, 'hex')).object as unknown as Job;
  assert.equal(decoded.kind, 'Job');
  assert.equal(decoded.apiVersion, 'batch/v1');
  assert.equal(decoded.metadata.name, 'j1');
  assert.equal(decoded.spec.template.spec.restartPolicy, 'Never');
  assert.deepEqual(decoded.spec.template.spec.containers.map((c) => [c.name, c.image]), [['j1', 'busybox']]);
});

test('malformed or unsupported bodies throw ProtobufDecodeError', () => {
  const ns = Buffer.from(capture('kubectl create namespace foo').protobuf, 'hex');
  const cases: [string, Buffer, RegExp][] = [
    ['empty body', Buffer.alloc(0), /magic/],
    ['JSON body', Buffer.from('{"kind":"Namespace"}'), /magic/],
    ['truncated envelope', ns.subarray(0, ns.length - 10), /malformed protobuf runtime.Unknown/],
    ['no typeMeta', Buffer.concat([MAGIC, fb(2, Buffer.alloc(0))]), /apiVersion\/kind/],
    // The Job's envelope with its kind renamed: a kind nothing declares.
    ['unsupported kind', Buffer.from(JOB_BODY.replace('12034a6f62', '12034a6f78'), 'hex'), /Jox in batch\/v1 is not supported/],
    ['kind in the wrong group', envelope('v1', 'Deployment', Buffer.alloc(0)), /Deployment in v1 is not supported/],
    ['compressed raw', envelope('v1', 'Namespace', Buffer.alloc(0), 'gzip'), /contentEncoding "gzip"/],
    ['truncated raw', envelope('v1', 'Namespace', Buffer.from([0x0a, 0x10, 0x0a])), /malformed protobuf v1 Namespace/],
    ['bad wire type', envelope('v1', 'Namespace', Buffer.from([0x0f])), /malformed protobuf v1 Namespace/],
    ['time out of range', envelope('v1', 'Namespace', fm(1, fm(8, fv(1, 1e12)))), /timestamp/],
  ];
  for (const [what, body, message] of cases) {
    assert.throws(() => decodeProtobufObject(body), (err: unknown) => {
      assert.ok(err instanceof ProtobufDecodeError, what);
      assert.match(err.message, message, what);
      return true;
    });
  }
});

test('isProtobufContentType', () => {
  assert.equal(isProtobufContentType('application/vnd.kubernetes.protobuf'), true);
  assert.equal(isProtobufContentType('Application/VND.Kubernetes.Protobuf; charset=utf-8'), true);
  assert.equal(isProtobufContentType('application/json'), false);
  assert.equal(isProtobufContentType('application/vnd.kubernetes.protobuf+json'), false);
  assert.equal(isProtobufContentType(''), false);
  assert.equal(isProtobufContentType(undefined), false);
});

test('pointer-ness comes from the Go types: zero pointers kept, zero non-pointers unset', () => {
  const field = (msg: string, name: string) => message(msg).fields.find((f) => f.name === name)!;
  assert.equal(field('io.k8s.api.apps.v1.DeploymentSpec', 'replicas').pointer, true);
  assert.equal(field('io.k8s.api.apps.v1.DeploymentSpec', 'minReadySeconds').pointer, false);
  assert.equal(field('io.k8s.api.apps.v1.RollingUpdateDeployment', 'maxSurge').pointer, true);
  assert.equal(field('io.k8s.api.core.v1.VolumeSource', 'emptyDir').pointer, true);
  // A securityContext asking for root (runAsUser: 0) and not privileged: both pointers, both kept.
  const container = Buffer.concat([fb(1, 'c'), fb(2, 'i'), fm(15, fv(2, 0), fv(4, 0), fv(6, 0))]);
  const pod = decodeProtobufObject(envelope('v1', 'Pod', Buffer.concat([fm(1, fb(1, 'p')), fm(2, fm(2, container))])));
  const spec = pod.object['spec'] as { containers: Record<string, unknown>[] };
  // readOnlyRootFilesystem (6) is a *bool too.
  assert.deepEqual(spec.containers[0]!['securityContext'], { privileged: false, runAsUser: 0, readOnlyRootFilesystem: false });
});

test('evictions and delete options as typed clients send them', () => {
  const eviction = decodeProtobufObject(
    envelope('policy/v1', 'Eviction', Buffer.concat([fm(1, fb(1, 'p'), fb(3, 'default')), fm(2, fv(1, 0), fm(2, fb(1, 'u-1')), fb(5, 'All'))])),
  );
  assert.deepEqual(eviction.object, {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: 'p', namespace: 'default' },
    deleteOptions: { gracePeriodSeconds: 0, preconditions: { uid: 'u-1' }, dryRun: ['All'] },
  });
  // client-go writes DeleteOptions in the group-version of the resource.
  const opts = decodeProtobufObject(envelope('apps/v1', 'DeleteOptions', Buffer.concat([fb(4, 'Foreground'), fv(3, 0)])));
  assert.deepEqual(opts.object, { apiVersion: 'apps/v1', kind: 'DeleteOptions', propagationPolicy: 'Foreground', orphanDependents: false });
  assert.equal(canDecode('policy/v1beta1', 'Eviction'), true);
  assert.equal(canDecode('v1', 'Binding'), true);
  assert.equal(canDecode('stable.example.com/v1', 'CronTab'), false);
});
