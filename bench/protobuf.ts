// Protobuf vs JSON for a 100-item PodList as the server answers it: bytes on
// the wire and encode time per list (JSON.stringify vs the protobuf encoder),
// and the decode time of each. Pods are shaped like a Deployment's running
// pods (labels, owner reference, managed fields, one container with probes
// and resources, a projected token volume, status with conditions and IPs).
import { performance } from 'node:perf_hooks';
import { decodeObject, encodeObject } from '../src/apiserver/protobuf/wire.js';

function pod(i: number): Record<string, unknown> {
  const t = '2024-05-06T07:08:09Z';
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: `web-7d9f8c6b5-${i.toString(36).padStart(5, 'x')}`, generateName: 'web-7d9f8c6b5-', namespace: 'default', uid: `6f1c2a3b-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resourceVersion: String(1000 + i), creationTimestamp: t, labels: { app: 'web', 'pod-template-hash': '7d9f8c6b5' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f8c6b5', uid: '0e2d', controller: true, blockOwnerDeletion: true }],
      managedFields: [{ manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', time: t, fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } } }],
    },
    spec: {
      volumes: [{ name: 'kube-api-access-abcde', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }] } }],
      containers: [{
        name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80, protocol: 'TCP' }],
        resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m', memory: '64Mi' } },
        readinessProbe: { httpGet: { path: '/', port: 80, scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
        volumeMounts: [{ name: 'kube-api-access-abcde', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
        terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent',
      }],
      restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', serviceAccountName: 'default', serviceAccount: 'default',
      nodeName: 'node-1', securityContext: {}, schedulerName: 'default-scheduler', enableServiceLinks: true, preemptionPolicy: 'PreemptLowerPriority', priority: 0,
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
    },
    status: {
      phase: 'Running', hostIP: '172.18.0.2', podIP: `10.244.0.${i + 2}`, podIPs: [{ ip: `10.244.0.${i + 2}` }], startTime: t, qosClass: 'Burstable',
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: t })),
      containerStatuses: [{ name: 'nginx', ready: true, restartCount: 0, image: 'nginx:1.27', imageID: 'docker.io/library/nginx@sha256:abc', containerID: 'containerd://abc', started: true, state: { running: { startedAt: t } }, lastState: {} }],
    },
  };
}

const list = { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '1100' }, items: Array.from({ length: 100 }, (_, i) => pod(i)) };

function time(fn: () => unknown, rounds = 200): number {
  for (let i = 0; i < 20; i++) fn();
  const start = performance.now();
  for (let i = 0; i < rounds; i++) fn();
  return (performance.now() - start) / rounds;
}

const json = JSON.stringify(list);
const pb = encodeObject(list);
const rows: [string, string, string, string][] = [
  ['bytes (100-pod list)', String(pb.length), String(Buffer.byteLength(json)), (pb.length / Buffer.byteLength(json)).toFixed(2)],
  ['encode ms per list', time(() => encodeObject(list)).toFixed(3), time(() => JSON.stringify(list)).toFixed(3), ''],
  ['decode ms per list', time(() => decodeObject(pb)).toFixed(3), time(() => JSON.parse(json)).toFixed(3), ''],
];
rows[1][3] = (Number(rows[1][1]) / Number(rows[1][2])).toFixed(2);
rows[2][3] = (Number(rows[2][1]) / Number(rows[2][2])).toFixed(2);
console.log('figure                  protobuf      JSON   ratio');
for (const [f, p, j, r] of rows) console.log(`${f.padEnd(22)} ${p.padStart(9)} ${j.padStart(9)} ${r.padStart(7)}`);
console.log(`per pod: ${(pb.length / 100).toFixed(0)} B protobuf, ${(Buffer.byteLength(json) / 100).toFixed(0)} B JSON`);
