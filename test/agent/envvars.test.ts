// Container environments as the kubelet builds them: the service variables
// against upstream's pkg/kubelet/envvars/envvars_test.go TestFromServices,
// getServiceEnvVarMap's namespace/master-service rules, $(VAR) expansion as
// third_party/forked/golang/expansion, and makeEnvironmentVariables' order.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Container, Pod, Service } from '../../src/api/types.js';
import type { Secret } from '../../src/agent/config-sources.js';
import {
  ContainerConfigError,
  expand,
  expandCommandAndArgs,
  makeEnvironment,
  mappingFuncFor,
  serviceEnvVarMap,
  serviceEnvVars,
} from '../../src/agent/envvars.js';

const svc = (name: string, clusterIP: string, ports: { name?: string; port: number; protocol?: string }[], namespace = 'default'): Service => ({
  metadata: { name, namespace },
  spec: { selector: { bar: 'baz' }, clusterIP, ports },
});

describe('service environment variables (envvars.FromServices)', () => {
  test('matches upstream TestFromServices', () => {
    const services = [
      svc('foo-bar', '1.2.3.4', [{ port: 8080, protocol: 'TCP' }]),
      svc('abc-123', '5.6.7.8', [
        { name: 'u-d-p', port: 8081, protocol: 'UDP' },
        { name: 't-c-p', port: 8081, protocol: 'TCP' },
      ]),
      svc('q-u-u-x', '9.8.7.6', [
        { port: 8082, protocol: 'TCP' },
        { name: '8083', port: 8083, protocol: 'TCP' },
      ]),
      svc('svrc-clusterip-none', 'None', [{ port: 8082, protocol: 'TCP' }]),
      svc('svrc-clusterip-empty', '', [{ port: 8082, protocol: 'TCP' }]),
      svc('super-ipv6', '2001:DB8::', [
        { name: 'u-d-p', port: 8084, protocol: 'UDP' },
        { name: 't-c-p', port: 8084, protocol: 'TCP' },
      ]),
      svc('sctp-1', '1.2.3.4', [{ name: 'ctps', port: 7777, protocol: 'SCTP' }]),
    ];
    const expected: [string, string][] = [
      ['FOO_BAR_SERVICE_HOST', '1.2.3.4'],
      ['FOO_BAR_SERVICE_PORT', '8080'],
      ['FOO_BAR_PORT', 'tcp://1.2.3.4:8080'],
      ['FOO_BAR_PORT_8080_TCP', 'tcp://1.2.3.4:8080'],
      ['FOO_BAR_PORT_8080_TCP_PROTO', 'tcp'],
      ['FOO_BAR_PORT_8080_TCP_PORT', '8080'],
      ['FOO_BAR_PORT_8080_TCP_ADDR', '1.2.3.4'],
      ['ABC_123_SERVICE_HOST', '5.6.7.8'],
      ['ABC_123_SERVICE_PORT', '8081'],
      ['ABC_123_SERVICE_PORT_U_D_P', '8081'],
      ['ABC_123_SERVICE_PORT_T_C_P', '8081'],
      ['ABC_123_PORT', 'udp://5.6.7.8:8081'],
      ['ABC_123_PORT_8081_UDP', 'udp://5.6.7.8:8081'],
      ['ABC_123_PORT_8081_UDP_PROTO', 'udp'],
      ['ABC_123_PORT_8081_UDP_PORT', '8081'],
      ['ABC_123_PORT_8081_UDP_ADDR', '5.6.7.8'],
      ['ABC_123_PORT_8081_TCP', 'tcp://5.6.7.8:8081'],
      ['ABC_123_PORT_8081_TCP_PROTO', 'tcp'],
      ['ABC_123_PORT_8081_TCP_PORT', '8081'],
      ['ABC_123_PORT_8081_TCP_ADDR', '5.6.7.8'],
      ['Q_U_U_X_SERVICE_HOST', '9.8.7.6'],
      ['Q_U_U_X_SERVICE_PORT', '8082'],
      ['Q_U_U_X_SERVICE_PORT_8083', '8083'],
      ['Q_U_U_X_PORT', 'tcp://9.8.7.6:8082'],
      ['Q_U_U_X_PORT_8082_TCP', 'tcp://9.8.7.6:8082'],
      ['Q_U_U_X_PORT_8082_TCP_PROTO', 'tcp'],
      ['Q_U_U_X_PORT_8082_TCP_PORT', '8082'],
      ['Q_U_U_X_PORT_8082_TCP_ADDR', '9.8.7.6'],
      ['Q_U_U_X_PORT_8083_TCP', 'tcp://9.8.7.6:8083'],
      ['Q_U_U_X_PORT_8083_TCP_PROTO', 'tcp'],
      ['Q_U_U_X_PORT_8083_TCP_PORT', '8083'],
      ['Q_U_U_X_PORT_8083_TCP_ADDR', '9.8.7.6'],
      ['SUPER_IPV6_SERVICE_HOST', '2001:DB8::'],
      ['SUPER_IPV6_SERVICE_PORT', '8084'],
      ['SUPER_IPV6_SERVICE_PORT_U_D_P', '8084'],
      ['SUPER_IPV6_SERVICE_PORT_T_C_P', '8084'],
      ['SUPER_IPV6_PORT', 'udp://[2001:DB8::]:8084'],
      ['SUPER_IPV6_PORT_8084_UDP', 'udp://[2001:DB8::]:8084'],
      ['SUPER_IPV6_PORT_8084_UDP_PROTO', 'udp'],
      ['SUPER_IPV6_PORT_8084_UDP_PORT', '8084'],
      ['SUPER_IPV6_PORT_8084_UDP_ADDR', '2001:DB8::'],
      ['SUPER_IPV6_PORT_8084_TCP', 'tcp://[2001:DB8::]:8084'],
      ['SUPER_IPV6_PORT_8084_TCP_PROTO', 'tcp'],
      ['SUPER_IPV6_PORT_8084_TCP_PORT', '8084'],
      ['SUPER_IPV6_PORT_8084_TCP_ADDR', '2001:DB8::'],
      ['SCTP_1_SERVICE_HOST', '1.2.3.4'],
      ['SCTP_1_SERVICE_PORT', '7777'],
      ['SCTP_1_SERVICE_PORT_CTPS', '7777'],
      ['SCTP_1_PORT', 'sctp://1.2.3.4:7777'],
      ['SCTP_1_PORT_7777_SCTP', 'sctp://1.2.3.4:7777'],
      ['SCTP_1_PORT_7777_SCTP_PROTO', 'sctp'],
      ['SCTP_1_PORT_7777_SCTP_PORT', '7777'],
      ['SCTP_1_PORT_7777_SCTP_ADDR', '1.2.3.4'],
    ];
    assert.deepEqual(
      serviceEnvVars(services).map((e) => [e.name, e.value]),
      expected,
    );
  });

  test('a port without protocol is TCP', () => {
    const vars = serviceEnvVars([svc('web', '10.96.0.20', [{ name: 'http', port: 80 }])]);
    assert.deepEqual(Object.fromEntries(vars.map((e) => [e.name, e.value])), {
      WEB_SERVICE_HOST: '10.96.0.20',
      WEB_SERVICE_PORT: '80',
      WEB_SERVICE_PORT_HTTP: '80',
      WEB_PORT: 'tcp://10.96.0.20:80',
      WEB_PORT_80_TCP: 'tcp://10.96.0.20:80',
      WEB_PORT_80_TCP_PROTO: 'tcp',
      WEB_PORT_80_TCP_PORT: '80',
      WEB_PORT_80_TCP_ADDR: '10.96.0.20',
    });
  });
});

describe('getServiceEnvVarMap', () => {
  const services = [
    svc('kubernetes', '10.96.0.1', [{ name: 'https', port: 443 }]),
    svc('other-default', '10.96.0.2', [{ port: 80 }]),
    svc('web', '10.96.0.3', [{ port: 8080 }], 'shop'),
    svc('headless', 'None', [{ port: 80 }], 'shop'),
    svc('elsewhere', '10.96.0.4', [{ port: 80 }], 'other'),
  ];

  test("the pod's namespace plus the master service of default", () => {
    const m = serviceEnvVarMap(services, 'shop', true);
    assert.equal(m.get('KUBERNETES_SERVICE_HOST'), '10.96.0.1');
    assert.equal(m.get('KUBERNETES_SERVICE_PORT_HTTPS'), '443');
    assert.equal(m.get('KUBERNETES_PORT_443_TCP'), 'tcp://10.96.0.1:443');
    assert.equal(m.get('WEB_SERVICE_HOST'), '10.96.0.3');
    assert.equal(m.has('OTHER_DEFAULT_SERVICE_HOST'), false, 'other default services are not master services');
    assert.equal(m.has('HEADLESS_SERVICE_HOST'), false, 'no variables for services without a cluster IP');
    assert.equal(m.has('ELSEWHERE_SERVICE_HOST'), false);
  });

  test('enableServiceLinks: false keeps only the master service', () => {
    const m = serviceEnvVarMap(services, 'shop', false);
    assert.deepEqual(
      [...m.keys()].filter((k) => k.endsWith('_SERVICE_HOST')),
      ['KUBERNETES_SERVICE_HOST'],
    );
  });

  test('pods in default see all default services', () => {
    const m = serviceEnvVarMap(services, 'default', true);
    assert.equal(m.get('OTHER_DEFAULT_SERVICE_HOST'), '10.96.0.2');
    assert.equal(m.get('KUBERNETES_SERVICE_HOST'), '10.96.0.1');
  });

  test("a service named kubernetes in the pod's namespace wins", () => {
    const m = serviceEnvVarMap([...services, svc('kubernetes', '10.96.0.99', [{ port: 80 }], 'shop')], 'shop', true);
    assert.equal(m.get('KUBERNETES_SERVICE_HOST'), '10.96.0.99');
  });
});

describe('$(VAR) expansion', () => {
  const mapping = mappingFuncFor(new Map([['VAR_A', 'A'], ['VAR_B', 'B'], ['VAR_EMPTY', '']]));
  const cases: [string, string][] = [
    ['$(VAR_A)', 'A'],
    ['___$(VAR_B)___', '___B___'],
    ['$(VAR_A)-$(VAR_B)', 'A-B'],
    ['$(VAR_EMPTY)x', 'x'],
    ['$(VAR_NOT_DEFINED)', '$(VAR_NOT_DEFINED)'],
    ['$$(VAR_A)', '$(VAR_A)'],
    ['$$$(VAR_A)', '$A'],
    ['$(VAR_A', '$(VAR_A'],
    ['$VAR_A', '$VAR_A'],
    ['foo$', 'foo$'],
    ['$()', '$()'],
    ['f00__(VAR_A)__', 'f00__(VAR_A)__'],
  ];
  for (const [input, want] of cases) {
    test(`${input} → ${want}`, () => assert.equal(expand(input, mapping), want));
  }

  test('command and args expand from the container environment', () => {
    const r = expandCommandAndArgs({ command: ['echo', '$(GREETING)'], args: ['$(NAME)', '$(MISSING)'] }, [
      { name: 'GREETING', value: 'hello' },
      { name: 'NAME', value: 'world' },
    ]);
    assert.deepEqual(r, { command: ['echo', 'hello'], args: ['world', '$(MISSING)'] });
  });
});

describe('makeEnvironmentVariables', () => {
  const pod: Pod = {
    metadata: { name: 'web-1', namespace: 'shop', uid: 'u-1', labels: { app: 'web', tier: 'front' } },
    spec: { nodeName: 'node-1', serviceAccountName: 'default', containers: [] },
  };
  const cms: Record<string, ConfigMap> = {
    settings: { metadata: { name: 'settings', namespace: 'shop' }, data: { MODE: 'fast', 'bad key': 'x', LEVEL: '3' } },
  };
  const secrets: Record<string, Secret> = {
    db: { metadata: { name: 'db', namespace: 'shop' }, data: { password: Buffer.from('s3cr3t').toString('base64'), '2fa': Buffer.from('x').toString('base64') } },
  };
  const ctx = (container: Container, warn?: (r: string, m: string) => void) => ({
    pod,
    container,
    podIPs: ['10.244.0.5'],
    hostIPs: ['172.18.0.2'],
    serviceEnv: serviceEnvVarMap([svc('web', '10.96.0.3', [{ port: 8080 }], 'shop')], 'shop', true),
    node: { cpu: 4, memory: 8 * 2 ** 30 },
    getConfigMap: async (_ns: string, name: string) => cms[name],
    getSecret: async (_ns: string, name: string) => secrets[name],
    warn,
  });

  test('fieldRef, configMapKeyRef, envFrom, expansion, and service variables after', async () => {
    const warnings: string[] = [];
    const env = await makeEnvironment(
      ctx(
        {
          name: 'c',
          envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }],
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'POD_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
            { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
            { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
            { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
            { name: 'LABELS', valueFrom: { fieldRef: { fieldPath: 'metadata.labels' } } },
            { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'MODE' } } },
            { name: 'URL', value: 'http://$(WEB_SERVICE_HOST):$(WEB_SERVICE_PORT)/$(POD_NAME)' },
            { name: 'WEB_SERVICE_PORT', value: '9999' },
            { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
            { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
          ],
        },
        (r, m) => warnings.push(`${r}: ${m}`),
      ),
    );
    const m = Object.fromEntries(env.map((e) => [e.name, e.value]));
    assert.equal(m.POD_NAME, 'web-1');
    assert.equal(m.POD_NS, 'shop');
    assert.equal(m.POD_UID, 'u-1');
    assert.equal(m.POD_IP, '10.244.0.5');
    assert.equal(m.HOST_IP, '172.18.0.2');
    assert.equal(m.NODE, 'node-1');
    assert.equal(m.SA, 'default');
    assert.equal(m.APP, 'web');
    assert.equal(m.LABELS, 'app="web"\ntier="front"');
    assert.equal(m.MODE, 'fast');
    assert.equal(m.CFG_MODE, 'fast');
    assert.equal(m.CFG_LEVEL, '3');
    assert.equal(m.URL, 'http://10.96.0.3:8080/web-1', 'expanded against the variables declared before it and the service variables');
    assert.equal(m.WEB_SERVICE_PORT, '9999', "the container's own variable wins over the service's");
    assert.equal(m.WEB_SERVICE_HOST, '10.96.0.3');
    assert.equal(m.CPU, '4', 'no limit: the node allocatable');
    assert.equal(m.MEM_MI, '8192');
    assert.equal(env.filter((e) => e.name === 'WEB_SERVICE_PORT').length, 1);
    assert.deepEqual(warnings, [
      'InvalidEnvironmentVariableNames: Keys [CFG_bad key] from the EnvFrom configMap shop/settings were skipped since they are considered invalid environment variable names.',
    ]);
    // Declared variables first, in order; service variables after.
    const names = env.map((e) => e.name);
    assert.ok(names.indexOf('POD_NAME') < names.indexOf('URL'));
    assert.ok(names.indexOf('URL') < names.indexOf('WEB_PORT'));
  });

  test('a missing ConfigMap is a CreateContainerConfigError unless optional', async () => {
    await assert.rejects(
      makeEnvironment(ctx({ name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] })),
      (e: unknown) => e instanceof ContainerConfigError && e.message === 'configmap "nope" not found',
    );
    await assert.rejects(
      makeEnvironment(ctx({ name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'settings', key: 'k' } } }] })),
      (e: unknown) => e instanceof ContainerConfigError && e.message === "couldn't find key k in ConfigMap shop/settings",
    );
    const env = await makeEnvironment(ctx({ name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k', optional: true } } }] }));
    assert.equal(env.some((e) => e.name === 'X'), false);
  });

  test('secretKeyRef and envFrom secretRef read the Secret as configMap references do, with its messages', async () => {
    const warnings: string[] = [];
    const env = await makeEnvironment(
      ctx({ name: 'c', envFrom: [{ secretRef: { name: 'db' } }], env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }] }, (r, m) => warnings.push(`${r}: ${m}`)),
    );
    const m = Object.fromEntries(env.map((e) => [e.name, e.value]));
    assert.equal(m.P, 's3cr3t');
    assert.equal(m.password, 's3cr3t');
    assert.deepEqual(warnings, ['InvalidEnvironmentVariableNames: Keys [2fa] from the EnvFrom secret shop/db were skipped since they are considered invalid environment variable names.']);
    await assert.rejects(
      makeEnvironment(ctx({ name: 'c', env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'nope', key: 'password' } } }] })),
      (e: unknown) => e instanceof ContainerConfigError && e.message === 'secret "nope" not found',
    );
    await assert.rejects(
      makeEnvironment(ctx({ name: 'c', env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'db', key: 'k' } } }] })),
      (e: unknown) => e instanceof ContainerConfigError && e.message === "couldn't find key k in Secret shop/db",
    );
  });
});
