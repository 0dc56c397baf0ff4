// The kernel proxy modes with real traffic on a two-node `kubesvc up`, per
// mode: ClusterIP from a node and from a pod, NodePort on every node's IP,
// LoadBalancer and external IPs, ClientIP affinity, UDP (and the conntrack
// cleanup when a UDP endpoint goes), externalTrafficPolicy / internalTraffic-
// Policy Local with the health check, the cluster DNS through its ClusterIP
// with autopath (the kernel modes keep the client's IP), rules named as
// upstream names them, and a standalone proxy that removes its rules on stop.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectlFor, type Kubectl } from '../helpers/kubectl.js';
import { startCli, waitForOutput, type CliProcess } from '../helpers/cli.js';
import { startUp, type UpCluster } from '../helpers/up.js';
import { answersFrom, namespaceSkipReason, onNode, run } from '../helpers/root.js';
import { localPolicyServices, manifests, pinnedBackends, udpBackends } from '../helpers/manifests.js';
import { waitFor } from '../helpers/apiserver.js';
import { servicePortPolicyClusterChain } from '../../src/proxy/iptables/chain-names.js';
import { fixtures, udpAsk } from '../helpers/fixtures.js';

/** The pinned backends with their Local-policy services, UDP backends, and a service with an external IP. */
const extras = manifests(
  pinnedBackends,
  localPolicyServices,
  udpBackends,
  `
apiVersion: v1
kind: Service
metadata: {name: external-ip}
spec:
  selector: {app: service-env}
  externalIPs: [172.18.100.1]
  ports: [{port: 8080, targetPort: 80}]
`,
);

const skipReason = (tool: string) => namespaceSkipReason([tool]);


const node1 = '172.18.0.2';
const node2 = '172.18.0.3';

for (const mode of ['iptables', 'nftables', 'nftables-maps'] as const) {
  describe(`${mode} mode: real traffic on two nodes`, { skip: skipReason(mode === 'iptables' ? 'iptables-restore' : 'nft'), timeout: 240_000 }, () => {
    let dataDir: string;
    let cluster: UpCluster | undefined;
    let up: CliProcess;
    let kubectl: Kubectl;
    let envPods: string[];
    let pinned: string[];

    /** Distinct answers (FAILED for a failed request) over n requests made from a node (negative checks use a short timeout: DROP never answers). */
    // 30 requests: the kernel picks at random, and missing one of three backends in 30 tries has odds of 1 in 60,000.
    const seen = (url: string, n = 30, node = 'node-1', timeout = 3) => answersFrom(dataDir, url, { n, node, timeout });
    const podsOf = async (app: string) => (await kubectl.ok(['get', 'pods', '-l', `app=${app}`, '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').sort();

    before(async () => {
      cluster = await startUp(mode, ['--nodes', '2', '--proxy-mode', mode]);
      ({ dataDir, up, kubectl } = cluster);
      assert.match(up.output(), new RegExp(`proxy {8}DaemonSet kube-system/kube-proxy, ${mode} mode`));
      await kubectl.ok(['apply', '-f', join(fixtures, 'backend-deployment.yaml'), '-f', join(fixtures, 'services.yaml'), '-f', '-'], { input: extras });
      for (const d of ['service-env', 'pinned', 'udp-env']) await kubectl.ok(['rollout', 'status', `deployment/${d}`, '--timeout=90s']);
      await kubectl.ok(['rollout', 'status', '-n', 'kube-system', 'deployment/coredns', '--timeout=60s']);
      envPods = await podsOf('service-env');
      pinned = await podsOf('pinned');
      await waitFor('the ClusterIP serving every backend', async () => JSON.stringify(await seen('http://10.97.1.1/')) === JSON.stringify(envPods), 30_000);
    });

    after(() => cluster?.stop());

    test('ClusterIP from a node and from a pod on the other node reach every backend', async () => {
      assert.deepEqual(await seen('http://10.97.1.1/', 30, 'node-2'), envPods);
      const out = await kubectl.ok(['exec', envPods[0], '--', 'sh', '-c', 'for i in $(seq 30); do curl -s -m 3 http://10.97.1.1/; echo; done']);
      assert.deepEqual([...new Set(out.trim().split('\n'))].sort(), envPods);
    });

    test('NodePort on every node IP, the LoadBalancer IP and an external IP reach every backend', async () => {
      assert.deepEqual(await seen(`http://${node1}:30002/`), envPods);
      assert.deepEqual(await seen(`http://${node2}:30002/`), envPods);
      const lbIP = await kubectl.ok(['get', 'svc', 'service-lb', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}']);
      assert.deepEqual(await seen(`http://${lbIP}/`), envPods);
      assert.deepEqual(await seen('http://172.18.100.1:8080/', 30, 'node-2'), envPods);
    });

    test('multi-port and ClientIP affinity', async () => {
      const multi = await kubectl.ok(['get', 'svc', 'service-multiport', '-o', 'jsonpath={.spec.clusterIP}']);
      assert.deepEqual(await seen(`http://${multi}:8443/`), envPods);
      const sticky = await kubectl.ok(['get', 'svc', 'service-affinity', '-o', 'jsonpath={.spec.clusterIP}']);
      assert.equal((await seen(`http://${sticky}:8080/`, 10)).length, 1);
    });

    test('UDP: every backend answers; when a client\'s endpoint goes, its conntrack entry goes with it', async () => {
      const udpPods = await podsOf('udp-env');
      const ask = async (sport?: number) =>
        (await onNode(dataDir, [process.execPath, udpAsk, '10.97.3.3', '53', ...(sport ? ['--sport', String(sport)] : [])])).stdout.trim();
      const many = await onNode(dataDir, [process.execPath, udpAsk, '10.97.3.3', '53', '--count', '30']);
      assert.deepEqual([...new Set(many.stdout.trim().split('\n'))].sort(), udpPods);
      // One source port: conntrack pins it to one backend...
      const first = await ask(40053);
      assert.ok(udpPods.includes(first));
      assert.equal(await ask(40053), first);
      // ...until that backend is deleted: the flow must move on, not blackhole.
      await kubectl.ok(['delete', 'pod', first, '--wait=false']);
      await waitFor('the flow answered by another backend', async () => {
        const now = await ask(40053);
        return now !== '' && now !== first;
        // Well inside the 30 s a replied UDP conntrack entry lives: only the cleanup can move the flow this soon.
      }, 15_000);
    });

    test('externalTrafficPolicy Local: node-1 serves outside traffic locally, node-2 drops it; health checks say so', async () => {
      assert.deepEqual(await seen(`http://${node1}:30080/`, 20, 'node-2'), pinned);
      assert.deepEqual(await seen(`http://${node2}:30080/`, 2, 'node-1', 1), ['FAILED']);
      const hc = await kubectl.ok(['get', 'svc', 'etp-local', '-o', 'jsonpath={.spec.healthCheckNodePort}']);
      const ask = async (from: string, ip: string) => (await onNode(dataDir, ['curl', '-s', '-w', '\n%{http_code}', `http://${ip}:${hc}/healthz`], from)).stdout;
      assert.match(await ask('node-2', node1), /"localEndpoints": 2,[\s\S]*200$/);
      assert.match(await ask('node-1', node2), /"localEndpoints": 0,[\s\S]*503$/);
    });

    test('internalTrafficPolicy Local: node-1 reaches its endpoints, node-2 has none', async () => {
      assert.deepEqual(await seen('http://10.97.2.2/', 20, 'node-1'), pinned);
      assert.deepEqual(await seen('http://10.97.2.2/', 2, 'node-2', 1), ['FAILED']);
    });

    test('hairpin: a pod reaches itself through its own Service (masqueraded, so the reply finds its way)', async () => {
      // Unmasqueraded, the pod would answer itself from its own IP instead of the Service's, and the connection fail.
      const pod = envPods[0];
      await kubectl.ok(['create', 'service', 'clusterip', `self-${mode}`, '--tcp=80:80']);
      await kubectl.ok(['label', 'pod', pod, `self=${mode}`]);
      await kubectl.ok(['set', 'selector', `service/self-${mode}`, `self=${mode}`]);
      const vip = (await kubectl.ok(['get', 'svc', `self-${mode}`, '-o', 'jsonpath={.spec.clusterIP}'])).trim();
      await waitFor('the Service answering from its own pod', async () => {
        const r = await kubectl(['exec', pod, '--', 'curl', '-s', '-m', '3', `http://${vip}/`]);
        return r.code === 0 && r.stdout.trim() === pod;
      }, 20_000);
      await kubectl.ok(['delete', 'service', `self-${mode}`]);
    });

    test('cluster DNS through 10.96.0.10: search path from a pod, and autopath (the client IP survives)', async () => {
      assert.equal((await kubectl.ok(['exec', envPods[0], '--', 'getent', 'hosts', 'service-clusterip'])).trim(), '10.97.1.1       service-clusterip.default.svc.cluster.local');
      const completed = await kubectl.ok(['exec', envPods[0], '--', 'dig', '+short', 'kube-dns.kube-system.default.svc.cluster.local']);
      assert.deepEqual(completed.trim().split('\n'), ['kube-dns.kube-system.svc.cluster.local.', '10.96.0.10']);
    });

    if (mode === 'iptables') {
      test('rules read like a Kubernetes node: upstream chain names, statistic probabilities, REJECT without endpoints', async () => {
        const nat = (await onNode(dataDir, ['iptables-save', '-t', 'nat'])).stdout;
        const svc = servicePortPolicyClusterChain('default/service-clusterip', 'tcp');
        assert.match(nat, new RegExp(`-A KUBE-SERVICES -d 10\\.97\\.1\\.1/32 -p tcp -m comment --comment "default/service-clusterip cluster IP" -m tcp --dport 80 -j ${svc}`));
        assert.match(nat, new RegExp(`-A ${svc} .*-m statistic --mode random --probability 0\\.33333333349 -j KUBE-SEP-`));
        assert.match(nat, /-A KUBE-POSTROUTING .*-j MASQUERADE/);
        await kubectl.ok(['create', 'service', 'clusterip', 'nobody-home', '--tcp=80:80']);
        const ip = await kubectl.ok(['get', 'svc', 'nobody-home', '-o', 'jsonpath={.spec.clusterIP}']);
        await waitFor('REJECT for the service without endpoints', async () => new RegExp(`-d ${ip.replace(/\./g, '\\.')}/32 .*-j REJECT`).test((await onNode(dataDir, ['iptables-save', '-t', 'filter'])).stdout), 10_000);
        // curl's own clock: REJECT refuses at once (exit 7), no timeout.
        const r = await onNode(dataDir, ['curl', '-s', '-m', '5', '-w', '%{time_total}', `http://${ip}/`]);
        assert.equal(r.code, 7, 'connection refused');
        assert.ok(Number(r.stdout) < 1, `took ${r.stdout} s`);
      });
    }
    if (mode === 'iptables') {
      // Last in this cluster: it switches the mode the way the kube-proxy documentation walks through.
      test('switching modes: edit ConfigMap kube-proxy, delete the kube-proxy pods; the iptables rules give way to nftables', async () => {
        const conf = await kubectl.ok(['get', 'cm', 'kube-proxy', '-n', 'kube-system', '-o', 'jsonpath={.data.config\\.conf}']);
        assert.match(conf, /^mode: iptables$/m);
        const patch = { data: { 'config.conf': conf.replace(/^mode: iptables$/m, 'mode: nftables') } };
        await kubectl.ok(['patch', 'cm', 'kube-proxy', '-n', 'kube-system', '--type=merge', '-p', JSON.stringify(patch)]);
        await kubectl.ok(['delete', 'pod', '-l', 'k8s-app=kube-proxy', '-n', 'kube-system']);
        await waitFor('the nftables table on node-1', async () => (await onNode(dataDir, ['nft', 'list', 'table', 'ip', 'kube-proxy'])).code === 0, 30_000);
        await waitFor('the iptables rules removed', async () => !/KUBE-SVC-/.test((await onNode(dataDir, ['iptables-save', '-t', 'nat'])).stdout), 15_000);
        assert.deepEqual(await seen('http://10.97.1.1/'), envPods);
      });
    }

    if (mode === 'nftables-maps') {
      test('the map layout: endpoints are elements behind shared dispatch chains; no endpoints still refuses at once', async () => {
        const table = (await onNode(dataDir, ['nft', 'list', 'table', 'ip', 'kube-proxy'])).stdout;
        assert.match(table, /10\.97\.1\.1 \. tcp \. 80 : goto dispatch-cluster-ip-tcp-3\b/);
        assert.match(table, /dnat ip to ip daddr \. tcp dport \. numgen random mod 3 map @endpoints-tcp/);
        for (let i = 0; i < 3; i++) assert.match(table, new RegExp(`10\\.97\\.1\\.1 \\. 80 \\. ${i} : 10\\.244\\.\\d+\\.\\d+ \\. 80`));
        // No per-service chain but the ClientIP affinity service's (affinity needs per-endpoint state).
        const serviceChains = [...table.matchAll(/^\s+chain ((?:service|local|external|endpoint)-\S+\/\S*)/gm)].map((m) => m[1]);
        assert.ok(serviceChains.length > 0 && serviceChains.every((c) => c.includes('/service-affinity/')), serviceChains.join(' '));
        await kubectl.ok(['create', 'service', 'clusterip', 'nobody-home', '--tcp=80:80']);
        const ip = (await kubectl.ok(['get', 'svc', 'nobody-home', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
        await waitFor('the service without endpoints in no-endpoint-services', async () => (await onNode(dataDir, ['nft', 'list', 'map', 'ip', 'kube-proxy', 'no-endpoint-services'])).stdout.includes(`${ip} . tcp . 80`), 10_000);
        const r = await onNode(dataDir, ['curl', '-s', '-m', '5', '-w', '%{time_total}', `http://${ip}/`]);
        assert.equal(r.code, 7, 'connection refused');
        assert.ok(Number(r.stdout) < 1, `took ${r.stdout} s`);
      });
    }
    if (mode === 'nftables') {
      test('one table ip kube-proxy in the upstream shape: service-ips verdict map, numgen endpoint choice', async () => {
        const table = (await onNode(dataDir, ['nft', 'list', 'table', 'ip', 'kube-proxy'])).stdout;
        assert.match(table, /map service-ips \{\n\s+type ipv4_addr \. inet_proto \. inet_service : verdict/);
        assert.match(table, /10\.97\.1\.1 \. tcp \. 80 : goto service-[A-Z2-7]{8}-default\/service-clusterip\/tcp\//);
        assert.match(table, /numgen random mod 3 vmap \{ 0 : goto endpoint-[A-Z2-7]{8}-default\/service-clusterip\/tcp\/__10\.244\./);
        assert.doesNotMatch((await onNode(dataDir, ['iptables-save', '-t', 'nat'])).stdout, /KUBE-SVC-/);
      });
    }
  });

  describe(`${mode} mode: a standalone proxy removes its rules when it stops`, { skip: skipReason(mode === 'iptables' ? 'iptables-restore' : 'nft'), timeout: 60_000 }, () => {
    const netns = `ksvc-test-${mode}-${process.pid}`;
    let dataDir: string;
    let api: CliProcess;

    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), `kubesvc-${mode}-alone-`));
      api = startCli(['apiserver', '--data-dir', dataDir, '--port', '0']);
      await waitForOutput(api, /apiserver\] "ready"/, 30_000);
      const kubectl = kubectlFor(join(dataDir, 'kubeconfig'));
      await kubectl.ok(['apply', '-f', join(fixtures, 'services.yaml')]);
      kubectl.cleanup();
      await run('ip', ['netns', 'add', netns]);
      await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    });

    after(async () => {
      api?.child.kill('SIGINT');
      await api?.exited;
      await run('ip', ['netns', 'del', netns]);
      rmSync(dataDir, { recursive: true, force: true });
    });

    if (mode === 'iptables') {
      test('--proxy-mode ipvs on this kernel: the reason is logged and the iptables mode runs', async () => {
        const proxy = startCli(['proxy', '--data-dir', dataDir, '--proxy-mode', 'ipvs', '--hostname-override', 'elsewhere', '--healthz-bind-address', '127.0.0.1:10256'], {}, netns);
        try {
          await waitForOutput(proxy, /Can't use the IPVS proxier: .*falling back to the iptables proxier/, 30_000);
          await waitForOutput(proxy, /proxy\] "ready" .*mode="iptables"/, 30_000);
          // No endpoints here (no controllers): the services show up as REJECT rules.
          await waitFor('iptables rules', async () => /-A KUBE-SERVICES .*default\/service-nodeport.* -j REJECT/.test((await run('ip', ['netns', 'exec', netns, 'iptables-save'])).stdout), 15_000);
          proxy.child.kill('SIGTERM');
          assert.equal(await proxy.exited, 0);
        } finally {
          proxy.child.kill('SIGKILL');
        }
      });
    }

    test('rules appear, then leave with the proxy', async () => {
      const proxy = startCli(['proxy', '--data-dir', dataDir, '--proxy-mode', mode, '--hostname-override', 'elsewhere', '--healthz-bind-address', '127.0.0.1:10256'], {}, netns);
      const saved = async () => (await run('ip', ['netns', 'exec', netns, 'sh', '-c', 'iptables-save; nft list ruleset 2>/dev/null'])).stdout;
      try {
        await waitForOutput(proxy, /proxy\] "ready"/, 30_000);
        await waitFor('rules for the fixture services', async () => /default\/service-nodeport/.test(await saved()), 15_000);
        proxy.child.kill('SIGTERM');
        assert.equal(await proxy.exited, 0);
        assert.doesNotMatch(await saved(), /KUBE-|kube-proxy/);
      } finally {
        proxy.child.kill('SIGKILL');
      }
    });
  });
}
