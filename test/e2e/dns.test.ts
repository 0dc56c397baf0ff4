// The cluster DNS with the real dig: `kubesvc up --nodes 0` (API server and
// controllers) plus `kubesvc dns` on loopback, the shared fixtures applied,
// pods given IPs and readiness through the status subresource. Every record
// form of the Kubernetes DNS specification over UDP and TCP, negative answers
// with the SOA, truncation and the TCP retry, forwarding to an upstream the
// test runs, a forwarding loop reported instead of crashing, malformed
// packets survived, and the health / ready / metrics endpoints.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectlFor, type Kubectl } from '../helpers/kubectl.js';
import { startCli, waitForOutput, type CliProcess } from '../helpers/cli.js';
import { run, toolSkipReason } from '../helpers/root.js';
import { waitFor } from '../helpers/apiserver.js';
import { parseMessage, serializeMessage } from '../../src/dns/wire.js';
import { RRClass, RRType } from '../../src/dns/types.js';
import { fixtures } from '../helpers/fixtures.js';
import { kubeadmPolicy } from '../../src/auth/rbac/bootstrap-policy.js';
import { stringify } from 'yaml';
import { freePort } from '../helpers/ports.js';

const noDig = toolSkipReason(['dig']);


/** A stand-in upstream resolver: answers www.example.com A 192.0.2.10 (TTL 300), NXDOMAIN for the rest. */
async function fakeUpstream(): Promise<{ port: number; queries: string[]; close(): void }> {
  const sock = createSocket('udp4');
  const queries: string[] = [];
  sock.on('message', (buf, rinfo) => {
    const q = parseMessage(buf);
    const question = q.questions[0];
    queries.push(question.name.toLowerCase());
    const known = question.name.toLowerCase() === 'www.example.com' && question.type === RRType.A;
    const soa = { name: 'example.com', type: RRType.SOA, class: RRClass.IN, ttl: 60, data: { kind: 'SOA' as const, mname: 'ns.example.com', rname: 'h.example.com', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 60 } };
    const out = serializeMessage({
      header: { ...q.header, qr: true, ra: true, aa: true, rcode: known || question.name.toLowerCase() === 'example.com' ? 0 : 3 },
      questions: q.questions,
      answers: known ? [{ name: question.name, type: RRType.A, class: RRClass.IN, ttl: 300, data: { kind: 'A', address: '192.0.2.10' } }] : [],
      authorities: known ? [] : [soa],
      additionals: [],
    }).buf;
    sock.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return { port: sock.address().port, queries, close: () => sock.close() };
}

/** Pods need an existing Node to enter EndpointSlices (as upstream); this one has no agent, the test sets pod status. */
const extras = `
apiVersion: v1
kind: Node
metadata: {name: dns-test-node, labels: {kubernetes.io/hostname: dns-test-node}}
---
apiVersion: v1
kind: Pod
metadata: {name: web-0, labels: {app: service-env}}
spec:
  nodeName: dns-test-node
  hostname: web-0
  subdomain: service-headless
  containers: [{name: c, image: registry.k8s.io/e2e-test-images/agnhost:2.53}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: service-env}}
spec:
  nodeName: dns-test-node
  containers: [{name: c, image: registry.k8s.io/e2e-test-images/agnhost:2.53}]
---
apiVersion: v1
kind: Service
metadata: {name: many}
spec:
  clusterIP: None
  ports: [{port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: many-1, labels: {kubernetes.io/service-name: many}}
addressType: IPv4
ports: [{port: 80, protocol: TCP, name: ""}]
endpoints:
${Array.from({ length: 60 }, (_, i) => `- addresses: ["10.244.9.${i + 1}"]`).join('\n')}
`;

describe('cluster DNS answered for dig', { skip: noDig, timeout: 120_000 }, () => {
  let dataDir: string;
  let up: CliProcess;
  let dns: CliProcess;
  let kubectl: Kubectl;
  let port: number;
  let upstream: Awaited<ReturnType<typeof fakeUpstream>>;
  let httpPorts: { health: number; ready: number; metrics: number };

  const dig = async (...args: string[]) => {
    const r = await run('dig', ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', ...args]);
    return r.stdout;
  };
  const short = async (...args: string[]) => (await dig('+short', ...args)).trim().split('\n').filter(Boolean).sort();

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-dns-'));
    up = startCli(['up', '--data-dir', dataDir, '--port', '0', '--nodes', '0']);
    await waitForOutput(up, /kubesvc is up/, 30_000);
    kubectl = kubectlFor(join(dataDir, 'kubeconfig'));
    await kubectl.ok(['apply', '-f', join(fixtures, 'services.yaml'), '-f', join(fixtures, 'selectorless.yaml'), '-f', '-'], { input: extras });
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    // A Ready node (else node-lifecycle marks its pods not ready), then running, ready pods on it.
    const nodeReady = { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: now, lastTransitionTime: now }] };
    await kubectl.ok(['patch', 'node', 'dns-test-node', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: nodeReady })]);
    for (const [pod, ip] of [['web-0', '10.244.0.5'], ['web-1', '10.244.0.6']]) {
      const status = { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] };
      await kubectl.ok(['patch', 'pod', pod, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
    }
    upstream = await fakeUpstream();
    httpPorts = { health: await freePort(), ready: await freePort(), metrics: await freePort() };
    dns = startCli([
      'dns', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--upstream', `127.0.0.1:${upstream.port}`,
      '--health', `127.0.0.1:${httpPorts.health}`, '--ready', `127.0.0.1:${httpPorts.ready}`, '--metrics', `127.0.0.1:${httpPorts.metrics}`,
    ]);
    port = Number((await waitForOutput(dns, /listen="127\.0\.0\.1:(\d+)"/, 20_000))[1]);
    await waitFor('headless endpoints in DNS', async () => (await short('service-headless.default.svc.cluster.local')).length === 2, 20_000);
  });

  after(async () => {
    dns?.child.kill('SIGTERM');
    await dns?.exited;
    up?.child.kill('SIGINT');
    await up?.exited;
    upstream?.close();
    kubectl?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('ClusterIP service: A over UDP and TCP, TTL 5, authoritative, case-insensitive', async () => {
    assert.deepEqual(await short('service-clusterip.default.svc.cluster.local'), ['10.97.1.1']);
    assert.deepEqual(await short('+tcp', 'service-clusterip.default.svc.cluster.local'), ['10.97.1.1']);
    assert.deepEqual(await short('SERVICE-ClusterIP.Default.SVC.cluster.local'), ['10.97.1.1']);
    const full = await dig('service-clusterip.default.svc.cluster.local');
    assert.match(full, /status: NOERROR/);
    assert.match(full, /flags: qr aa rd ra/);
    assert.match(full, /^service-clusterip\.default\.svc\.cluster\.local\.\s+5\s+IN\s+A\s+10\.97\.1\.1$/m);
  });

  test('named ports: SRV records; PTR for the cluster IP', async () => {
    const srv = await short('SRV', '_http._tcp.service-multiport.default.svc.cluster.local');
    assert.equal(srv.length, 1);
    assert.match(srv[0], /^0 \d+ 80 service-multiport\.default\.svc\.cluster\.local\.$/);
    assert.deepEqual(await short('-x', '10.97.1.1'), ['service-clusterip.default.svc.cluster.local.']);
  });

  test('headless service: A per ready endpoint, hostname records, SRV per endpoint', async () => {
    assert.deepEqual(await short('service-headless.default.svc.cluster.local'), ['10.244.0.5', '10.244.0.6']);
    assert.deepEqual(await short('web-0.service-headless.default.svc.cluster.local'), ['10.244.0.5']);
    const srv = await short('SRV', 'service-headless.default.svc.cluster.local');
    assert.equal(srv.length, 2);
    assert.ok(srv.some((r) => r.endsWith(' 80 web-0.service-headless.default.svc.cluster.local.')), srv.join('\n'));
  });

  test('ExternalName: CNAME to the external name; selectorless service: its cluster IP', async () => {
    const full = await dig('service-externalname.default.svc.cluster.local');
    assert.match(full, /IN\s+CNAME\s+www\.example\.com\.$/m);
    const ip = await kubectl.ok(['get', 'svc', 'external-db', '-o', 'jsonpath={.spec.clusterIP}']);
    assert.deepEqual(await short('external-db.default.svc.cluster.local'), [ip]);
  });

  test('pods: dashed-IP A records only for real pod IPs', async () => {
    assert.deepEqual(await short('10-244-0-5.default.pod.cluster.local'), ['10.244.0.5']);
    assert.match(await dig('10-244-0-99.default.pod.cluster.local'), /status: NXDOMAIN/);
  });

  test('negative answers: NXDOMAIN and NODATA both carry the zone SOA; dns-version TXT', async () => {
    const nx = await dig('nope.default.svc.cluster.local');
    assert.match(nx, /status: NXDOMAIN/);
    assert.match(nx, /AUTHORITY SECTION:\ncluster\.local\.\s+5\s+IN\s+SOA\s/);
    const nodata = await dig('AAAA', 'service-clusterip.default.svc.cluster.local');
    assert.match(nodata, /status: NOERROR/);
    assert.match(nodata, /ANSWER: 0,/);
    assert.match(nodata, /IN\s+SOA\s/);
    assert.match(await dig('default.svc.cluster.local'), /status: NOERROR.*\n.*ANSWER: 0,/);
    assert.deepEqual(await short('TXT', 'dns-version.cluster.local'), ['"1.1.0"']);
  });

  test('a large answer is truncated over UDP and dig gets it whole over TCP', async () => {
    const udpOnly = await dig('+ignore', '+noedns', 'many.default.svc.cluster.local');
    assert.match(udpOnly, /flags: qr aa tc rd ra/);
    assert.equal((await short('many.default.svc.cluster.local')).length, 60);
  });

  test('names outside the zone are forwarded to the upstream and cached', async () => {
    assert.deepEqual(await short('www.example.com'), ['192.0.2.10']);
    const before = upstream.queries.filter((q) => q === 'www.example.com').length;
    const again = await dig('www.example.com');
    assert.match(again, /^www\.example\.com\.\s+(\d+)\s+IN\s+A\s+192\.0\.2\.10$/m);
    assert.equal(upstream.queries.filter((q) => q === 'www.example.com').length, before, 'answered from the cache');
    assert.match(await dig('missing.example.com'), /status: NXDOMAIN/);
  });

  test('malformed and random packets never take the server down', async () => {
    const sock = createSocket('udp4');
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed);
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.alloc(rnd() % 300);
      for (let j = 0; j < b.length; j++) b[j] = rnd() & 0xff;
      sock.send(b, port, '127.0.0.1');
    }
    await new Promise((r) => setTimeout(r, 200));
    sock.close();
    assert.equal(dns.child.exitCode, null);
    assert.deepEqual(await short('service-clusterip.default.svc.cluster.local'), ['10.97.1.1']);
  });

  test('health, ready and CoreDNS metrics', async () => {
    const get = async (p: number, path: string) => {
      const r = await fetch(`http://127.0.0.1:${p}${path}`);
      return { status: r.status, body: await r.text() };
    };
    assert.deepEqual(await get(httpPorts.health, '/health'), { status: 200, body: 'OK' });
    assert.deepEqual(await get(httpPorts.ready, '/ready'), { status: 200, body: 'OK' });
    const metrics = (await get(httpPorts.metrics, '/metrics')).body;
    assert.match(metrics, /^coredns_dns_requests_total\{server="dns:\/\/127\.0\.0\.1:\d+",zone="cluster\.local\.",view="",proto="udp",family="1",type="A"\} \d+/m);
    assert.match(metrics, /^coredns_dns_responses_total\{.*rcode="NXDOMAIN".*\} \d+/m);
    assert.match(metrics, /^coredns_cache_hits_total\{.*\} [1-9]/m);
  });
});

test('a forwarding loop is reported, not crashed on', { skip: noDig }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-dnsloop-'));
  const api = startCli(['apiserver', '--data-dir', dataDir, '--port', '0']);
  try {
    await waitForOutput(api, /apiserver\] "ready"/, 30_000);
    // A bare API server has no add-on RBAC: apply CoreDNS's (kubeadm's) as one installing it would.
    const kubectl = kubectlFor(join(dataDir, 'kubeconfig'));
    try {
      const manifest = [...kubeadmPolicy.clusterRoles, ...kubeadmPolicy.clusterRoleBindings].map((o) => stringify(o)).join('---\n');
      await kubectl.ok(['apply', '-f', '-'], { input: manifest });
    } finally {
      kubectl.cleanup();
    }
    const port = await freePort();
    const dns = startCli(['dns', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--upstream', `127.0.0.1:${port}`, '--health', '', '--ready', '', '--metrics', '']);
    try {
      await waitForOutput(dns, /forwarding loop detected/, 15_000);
      const r = await run('dig', ['@127.0.0.1', '-p', String(port), '+time=3', '+tries=1', 'www.example.com']);
      assert.match(r.stdout, /status: SERVFAIL/);
      assert.equal(dns.child.exitCode, null);
    } finally {
      dns.child.kill('SIGTERM');
      await dns.exited;
    }
  } finally {
    api.child.kill('SIGINT');
    await api.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('without the RBAC to list, kubesvc dns keeps running, not ready, and syncs once it is granted', { skip: noDig }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kubesvc-dnsrbac-'));
  const api = startCli(['apiserver', '--data-dir', dataDir, '--port', '0']);
  const kubectl = kubectlFor(join(dataDir, 'kubeconfig'));
  try {
    await waitForOutput(api, /apiserver\] "ready"/, 30_000);
    const [port, ready] = [await freePort(), await freePort()];
    // A bare API server: coredns's service account may list nothing yet.
    const dns = startCli(['dns', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--upstream', 'none', '--health', '', '--ready', `127.0.0.1:${ready}`, '--metrics', '']);
    try {
      await waitForOutput(dns, /failed to list; retrying.*services is forbidden: User \\?"system:serviceaccount:kube-system:coredns\\?" cannot list resource \\?"services\\?"/, 15_000);
      assert.equal(dns.child.exitCode, null);
      assert.equal((await fetch(`http://127.0.0.1:${ready}/ready`)).status, 503);
      const refused = await run('dig', ['@127.0.0.1', '-p', String(port), '+time=3', '+tries=1', 'kubernetes.default.svc.cluster.local']);
      assert.match(refused.stdout, /status: SERVFAIL/);
      // Granted as kubeadm's coredns add-on grants it: the next retry lists, and the server answers.
      const manifest = [...kubeadmPolicy.clusterRoles, ...kubeadmPolicy.clusterRoleBindings].map((o) => stringify(o)).join('---\n');
      await kubectl.ok(['apply', '-f', '-'], { input: manifest });
      await waitFor('ready once allowed', async () => (await fetch(`http://127.0.0.1:${ready}/ready`)).status === 200, 30_000);
      const answered = await run('dig', ['@127.0.0.1', '-p', String(port), '+time=3', '+tries=1', '+short', 'kubernetes.default.svc.cluster.local']);
      assert.match(answered.stdout.trim(), /^\d+\.\d+\.\d+\.\d+$/);
      assert.doesNotMatch(dns.output(), /ApiError|at parseError|Node\.js v/);
    } finally {
      dns.child.kill('SIGTERM');
      await dns.exited;
    }
    assert.equal(dns.child.exitCode, 0);
  } finally {
    kubectl.cleanup();
    api.child.kill('SIGINT');
    await api.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
});
