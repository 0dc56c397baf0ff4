// Server-side printing: the cells each kind's TableConvertor produces, checked
// against what upstream's printers (pkg/printers/internalversion) print.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../src/api/object.js';
import type { TableConvertor } from '../src/registry/table.js';
import { formatLabelSelector, formatSelectorMap, humanDuration, timestampSince } from '../src/registry/table-format.js';
import { table as services } from '../src/registry/services/table.js';
import { table as endpoints } from '../src/registry/endpoints/table.js';
import { table as endpointSlices } from '../src/registry/endpointslices/table.js';
import { table as pods } from '../src/registry/pods/table.js';
import { table as nodes } from '../src/registry/nodes/table.js';
import { table as namespaces } from '../src/registry/namespaces/table.js';
import { table as events } from '../src/registry/events/table.js';
import { table as configMaps } from '../src/registry/configmaps/table.js';
import { table as deployments } from '../src/registry/deployments/table.js';
import { table as replicaSets } from '../src/registry/replicasets/table.js';
import { table as daemonSets } from '../src/registry/daemonsets/table.js';
import { table as statefulSets } from '../src/registry/statefulsets/table.js';
import { table as controllerRevisions } from '../src/registry/controllerrevisions/table.js';

const now = new Date('2026-11-23T19:05:20Z');
const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

/** An RFC3339 timestamp `ms` before `now`. */
function ago(ms: number): string {
  return new Date(now.getTime() - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function obj(fields: Record<string, unknown>, name = 'x'): KubeObject {
  return { metadata: { name, namespace: 'default', creationTimestamp: ago(5 * d) }, ...fields };
}

function row(t: TableConvertor, o: KubeObject): unknown[] {
  const cells = t.cells(o, now);
  assert.equal(cells.length, t.columns.length, 'one cell per column');
  return cells;
}

/** The cell under the column named `name`. */
function cell(t: TableConvertor, o: KubeObject, name: string): unknown {
  const i = t.columns.findIndex((c) => c.name === name);
  assert.ok(i >= 0, `column ${name}`);
  return row(t, o)[i];
}

/** `Name` for priority 0, `Name(w)` for priority 1, as the brief lists them. */
function headers(t: TableConvertor): string[] {
  return t.columns.map((c) => (c.priority > 0 ? `${c.name}(w)` : c.name));
}

describe('humanDuration (apimachinery duration_test.go)', () => {
  const cases: [number, string][] = [
    // TestHumanDuration
    [s, '1s'],
    [70 * s, '70s'],
    [190 * s, '3m10s'],
    [70 * m, '70m'],
    [47 * h, '47h'],
    [49 * h, '2d1h'],
    [(8 * 24 + 2) * h, '8d'],
    [367 * 24 * h, '367d'],
    [(365 * 2 * 24 + 25) * h, '2y1d'],
    [(365 * 8 * 24 + 2) * h, '8y'],
    // TestHumanDurationBoundaries (Go's "-2s + 1ns" is as close as milliseconds get: -1999ms)
    [-2 * s, '<invalid>'],
    [-2 * s + 1, '0s'],
    [0, '0s'],
    [s - 1, '0s'],
    [2 * m - 1, '119s'],
    [2 * m, '2m'],
    [2 * m + s, '2m1s'],
    [10 * m - 1, '9m59s'],
    [10 * m, '10m'],
    [10 * m + s, '10m'],
    [3 * h - 1, '179m'],
    [3 * h, '3h'],
    [3 * h + m, '3h1m'],
    [8 * h - 1, '7h59m'],
    [8 * h, '8h'],
    [8 * h + 59 * m, '8h'],
    [2 * d - 1, '47h'],
    [2 * d, '2d'],
    [2 * d + h, '2d1h'],
    [8 * d - 1, '7d23h'],
    [8 * d, '8d'],
    [8 * d + 23 * h, '8d'],
    [2 * 365 * d - 1, '729d'],
    [2 * 365 * d, '2y'],
    [2 * 365 * d + 23 * h, '2y'],
    [2 * 365 * d + 23 * h + 59 * m, '2y'],
    [2 * 365 * d + d - 1, '2y'],
    [2 * 365 * d + d, '2y1d'],
    [3 * 365 * d, '3y'],
    [4 * 365 * d, '4y'],
    [5 * 365 * d, '5y'],
    [6 * 365 * d, '6y'],
    [7 * 365 * d, '7y'],
    [8 * 365 * d - 1, '7y364d'],
    [8 * 365 * d, '8y'],
    [8 * 365 * d + 364 * d, '8y'],
    [9 * 365 * d, '9y'],
    // The ages the protocol notes quote.
    [45 * s, '45s'],
    [130 * s, '2m10s'],
    [120 * m, '120m'],
    [5 * h + 3 * m, '5h3m'],
    [5 * d, '5d'],
    [3 * d + 4 * h, '3d4h'],
    [400 * d, '400d'],
    [(2 * 365 + 10) * d, '2y10d'],
  ];
  for (const [ms, want] of cases) {
    it(`${ms}ms → ${want}`, () => assert.equal(humanDuration(ms), want));
  }

  it('an unset timestamp is <unknown>, a future one <invalid>', () => {
    assert.equal(timestampSince(undefined, now), '<unknown>');
    assert.equal(timestampSince('', now), '<unknown>');
    assert.equal(timestampSince(ago(-1 * h), now), '<invalid>');
    assert.equal(timestampSince(ago(90 * s), now), '90s');
  });
});

describe('selector formatting', () => {
  it('label maps print k=v sorted, or <none>', () => {
    assert.equal(formatSelectorMap({ tier: 'web', app: 'shop' }), 'app=shop,tier=web');
    assert.equal(formatSelectorMap({}), '<none>');
    assert.equal(formatSelectorMap(undefined), '<none>');
  });

  it('label selectors print requirements sorted by key, values sorted', () => {
    const sel = {
      matchLabels: { zone: 'a', app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['z', 'b'] },
        { key: 'env', operator: 'NotIn', values: ['prod'] },
        { key: 'canary', operator: 'DoesNotExist' },
        { key: 'beta', operator: 'Exists' },
      ],
    };
    assert.equal(formatLabelSelector(sel), 'app=web,beta,!canary,env notin (prod),tier in (b,z),zone=a');
    assert.equal(formatLabelSelector({}), '<none>');
    assert.equal(formatLabelSelector(undefined), '<none>');
    assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Near' }] }), '<error>');
    assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), '<error>');
  });
});

describe('services', () => {
  const svc = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) => obj({ spec, status });

  it('has the kubectl columns', () => {
    assert.deepEqual(headers(services), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector(w)']);
    assert.equal(services.columns[0].format, 'name');
  });

  it('prints the protocol notes example rows', () => {
    const kubernetes = obj({ spec: { type: 'ClusterIP', clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ port: 443, protocol: 'TCP' }] } }, 'kubernetes');
    assert.deepEqual(row(services, kubernetes), ['kubernetes', 'ClusterIP', '10.96.0.1', '<none>', '443/TCP', '5d', '<none>']);
    const web = obj(
      { spec: { type: 'NodePort', clusterIPs: ['10.96.10.20'], ports: [{ port: 80, nodePort: 30002, protocol: 'TCP' }], selector: { app: 'web' } } },
      'my-service',
    );
    web.metadata.creationTimestamp = ago(120 * m);
    assert.deepEqual(row(services, web), ['my-service', 'NodePort', '10.96.10.20', '<none>', '80:30002/TCP', '120m', 'app=web']);
  });

  it('ClusterIP and NodePort show externalIPs when set', () => {
    assert.equal(cell(services, svc({ type: 'ClusterIP', externalIPs: ['1.2.3.4', '5.6.7.8'] }), 'External-IP'), '1.2.3.4,5.6.7.8');
    assert.equal(cell(services, svc({ type: 'NodePort', externalIPs: ['1.2.3.4'] }), 'External-IP'), '1.2.3.4');
  });

  it('LoadBalancer is <pending> until an ingress appears', () => {
    assert.equal(cell(services, svc({ type: 'LoadBalancer' }), 'External-IP'), '<pending>');
    assert.equal(cell(services, svc({ type: 'LoadBalancer' }, { loadBalancer: {} }), 'External-IP'), '<pending>');
  });

  it('LoadBalancer lists distinct ingress IPs (else hostnames) sorted, then externalIPs', () => {
    const status = { loadBalancer: { ingress: [{ ip: '203.0.113.9' }, { hostname: 'lb.example.com' }, { ip: '203.0.113.2', hostname: 'ignored' }, { ip: '203.0.113.9' }] } };
    assert.equal(cell(services, svc({ type: 'LoadBalancer' }, status), 'External-IP'), '203.0.113.2,203.0.113.9,lb.example.com');
    assert.equal(cell(services, svc({ type: 'LoadBalancer', externalIPs: ['192.0.2.1'] }, status), 'External-IP'), '203.0.113.2,203.0.113.9,lb.example.com,192.0.2.1');
    assert.equal(cell(services, svc({ type: 'LoadBalancer', externalIPs: ['192.0.2.1'] }), 'External-IP'), '192.0.2.1');
  });

  it('ExternalName shows the name it aliases and has no cluster IP', () => {
    const ext = svc({ type: 'ExternalName', externalName: 'db.example.com' });
    assert.deepEqual(row(services, ext), ['x', 'ExternalName', '<none>', 'db.example.com', '<none>', '5d', '<none>']);
  });

  it('headless services, LB ports, several ports, dual-stack', () => {
    const lb = svc({
      type: 'LoadBalancer',
      clusterIP: 'None',
      clusterIPs: ['fd00::1', '10.0.0.1'],
      ports: [
        { name: 'http', port: 80, nodePort: 31000, protocol: 'TCP' },
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'sctp', port: 9, nodePort: 0, protocol: 'SCTP' },
      ],
    });
    assert.equal(cell(services, lb, 'Cluster-IP'), 'fd00::1');
    assert.equal(cell(services, lb, 'Port(s)'), '80:31000/TCP,53/UDP,9/SCTP');
    assert.equal(cell(services, svc({ type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'] }), 'Cluster-IP'), 'None');
    assert.equal(cell(services, svc({ type: 'ClusterIP', clusterIP: '10.0.0.7' }), 'Cluster-IP'), '10.0.0.7');
  });
});

describe('endpoints', () => {
  it('has the kubectl columns', () => assert.deepEqual(headers(endpoints), ['Name', 'Endpoints', 'Age']));

  it('no subsets is <none>', () => {
    assert.deepEqual(row(endpoints, obj({})), ['x', '<none>', '5d']);
    assert.equal(cell(endpoints, obj({ subsets: [] }), 'Endpoints'), '<none>');
  });

  it('pairs addresses with ports, first three then + N more...', () => {
    const ep = obj({
      subsets: [
        { addresses: ['10.244.0.5', '10.244.0.6'].map((ip) => ({ ip })), ports: [{ port: 8080 }, { port: 9090 }] },
        { addresses: [{ ip: '10.244.1.7' }], notReadyAddresses: [{ ip: '10.244.1.8' }], ports: [{ port: 8080 }] },
      ],
    });
    assert.equal(cell(endpoints, ep, 'Endpoints'), '10.244.0.5:8080,10.244.0.6:8080,10.244.0.5:9090 + 2 more...');
  });

  it('exactly three entries are all shown', () => {
    const ep = obj({ subsets: [{ addresses: ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((ip) => ({ ip })), ports: [{ port: 80 }] }] });
    assert.equal(cell(endpoints, ep, 'Endpoints'), '10.0.0.1:80,10.0.0.2:80,10.0.0.3:80');
  });

  it('port-less (headless) subsets show bare IPs; IPv6 gets brackets', () => {
    assert.equal(cell(endpoints, obj({ subsets: [{ addresses: [{ ip: '10.0.0.1' }] }] }), 'Endpoints'), '10.0.0.1');
    assert.equal(cell(endpoints, obj({ subsets: [{ addresses: [{ ip: 'fd00::5' }], ports: [{ port: 80 }] }] }), 'Endpoints'), '[fd00::5]:80');
  });

  it('subsets with only not-ready addresses print an empty cell, as upstream', () => {
    assert.equal(cell(endpoints, obj({ subsets: [{ notReadyAddresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }] }), 'Endpoints'), '');
  });
});

describe('endpointslices', () => {
  it('has the kubectl columns', () => assert.deepEqual(headers(endpointSlices), ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']));

  it('prints ports and addresses', () => {
    const slice = obj({ addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], endpoints: [{ addresses: ['10.244.0.5'] }] }, 'web-abc12');
    assert.deepEqual(row(endpointSlices, slice), ['web-abc12', 'IPv4', '8080', '10.244.0.5', '5d']);
  });

  it('nil ports print their name, else *; empty lists print <unset>', () => {
    assert.equal(cell(endpointSlices, obj({ addressType: 'IPv4', ports: [{ name: 'http' }, {}], endpoints: [] }), 'Ports'), 'http,*');
    assert.equal(cell(endpointSlices, obj({ addressType: 'IPv4', endpoints: [] }), 'Ports'), '<unset>');
    assert.equal(cell(endpointSlices, obj({ addressType: 'IPv4', endpoints: [] }), 'Endpoints'), '<unset>');
  });

  it('first three addresses then + N more...', () => {
    const slice = obj({ addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1', '10.0.0.2'] }, { addresses: ['10.0.0.3'] }, { addresses: ['10.0.0.4'] }, { addresses: ['10.0.0.5'] }] });
    assert.equal(cell(endpointSlices, slice, 'Endpoints'), '10.0.0.1,10.0.0.2,10.0.0.3 + 2 more...');
    const ports = obj({ addressType: 'IPv4', endpoints: [], ports: [1, 2, 3, 4].map((port) => ({ port })) });
    assert.equal(cell(endpointSlices, ports, 'Ports'), '1,2,3 + 1 more...');
  });
});

describe('pods', () => {
  const running = { running: { startedAt: ago(d) } };
  const c = (name: string, state: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ name, image: 'img', ready: false, restartCount: 0, state, ...extra });
  const pod = (status: Record<string, unknown>, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) => {
    const p = obj({ spec: { containers: [{ name: 'app', image: 'nginx' }], ...spec }, status });
    Object.assign(p.metadata, meta);
    return p;
  };
  const statusOf = (p: KubeObject) => cell(pods, p, 'Status');

  it('has the kubectl columns', () => {
    assert.deepEqual(headers(pods), ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP(w)', 'Node(w)', 'Nominated Node(w)', 'Readiness Gates(w)']);
  });

  it('a running, ready pod', () => {
    const p = pod(
      { phase: 'Running', podIP: '10.244.0.5', podIPs: [{ ip: '10.244.0.5' }], conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [c('app', running, { ready: true })] },
      { nodeName: 'node-1' },
    );
    assert.deepEqual(row(pods, p), ['x', '1/1', 'Running', '0', '5d', '10.244.0.5', 'node-1', '<none>', '<none>']);
  });

  it('pending pods show the phase, then waiting reasons', () => {
    const pending = pod({ phase: 'Pending' });
    assert.deepEqual(row(pods, pending), ['x', '0/1', 'Pending', '0', '5d', '<none>', '<none>', '<none>', '<none>']);
    assert.equal(statusOf(pod({ phase: 'Pending', containerStatuses: [c('app', { waiting: { reason: 'ContainerCreating' } })] })), 'ContainerCreating');
    assert.equal(statusOf(pod({ phase: 'Pending', containerStatuses: [c('app', { waiting: { reason: 'ImagePullBackOff' } })] })), 'ImagePullBackOff');
  });

  it('CrashLoopBackOff with restarts and when the last one was', () => {
    const p = pod({
      phase: 'Running',
      containerStatuses: [
        c('app', { waiting: { reason: 'CrashLoopBackOff' } }, { restartCount: 2, lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(5 * m) } } }),
      ],
    });
    assert.equal(statusOf(p), 'CrashLoopBackOff');
    assert.equal(cell(pods, p, 'Restarts'), '2 (5m ago)');
  });

  it('restarts without a recorded termination are a bare number', () => {
    assert.equal(cell(pods, pod({ phase: 'Running', containerStatuses: [c('app', running, { restartCount: 3, ready: true })] }), 'Restarts'), '3');
  });

  it('the first container listed wins the status; restarts add up', () => {
    const p = pod(
      {
        phase: 'Running',
        containerStatuses: [
          c('a', { waiting: { reason: 'CrashLoopBackOff' } }, { restartCount: 1, lastState: { terminated: { exitCode: 1, finishedAt: ago(3 * m) } } }),
          c('b', { terminated: { exitCode: 137, reason: 'OOMKilled' } }, { restartCount: 4, lastState: { terminated: { exitCode: 137, finishedAt: ago(10 * m) } } }),
        ],
      },
      { containers: [{ name: 'a' }, { name: 'b' }] },
    );
    assert.equal(statusOf(p), 'CrashLoopBackOff');
    assert.equal(cell(pods, p, 'Restarts'), '5 (3m ago)');
    assert.equal(cell(pods, p, 'Ready'), '0/2');
  });

  it('terminated containers without a reason show the signal or exit code', () => {
    assert.equal(statusOf(pod({ phase: 'Running', containerStatuses: [c('app', { terminated: { exitCode: 2 } })] })), 'ExitCode:2');
    assert.equal(statusOf(pod({ phase: 'Running', containerStatuses: [c('app', { terminated: { exitCode: 0, signal: 9 } })] })), 'Signal:9');
  });

  it('Completed, and Running/NotReady when some containers still run', () => {
    assert.equal(statusOf(pod({ phase: 'Succeeded', containerStatuses: [c('app', { terminated: { exitCode: 0, reason: 'Completed' } })] })), 'Completed');
    const mixed = (conditions: unknown[]) =>
      pod(
        { phase: 'Running', conditions, containerStatuses: [c('a', running, { ready: true }), c('b', { terminated: { exitCode: 0, reason: 'Completed' } })] },
        { containers: [{ name: 'a' }, { name: 'b' }] },
      );
    assert.equal(statusOf(mixed([{ type: 'Ready', status: 'True' }])), 'Running');
    assert.equal(statusOf(mixed([{ type: 'Ready', status: 'False' }])), 'NotReady');
    assert.equal(cell(pods, mixed([]), 'Ready'), '1/2');
  });

  it('init containers: progress, waiting reasons, failures', () => {
    const spec = { initContainers: [{ name: 'i1' }, { name: 'i2' }] };
    const done = c('i1', { terminated: { exitCode: 0, reason: 'Completed' } });
    assert.equal(statusOf(pod({ phase: 'Pending', initContainerStatuses: [done, c('i2', running)] }, spec)), 'Init:1/2');
    assert.equal(statusOf(pod({ phase: 'Pending', initContainerStatuses: [c('i1', { waiting: { reason: 'PodInitializing' } }), c('i2', {})] }, spec)), 'Init:0/2');
    assert.equal(statusOf(pod({ phase: 'Pending', initContainerStatuses: [c('i1', { waiting: { reason: 'CrashLoopBackOff' } }, { restartCount: 3 })] }, spec)), 'Init:CrashLoopBackOff');
    assert.equal(statusOf(pod({ phase: 'Pending', initContainerStatuses: [c('i1', { terminated: { exitCode: 1, reason: 'Error' } })] }, spec)), 'Init:Error');
    assert.equal(statusOf(pod({ phase: 'Pending', initContainerStatuses: [c('i1', { terminated: { exitCode: 3 } })] }, spec)), 'Init:ExitCode:3');
    const crashing = pod({ phase: 'Pending', initContainerStatuses: [c('i1', { waiting: { reason: 'CrashLoopBackOff' } }, { restartCount: 3 })] }, spec);
    assert.equal(cell(pods, crashing, 'Restarts'), '3');
    // Main-container waiting reasons do not show while initializing.
    assert.equal(
      statusOf(pod({ phase: 'Pending', initContainerStatuses: [done, c('i2', running)], containerStatuses: [c('app', { waiting: { reason: 'PodInitializing' } })] }, spec)),
      'Init:1/2',
    );
  });

  it('sidecar (restartable init) containers count towards READY', () => {
    const p = pod(
      {
        phase: 'Running',
        conditions: [{ type: 'Initialized', status: 'True' }],
        initContainerStatuses: [c('proxy', running, { started: true, ready: true, restartCount: 1 })],
        containerStatuses: [c('app', running, { ready: true })],
      },
      { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }] },
    );
    assert.equal(cell(pods, p, 'Ready'), '2/2');
    assert.equal(statusOf(p), 'Running');
    assert.equal(cell(pods, p, 'Restarts'), '1');
  });

  it('deletion shows Terminating, or Unknown for an unreachable node', () => {
    const deleting = { deletionTimestamp: ago(10 * s) };
    assert.equal(statusOf(pod({ phase: 'Running', containerStatuses: [c('app', running, { ready: true })] }, {}, deleting)), 'Terminating');
    assert.equal(statusOf(pod({ phase: 'Running', reason: 'NodeLost' }, {}, deleting)), 'Unknown');
    assert.equal(statusOf(pod({ phase: 'Succeeded' }, {}, deleting)), 'Succeeded');
  });

  it('status.reason and scheduling gates replace the phase', () => {
    assert.equal(statusOf(pod({ phase: 'Failed', reason: 'Evicted' })), 'Evicted');
    assert.equal(statusOf(pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] })), 'SchedulingGated');
  });

  it('wide cells: IP, node, nominated node, readiness gates', () => {
    const p = pod(
      { phase: 'Pending', podIPs: [{ ip: 'fd00::7' }, { ip: '10.0.0.7' }], nominatedNodeName: 'node-2', conditions: [{ type: 'example.com/lb', status: 'True' }, { type: 'example.com/other', status: 'False' }] },
      { readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/other' }, { conditionType: 'example.com/missing' }] },
    );
    const cells = row(pods, p);
    assert.deepEqual(cells.slice(5), ['fd00::7', '<none>', 'node-2', '1/3']);
  });
});

describe('nodes', () => {
  const node = (fields: Record<string, unknown>, labels: Record<string, string> = {}) => {
    const n = obj(fields, 'node-1');
    n.metadata.labels = labels;
    return n;
  };

  it('has the kubectl columns', () => {
    assert.deepEqual(headers(nodes), ['Name', 'Status', 'Roles', 'Age', 'Version', 'Internal-IP(w)', 'External-IP(w)', 'OS-Image(w)', 'Kernel-Version(w)', 'Container-Runtime(w)']);
  });

  it('a ready control-plane node', () => {
    const n = node(
      {
        status: {
          conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }],
          addresses: [{ type: 'Hostname', address: 'node-1' }, { type: 'InternalIP', address: '172.18.0.2' }],
          nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0', containerRuntimeVersion: 'containerd://1.7.0' },
        },
      },
      { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/hostname': 'node-1' },
    );
    assert.deepEqual(row(nodes, n), ['node-1', 'Ready', 'control-plane', '5d', 'v1.32.0', '172.18.0.2', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0', 'containerd://1.7.0']);
  });

  it('NotReady, Unknown and SchedulingDisabled', () => {
    assert.equal(cell(nodes, node({ spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'False' }] } }), 'Status'), 'NotReady,SchedulingDisabled');
    assert.equal(cell(nodes, node({ status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } }), 'Status'), 'NotReady');
    assert.equal(cell(nodes, node({ status: {} }), 'Status'), 'Unknown');
    assert.equal(cell(nodes, node({ spec: { unschedulable: true } }), 'Status'), 'Unknown,SchedulingDisabled');
  });

  it('roles come from both role labels, sorted and distinct, else <none>', () => {
    const labels = { 'node-role.kubernetes.io/worker': '', 'kubernetes.io/role': 'ingress', 'node-role.kubernetes.io/': '', 'node-role.kubernetes.io/ingress': 'true' };
    assert.equal(cell(nodes, node({}, labels), 'Roles'), 'ingress,worker');
    assert.equal(cell(nodes, node({}, { 'kubernetes.io/role': '' }), 'Roles'), '<none>');
  });

  it('missing node info reads <unknown>, missing addresses <none>', () => {
    assert.deepEqual(row(nodes, node({})).slice(4), ['', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
  });
});

describe('namespaces and configmaps', () => {
  it('namespaces print their phase', () => {
    assert.deepEqual(headers(namespaces), ['Name', 'Status', 'Age']);
    assert.deepEqual(row(namespaces, obj({ status: { phase: 'Active' } }, 'default')), ['default', 'Active', '5d']);
    assert.deepEqual(row(namespaces, obj({ status: { phase: 'Terminating' } }, 'gone')), ['gone', 'Terminating', '5d']);
  });

  it('configmaps count data and binaryData keys', () => {
    assert.deepEqual(headers(configMaps), ['Name', 'Data', 'Age']);
    assert.deepEqual(row(configMaps, obj({ data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }, 'cfg')), ['cfg', 3, '5d']);
    assert.deepEqual(row(configMaps, obj({}, 'empty')), ['empty', 0, '5d']);
  });
});

describe('events', () => {
  it('has the kubectl columns', () => {
    assert.deepEqual(headers(events), ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject(w)', 'Source(w)', 'Message', 'First Seen(w)', 'Count(w)', 'Name(w)']);
    assert.equal(events.columns[9].format, 'name');
  });

  it('a legacy core/v1 event', () => {
    const ev = obj(
      {
        involvedObject: { kind: 'Pod', name: 'web-1', fieldPath: 'spec.containers{app}' },
        reason: 'Pulled',
        message: '  Successfully pulled image "nginx"\n',
        source: { component: 'kubelet', host: 'node-1' },
        firstTimestamp: ago(10 * m),
        lastTimestamp: ago(45 * s),
        count: 4,
        type: 'Normal',
      },
      'web-1.17a8',
    );
    assert.deepEqual(row(events, ev), ['45s', 'Normal', 'Pulled', 'pod/web-1', 'spec.containers{app}', 'kubelet, node-1', 'Successfully pulled image "nginx"', '10m', 4, 'web-1.17a8']);
  });

  it('an events.k8s.io event: eventTime, series and reporting fields stand in', () => {
    const single = obj({ involvedObject: { kind: 'Node' }, eventTime: '2026-11-23T19:03:19.876543Z', reportingComponent: 'scheduler', type: 'Warning', reason: 'X', message: 'm' });
    assert.deepEqual(row(events, single), ['2m', 'Warning', 'X', 'node', '', 'scheduler', 'm', '2m', 1, 'x']);
    const series = obj({
      involvedObject: { kind: 'Service', name: 'web' },
      eventTime: ago(h),
      series: { count: 7, lastObservedTime: ago(30 * s) },
      reportingComponent: 'service-controller',
      reportingInstance: 'cp-1',
    });
    const cells = row(events, series);
    assert.deepEqual([cells[0], cells[3], cells[5], cells[7], cells[8]], ['30s', 'service/web', 'service-controller, cp-1', '60m', 7]);
  });

  it('events without any time read <unknown>', () => {
    const cells = row(events, obj({ involvedObject: { kind: 'Pod', name: 'p' } }));
    assert.equal(cells[0], '<unknown>');
    assert.equal(cells[7], '<unknown>');
  });
});

describe('workloads', () => {
  const template = {
    metadata: { labels: { app: 'web' } },
    spec: { containers: [{ name: 'web', image: 'nginx:1.27' }, { name: 'log', image: 'busybox' }], nodeSelector: { 'kubernetes.io/os': 'linux', disk: 'ssd' } },
  };
  const selector = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe'] }] };

  it('deployments', () => {
    assert.deepEqual(headers(deployments), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers(w)', 'Images(w)', 'Selector(w)']);
    const dep = obj({ spec: { replicas: 3, selector, template }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } }, 'web');
    assert.deepEqual(row(deployments, dep), ['web', '2/3', 3, 2, '5d', 'web,log', 'nginx:1.27,busybox', 'app=web,tier in (fe)']);
    const fresh = obj({ spec: { replicas: 3, template } }, 'new');
    assert.deepEqual(row(deployments, fresh).slice(1, 4), ['0/3', 0, 0]);
    // printDeployment prints the raw selector string: empty rather than <none>.
    assert.equal(cell(deployments, fresh, 'Selector'), '');
    assert.equal(cell(deployments, obj({ spec: { selector: { matchExpressions: [{ key: 'a', operator: 'Bad' }] }, template } }), 'Selector'), '<invalid>');
  });

  it('replicasets', () => {
    assert.deepEqual(headers(replicaSets), ['Name', 'Desired', 'Current', 'Ready', 'Age', 'Containers(w)', 'Images(w)', 'Selector(w)']);
    const rs = obj({ spec: { replicas: 3, selector, template }, status: { replicas: 3, readyReplicas: 1 } }, 'web-5d8f');
    assert.deepEqual(row(replicaSets, rs), ['web-5d8f', 3, 3, 1, '5d', 'web,log', 'nginx:1.27,busybox', 'app=web,tier in (fe)']);
    assert.equal(cell(replicaSets, obj({ spec: { template } }), 'Selector'), '<none>');
  });

  it('daemonsets', () => {
    assert.deepEqual(headers(daemonSets), [
      'Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age', 'Containers(w)', 'Images(w)', 'Selector(w)',
    ]);
    const ds = obj(
      { spec: { selector, template }, status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2 } },
      'agent',
    );
    assert.deepEqual(row(daemonSets, ds), ['agent', 3, 3, 2, 3, 2, 'disk=ssd,kubernetes.io/os=linux', '5d', 'web,log', 'nginx:1.27,busybox', 'app=web,tier in (fe)']);
    const bare = obj({ spec: { selector: { matchLabels: { app: 'a' } }, template: { spec: { containers: [{ name: 'a', image: 'a' }] } } } });
    assert.deepEqual(row(daemonSets, bare).slice(1, 7), [0, 0, 0, 0, 0, '<none>']);
  });

  it('statefulsets', () => {
    assert.deepEqual(headers(statefulSets), ['Name', 'Ready', 'Age', 'Containers(w)', 'Images(w)']);
    assert.equal(statefulSets.columns[1]!.description, 'Number of the pod with ready state');
    const sts = obj({ spec: { replicas: 3, selector, serviceName: 'web', template }, status: { replicas: 3, readyReplicas: 2 } }, 'web');
    assert.deepEqual(row(statefulSets, sts), ['web', '2/3', '5d', 'web,log', 'nginx:1.27,busybox']);
    assert.deepEqual(row(statefulSets, obj({ spec: { selector, template } }, 'new')).slice(1, 2), ['0/1']);
  });

  it('controllerrevisions', () => {
    assert.deepEqual(headers(controllerRevisions), ['Name', 'Controller', 'Revision', 'Age']);
    assert.deepEqual(controllerRevisions.columns.map((c) => c.type), ['string', 'string', 'string', 'string']);
    assert.equal(controllerRevisions.columns[2]!.description, 'Revision indicates the revision of the state represented by Data.');
    const owned = (apiVersion: string, kind: string) => {
      const rev = obj({ revision: 2, data: {} }, 'web-7b9c5d8f4');
      rev.metadata.ownerReferences = [{ apiVersion, kind, name: 'web', uid: 'u', controller: true }];
      return rev;
    };
    assert.deepEqual(row(controllerRevisions, owned('apps/v1', 'StatefulSet')), ['web-7b9c5d8f4', 'statefulset.apps/web', 2, '5d']);
    assert.deepEqual(row(controllerRevisions, owned('v1', 'Pod')).slice(1, 2), ['pod/web']);
    assert.deepEqual(row(controllerRevisions, obj({ revision: 1, data: {} }, 'orphan')), ['orphan', '<none>', 1, '5d']);
  });

  it('integer columns say so; the rest are strings', () => {
    assert.deepEqual(replicaSets.columns.filter((c) => c.type === 'integer').map((c) => c.name), ['Desired', 'Current', 'Ready']);
    assert.deepEqual(deployments.columns.filter((c) => c.type !== 'string'), []);
    assert.deepEqual(pods.columns.filter((c) => c.type !== 'string'), []);
  });
});

describe('policy and coordination tables', () => {
  it('poddisruptionbudgets', async () => {
    const { table: budgets } = await import('../src/registry/poddisruptionbudgets/table.js');
    assert.deepEqual(headers(budgets), ['Name', 'Min Available', 'Max Unavailable', 'Allowed Disruptions', 'Age']);
    assert.deepEqual(budgets.columns.map((c) => c.type), ['string', 'string', 'string', 'integer', 'string']);
    assert.equal(budgets.columns[3]!.description, 'Calculated number of pods that may be disrupted at this time.');
    assert.deepEqual(row(budgets, obj({ spec: { minAvailable: 1 }, status: { disruptionsAllowed: 2 } }, 'web')), ['web', '1', 'N/A', 2, '5d']);
    assert.deepEqual(row(budgets, obj({ spec: { maxUnavailable: '25%' } }, 'pct')), ['pct', 'N/A', '25%', 0, '5d']);
  });

  it('leases', async () => {
    const { table: leases } = await import('../src/registry/leases/table.js');
    assert.deepEqual(headers(leases), ['Name', 'Holder', 'Age']);
    assert.deepEqual(row(leases, obj({ spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40 } }, 'node-1')), ['node-1', 'node-1', '5d']);
    assert.deepEqual(row(leases, obj({ spec: {} }, 'free')), ['free', '', '5d']);
  });
});

// ---- batch/v1 (appended with the Jobs and CronJobs work)
import { table as jobs } from '../src/registry/jobs/table.js';
import { table as cronJobs } from '../src/registry/cronjobs/table.js';

describe('batch printers', () => {
  const jobTemplate = { spec: { containers: [{ name: 'pi', image: 'perl:5.34' }] } };

  it('jobs: status from the conditions, completions, duration', () => {
    assert.deepEqual(headers(jobs), ['Name', 'Status', 'Completions', 'Duration', 'Age', 'Containers(w)', 'Images(w)', 'Selector(w)']);
    assert.equal(jobs.columns[1]!.description, 'Status of the job.');
    assert.equal(jobs.columns[3]!.description, 'Time required to complete the job.');
    const selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u' } };
    const start = new Date(now.getTime() - 3 * m).toISOString();
    const running = obj({ spec: { completions: 3, parallelism: 2, selector, template: jobTemplate }, status: { startTime: start, succeeded: 1 } }, 'pi');
    assert.deepEqual(row(jobs, running), ['pi', 'Running', '1/3', '3m', '5d', 'pi', 'perl:5.34', 'batch.kubernetes.io/controller-uid=u']);
    const done = obj({
      spec: { completions: 1, parallelism: 1, template: jobTemplate },
      status: { startTime: start, completionTime: new Date(now.getTime() - 3 * m + 42 * s).toISOString(), succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] },
    });
    assert.deepEqual(row(jobs, done).slice(1, 4), ['Complete', '1/1', '42s']);
    const workQueue = obj({ spec: { parallelism: 4, template: jobTemplate }, status: { conditions: [{ type: 'Suspended', status: 'True' }] } });
    assert.deepEqual(row(jobs, workQueue).slice(1, 4), ['Suspended', '0/1 of 4', '']);
    assert.deepEqual(row(jobs, obj({ spec: { template: jobTemplate }, status: { conditions: [{ type: 'FailureTarget', status: 'True' }] } })).slice(1, 3), ['FailureTarget', '0/1']);
    assert.deepEqual(row(jobs, obj({ spec: { template: jobTemplate }, status: { conditions: [{ type: 'Failed', status: 'True' }] } })).slice(1, 2), ['Failed']);
  });

  it('cronjobs', () => {
    assert.deepEqual(headers(cronJobs), ['Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age', 'Containers(w)', 'Images(w)', 'Selector(w)']);
    assert.deepEqual(cronJobs.columns.map((c) => c.type).slice(3, 5), ['boolean', 'integer']);
    const cj = obj(
      {
        spec: { schedule: '*/1 * * * *', timeZone: 'Etc/UTC', suspend: false, jobTemplate: { spec: { template: jobTemplate } } },
        status: { active: [{ name: 'pi-1' }], lastScheduleTime: new Date(now.getTime() - 30 * s).toISOString() },
      },
      'pi',
    );
    assert.deepEqual(row(cronJobs, cj), ['pi', '*/1 * * * *', 'Etc/UTC', 'False', 1, '30s', '5d', 'pi', 'perl:5.34', '<none>']);
    assert.deepEqual(row(cronJobs, obj({ spec: { schedule: '@daily', suspend: true, jobTemplate: { spec: { template: jobTemplate } } } })).slice(2, 6), ['<none>', 'True', 0, '<none>']);
  });
});
