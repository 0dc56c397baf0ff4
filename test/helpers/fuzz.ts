// A seeded fuzzer of request bodies for the API server: valid objects of
// every served kind, with fields swapped for values of the wrong JSON type
// (a string where an object belongs, a number where a list of strings
// belongs, null, huge and fractional numbers, deep nesting, unknown and
// duplicate keys), sent through create, update, the three patch types and
// server-side apply. test/fuzz-decode.test.ts runs it briefly in CI,
// bench/fuzz-decode.ts for as long as one asks.

export { createSeededRng as seededRandom } from '../../src/util/seeded-random.js';

export interface FuzzKind {
  kind: string;
  /** The collection's path (namespaced kinds in `default`). */
  collection: string;
  /** A valid object of the kind, without a name (the fuzzer names it). */
  body: Record<string, unknown>;
}

const labels = { app: 'fuzz', tier: 'web' };
const podSpec = {
  containers: [
    {
      name: 'c',
      image: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
      args: ['serve-hostname', '--http'],
      command: ['/agnhost'],
      env: [{ name: 'A', value: 'b' }, { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
      ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
      resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: 0.1 } },
      readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 1, timeoutSeconds: 1 },
      livenessProbe: { tcpSocket: { port: 80 }, initialDelaySeconds: 5 },
    },
  ],
  restartPolicy: 'Always',
  terminationGracePeriodSeconds: 30,
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }],
  volumes: [{ name: 'cfg', configMap: { name: 'cfg', items: [{ key: 'a', path: 'a' }] } }],
};
const template = { metadata: { labels }, spec: podSpec };

/** One valid object of each kind the server serves, as a user writes them. */
export const fuzzKinds: FuzzKind[] = [
  {
    kind: 'Service',
    collection: '/api/v1/namespaces/default/services',
    body: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { labels, annotations: { note: 'x' } },
      spec: { type: 'NodePort', selector: labels, sessionAffinity: 'ClientIP', ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }, { name: 'alt', port: 81, targetPort: 8081 }], ipFamilies: ['IPv4'] },
    },
  },
  { kind: 'Pod', collection: '/api/v1/namespaces/default/pods', body: { apiVersion: 'v1', kind: 'Pod', metadata: { labels }, spec: podSpec } },
  {
    kind: 'Endpoints',
    collection: '/api/v1/namespaces/default/endpoints',
    body: { apiVersion: 'v1', kind: 'Endpoints', metadata: { labels }, subsets: [{ addresses: [{ ip: '10.244.0.5', nodeName: 'node-1' }], notReadyAddresses: [{ ip: '10.244.0.6' }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }] },
  },
  {
    kind: 'EndpointSlice',
    collection: '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices',
    body: {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-1', zone: 'a' }],
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    },
  },
  {
    kind: 'Deployment',
    collection: '/apis/apps/v1/namespaces/default/deployments',
    body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { labels }, spec: { replicas: 2, selector: { matchLabels: labels }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } }, template } },
  },
  { kind: 'ReplicaSet', collection: '/apis/apps/v1/namespaces/default/replicasets', body: { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { labels }, spec: { replicas: 1, selector: { matchLabels: labels }, template } } },
  { kind: 'DaemonSet', collection: '/apis/apps/v1/namespaces/default/daemonsets', body: { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { labels }, spec: { selector: { matchLabels: labels }, template, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } } } } },
  {
    kind: 'StatefulSet',
    collection: '/apis/apps/v1/namespaces/default/statefulsets',
    body: {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { labels },
      spec: {
        replicas: 2,
        serviceName: 'fuzz',
        selector: { matchLabels: labels },
        template,
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } },
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' },
        ordinals: { start: 0 },
        minReadySeconds: 1,
        revisionHistoryLimit: 3,
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    },
  },
  {
    kind: 'ControllerRevision',
    collection: '/apis/apps/v1/namespaces/default/controllerrevisions',
    body: { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { labels }, data: { spec: { template: { ...template, $patch: 'replace' } } }, revision: 1 },
  },
  {
    kind: 'Job',
    collection: '/apis/batch/v1/namespaces/default/jobs',
    body: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { labels },
      spec: { completions: 3, parallelism: 2, completionMode: 'Indexed', backoffLimit: 2, activeDeadlineSeconds: 600, ttlSecondsAfterFinished: 60, suspend: true, template: { ...template, spec: { ...podSpec, restartPolicy: 'Never' } } },
    },
  },
  {
    kind: 'CronJob',
    collection: '/apis/batch/v1/namespaces/default/cronjobs',
    body: {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { labels },
      spec: { schedule: '*/5 * * * *', timeZone: 'Etc/UTC', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 30, jobTemplate: { spec: { template: { ...template, spec: { ...podSpec, restartPolicy: 'OnFailure' } } } } },
    },
  },
  {
    kind: 'PodDisruptionBudget',
    collection: '/apis/policy/v1/namespaces/default/poddisruptionbudgets',
    body: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { labels }, spec: { minAvailable: 1, selector: { matchLabels: labels }, unhealthyPodEvictionPolicy: 'AlwaysAllow' } },
  },
  {
    kind: 'Lease',
    collection: '/apis/coordination.k8s.io/v1/namespaces/default/leases',
    body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { labels }, spec: { holderIdentity: 'fuzz', leaseDurationSeconds: 40, leaseTransitions: 1, renewTime: '2026-12-05T10:00:00.000000Z' } },
  },
  {
    kind: 'Secret',
    collection: '/api/v1/namespaces/default/secrets',
    body: { apiVersion: 'v1', kind: 'Secret', metadata: { labels }, type: 'kubernetes.io/basic-auth', data: { username: 'YWRtaW4=', password: 'czNjcjN0' }, stringData: { note: 'x' }, immutable: false },
  },
  { kind: 'ConfigMap', collection: '/api/v1/namespaces/default/configmaps', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { labels }, data: { a: '1', 'b.conf': 'x=y' }, binaryData: { bin: 'AAEC' } } },
  { kind: 'ServiceAccount', collection: '/api/v1/namespaces/default/serviceaccounts', body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { labels }, automountServiceAccountToken: false, secrets: [{ name: 's' }] } },
  { kind: 'Namespace', collection: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { labels } } },
  {
    kind: 'Node',
    collection: '/api/v1/nodes',
    body: { apiVersion: 'v1', kind: 'Node', metadata: { labels: { 'kubernetes.io/hostname': 'n' } }, spec: { podCIDR: '10.244.9.0/24', podCIDRs: ['10.244.9.0/24'], taints: [{ key: 'k', effect: 'NoSchedule' }] } },
  },
  {
    kind: 'Event',
    collection: '/api/v1/namespaces/default/events',
    body: { apiVersion: 'v1', kind: 'Event', metadata: {}, involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'Started', message: 'hi', type: 'Normal', count: 1, firstTimestamp: '2026-12-05T10:00:00Z', source: { component: 'fuzz' } },
  },
];

/** Values of every JSON type and then some: what a wrong-typed field is swapped for. */
function wrongValue(rand: () => number): unknown {
  const pool: (() => unknown)[] = [
    () => 'x',
    () => '',
    () => '25%',
    () => '1e3',
    () => 0,
    () => -1,
    () => 1.5,
    () => 2 ** 31,
    () => 2 ** 53 + 2,
    () => 1e300,
    () => -1e300,
    () => true,
    () => null,
    () => ({}),
    () => ({ a: 1 }),
    () => ({ a: { b: [null] } }),
    () => [],
    () => ['x'],
    () => [1, 'a', null],
    () => [{}],
    () => [[]],
    () => 'x'.repeat(1 + Math.floor(rand() * 5000)),
    () => Array.from({ length: 200 }, (_, i) => i),
    () => nest(Math.floor(rand() * 60)),
  ];
  return pool[Math.floor(rand() * pool.length)]!();
}

function nest(depth: number): unknown {
  let v: unknown = 'x';
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

type Path = (string | number)[];

/** Every path into a value, containers and leaves alike. */
function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : value && typeof value === 'object' ? Object.entries(value) : [];
  for (const [key, v] of entries) {
    out.push([...prefix, key]);
    pathsOf(v, [...prefix, key], out);
  }
  return out;
}

function setAt(root: unknown, path: Path, value: unknown): void {
  let cur = root as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) cur = cur[step] as Record<string | number, unknown>;
  cur[path.at(-1)!] = value;
}

/** The body with 1–3 fields swapped for wrong values, an unknown key, or a field removed. */
export function mutate(body: Record<string, unknown>, rand: () => number): Record<string, unknown> {
  const out = structuredClone(body);
  const n = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < n; i++) {
    const paths = pathsOf(out).filter((p) => p[0] !== 'apiVersion' && p[0] !== 'kind' && !(p[0] === 'metadata' && p[1] === 'name'));
    if (!paths.length) break;
    const path = paths[Math.floor(rand() * paths.length)]!;
    const roll = rand();
    if (roll < 0.8) setAt(out, path, wrongValue(rand));
    else if (roll < 0.9) setAt(out, [...path.slice(0, -1), `unknown${i}`], wrongValue(rand));
    else {
      let parent = out as Record<string | number, unknown>;
      for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
      if (Array.isArray(parent)) parent.splice(path.at(-1) as number, 1);
      else delete parent[path.at(-1)!];
    }
  }
  return out;
}

/** A JSON patch of 1–2 operations setting random paths of the live object to wrong values. */
function jsonPatchFor(live: Record<string, unknown>, rand: () => number): object[] {
  const paths = pathsOf(live).filter((p) => p[0] !== 'metadata' || (p[1] !== 'resourceVersion' && p[1] !== 'name'));
  return Array.from({ length: 1 + Math.floor(rand() * 2) }, () => {
    const p = paths[Math.floor(rand() * paths.length)]!;
    return { op: rand() < 0.9 ? 'replace' : 'add', path: '/' + p.map((s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('/'), value: wrongValue(rand) };
  });
}

/** The group-version-kind of a fuzzed kind, as typed decoding names it. */
export function gvkOf(k: FuzzKind): { group: string; version: string; kind: string } {
  return { group: k.collection.startsWith('/apis/') ? k.collection.split('/')[2]! : '', version: 'v1', kind: k.kind };
}

export type FuzzOp = 'create' | 'update' | 'merge' | 'strategic' | 'json-patch' | 'apply';
export const fuzzOps: FuzzOp[] = ['create', 'update', 'merge', 'strategic', 'json-patch', 'apply'];

export interface FuzzRequest {
  method: string;
  path: string;
  body: string;
  contentType: string;
}

/**
 * The next request for `kind`: a mutated body through `op`. Writes address a
 * small pool of names, so updates and patches meet objects that exist.
 * `live` is the stored object of that name, when the caller has one.
 */
export function fuzzRequest(k: FuzzKind, op: FuzzOp, rand: () => number, name: string, live: Record<string, unknown> | undefined): FuzzRequest {
  const named = (b: Record<string, unknown>) => ({ ...b, metadata: { ...(b.metadata as object), name } });
  const item = `${k.collection}/${name}`;
  const base = named(k.body);
  switch (op) {
    case 'create':
      return { method: 'POST', path: k.collection, body: JSON.stringify(named(mutate(base, rand))), contentType: 'application/json' };
    case 'update': {
      const body = named(mutate(live ?? base, rand));
      return { method: 'PUT', path: item, body: JSON.stringify(body), contentType: 'application/json' };
    }
    case 'merge':
    case 'strategic': {
      const patch = mutate(base, rand);
      delete patch.apiVersion;
      delete patch.kind;
      delete (patch.metadata as Record<string, unknown> | undefined)?.name;
      return { method: 'PATCH', path: item, body: JSON.stringify(patch), contentType: `application/${op === 'merge' ? 'merge' : 'strategic-merge'}-patch+json` };
    }
    case 'json-patch':
      return { method: 'PATCH', path: item, body: JSON.stringify(jsonPatchFor(live ?? base, rand)), contentType: 'application/json-patch+json' };
    case 'apply':
      return { method: 'PATCH', path: `${item}?fieldManager=fuzz&force=true`, body: JSON.stringify(named(mutate(base, rand))), contentType: 'application/apply-patch+yaml' };
  }
}
