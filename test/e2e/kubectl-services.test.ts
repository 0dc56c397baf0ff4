// The real kubectl against the real API server: Services from the shared
// fixtures through every verb a user reaches for.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApiServer, waitFor, type TestApiServer } from '../helpers/apiserver.js';
import { fixtures } from '../helpers/fixtures.js';

describe('kubectl drives Services', () => {
  let t: TestApiServer;
  before(async () => {
    t = await startTestApiServer();
  });
  after(async () => {
    await t.stop();
  });

  test('version reports 1.32 and kubectl runs its 1.32 client', async () => {
    const out = await t.kubectl.ok(['version']);
    assert.match(out, /Server Version: v1\.32\./);
  });

  test('api-resources lists the served kinds with short names', async () => {
    const out = await t.kubectl.ok(['api-resources']);
    for (const line of [
      /^services\s+svc\s+v1\s+true\s+Service$/m,
      /^endpoints\s+ep\s+v1\s+true\s+Endpoints$/m,
      /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m,
      /^endpointslices\s+discovery\.k8s\.io\/v1\s+true\s+EndpointSlice$/m,
      /^namespaces\s+ns\s+v1\s+false\s+Namespace$/m,
    ]) {
      assert.match(out, line);
    }
  });

  test('apply -f services.yaml creates every kind of Service with allocations', async () => {
    const out = await t.kubectl.ok(['apply', '-f', join(fixtures, 'services.yaml')]);
    assert.match(out, /service\/service-clusterip created/);
    assert.match(out, /service\/service-lb created/);
    const table = await t.kubectl.ok(['get', 'svc']);
    assert.match(table, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/m);
    assert.match(table, /^kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP\s+\S+$/m);
    assert.match(table, /^service-clusterip\s+ClusterIP\s+10\.97\.1\.1\s+<none>\s+80\/TCP/m);
    assert.match(table, /^service-headless\s+ClusterIP\s+None\s+<none>\s+80\/TCP/m);
    assert.match(table, /^service-nodeport\s+NodePort\s+10\.\S+\s+<none>\s+80:30002\/TCP/m);
    assert.match(table, /^service-externalname\s+ExternalName\s+<none>\s+www\.example\.com\s+<none>/m);
    assert.match(table, /^service-multiport\s+ClusterIP\s+10\.\S+\s+<none>\s+80\/TCP,8443\/TCP/m);
    assert.match(table, /^service-lb\s+LoadBalancer\s+10\.\S+\s+<pending>\s+80:3\d{4}\/TCP/m);
    const wide = await t.kubectl.ok(['get', 'svc', 'service-clusterip', '-o', 'wide']);
    assert.match(wide, /SELECTOR\n.*app=service-env/);
    const yaml = await t.kubectl.ok(['get', 'svc', 'service-affinity', '-o', 'yaml']);
    assert.match(yaml, /sessionAffinity: ClientIP/);
    assert.match(yaml, /timeoutSeconds: 600/);
    assert.match(yaml, /internalTrafficPolicy: Cluster/);
    assert.match(yaml, /ipFamilyPolicy: SingleStack/);
    // Unchanged on a second apply.
    const again = await t.kubectl.ok(['apply', '-f', join(fixtures, 'services.yaml')]);
    assert.match(again, /service\/service-clusterip unchanged/);
  });

  test('get -A, --show-labels, --sort-by and -o jsonpath', async () => {
    const all = await t.kubectl.ok(['get', 'svc', '-A']);
    assert.match(all, /^NAMESPACE\s+NAME\s+TYPE/m);
    assert.match(all, /^default\s+kubernetes\s+ClusterIP/m);
    const labels = await t.kubectl.ok(['get', 'svc', 'kubernetes', '--show-labels']);
    assert.match(labels, /component=apiserver,provider=kubernetes/);
    const sorted = await t.kubectl.ok(['get', 'svc', '--sort-by=.spec.clusterIP', '-o', 'name']);
    assert.ok(sorted.includes('service/service-clusterip'));
    const sortedTable = await t.kubectl.ok(['get', 'svc', '--sort-by=.spec.type']);
    assert.match(sortedTable, /service-lb/);
    const ip = await t.kubectl.ok(['get', 'svc', 'service-nodeport', '-o', 'jsonpath={.spec.ports[0].nodePort}']);
    assert.equal(ip, '30002');
  });

  test('selector-less Service with hand-made Endpoints', async () => {
    await t.kubectl.ok(['apply', '-f', join(fixtures, 'selectorless.yaml')]);
    const ep = await t.kubectl.ok(['get', 'endpoints', 'external-db']);
    assert.match(ep, /^external-db\s+1\.2\.3\.4:9376\s+\S+$/m);
  });

  test('every document in invalid.yaml is refused with 422 and stores nothing', async () => {
    const r = await t.kubectl(['apply', '-f', join(fixtures, 'invalid.yaml')]);
    assert.notEqual(r.code, 0);
    // kubectl apply prints 422s as `Error from server (Invalid): error when creating "<file>": <message>`.
    const expected = [
      'Service "bad-multiport-unnamed" is invalid: [spec.ports[0].name: Required value, spec.ports[1].name: Required value]',
      'Service "bad-nodeport-range" is invalid: spec.ports[0].nodePort: Invalid value: 1234: provided port is not in the valid range. The range of valid ports is 30000-32767',
      'Service "bad-clusterip-range" is invalid: spec.clusterIPs: Invalid value: []string{"192.168.7.7"}: failed to allocate IP 192.168.7.7: the provided IP (192.168.7.7) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
      'Service "bad-affinity-timeout" is invalid: spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400',
      'Endpoints "bad-loopback-endpoint" is invalid: subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    ];
    assert.equal((r.stderr.match(/Error from server \(Invalid\)/g) ?? []).length, 5);
    for (const line of expected) assert.ok(r.stderr.includes(line), `missing: ${line}\nstderr: ${r.stderr}`);
    const names = await t.kubectl.ok(['get', 'svc,endpoints', '-o', 'name']);
    assert.doesNotMatch(names, /bad-/);
    // The refused requests leaked no allocation: the nodePort-range document's other values stay free.
    const raw = await t.request('POST', '/api/v1/namespaces/default/services', {
      metadata: { name: 'reuse-check' },
      spec: { type: 'NodePort', ports: [{ port: 80 }] },
    });
    assert.equal(raw.status, 201);
  });

  test('describe svc shows the upstream layout', async () => {
    const out = await t.kubectl.ok(['describe', 'svc', 'service-nodeport']);
    assert.match(out, /^Name:\s+service-nodeport$/m);
    assert.match(out, /^Namespace:\s+default$/m);
    assert.match(out, /^Selector:\s+app=service-env$/m);
    assert.match(out, /^Type:\s+NodePort$/m);
    assert.match(out, /^IP Family Policy:\s+SingleStack$/m);
    assert.match(out, /^IP Families:\s+IPv4$/m);
    assert.match(out, /^Port:\s+<unset>\s+80\/TCP$/m);
    assert.match(out, /^TargetPort:\s+http\/TCP$/m);
    assert.match(out, /^NodePort:\s+<unset>\s+30002\/TCP$/m);
    assert.match(out, /^External Traffic Policy:\s+Cluster$/m);
  });

  test('patch: strategic, merge and json; label and annotate', async () => {
    // Strategic merge: ports merge by their key (port), so a second port joins the first.
    const unnamed = await t.kubectl(['patch', 'svc', 'service-clusterip', '-p', '{"spec":{"ports":[{"port":81,"targetPort":80,"name":"alt"}]}}']);
    assert.match(unnamed.stderr, /The Service "service-clusterip" is invalid: spec\.ports\[1\]\.name: Required value/);
    await t.kubectl.ok(['patch', 'svc', 'service-clusterip', '-p', '{"spec":{"ports":[{"port":80,"name":"http"},{"port":81,"targetPort":80,"name":"alt"}]}}']);
    let ports = await t.kubectl.ok(['get', 'svc', 'service-clusterip', '-o', 'jsonpath={.spec.ports[*].name}:{.spec.ports[*].port}']);
    assert.equal(ports, 'http alt:80 81');
    await t.kubectl.ok(['patch', 'svc', 'service-clusterip', '--type=merge', '-p', '{"spec":{"ports":[{"port":82,"targetPort":80}]}}']);
    ports = await t.kubectl.ok(['get', 'svc', 'service-clusterip', '-o', 'jsonpath={.spec.ports[*].port}']);
    assert.equal(ports, '82');
    await t.kubectl.ok(['patch', 'svc', 'service-clusterip', '--type=json', '-p', '[{"op":"replace","path":"/spec/ports/0/port","value":80}]']);
    ports = await t.kubectl.ok(['get', 'svc', 'service-clusterip', '-o', 'jsonpath={.spec.ports[*].port}']);
    assert.equal(ports, '80');
    const noop = await t.kubectl.ok(['patch', 'svc', 'service-clusterip', '--type=merge', '-p', '{"spec":{"ports":[{"port":80,"targetPort":80,"protocol":"TCP"}]}}']);
    assert.match(noop, /patched \(no change\)/);
    await t.kubectl.ok(['label', 'svc', 'service-clusterip', 'tier=web']);
    await t.kubectl.ok(['annotate', 'svc', 'service-clusterip', 'owner=me']);
    const meta = await t.kubectl.ok(['get', 'svc', 'service-clusterip', '-o', 'jsonpath={.metadata.labels.tier}/{.metadata.annotations.owner}']);
    assert.equal(meta, 'web/me');
    await t.kubectl.ok(['label', 'svc', 'service-clusterip', 'tier-']);
    const shown = await t.kubectl.ok(['get', 'svc', '-l', 'tier=web', '-o', 'name']);
    assert.equal(shown.trim(), '');
    // clusterIP is immutable, with upstream's message.
    const bad = await t.kubectl(['patch', 'svc', 'service-clusterip', '-p', '{"spec":{"clusterIP":"10.97.1.2","clusterIPs":["10.97.1.2"]}}']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec\.clusterIPs\[0\]: Invalid value: \[\]string\{"10\.97\.1\.2"\}: may not change once set/);
  });

  test('type transitions: NodePort → ClusterIP releases node ports, ExternalName → ClusterIP allocates', async () => {
    await t.kubectl.ok(['patch', 'svc', 'service-nodeport', '-p', '{"spec":{"type":"ClusterIP"}}']);
    const np = await t.kubectl.ok(['get', 'svc', 'service-nodeport', '-o', 'jsonpath={.spec.ports[0].nodePort}|{.spec.externalTrafficPolicy}']);
    assert.equal(np, '|');
    // 30002 is free again.
    const reuse = await t.request('POST', '/api/v1/namespaces/default/services', {
      metadata: { name: 'takes-30002' },
      spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30002 }] },
    });
    assert.equal(reuse.status, 201, reuse.text);
    await t.kubectl.ok(['patch', 'svc', 'service-externalname', '--type=merge', '-p', '{"spec":{"type":"ClusterIP","externalName":null,"ports":[{"port":80}]}}']);
    const ip = await t.kubectl.ok(['get', 'svc', 'service-externalname', '-o', 'jsonpath={.spec.clusterIP}']);
    assert.match(ip, /^10\.\d+\.\d+\.\d+$/);
  });

  test('edit via KUBE_EDITOR changes the type', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubesvc-editor-'));
    const editor = join(dir, 'editor.sh');
    writeFileSync(editor, `#!/bin/sh\nsed -i 's/type: ClusterIP/type: LoadBalancer/' "$1"\n`);
    chmodSync(editor, 0o755);
    const out = await t.kubectl.ok(['edit', 'svc', 'service-affinity'], { env: { KUBE_EDITOR: editor } }).finally(() => rmSync(dir, { recursive: true, force: true }));
    assert.match(out, /service\/service-affinity edited/);
    const type = await t.kubectl.ok(['get', 'svc', 'service-affinity', '-o', 'jsonpath={.spec.type} {.spec.ports[0].nodePort}']);
    assert.match(type, /^LoadBalancer 3\d{4}$/);
  });

  test('replace, server-side apply and delete', async () => {
    const json = JSON.parse(await t.kubectl.ok(['get', 'svc', 'service-multiport', '-o', 'json']));
    json.metadata.labels = { replaced: 'yes' };
    const out = await t.kubectl.ok(['replace', '-f', '-'], { input: JSON.stringify(json) });
    assert.match(out, /service\/service-multiport replaced/);
    const ssa = `apiVersion: v1
kind: Service
metadata:
  name: ssa-svc
spec:
  selector: {app: ssa}
  ports:
  - port: 8080
`;
    assert.match(await t.kubectl.ok(['apply', '--server-side', '-f', '-'], { input: ssa }), /service\/ssa-svc serverside-applied/);
    assert.match(await t.kubectl.ok(['apply', '--server-side', '-f', '-'], { input: ssa.replace('8080', '8081') }), /serverside-applied/);
    assert.equal(await t.kubectl.ok(['get', 'svc', 'ssa-svc', '-o', 'jsonpath={.spec.ports[*].port}']), '8081');
    assert.match(await t.kubectl.ok(['delete', 'svc', 'ssa-svc']), /service "ssa-svc" deleted/);
    const gone = await t.kubectl(['get', 'svc', 'ssa-svc']);
    assert.match(gone.stderr, /Error from server \(NotFound\): services "ssa-svc" not found/);
  });

  test('create deployment (protobuf), scale, expose --type=NodePort', async () => {
    assert.match(await t.kubectl.ok(['create', 'deployment', 'hello-world', '--image=gcr.io/google-samples/node-hello:1.0', '--replicas=2', '--port=8080']), /deployment.apps\/hello-world created/);
    assert.match(await t.kubectl.ok(['scale', 'deployment', 'hello-world', '--replicas=3']), /deployment.apps\/hello-world scaled/);
    assert.equal(await t.kubectl.ok(['get', 'deploy', 'hello-world', '-o', 'jsonpath={.spec.replicas}']), '3');
    const exposed = await t.kubectl.ok(['expose', 'deployment', 'hello-world', '--type=NodePort', '--name=example-service']);
    assert.match(exposed, /service\/example-service exposed/);
    const svc = JSON.parse(await t.kubectl.ok(['get', 'svc', 'example-service', '-o', 'json']));
    assert.equal(svc.spec.type, 'NodePort');
    assert.deepEqual(svc.spec.selector, { app: 'hello-world' });
    assert.ok(svc.spec.ports[0].nodePort >= 30000 && svc.spec.ports[0].nodePort <= 32767);
    assert.match(await t.kubectl.ok(['create', 'service', 'nodeport', 'ns1', '--tcp=80:8080']), /service\/ns1 created/);
    assert.match(await t.kubectl.ok(['create', 'namespace', 'team-a']), /namespace\/team-a created/);
  });

  test('explain renders the OpenAPI schema', async () => {
    const out = await t.kubectl.ok(['explain', 'service.spec.sessionAffinity']);
    assert.match(out, /KIND:\s+Service/);
    assert.match(out, /FIELD:\s+sessionAffinity <string>/);
    assert.match(out, /ClientIP/);
  });

  test('get -w prints changes as they happen', async () => {
    const child = spawn('kubectl', ['--kubeconfig', t.server.kubeconfigPath, 'get', 'svc', '-w'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    try {
      await waitFor('initial table', () => out.includes('kubernetes'));
      await t.kubectl.ok(['label', 'svc', 'service-headless', 'watched=yes']);
      await t.kubectl.ok(['create', 'service', 'clusterip', 'watch-new', '--tcp=80:80']);
      await waitFor('watch event for the new service', () => /watch-new\s+ClusterIP/.test(out));
    } finally {
      child.kill();
    }
  });

  test('strict field validation names the unknown field', async () => {
    const r = await t.kubectl(['apply', '-f', '-'], {
      input: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: typo\nspec:\n  ports:\n  - port: 80\n  selecter: {app: x}\n',
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /strict decoding error: unknown field "spec\.selecter"/);
    const warn = await t.kubectl(['apply', '--validate=warn', '-f', '-'], {
      input: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: typo\nspec:\n  ports:\n  - port: 80\n  selecter: {app: x}\n',
    });
    assert.equal(warn.code, 0, warn.stderr);
    assert.match(warn.stderr, /Warning: unknown field "spec\.selecter"/);
  });

  test('deleting a namespace removes what is in it', async () => {
    await t.kubectl.ok(['create', 'namespace', 'doomed']);
    await t.kubectl.ok(['-n', 'doomed', 'create', 'service', 'clusterip', 'inside', '--tcp=80:80']);
    await t.kubectl.ok(['-n', 'doomed', 'create', 'configmap', 'cfg', '--from-literal=a=b']);
    await t.kubectl.ok(['delete', 'namespace', 'doomed']);
    const r = await t.kubectl(['get', 'ns', 'doomed']);
    assert.match(r.stderr, /namespaces "doomed" not found/);
    const left = await t.request('GET', '/api/v1/namespaces/doomed/services');
    assert.equal(left.json.items.length, 0);
  });
});
