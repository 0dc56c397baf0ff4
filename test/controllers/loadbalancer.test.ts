// The LoadBalancer pool (pure) and the controller against the real API server,
// driven with the real kubectl.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Service as ServiceShape } from '../../src/api/types.js';
import type { KubeObject } from '../../src/api/object.js';
import { resourceTypes } from '../../src/client/client.js';
import {
  allocate,
  checkAssign,
  emptyState,
  parseRange,
  poolUserOf,
  rangeContains,
  rangeSize,
  rebuildState,
  release,
  type PoolUser,
} from '../../src/controllers/loadbalancer/pool.js';
import { waitFor } from '../helpers/apiserver.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { fixtures } from '../helpers/fixtures.js';

type Service = ServiceShape & KubeObject;


const user = (key: string, ports: string[] = ['TCP/80'], sharingKey = '', backendKey = ''): PoolUser => ({ key, ports, sharingKey, backendKey });

describe('loadbalancer pool', () => {
  test('parses from-to ranges and CIDRs (every address, as MetalLB)', () => {
    const r = parseRange('172.18.255.1-172.18.255.250');
    assert.equal(r.family, 'IPv4');
    assert.equal(rangeSize(r), 250n);
    assert.ok(rangeContains(r, '172.18.255.1'));
    assert.ok(rangeContains(r, '172.18.255.250'));
    assert.ok(!rangeContains(r, '172.18.255.251'));
    assert.ok(!rangeContains(r, '172.18.255.0'));
    assert.equal(rangeSize(parseRange(' 10.0.0.5 - 10.0.0.5 ')), 1n);
    const cidr = parseRange('192.168.10.0/30');
    assert.equal(rangeSize(cidr), 4n);
    assert.ok(rangeContains(cidr, '192.168.10.0') && rangeContains(cidr, '192.168.10.3'));
    assert.ok(!rangeContains(cidr, '192.168.10.4'));
    // Host bits in a CIDR are dropped, as net.ParseCIDR does.
    assert.ok(rangeContains(parseRange('192.168.10.7/24'), '192.168.10.0'));
    const v6 = parseRange('fd00::10-fd00::1f');
    assert.equal(v6.family, 'IPv6');
    assert.equal(rangeSize(v6), 16n);
    assert.ok(!rangeContains(v6, '10.0.0.1'));
  });

  test('refuses malformed ranges with a reason', () => {
    assert.throws(() => parseRange('172.18.255.0/33'), /invalid CIDR "172.18.255.0\/33"/);
    assert.throws(() => parseRange('172.18.255.x-172.18.255.9'), /invalid start IP "172.18.255.x"/);
    assert.throws(() => parseRange('172.18.255.1-'), /invalid end IP ""/);
    assert.throws(() => parseRange('172.18.255.9-172.18.255.1'), /start IP "172.18.255.9" is after the end IP "172.18.255.1"/);
    assert.throws(() => parseRange('10.0.0.1-fd00::1'), /different address families/);
    assert.throws(() => parseRange('10.0.0.1'), /expected a CIDR or FROM-TO/);
  });

  test('allocates the lowest free address and reuses released ones', () => {
    const state = emptyState(parseRange('172.18.255.1-172.18.255.3'));
    assert.deepEqual(allocate(state, user('ns/a')), { ip: '172.18.255.1' });
    assert.deepEqual(allocate(state, user('ns/b')), { ip: '172.18.255.2' });
    assert.deepEqual(allocate(state, user('ns/c')), { ip: '172.18.255.3' });
    assert.deepEqual(allocate(state, user('ns/d')), { error: 'no available IPs' });
    assert.equal(release(state, 'ns/b'), '172.18.255.2');
    assert.deepEqual(allocate(state, user('ns/d')), { ip: '172.18.255.2' });
    // A service that already holds an address keeps it.
    assert.deepEqual(allocate(state, user('ns/a')), { ip: '172.18.255.1' });
  });

  test('a requested address is honoured when free, refused (no fallback) when held or outside the pool', () => {
    const state = emptyState(parseRange('172.18.255.1-172.18.255.3'));
    assert.deepEqual(allocate(state, user('ns/a'), { requestedIP: '172.18.255.3' }), { ip: '172.18.255.3' });
    assert.deepEqual(allocate(state, user('ns/b')), { ip: '172.18.255.1' });
    assert.deepEqual(allocate(state, user('ns/c'), { requestedIP: '172.18.255.3' }), { error: 'existing service does not allow sharing' });
    assert.deepEqual(allocate(state, user('ns/c'), { requestedIP: '10.0.0.5' }), { error: '"10.0.0.5" is not allowed in config' });
    assert.deepEqual(allocate(state, user('ns/c'), { requestedIP: 'fd00::1', families: ['IPv4'] }), {
      error: 'requested loadBalancer IP(s) ["fd00::1"] does not match the ipFamily of the service',
    });
    assert.deepEqual(allocate(state, user('ns/c'), { families: ['IPv6'] }), { error: 'no available IPs' });
    assert.equal(state.byService.has('ns/c'), false);
  });

  test('shares an address between services with the same sharing key and no port clash', () => {
    const state = emptyState(parseRange('172.18.255.1-172.18.255.3'));
    assert.deepEqual(allocate(state, user('ns/http', ['TCP/80'], 'web')), { ip: '172.18.255.1' });
    assert.deepEqual(allocate(state, user('ns/https', ['TCP/443'], 'web')), { ip: '172.18.255.1' });
    // Same port number, other protocol: no clash.
    assert.deepEqual(allocate(state, user('ns/dns-udp', ['UDP/80'], 'web')), { ip: '172.18.255.1' });
    // Port clash: the next address.
    assert.deepEqual(allocate(state, user('ns/http2', ['TCP/80'], 'web')), { ip: '172.18.255.2' });
    // A requested shared address with a clash says which port.
    assert.equal(checkAssign(state, '172.18.255.1', user('ns/x', ['TCP/443'], 'web')), 'port TCP/443 is already in use on "172.18.255.1"');
    // Another key, or none, never joins.
    assert.equal(checkAssign(state, '172.18.255.1', user('ns/x', ['TCP/8080'], 'other')), 'sharing key "other" does not match existing sharing key "web"');
    assert.equal(checkAssign(state, '172.18.255.1', user('ns/x', ['TCP/8080'])), 'new service does not allow sharing');
    assert.deepEqual(allocate(state, user('ns/alone', ['TCP/8080'])), { ip: '172.18.255.3' });
    assert.equal(checkAssign(state, '172.18.255.3', user('ns/x', ['TCP/9090'], 'web')), 'existing service does not allow sharing');
    // The address is free only when its last user leaves.
    assert.equal(release(state, 'ns/http'), undefined);
    assert.equal(release(state, 'ns/https'), undefined);
    assert.equal(release(state, 'ns/dns-udp'), '172.18.255.1');
  });

  test('externalTrafficPolicy Local services share only with the same selector (MetalLB backend key)', () => {
    const svc = (name: string, policy: 'Local' | 'Cluster', selector: Record<string, string>): ServiceShape => ({
      metadata: { name, namespace: 'ns', annotations: { 'metallb.universe.tf/allow-shared-ip': 'k' } },
      spec: { type: 'LoadBalancer', externalTrafficPolicy: policy, selector, ports: [{ port: name.length, protocol: 'TCP' }] },
    });
    const state = emptyState(parseRange('10.0.0.1-10.0.0.9'));
    const a = poolUserOf('ns/a', svc('a', 'Local', { app: 'x', tier: 'web' }));
    assert.equal(a.backendKey, 'app=x,tier=web');
    assert.deepEqual(allocate(state, a), { ip: '10.0.0.1' });
    assert.deepEqual(allocate(state, poolUserOf('ns/bb', svc('bb', 'Local', { tier: 'web', app: 'x' }))), { ip: '10.0.0.1' });
    assert.equal(checkAssign(state, '10.0.0.1', poolUserOf('ns/ccc', svc('ccc', 'Local', { app: 'y' }))), 'backend key "app=y" does not match existing sharing key "app=x,tier=web"');
    assert.match(checkAssign(state, '10.0.0.1', poolUserOf('ns/ccc', svc('ccc', 'Cluster', { app: 'x', tier: 'web' })))!, /backend key "" does not match/);
  });

  test('the metallb.io annotation wins over the deprecated metallb.universe.tf one', () => {
    const u = poolUserOf('ns/a', {
      metadata: { name: 'a', annotations: { 'metallb.io/allow-shared-ip': 'new', 'metallb.universe.tf/allow-shared-ip': 'old' } },
      spec: { ports: [{ port: 53, protocol: 'UDP' }, { port: 53 }] },
    });
    assert.equal(u.sharingKey, 'new');
    assert.deepEqual(u.ports, ['UDP/53', 'TCP/53']);
  });

  test('rebuilding from what services hold rejects a later conflicting claim', () => {
    const range = parseRange('172.18.255.1-172.18.255.3');
    const { state, rejected } = rebuildState(range, [
      { ...user('ns/old'), ip: '172.18.255.2' },
      { ...user('ns/new'), ip: '172.18.255.2' },
      { ...user('ns/outside'), ip: '10.1.1.1' },
      { ...user('ns/third'), ip: '172.18.255.1' },
    ]);
    assert.equal(state.byService.get('ns/old'), '172.18.255.2');
    assert.equal(state.byService.get('ns/third'), '172.18.255.1');
    assert.deepEqual(
      rejected.map((r) => [r.claim.key, r.reason]),
      [
        ['ns/new', 'existing service does not allow sharing'],
        ['ns/outside', '"10.1.1.1" is not allowed in config'],
      ],
    );
    assert.deepEqual(allocate(state, user('ns/new')), { ip: '172.18.255.3' });
  });
});

describe('loadbalancer controller', () => {
  let c: TestCluster;
  const svcs = () => c.client.resource<Service>(resourceTypes.services);
  const ipOf = async (name: string) => (await svcs().get('default', name)).status?.loadBalancer?.ingress?.[0]?.ip;
  const waitIP = (name: string, ip: string) => waitFor(`${name} to get ${ip}`, async () => (await ipOf(name)) === ip, 10_000);
  const lb = (name: string, extra: { annotations?: Record<string, string>; port?: number; loadBalancerIP?: string; loadBalancerClass?: string } = {}) =>
    svcs().create('default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, annotations: extra.annotations },
      spec: {
        type: 'LoadBalancer',
        selector: { app: name },
        ports: [{ port: extra.port ?? 80, protocol: 'TCP' }],
        loadBalancerIP: extra.loadBalancerIP,
        loadBalancerClass: extra.loadBalancerClass,
      },
    });
  const describeHas = (name: string, re: RegExp) =>
    waitFor(`kubectl describe svc ${name} to show ${re}`, async () => re.test(await c.kubectl.ok(['describe', 'svc', name])), 10_000);

  before(async () => {
    c = await startTestCluster({ only: ['loadbalancer'], options: { loadBalancerIPRange: '172.18.255.1-172.18.255.3' } });
  });
  after(async () => {
    await c?.stop();
  });

  test('kubectl apply of the fixtures gives service-lb the first address, shown as EXTERNAL-IP', async () => {
    await c.kubectl.ok(['apply', '-f', join(fixtures, 'services.yaml')]);
    await waitIP('service-lb', '172.18.255.1');
    const table = await c.kubectl.ok(['get', 'svc', 'service-lb']);
    assert.match(table, /^service-lb\s+LoadBalancer\s+10\.\S+\s+172\.18\.255\.1\s+80:3\d{4}\/TCP/m);
    const yaml = await c.kubectl.ok(['get', 'svc', 'service-lb', '-o', 'jsonpath={.status.loadBalancer.ingress}']);
    assert.deepEqual(JSON.parse(yaml), [{ ip: '172.18.255.1', ipMode: 'VIP' }]);
    await describeHas('service-lb', /^LoadBalancer Ingress:\s+172\.18\.255\.1 \(VIP\)$/m);
    await describeHas('service-lb', /Normal\s+EnsuringLoadBalancer\s+.*Ensuring load balancer/);
    await describeHas('service-lb', /Normal\s+IPAllocated\s+.*Assigned IP \["172\.18\.255\.1"\]/);
    await describeHas('service-lb', /Normal\s+EnsuredLoadBalancer\s+.*Ensured load balancer/);
    // Other types get nothing.
    const nodeport = await svcs().get('default', 'service-nodeport');
    assert.equal(nodeport.status?.loadBalancer?.ingress, undefined);
  });

  test('a service of another loadBalancerClass is left alone', async () => {
    await lb('other-class', { loadBalancerClass: 'other.io/lb' });
    // Created after it, so assigned after the controller saw it (one worker, ordered watch).
    await lb('after-other', { annotations: { 'metallb.universe.tf/allow-shared-ip': 'web' }, port: 80 });
    await waitIP('after-other', '172.18.255.2');
    await c.controllers.idle();
    assert.equal(await ipOf('other-class'), undefined);
    const out = await c.kubectl.ok(['describe', 'svc', 'other-class']);
    assert.match(out, /^Events:\s+<none>$/m);
    assert.match(await c.kubectl.ok(['get', 'svc', 'other-class']), /^other-class\s+LoadBalancer\s+\S+\s+<pending>/m);
  });

  test('two services share an address through the annotation when their ports differ', async () => {
    await lb('share-https', { annotations: { 'metallb.io/allow-shared-ip': 'web' }, port: 443 });
    await waitIP('share-https', '172.18.255.2');
    assert.equal(await ipOf('after-other'), '172.18.255.2');
  });

  test('a requested spec.loadBalancerIP is honoured', async () => {
    await lb('requested', { loadBalancerIP: '172.18.255.3' });
    await waitIP('requested', '172.18.255.3');
  });

  test('an exhausted pool leaves the service <pending> with a Warning event; a freed address goes to it', async () => {
    await lb('exhausted', { port: 8080 });
    await describeHas('exhausted', /Warning\s+AllocationFailed\s+.*Failed to allocate IP for "default\/exhausted": no available IPs/);
    assert.match(await c.kubectl.ok(['get', 'svc', 'exhausted']), /^exhausted\s+LoadBalancer\s+\S+\s+<pending>/m);
    assert.equal(await ipOf('exhausted'), undefined);
    await c.kubectl.ok(['delete', 'svc', 'requested']);
    await waitIP('exhausted', '172.18.255.3');
    await describeHas('exhausted', /Normal\s+IPAllocated\s+.*Assigned IP \["172\.18\.255\.3"\]/);
  });

  test('LoadBalancer -> ClusterIP releases the address, records the Type event, and back again waits in line', async () => {
    await lb('waiting', { port: 9090 });
    await describeHas('waiting', /AllocationFailed/);
    await c.kubectl.ok(['patch', 'svc', 'service-lb', '-p', '{"spec":{"type":"ClusterIP"}}']);
    await waitIP('waiting', '172.18.255.1');
    assert.equal(await ipOf('service-lb'), undefined);
    await describeHas('service-lb', /Normal\s+Type\s+.*LoadBalancer -> ClusterIP/);
    await describeHas('service-lb', /Normal\s+DeletedLoadBalancer\s+.*Deleted load balancer/);
    assert.match(await c.kubectl.ok(['get', 'svc', 'service-lb']), /^service-lb\s+ClusterIP\s+\S+\s+<none>/m);

    await c.kubectl.ok(['patch', 'svc', 'service-lb', '-p', '{"spec":{"type":"LoadBalancer"}}']);
    await describeHas('service-lb', /Normal\s+Type\s+.*ClusterIP -> LoadBalancer/);
    await describeHas('service-lb', /Warning\s+AllocationFailed\s+.*no available IPs/);
    assert.equal(await ipOf('service-lb'), undefined);
  });

  test('a controller restart keeps every assignment', async () => {
    const names = ['waiting', 'after-other', 'share-https', 'exhausted', 'service-lb', 'other-class'];
    const before = await Promise.all(names.map(ipOf));
    assert.deepEqual(before, ['172.18.255.1', '172.18.255.2', '172.18.255.2', '172.18.255.3', undefined, undefined]);
    await c.restartControllers();
    await c.controllers.idle();
    assert.deepEqual(await Promise.all(names.map(ipOf)), before);
    // The rebuilt pool knows what is held: the pending service gets the next freed address, not a taken one.
    await c.kubectl.ok(['delete', 'svc', 'share-https']);
    await c.controllers.idle();
    assert.equal(await ipOf('service-lb'), undefined, 'still shared by after-other');
    await c.kubectl.ok(['delete', 'svc', 'exhausted']);
    await waitIP('service-lb', '172.18.255.3');
    assert.deepEqual(await Promise.all(['waiting', 'after-other'].map(ipOf)), ['172.18.255.1', '172.18.255.2']);
  });
});
