// Services carrying real traffic through the userspace proxy under
// `kubesvc up`: ClusterIP from the node and from a pod, NodePort on the node
// IP, LoadBalancer IP, multi-port, ClientIP affinity, UDP, no endpoints, a
// backend refusing connections; metrics and healthz; rules live only in the
// node namespace; a standalone `kubesvc proxy` removes its rules when it stops.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectlFor, type Kubectl } from '../helpers/kubectl.js';
import { repoRoot, startCli, waitForOutput, type CliProcess } from '../helpers/cli.js';
import { answersFrom, namespaceSkipReason, onNode as execOnNode, run } from '../helpers/root.js';
import { manifests, udpBackends } from '../helpers/manifests.js';
import { waitFor } from '../helpers/apiserver.js';
import { clusterIdFor } from '../../src/agent/cluster-id.js';
import { fixtures, udpAsk } from '../helpers/fixtures.js';

const skipReason = () => namespaceSkipReason(['iptables-restore']);


/** Three UDP serve-hostname backends behind a UDP service, and a service whose selector matches nothing. */
const udpAndEmpty = manifests(
  udpBackends,
  `
apiVersion: v1
kind: Service
metadata: {name: no-endpoints}
spec:
  clusterIP: 10.97.1.9
  selector: {app: nothing-matches}
  ports: [{port: 80}]
`,
);

describe('userspace proxy under kubesvc up', { skip: skipReason(), timeout: 180_000 }, () => {
  let dataDir: string;
  let up: CliProcess;
  let kubectl: Kubectl;
  const onNode = (args: string[]) => execOnNode(dataDir, args);
  const curlFromNode = async (url: string) => (await onNode(['curl', '-s', '-m', '3', url])).stdout.trim();
  let podNames: string[];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-proxy-'));
    up = startCli(['up', '--data-dir', dataDir, '--port', '0', '--proxy-mode', 'userspace']);
    await waitForOutput(up, /kubesvc is up/, 30_000);
    kubectl = kubectlFor(join(dataDir, 'kubeconfig'));
    await kubectl.ok(['apply', '-f', join(fixtures, 'backend-deployment.yaml'), '-f', join(fixtures, 'services.yaml'), '-f', '-'], { input: udpAndEmpty });
    await kubectl.ok(['rollout', 'status', 'deployment/service-env', '--timeout=60s']);
    await kubectl.ok(['rollout', 'status', 'deployment/udp-env', '--timeout=60s']);
    podNames = (await kubectl.ok(['get', 'pods', '-l', 'app=service-env', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').sort();
    await waitFor('the proxy serving the ClusterIP', async () => podNames.includes(await curlFromNode('http://10.97.1.1/')), 20_000);
  });

  after(async () => {
    up?.child.kill('SIGINT');
    await up?.exited;
    kubectl?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Distinct answers over n requests, made in one `kubesvc exec` (each exec starts a process). */
  const seen = (url: string, n = 12) => answersFrom(dataDir, url, { n });

  test('ClusterIP from the node reaches every backend', async () => {
    assert.deepEqual(await seen('http://10.97.1.1/'), podNames);
  });

  test('NodePort on the node IP (named targetPort) and the LoadBalancer IP reach every backend', async () => {
    assert.deepEqual(await seen('http://172.18.0.2:30002/'), podNames);
    const lbIP = await kubectl.ok(['get', 'svc', 'service-lb', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}']);
    assert.match(lbIP, /^172\.18\.255\.\d+$/);
    assert.deepEqual(await seen(`http://${lbIP}/`), podNames);
  });

  test('multi-port service: the second port routes to the pods too', async () => {
    const ip = await kubectl.ok(['get', 'svc', 'service-multiport', '-o', 'jsonpath={.spec.clusterIP}']);
    assert.deepEqual(await seen(`http://${ip}:8443/`), podNames);
  });

  test('ClientIP affinity keeps the node on one backend', async () => {
    const ip = await kubectl.ok(['get', 'svc', 'service-affinity', '-o', 'jsonpath={.spec.clusterIP}']);
    assert.equal((await seen(`http://${ip}:8080/`, 10)).length, 1);
  });

  test('ClusterIP from inside a pod', async () => {
    const out = await kubectl.ok(['exec', podNames[0], '--', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9; do curl -s -m 3 http://10.97.1.1/; echo; done']);
    assert.deepEqual([...new Set(out.trim().split('\n'))].sort(), podNames);
  });

  test('UDP service: every backend answers, one session per client port', async () => {
    const ip = await kubectl.ok(['get', 'svc', 'udp-svc', '-o', 'jsonpath={.spec.clusterIP}']);
    const udpPods = (await kubectl.ok(['get', 'pods', '-l', 'app=udp-env', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').sort();
    const out = await onNode([process.execPath, udpAsk, ip, '53', '--count', '9', '--wait', '1000']);
    assert.deepEqual([...new Set(out.stdout.trim().split('\n'))].sort(), udpPods);
  });

  test('a service without endpoints refuses at once instead of hanging', async () => {
    const started = Date.now();
    const r = await onNode(['curl', '-s', '-m', '10', 'http://10.97.1.9/']);
    assert.notEqual(r.code, 0);
    assert.notEqual(r.code, 28, 'curl timed out');
    assert.ok(Date.now() - started < 5000);
  });

  test('healthz on 10256 and metrics on 10249 answer inside the node', async () => {
    const healthz = await onNode(['curl', '-s', '-w', '\n%{http_code}', 'http://127.0.0.1:10256/healthz']);
    assert.match(healthz.stdout, /"nodeEligible": true}\n200$/);
    const metrics = async () => (await onNode(['curl', '-s', 'http://127.0.0.1:10249/metrics'])).stdout;
    assert.match(await metrics(), /^kubeproxy_sync_proxy_rules_duration_seconds_count [1-9]/m);
    assert.match(await metrics(), /^kubeproxy_sync_proxy_rules_last_timestamp_seconds [1-9]/m);
    // Trigger times have second precision and count only when later than the proxy's start (as upstream): a new service's do.
    await kubectl.ok(['create', 'service', 'clusterip', 'metrics-probe', '--tcp=80:80']);
    await waitFor('a network programming latency sample', async () => /^kubeproxy_network_programming_duration_seconds_count [1-9]/m.test(await metrics()), 10_000);
    assert.equal((await onNode(['curl', '-s', 'http://127.0.0.1:10249/proxyMode'])).stdout, 'userspace');
  });

  test('the rules live in the node namespace only', async () => {
    const node = await onNode(['iptables-save', '-t', 'nat']);
    assert.match(node.stdout, /-A KUBE-PORTALS-CONTAINER -d 10\.97\.1\.1\/32 -p tcp -m comment --comment "default\/service-clusterip" -m tcp --dport 80 -j REDIRECT/);
    const host = await run('iptables-save', ['-t', 'nat']);
    assert.doesNotMatch(host.stdout, /KUBE-/);
  });

  test('cluster DNS runs as kube-system/coredns behind kube-dns 10.96.0.10, reachable from the node over UDP and TCP', async () => {
    await kubectl.ok(['rollout', 'status', '-n', 'kube-system', 'deployment/coredns', '--timeout=60s']);
    assert.match(await kubectl.ok(['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-dns']), /coredns-\S+\s+1\/1\s+Running/);
    assert.equal(await kubectl.ok(['get', 'svc', '-n', 'kube-system', 'kube-dns', '-o', 'jsonpath={.spec.clusterIP}']), '10.96.0.10');
    const dig = async (...args: string[]) => (await onNode(['dig', '@10.96.0.10', '+short', '+time=2', ...args])).stdout.trim();
    await waitFor('the DNS answering through the proxy', async () => (await dig('service-clusterip.default.svc.cluster.local')) === '10.97.1.1', 20_000);
    assert.equal(await dig('+tcp', 'service-clusterip.default.svc.cluster.local'), '10.97.1.1');
    assert.equal(await dig('kubernetes.default.svc.cluster.local'), '10.96.0.1');
  });

  test('a pod resolves services through its search path; autopath finishes it in one answer', async () => {
    assert.equal((await kubectl.ok(['exec', podNames[0], '--', 'getent', 'hosts', 'service-clusterip'])).trim(), '10.97.1.1       service-clusterip.default.svc.cluster.local');
    assert.ok(podNames.includes(await kubectl.ok(['exec', podNames[0], '--', 'curl', '-s', '-m', '3', 'http://service-clusterip/'])));
    const headless = await kubectl.ok(['exec', podNames[0], '--', 'getent', 'ahostsv4', 'service-headless']);
    assert.equal(new Set(headless.trim().split('\n').map((l) => l.split(/\s+/)[0])).size, 3);
    // The first search-path try for "kube-dns.kube-system" from a pod of "default" is answered with a CNAME to the real name.
    // Asked of the DNS pod directly: the userspace proxy hides the client's IP, which autopath needs to know the pod.
    const dnsPod = await kubectl.ok(['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-dns', '-o', 'jsonpath={.items[0].status.podIP}']);
    const completed = await kubectl.ok(['exec', podNames[0], '--', 'dig', `@${dnsPod}`, '+short', 'kube-dns.kube-system.default.svc.cluster.local']);
    assert.deepEqual(completed.trim().split('\n'), ['kube-dns.kube-system.svc.cluster.local.', '10.96.0.10']);
    // Names outside the cluster are refused at once (the cluster network has no way out), not timed out.
    assert.match(await kubectl.ok(['exec', podNames[0], '--', 'dig', '+tries=1', '+time=2', 'www.example.com']), /status: REFUSED/);
  });

  test('kubesvc status: nodes, the coredns pod, services with their ready endpoints', async () => {
    const out = await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'status', '--data-dir', dataDir]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^node-1\s+Ready\s+172\.18\.0\.2\s+10\.244\.0\.0\/24$/m);
    assert.match(out.stdout, /^coredns-\S+\s+Running\s+10\.244\.0\.\d+\s+node-1$/m);
    assert.match(out.stdout, /^default\s+service-clusterip\s+ClusterIP\s+10\.97\.1\.1\s+<none>\s+80\/TCP\s+3$/m);
    assert.match(out.stdout, /^kube-system\s+kube-dns\s+ClusterIP\s+10\.96\.0\.10\s+<none>\s+53\/UDP,53\/TCP,9153\/TCP\s+1$/m);
  });

  // Last: it leaves one backend refusing connections.
  test('a backend that refuses connections is skipped by the retry: no request fails', async () => {
    const victim = podNames[0];
    // The pod may not change its own firewall (no NET_ADMIN): the rule goes into its network namespace from the host.
    // Only this cluster's namespaces: another test's cluster may give one of its pods the same IP.
    const ip = await kubectl.ok(['get', 'pod', victim, '-o', 'jsonpath={.status.podIP}']);
    const ours = `ksvc-${clusterIdFor(dataDir)}-`;
    const reject = await run('sh', ['-c', `for ns in $(ip netns list | cut -d' ' -f1 | grep '^${ours}'); do if ip -n "$ns" -4 -o addr show | grep -q " ${ip}/"; then exec ip netns exec "$ns" iptables -I INPUT -p tcp --dport 80 -j REJECT --reject-with tcp-reset; fi; done; exit 1`]);
    assert.equal(reject.code, 0, reject.stderr);
    // The readiness probe takes ~3 s to drop the endpoint; these requests run inside that window.
    const out = await onNode(['sh', '-c', 'for i in $(seq 15); do curl -s -m 3 http://10.97.1.1/ || echo FAILED; echo; done']);
    const answers = out.stdout.trim().split('\n');
    assert.equal(answers.length, 15);
    assert.ok(!answers.includes('FAILED'), out.stdout);
    assert.deepEqual([...new Set(answers)].sort(), podNames.filter((p) => p !== victim));
  });
});

describe('standalone kubesvc proxy in its own network namespace', { skip: skipReason(), timeout: 120_000 }, () => {
  const netns = `ksvc-test-proxy-${process.pid}`;
  let dataDir: string;
  let api: CliProcess;
  let kubectl: Kubectl;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-proxy-alone-'));
    api = startCli(['apiserver', '--data-dir', dataDir, '--port', '0']);
    await waitForOutput(api, /apiserver\] "ready"/, 30_000);
    kubectl = kubectlFor(join(dataDir, 'kubeconfig'));
    await kubectl.ok(['apply', '-f', join(fixtures, 'services.yaml')]);
    await run('ip', ['netns', 'add', netns]);
    await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  });

  after(async () => {
    api?.child.kill('SIGINT');
    await api?.exited;
    kubectl?.cleanup();
    await run('ip', ['netns', 'del', netns]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('programs the services from the API, serves healthz, and removes every rule when it stops', async () => {
    const config = join(dataDir, 'kube-proxy.yaml');
    writeFileSync(config, 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: userspace\nnodePortAddresses: ["127.0.0.0/8"]\nhealthzBindAddress: 127.0.0.1:10256\n');
    const proxy = startCli(['proxy', '--data-dir', dataDir, '--config', config, '--hostname-override', 'elsewhere'], {}, netns);
    try {
      await waitForOutput(proxy, /proxy\] "ready"/, 30_000);
      const saved = async () => (await run('ip', ['netns', 'exec', netns, 'iptables-save', '-t', 'nat'])).stdout;
      await waitFor('rules for the fixture services', async () => /default\/service-nodeport/.test(await saved()), 15_000);
      const rules = await saved();
      assert.match(rules, /-A KUBE-NODEPORT-HOST -d 127\.0\.0\.1\/32 -p tcp -m comment --comment "default\/service-nodeport" -m tcp --dport 30002 -j REDIRECT/);
      assert.doesNotMatch(rules, /service-headless|service-externalname/);
      const healthz = await run('ip', ['netns', 'exec', netns, 'curl', '-s', '-w', '\n%{http_code}', 'http://127.0.0.1:10256/healthz']);
      assert.match(healthz.stdout, /200$/);
      proxy.child.kill('SIGTERM');
      assert.equal(await proxy.exited, 0);
      assert.doesNotMatch(await saved(), /KUBE-/);
    } finally {
      proxy.child.kill('SIGKILL');
    }
  });
});
