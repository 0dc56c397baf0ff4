// `kubesvc trace` on a two-node `kubesvc up`, once per kernel proxy mode:
// a working ClusterIP (by name, through the cluster DNS), a node port, a
// Service without endpoints and an externalTrafficPolicy Local miss — each
// trace names the rule that decided and the outcome, read from the kernel's
// own trace (xtables-monitor in iptables mode, nft monitor in nftables mode);
// `-o json` keeps its shape. Each trace's wall time is printed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { repoRoot } from '../helpers/cli.js';
import { fixtures } from '../helpers/fixtures.js';
import { answersFrom, namespaceSkipReason, run } from '../helpers/root.js';
import { localPolicyServices, manifests, pinnedBackends } from '../helpers/manifests.js';
import { waitFor } from '../helpers/apiserver.js';
import { startUp, type UpCluster } from '../helpers/up.js';
import type { TraceReport } from '../../src/trace/types.js';

const node1 = '172.18.0.2';

const modes = [
  { mode: 'iptables', tools: ['iptables-restore', 'xtables-monitor', 'conntrack', 'stdbuf'], serviceChain: /^KUBE-SVC-/, externalChain: /^KUBE-EXT-/, rejectChain: 'KUBE-SERVICES', localDropChain: 'KUBE-EXTERNAL-SERVICES' },
  { mode: 'nftables', tools: ['nft', 'conntrack', 'stdbuf'], serviceChain: /^service-/, externalChain: /^external-/, rejectChain: 'reject-chain', localDropChain: 'nodeport-endpoints-check' },
] as const;

/** The -o json shape scripts rely on: these keys, always present. */
const reportKeys = ['conntrack', 'dnat', 'dns', 'durationMs', 'explanations', 'hops', 'mode', 'outcome', 'probe', 'proxyChoice', 'source', 'target', 'tracer'];
const hopKeys = ['chain', 'meaning', 'node', 'rule', 'table', 'target', 'verdict'];
const targetKeys = ['input', 'ip', 'node', 'port', 'protocol', 'service', 'servicePort', 'via'];
const probeKeys = ['durationMs', 'error', 'result', 'sourcePort'];
const sourceKeys = ['ip', 'kind', 'name', 'namespace', 'node'];
const sorted = (o: object) => Object.keys(o).sort();

const wallTimes: string[] = [];

for (const m of modes) {
  describe(`kubesvc trace (${m.mode} mode)`, { skip: namespaceSkipReason(m.tools as unknown as string[]), timeout: 240_000 }, () => {
    let cluster: UpCluster | undefined;
    let dataDir: string;

    async function trace(args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
      const t0 = performance.now();
      const r = await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'trace', '--data-dir', dataDir, ...args], 30_000);
      const ms = Math.round(performance.now() - t0);
      return { ...r, ms };
    }

    async function traceJson(target: string, extra: string[] = []): Promise<TraceReport> {
      const r = await trace(['-o', 'json', ...extra, target]);
      let report: TraceReport;
      try {
        report = JSON.parse(r.stdout) as TraceReport;
      } catch {
        throw new Error(`trace ${target} printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
      }
      wallTimes.push(`${m.mode.padEnd(9)} ${target.padEnd(20)} ${report.outcome.result.padEnd(9)} trace ${String(report.durationMs).padStart(4)} ms, command ${r.ms} ms`);
      return report;
    }

    const hopWith = (report: TraceReport, pattern: RegExp) => report.hops.find((h) => h.meaning !== null && pattern.test(h.meaning));
    const show = (report: TraceReport) => JSON.stringify(report.hops.map((h) => `${h.node} ${h.table} ${h.chain} ${h.verdict} ${h.target ?? ''} ${h.meaning ?? ''}`), null, 1);

    before(async () => {
      cluster = await startUp(`trace-${m.mode}`, ['--nodes', '2', '--proxy-mode', m.mode]);
      dataDir = cluster.dataDir;
      const { kubectl } = cluster;
      await kubectl.ok(['apply', '-f', join(fixtures, 'backend-deployment.yaml'), '-f', join(fixtures, 'services.yaml'), '-f', join(fixtures, 'trace-services.yaml')]);
      await kubectl.ok(['apply', '-f', '-'], { input: manifests(pinnedBackends, localPolicyServices) });
      await kubectl.ok(['rollout', 'status', 'deployment/service-env', '--timeout=90s']);
      await kubectl.ok(['rollout', 'status', 'deployment/pinned', '--timeout=90s']);
      // Traces by name need the cluster DNS answering: its pod Ready (synced with the API).
      await kubectl.ok(['-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', '--timeout=90s']);
      // Both nodes' proxies have the services: the cluster IP from node-2, the Local node port of node-1 from node-2.
      await waitFor('the cluster IP answering from node-2', async () => !(await answersFrom(dataDir, 'http://10.97.1.1/', { n: 2, node: 'node-2' })).includes('FAILED'), 30_000);
      await waitFor('the Local node port answering on node-1', async () => !(await answersFrom(dataDir, `http://${node1}:30080/`, { n: 2, node: 'node-2' })).includes('FAILED'), 30_000);
    });

    after(async () => {
      await cluster?.stop();
    });

    test('a working ClusterIP, by name: DNS answer, the service chain, the endpoint DNATed to, conntrack, delivered', async () => {
      const report = await traceJson('service-clusterip');
      assert.equal(report.outcome.result, 'delivered', report.outcome.reason);
      assert.equal(report.target.service, 'default/service-clusterip');
      assert.equal(report.target.ip, '10.97.1.1');
      assert.equal(report.target.via, 'cluster-ip');
      assert.equal(report.dns?.answers[0]?.data, '10.97.1.1');
      assert.equal(report.dns?.answers[0]?.name, 'service-clusterip.default.svc.cluster.local');
      const svcHop = hopWith(report, /^default\/service-clusterip → \S+ \(Cluster policy/);
      assert.ok(svcHop && m.serviceChain.test(svcHop.target ?? ''), show(report));
      assert.ok(hopWith(report, /^endpoint 10\.244\.\d+\.\d+:80 \(pod service-env-/), show(report));
      assert.match(report.dnat?.pod ?? '', /^default\/service-env-/);
      assert.equal(report.dnat?.port, 80);
      const entry = report.conntrack.find((c) => c.original.dst === '10.97.1.1');
      assert.ok(entry, JSON.stringify(report.conntrack));
      assert.equal(entry.reply.src, report.dnat?.ip);
      assert.ok(entry.flags.includes('ASSURED'), JSON.stringify(entry));
      assert.equal(report.probe?.result, 'connected');
    });

    test('the text output reads as a path with its outcome', async () => {
      const r = await trace(['service-clusterip']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^trace node\/node-1 172\.18\.0\.2 → default\/service-clusterip 10\.97\.1\.1:80\/TCP, cluster IP$/m);
      assert.match(r.stdout, /service-clusterip\.default\.svc\.cluster\.local\.\t\d+\tIN\tA\t10\.97\.1\.1/);
      assert.match(r.stdout, /⇒ DNAT to 10\.244\.\d+\.\d+:80 \(pod service-env-/);
      assert.match(r.stdout, /^result: delivered — connected to 10\.244\.\d+\.\d+:80/m);
    });

    test('a NodePort: the node port rule, the external chain, the endpoint, delivered', async () => {
      const report = await traceJson('30002');
      assert.equal(report.outcome.result, 'delivered', report.outcome.reason);
      assert.equal(report.target.via, 'node-port');
      assert.equal(report.target.ip, node1);
      assert.equal(report.target.service, 'default/service-nodeport');
      const ext = hopWith(report, /^default\/service-nodeport → \S+ \(traffic to a node port/);
      assert.ok(ext && m.externalChain.test(ext.target ?? ''), show(report));
      assert.match(report.dnat?.pod ?? '', /^default\/service-env-/);
      assert.ok(report.conntrack.some((c) => c.original.dport === 30002 && c.reply.src === report.dnat?.ip), JSON.stringify(report.conntrack));
    });

    test('a Service without endpoints: the REJECT rule, and why', async () => {
      const report = await traceJson('nobody');
      assert.equal(report.outcome.result, 'rejected', report.outcome.reason);
      assert.match(report.outcome.reason, /^default\/nobody has no endpoints: rejected \(node-1, /);
      const hop = report.hops.find((h) => h.verdict === 'drop');
      assert.ok(hop, show(report));
      assert.equal(hop.chain, m.rejectChain);
      assert.equal(hop.node, 'node-1');
      assert.ok(report.explanations.includes("no pod in default matches default/nobody's selector app=nobody"), JSON.stringify(report.explanations));
      assert.equal(report.probe?.result, 'refused');
      assert.equal(report.dnat, null);
    });

    test('externalTrafficPolicy Local without a local endpoint: the DROP rule on node-2', async () => {
      const report = await traceJson('node/node-2:30080');
      assert.equal(report.outcome.result, 'dropped', report.outcome.reason);
      assert.match(report.outcome.reason, /^externalTrafficPolicy Local: node-2 has no local endpoint for default\/etp-local: dropped \(node-2, /);
      const hop = report.hops.find((h) => h.verdict === 'drop');
      assert.ok(hop, show(report));
      assert.equal(hop.node, 'node-2');
      assert.equal(hop.chain, m.localDropChain);
      assert.ok(report.explanations.includes('default/etp-local has externalTrafficPolicy Local and ready endpoints only on node-1, none on node-2'), JSON.stringify(report.explanations));
    });

    test('a name that does not exist: DNS NXDOMAIN, nothing sent, exit 1', async () => {
      const r = await trace(['-o', 'json', 'no-such-service']);
      assert.equal(r.code, 1);
      const report = JSON.parse(r.stdout) as TraceReport;
      assert.equal(report.outcome.result, 'dns-failed');
      assert.deepEqual(report.dns?.queries[0], { name: 'no-such-service.default.svc.cluster.local', rcode: 'NXDOMAIN' });
      assert.equal(report.probe, null);
      assert.ok(report.explanations.includes('no Service named no-such-service in namespace default'));
    });

    test('-o json keeps its shape', async () => {
      const report = await traceJson('svc/service-clusterip:80');
      assert.deepEqual(sorted(report), reportKeys);
      assert.deepEqual(sorted(report.target), targetKeys);
      assert.deepEqual(sorted(report.source), sourceKeys);
      assert.deepEqual(sorted(report.probe!), probeKeys);
      assert.deepEqual(sorted(report.outcome), ['reason', 'result']);
      assert.ok(report.hops.length > 0);
      for (const h of report.hops) assert.deepEqual(sorted(h), hopKeys);
      assert.deepEqual(sorted(report.dnat!), ['ip', 'node', 'pod', 'port']);
      for (const c of report.conntrack) assert.deepEqual(sorted(c), ['flags', 'node', 'original', 'protocol', 'reply', 'state']);
      assert.equal(report.dns, null);
      assert.equal(report.proxyChoice, null);
      assert.equal(report.tracer, m.mode === 'iptables' ? 'xtables-monitor --trace' : 'nft monitor trace');
    });

    test('nothing of the trace is left behind on the nodes', async () => {
      for (const node of ['node-1', 'node-2']) {
        const nft = await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'exec', '--data-dir', dataDir, '--node', node, '--', 'nft', 'list', 'ruleset']);
        assert.doesNotMatch(nft.stdout, /kubesvc-trace|nftrace|TRACE/, `${node}:\n${nft.stdout.slice(0, 2000)}`);
      }
    });
  });
}

// The userspace mode: the kernel only sees the packet redirected to the proxy's socket; the trace asks
// the node's proxy (its metrics listener, /debug/userspace-choices) which endpoint it sent the probe to.
describe('kubesvc trace (userspace mode): the proxy\'s own choice', { skip: namespaceSkipReason(['iptables-restore', 'xtables-monitor', 'conntrack', 'stdbuf']), timeout: 240_000 }, () => {
  let cluster: UpCluster | undefined;
  let dataDir: string;

  const traceCli = (args: string[]) => run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'trace', '--data-dir', dataDir, ...args], 30_000);

  before(async () => {
    cluster = await startUp('trace-userspace', ['--nodes', '1', '--proxy-mode', 'userspace']);
    dataDir = cluster.dataDir;
    const { kubectl } = cluster;
    await kubectl.ok(['apply', '-f', join(fixtures, 'backend-deployment.yaml'), '-f', join(fixtures, 'services.yaml')]);
    await kubectl.ok(['rollout', 'status', 'deployment/service-env', '--timeout=90s']);
    await waitFor('the cluster IP answering through the userspace proxy', async () => !(await answersFrom(dataDir, 'http://10.97.1.1/', { n: 2 })).includes('FAILED'), 30_000);
  });

  after(async () => {
    await cluster?.stop();
  });

  test('-o json names the endpoint the proxy picked, one of the service\'s pods', async () => {
    const t0 = performance.now();
    const r = await traceCli(['-o', 'json', 'svc/service-clusterip:80']);
    const report = JSON.parse(r.stdout) as TraceReport;
    wallTimes.push(`userspace svc/service-clusterip:80 ${report.outcome.result.padEnd(9)} trace ${String(report.durationMs).padStart(4)} ms, command ${Math.round(performance.now() - t0)} ms`);
    assert.equal(report.outcome.result, 'delivered', report.outcome.reason);
    assert.deepEqual(sorted(report), reportKeys);
    const choice = report.proxyChoice;
    assert.ok(choice, JSON.stringify(report, null, 1));
    assert.deepEqual(sorted(choice), ['endpoint', 'node', 'picks', 'service', 'time']);
    assert.equal(choice.node, 'node-1');
    assert.equal(choice.service, 'default/service-clusterip');
    const pods = JSON.parse(await cluster!.kubectl.ok(['get', 'pods', '-l', 'app=service-env', '-o', 'json'])) as { items: { metadata: { name: string }; status: { podIP: string } }[] };
    const pod = pods.items.find((p) => p.status.podIP === choice.endpoint.ip);
    assert.ok(pod, `${choice.endpoint.ip} is not one of ${pods.items.map((p) => p.status.podIP).join(', ')}`);
    assert.equal(choice.endpoint.pod, `default/${pod.metadata.name}`);
    assert.equal(choice.endpoint.port, 80);
    // The kernel's part is still there: the portal rule, now saying where the proxy sent the connection.
    assert.ok(report.hops.some((h) => h.meaning?.startsWith(`to the userspace proxy's socket: the userspace proxy on node-1 sent this connection to ${choice.endpoint.ip}:80 (pod ${pod.metadata.name}`)), JSON.stringify(report.hops, null, 1));
    assert.match(report.outcome.reason, new RegExp(`^connected to ${choice.endpoint.ip.replace(/\./g, '\\.')}:80 \\(pod ${pod.metadata.name}, node-1\\) through the userspace proxy's socket `));
  });

  test('the text output says where the proxy sent the connection', async () => {
    const r = await traceCli(['service-clusterip']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^userspace proxy: the userspace proxy on node-1 sent this connection to 10\.244\.\d+\.\d+:80 \(pod service-env-\S+, node-1\) \(default\/service-clusterip, at /m);
    assert.match(r.stdout, /^result: delivered — connected to 10\.244\.\d+\.\d+:80 \(pod service-env-/m);
  });
});

after(() => {
  if (wallTimes.length) console.log(`kubesvc trace wall time (goal < 1 s):\n${wallTimes.join('\n')}`);
});
