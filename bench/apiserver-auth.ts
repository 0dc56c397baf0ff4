// bench/apiserver-auth: what authentication + authorization cost per request.
// API servers in the same run, started alike (bench/apiserver-child.ts, the
// same node flags) and given the same objects, that differ only in auth:
//   no auth                 AlwaysAllow, anonymous requests (authentication finds no credential)
//   admin certificate       RBAC; kubernetes-admin in system:masters (the short cut)
//   edit-bound certificate  RBAC; a user whose RoleBinding to ClusterRole edit is found by full RBAC evaluation
//   ServiceAccount token    RBAC; a TokenRequest JWT (verified, its account looked up) bound to edit the same way
// and a control, a second "no auth" server: what it differs from the first
// by is the noise floor (servers alike differ by their JIT, heap and the
// machine's other load), which the other differences must clear.
// Each is driven by the same keep-alive HTTPS clients: ConfigMap creates and
// GETs of one ConfigMap (where authorization's share is larger), from 50
// concurrent clients (throughput, latency under load, server CPU per request)
// and from one (the latency a request pays). After a warm-up of as many
// requests, measured in rounds with the servers' order rotated each round;
// latencies, rates and CPU pool the rounds; the throughput lost, measured and
// as the server CPU per request implies it, is the median over rounds of
// each server beside the baseline in the same round, so the machine's drift
// cancels and a round that met other load drops out. On a busy machine the
// CPU figure is the steadier. Goal: ≤ 10 % throughput, ≤ 0.2 ms p50.
// Run: npm run build && npx tsx bench/apiserver.ts --auth-only [--auth-requests 3000] [--rounds 5]
import { join } from 'node:path';
import type { ClusterRole } from '../src/auth/rbac/types.js';
import { serviceAccountUsername, users } from '../src/auth/user.js';
import { dataDirTransport } from '../src/cli/client-flags.js';
import { aggregatedRules } from '../src/controllers/clusterrole-aggregation.js';
import { concurrentLoad, httpsClient, type Credentials, type HttpsClient } from './http.js';
import { percentile, printTable, type Row } from './report.js';
import { adminCredentials, cpuSeconds, removeTempDir, startServerProcess, tempDir, type ServerProcess } from './server-process.js';

export interface AuthBenchOptions {
  /** Requests per server in each phase (default 3000). */
  requests: number;
  /** Concurrent clients of the loaded phases. */
  clients: number;
  rounds: number;
  nodeFlags: string[];
}

const namespace = 'default';
const editor = 'bench-editor';
const serviceAccount = 'bench';
const rbacGroup = 'rbac.authorization.k8s.io';

interface Setup {
  admin: Credentials;
  /** A client certificate for `editor`, from the data dir's CA. */
  editor: Credentials;
  /** A TokenRequest token of the `bench` ServiceAccount. */
  token: string;
}

interface Case {
  name: string;
  authorization: 'RBAC' | 'AlwaysAllow';
  /** Who the server must see the case's requests as. */
  user: string;
  credentials(s: Setup): Credentials;
  /** Whether the identity may read ConfigMaps in kube-system (it must be refused unless it is the admin or authorization is off). */
  readsKubeSystem: boolean;
}

const noAuth: Case = { name: 'no auth', authorization: 'AlwaysAllow', user: users.anonymous, credentials: (s) => ({ ca: s.admin.ca }), readsKubeSystem: true };

/** The baseline first; then a control, a second server like it: what it differs by is this machine's noise. */
const cases: Case[] = [
  noAuth,
  { ...noAuth, name: 'control: no auth again' },
  { name: 'admin certificate', authorization: 'RBAC', user: users.admin, credentials: (s) => s.admin, readsKubeSystem: true },
  { name: 'edit-bound certificate', authorization: 'RBAC', user: editor, credentials: (s) => s.editor, readsKubeSystem: false },
  {
    name: 'ServiceAccount token',
    authorization: 'RBAC',
    user: serviceAccountUsername(namespace, serviceAccount),
    credentials: (s) => ({ ca: s.admin.ca, token: s.token }),
    readsKubeSystem: false,
  },
];

interface Running {
  case: Case;
  server: ServerProcess;
  dataDir: string;
  /** The case's identity over `clients` kept-alive connections. */
  client?: HttpsClient;
  /** Names of created ConfigMaps: unique per server. */
  seq: number;
}

interface Op {
  name: string;
  run(r: Running): Promise<void>;
}

const configMaps = `/api/v1/namespaces/${namespace}/configmaps`;

const ops: Op[] = [
  {
    name: 'create',
    async run(r) {
      const body = JSON.stringify({ metadata: { name: `cm-${r.seq++}`, labels: { app: 'bench' } }, data: { key: 'value' } });
      expect(await r.client!.call('POST', configMaps, body), 201, 'create');
    },
  },
  {
    name: 'GET',
    async run(r) {
      expect(await r.client!.call('GET', `${configMaps}/bench-get`), 200, 'GET');
    },
  },
];

function expect(r: { status: number; text: string }, status: number, what: string): { status: number; text: string } {
  if (r.status !== status) throw new Error(`${what}: ${r.status} ${r.text.slice(0, 300)}`);
  return r;
}

/** The same objects in every server: a ServiceAccount, ClusterRole edit aggregated, a RoleBinding of it, the ConfigMap the GETs read. */
async function prepare(r: Running): Promise<Setup> {
  const admin = adminCredentials(r.dataDir);
  const c = httpsClient(r.server.url, admin, 1);
  try {
    const post = async (path: string, obj: unknown) => JSON.parse(expect(await c.call('POST', path, JSON.stringify(obj)), 201, `POST ${path}`).text);
    await post(`/api/v1/namespaces/${namespace}/serviceaccounts`, { metadata: { name: serviceAccount } });
    // edit and view get their rules from the ClusterRole aggregation controller, which runs in `kubesvc controllers`, not here: as it would.
    const roles = `/apis/${rbacGroup}/v1/clusterroles`;
    const all = JSON.parse(expect(await c.call('GET', roles), 200, 'list clusterroles').text).items as ClusterRole[];
    for (const name of ['view', 'edit']) {
      const role = all.find((x) => x.metadata.name === name)!;
      role.rules = aggregatedRules(role, all);
      expect(await c.call('PUT', `${roles}/${name}`, JSON.stringify(role)), 200, `update ${name}`);
    }
    await post(`/apis/${rbacGroup}/v1/namespaces/${namespace}/rolebindings`, {
      metadata: { name: 'bench-edit' },
      roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: 'edit' },
      subjects: [
        { apiGroup: rbacGroup, kind: 'User', name: editor },
        { kind: 'ServiceAccount', name: serviceAccount, namespace },
      ],
    });
    await post(configMaps, { metadata: { name: 'bench-get' }, data: { key: 'value' } });
    const tokenRequest = await post(`/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {},
    });
    // Its certificate over TCP: the transport's socketPath is left out.
    const mint = dataDirTransport(r.dataDir, { name: editor, groups: [] });
    return { admin, editor: { ca: admin.ca, cert: mint.cert, key: mint.key }, token: tokenRequest.status.token };
  } finally {
    c.close();
  }
}

/** The case's client is who the server must see, allowed in default, and (but for the admin and AlwaysAllow) refused in kube-system. */
async function verify(r: Running): Promise<void> {
  const c = r.client!;
  const review = await c.call('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }));
  const seen = JSON.parse(expect(review, 201, 'SelfSubjectReview').text).status.userInfo.username;
  if (seen !== r.case.user) throw new Error(`${r.case.name}: the server sees ${seen}, not ${r.case.user}`);
  // RBAC caches policy from a watch: the binding made above may take a moment.
  const deadline = Date.now() + 10_000;
  while ((await c.call('GET', `${configMaps}/bench-get`)).status !== 200) {
    if (Date.now() > deadline) throw new Error(`${r.case.name}: may not read ${configMaps}/bench-get`);
    await new Promise((res) => setTimeout(res, 50));
  }
  const kubeSystem = await c.call('GET', '/api/v1/namespaces/kube-system/configmaps');
  if (kubeSystem.status !== (r.case.readsKubeSystem ? 200 : 403)) throw new Error(`${r.case.name}: kube-system list answered ${kubeSystem.status}`);
}

interface Sample {
  latencies: number[];
  seconds: number;
  cpuSeconds: number;
  count: number;
}

async function measure(r: Running, op: Op, clients: number, count: number): Promise<Sample> {
  const cpu0 = cpuSeconds(r.server.pid);
  const { latencies, seconds } = await concurrentLoad(clients, count, () => op.run(r));
  return { latencies, seconds, cpuSeconds: cpuSeconds(r.server.pid) - cpu0, count };
}

function pool(samples: Sample[]): Sample {
  return {
    latencies: samples.flatMap((s) => s.latencies).sort((a, b) => a - b),
    seconds: samples.reduce((n, s) => n + s.seconds, 0),
    cpuSeconds: samples.reduce((n, s) => n + s.cpuSeconds, 0),
    count: samples.reduce((n, s) => n + s.count, 0),
  };
}

/** One operation's rounds on one server: from all the clients, and from one. */
interface Phases {
  loaded: Sample[];
  single: Sample[];
}

const p50 = (s: Sample) => percentile(s.latencies, 50);
const p99 = (s: Sample) => percentile(s.latencies, 99);
const rate = (s: Sample) => s.count / s.seconds;
const cpuMs = (s: Sample) => (s.cpuSeconds / s.count) * 1000;

/** The figures of one authenticated case beside the baseline's, and what it adds against the goal. */
function costRows(name: string, phases: Phases, base: Phases, clients: number): Row[] {
  const [loaded, single, baseLoaded, baseSingle] = [phases.loaded, phases.single, base.loaded, base.single].map(pool) as [Sample, Sample, Sample, Sample];
  const beside = (figure: string, value: (s: Sample) => number, s: Sample, b: Sample, unit: string): Row => ({
    figure: `${figure}, ${name}`,
    value: value(s),
    peer: value(b),
    peerName: 'no auth',
    unit,
  });
  const target = (figure: string, value: number, unit: string, goal: number): Row => ({ figure: `${figure}, ${name}`, value, unit, peer: goal, peerName: 'target' });
  // Paired by round (the two servers ran back to back): the machine's drift cancels, and the median drops a round that met other load.
  const pairedMedian = (value: (s: Sample) => number) => percentile(phases.loaded.map((s, round) => value(s) / value(base.loaded[round]!)).sort((a, b) => a - b), 50);
  return [
    beside('p50, 1 client', p50, single, baseSingle, 'ms'),
    target('p50 added, 1 client', p50(single) - p50(baseSingle), 'ms', 0.2),
    beside('p99, 1 client', p99, single, baseSingle, 'ms'),
    beside(`p50, ${clients} clients`, p50, loaded, baseLoaded, 'ms'),
    beside(`p99, ${clients} clients`, p99, loaded, baseLoaded, 'ms'),
    { ...beside(`throughput, ${clients} clients`, rate, loaded, baseLoaded, 'req/s'), lowerIsBetter: false },
    target('throughput lost (median of rounds)', (1 - pairedMedian(rate)) * 100, '%', 10),
    beside(`server CPU per request, ${clients} clients`, cpuMs, loaded, baseLoaded, 'ms'),
    target('throughput lost (server CPU, median of rounds)', (1 - 1 / pairedMedian(cpuMs)) * 100, '%', 10),
  ];
}

export async function authBench(o: AuthBenchOptions): Promise<void> {
  const running: Running[] = [];
  const dataDirs: string[] = [];
  try {
    const child = join(import.meta.dirname, 'apiserver-child.ts');
    const started = await Promise.allSettled(
      cases.map(async (c): Promise<Running> => {
        const dataDir = tempDir('kubesvc-bench-auth-');
        dataDirs.push(dataDir);
        const server = await startServerProcess(['--import', 'tsx', child, '--data-dir', dataDir, '--authorization', c.authorization], o.nodeFlags);
        return { case: c, dataDir, server, seq: 0 };
      }),
    );
    for (const s of started) if (s.status === 'fulfilled') running.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    for (const r of running) {
      r.client = httpsClient(r.server.url, r.case.credentials(await prepare(r)), o.clients);
      await verify(r);
    }
    const phases = ops.flatMap((op) => [o.clients, 1].map((clients) => ({ op, clients })));
    const samples = new Map(running.map((r) => [r, phases.map((): Sample[] => [])]));
    const warmUp = o.requests;
    for (const { op, clients } of phases) {
      for (const r of running) await measure(r, op, clients, warmUp);
    }
    for (const [p, { op, clients }] of phases.entries()) {
      for (let round = 0; round < o.rounds; round++) {
        const count = Math.floor(o.requests / o.rounds) + (round < o.requests % o.rounds ? 1 : 0);
        for (let k = 0; k < running.length; k++) {
          const r = running[(k + round) % running.length]!;
          samples.get(r)![p]!.push(await measure(r, op, clients, count));
        }
      }
    }

    const [baseline, ...others] = running;
    for (const [index, op] of ops.entries()) {
      const phasesOf = (r: Running): Phases => ({ loaded: samples.get(r)![index * 2]!, single: samples.get(r)![index * 2 + 1]! });
      printTable(
        `kubesvc API server, authentication + authorization: ${o.requests} ConfigMap ${op.name}s per server and phase (${o.rounds} rounds), ` +
          `${o.clients} clients and 1 (peer: the same server with AlwaysAllow and anonymous requests; the control's gap is noise)`,
        others.flatMap((r) => costRows(r.case.name, phasesOf(r), phasesOf(baseline!), o.clients)),
      );
    }
  } finally {
    for (const r of running) r.client?.close();
    await Promise.all(running.map((r) => r.server.stop()));
    for (const d of dataDirs) removeTempDir(d);
  }
}
