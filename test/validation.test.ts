// Validation rules checked against upstream's exact rendering
// ("<path>: <Type>[: <value>][: <detail>]"), one test per rule of Service,
// Endpoints and EndpointSlice validation in pkg/apis/core/validation and
// pkg/apis/discovery/validation.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import { errorString, type FieldError } from '../src/api/field-errors.js';
import { errors } from '../src/api/status.js';
import {
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  isValidPortName,
} from '../src/registry/validation/names.js';
import { canonicalCIDR, canonicalIP, ipFamilyOf, isValidCIDR, isValidIPString } from '../src/net/addr.js';
import { getWarningsForCIDR, getWarningsForIP, validateNonSpecialIP } from '../src/registry/validation/ip.js';
import { nameValidators, validateObjectMeta, validateObjectMetaUpdate, validateServiceName } from '../src/registry/validation/object-meta.js';
import { validateService, validateServiceStatusUpdate, validateServiceUpdate } from '../src/registry/services/validation.js';
import { validateEndpoints } from '../src/registry/endpoints/validation.js';
import { validateEndpointSlice, validateEndpointSliceUpdate } from '../src/registry/endpointslices/validation.js';
import {
  validateConfigMap,
  validateDaemonSet,
  validateDeployment,
  validateDeploymentUpdate,
  validatePod,
  validateReplicaSet,
} from '../src/registry/workloads/validation.js';
import { fixtures } from './helpers/fixtures.js';

const DNS1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const NAME_PART =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const INVALID_IP = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

const render = (errs: FieldError[]) => errs.map(errorString);
const deepCopy = <T>(v: T): T => structuredClone(v);

/** SetDefaults_Service plus the registry's family defaults, done by hand as upstream runs them before validation. */
function withDefaults(input: Service): Service {
  const svc = deepCopy(input);
  const spec = (svc.spec ??= {});
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds == null) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  for (const p of spec.ports ?? []) {
    p.protocol ??= 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (spec.clusterIP && !spec.clusterIPs?.length) spec.clusterIPs = [spec.clusterIP];
  if (spec.type !== 'ExternalName') {
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
    spec.internalTrafficPolicy ??= 'Cluster';
  }
  const externallyAccessible = spec.type === 'NodePort' || spec.type === 'LoadBalancer' || (spec.type === 'ClusterIP' && !!spec.externalIPs?.length);
  if (externallyAccessible) spec.externalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
  return svc;
}

function svc(spec: Service['spec'], meta: Service['metadata'] = {}): Service {
  return withDefaults({ metadata: { name: 's', namespace: 'default', ...meta }, spec: { selector: { app: 'x' }, ports: [{ port: 80 }], ...spec } });
}

const svcErrors = (spec: Service['spec'], meta?: Service['metadata']) => render(validateService(svc(spec, meta)));

function loadYAML(path: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((d): d is Record<string, unknown> => d != null);
}

/** What the registry runs on create: ObjectMeta with the kind's name rule, then the kind's own rules. */
function validateAsCreate(obj: Record<string, unknown>): FieldError[] {
  const kind = obj.kind as string;
  const metadata = { namespace: 'default', ...(obj.metadata as object) };
  const meta = validateObjectMeta(metadata, { namespaced: true, nameValidator: nameValidators[kind] });
  switch (kind) {
    case 'Service':
      return [...meta, ...validateService(withDefaults({ ...(obj as Service), metadata }))];
    case 'Endpoints':
      return [...meta, ...validateEndpoints(obj as Endpoints)];
    case 'Deployment':
      return [...meta, ...validateDeployment(obj as Deployment)];
    default:
      throw new Error(`no validation for ${kind}`);
  }
}

describe('names (apimachinery util/validation)', () => {
  test('DNS-1035 label: exact upstream text, length limit', () => {
    assert.deepEqual(isDNS1035Label('my-svc'), []);
    assert.deepEqual(isDNS1035Label('My_Svc'), [DNS1035]);
    assert.deepEqual(isDNS1035Label('1abc'), [DNS1035]);
    assert.deepEqual(isDNS1035Label('a'.repeat(64)), ['must be no more than 63 characters']);
  });

  test('DNS-1123 label: dots get their own message', () => {
    assert.deepEqual(isDNS1123Label('123-abc'), []);
    assert.deepEqual(isDNS1123Label('a.b'), ['must not contain dots']);
    assert.deepEqual(isDNS1123Label('Http'), [DNS1123_LABEL]);
  });

  test('DNS-1123 subdomain', () => {
    assert.deepEqual(isDNS1123Subdomain('www.example.com'), []);
    assert.deepEqual(isDNS1123Subdomain('foo_bar'), [DNS1123_SUBDOMAIN]);
    assert.deepEqual(isDNS1123Subdomain(`${'a'.repeat(250)}.com`), ['must be no more than 253 characters']);
  });

  test('IANA port names report every broken rule', () => {
    assert.deepEqual(isValidPortName('http'), []);
    assert.deepEqual(isValidPortName('http--x'), ['must not contain consecutive hyphens']);
    assert.deepEqual(isValidPortName('8080'), ['must contain at least one letter (a-z)']);
    assert.deepEqual(isValidPortName('-Http-'), [
      'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      'must not begin or end with a hyphen',
    ]);
    assert.deepEqual(isValidPortName('a-very-long-port-name'), ['must be no more than 15 characters']);
  });

  test('qualified names and label values', () => {
    assert.deepEqual(isQualifiedName('kubernetes.io/h2c'), []);
    assert.deepEqual(isQualifiedName('-bad'), [NAME_PART]);
    assert.deepEqual(isQualifiedName('/x'), ['prefix part must be non-empty']);
    assert.deepEqual(isQualifiedName('Example.com/x'), [`prefix part ${DNS1123_SUBDOMAIN}`]);
    assert.equal(isQualifiedName('a/b/c').length, 1);
    assert.match(isQualifiedName('a/b/c')[0], /^a valid label key .* with an optional DNS subdomain prefix and '\/' \(e\.g\. 'example\.com\/MyName'\)$/);
    assert.deepEqual(isValidLabelValue(''), []);
    assert.deepEqual(isValidLabelValue('-x'), [LABEL_VALUE]);
  });

  test('config map keys', () => {
    assert.deepEqual(isConfigMapKey('app.conf'), []);
    assert.deepEqual(isConfigMapKey('..data'), ["must not start with '..'"]);
    assert.match(isConfigMapKey('a/b')[0], /^a valid config key must consist of alphanumeric characters, '-', '_' or '\.'/);
  });
});

describe('IP parsing (ParseIPSloppy semantics)', () => {
  test('canonical forms and families, Go-style', () => {
    assert.equal(canonicalIP('192.012.2.2'), '192.12.2.2');
    assert.equal(canonicalIP('2001:0DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(canonicalIP('1:0:0:2:0:0:0:3'), '1:0:0:2::3');
    assert.equal(canonicalIP('::ffff:1.2.3.4'), '1.2.3.4');
    assert.equal(ipFamilyOf('::ffff:1.2.3.4'), 'IPv4');
    assert.equal(ipFamilyOf('fd00::1'), 'IPv6');
    for (const bad of ['1.2.3', '256.1.1.1', 'fe80::1%eth0', '1::2::3', 'foo', '']) assert.equal(isValidIPString(bad), false, bad);
  });

  test('CIDRs', () => {
    assert.equal(isValidCIDR('10.0.0.0/33'), false);
    assert.equal(isValidCIDR('2001:db8::/64'), true);
    assert.equal(canonicalCIDR('10.1.2.3/8'), '10.0.0.0/8');
  });

  test('non-special IPs: exact messages, multicast outside 224.0.0.0/24 allowed', () => {
    const d = (ip: string) => validateNonSpecialIP(ip, 'x').map((e) => e.detail);
    assert.deepEqual(d('0.0.0.0'), ['may not be unspecified (0.0.0.0)']);
    assert.deepEqual(d('::'), ['may not be unspecified (::)']);
    assert.deepEqual(d('127.0.0.1'), ['may not be in the loopback range (127.0.0.0/8, ::1/128)']);
    assert.deepEqual(d('::1'), ['may not be in the loopback range (127.0.0.0/8, ::1/128)']);
    assert.deepEqual(d('169.254.169.254'), ['may not be in the link-local range (169.254.0.0/16, fe80::/10)']);
    assert.deepEqual(d('fe80::1'), ['may not be in the link-local range (169.254.0.0/16, fe80::/10)']);
    assert.deepEqual(d('224.0.0.251'), ['may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)']);
    assert.deepEqual(d('ff02::1'), ['may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)']);
    assert.deepEqual(d('239.1.1.1'), []);
    assert.deepEqual(d('10.1.2.3'), []);
  });

  test('warnings for non-standard spellings', () => {
    assert.deepEqual(getWarningsForIP('spec.clusterIPs[0]', '192.012.2.2'), [
      'spec.clusterIPs[0]: non-standard IP address "192.012.2.2" will be considered invalid in a future Kubernetes release: use "192.12.2.2"',
    ]);
    assert.deepEqual(getWarningsForIP('p', '2001:DB8::1'), ['p: IPv6 address "2001:DB8::1" should be in RFC 5952 canonical format ("2001:db8::1")']);
    assert.deepEqual(getWarningsForCIDR('p', '192.12.2.8/24'), [
      'p: CIDR value "192.12.2.8/24" is ambiguous in this context (should be "192.12.2.0/24" or "192.12.2.8/32"?)',
    ]);
  });
});

describe('ObjectMeta', () => {
  const ns = { namespaced: true, nameValidator: validateServiceName };

  test('name or generateName required; namespace required or forbidden', () => {
    assert.deepEqual(render(validateObjectMeta({ namespace: 'default' }, ns)), ['metadata.name: Required value: name or generateName is required']);
    assert.deepEqual(render(validateObjectMeta({ name: 'a' }, ns)), ['metadata.namespace: Required value']);
    assert.deepEqual(render(validateObjectMeta({ name: 'n1', namespace: 'default' }, { namespaced: false, nameValidator: nameValidators.Node })), [
      'metadata.namespace: Forbidden: not allowed on this type',
    ]);
    assert.deepEqual(render(validateObjectMeta({ name: 'a', namespace: 'Bad_NS' }, ns)), [`metadata.namespace: Invalid value: "Bad_NS": ${DNS1123_LABEL}`]);
  });

  test('Service names are DNS-1035 labels (row 1); a generateName prefix may end in "-"', () => {
    assert.deepEqual(render(validateObjectMeta({ name: 'My_Svc', namespace: 'default' }, ns)), [`metadata.name: Invalid value: "My_Svc": ${DNS1035}`]);
    assert.deepEqual(render(validateObjectMeta({ name: 'web-abcde', generateName: 'web-', namespace: 'default' }, ns)), []);
    assert.deepEqual(render(validateObjectMeta({ name: '1-svc', namespace: 'default' }, ns)), [`metadata.name: Invalid value: "1-svc": ${DNS1035}`]);
    // Pods (and most kinds) take subdomains.
    assert.deepEqual(render(validateObjectMeta({ name: 'web.v1', namespace: 'default' }, { namespaced: true, nameValidator: nameValidators.Pod })), []);
    assert.equal(nameValidators.Namespace('a.b', false)[0], 'must not contain dots');
  });

  test('labels, annotations, owner references, finalizers', () => {
    const base = { name: 'a', namespace: 'default' };
    assert.deepEqual(render(validateObjectMeta({ ...base, labels: { '-bad': 'ok', good: '-bad' } }, ns)), [
      `metadata.labels: Invalid value: "-bad": ${NAME_PART}`,
      `metadata.labels: Invalid value: "-bad": ${LABEL_VALUE}`,
    ]);
    assert.deepEqual(render(validateObjectMeta({ ...base, annotations: { 'Example.COM/Key': 'x' } }, ns)), []);
    assert.deepEqual(render(validateObjectMeta({ ...base, annotations: { big: 'x'.repeat(256 * 1024) } }, ns)), [
      'metadata.annotations: Too long: may not be more than 262144 bytes',
    ]);
    assert.deepEqual(render(validateObjectMeta({ ...base, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: '' }] }, ns)), [
      'metadata.ownerReferences.uid: Invalid value: "": must not be empty',
    ]);
    assert.deepEqual(render(validateObjectMeta({ ...base, finalizers: ['custom'] }, ns)), [
      'metadata.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
    ]);
    assert.deepEqual(render(validateObjectMeta({ ...base, generation: -1 }, ns)), ['metadata.generation: Invalid value: -1: must be greater than or equal to 0']);
  });

  test('update: identity fields are immutable', () => {
    const old = { name: 'x', namespace: 'default', uid: 'u1', creationTimestamp: '2024-01-02T03:04:05Z' };
    assert.deepEqual(render(validateObjectMetaUpdate({ ...old }, old)), []);
    assert.deepEqual(render(validateObjectMetaUpdate({ ...old, name: 'y' }, old)), ['metadata.name: Invalid value: "y": field is immutable']);
    assert.deepEqual(render(validateObjectMetaUpdate({ ...old, namespace: 'other' }, old)), ['metadata.namespace: Invalid value: "other": field is immutable']);
    assert.deepEqual(render(validateObjectMetaUpdate({ ...old, uid: 'u2' }, old)), ['metadata.uid: Invalid value: "u2": field is immutable']);
    assert.deepEqual(render(validateObjectMetaUpdate({ ...old, creationTimestamp: '2025-01-01T00:00:00Z' }, old)), [
      'metadata.creationTimestamp: Invalid value: 2025-01-01 00:00:00 +0000 UTC: field is immutable',
    ]);
    const deleting = { ...old, deletionTimestamp: '2024-01-03T00:00:00Z', finalizers: ['a.io/x'] };
    assert.deepEqual(render(validateObjectMetaUpdate({ ...deleting, finalizers: ['a.io/x', 'b.io/y'] }, deleting)), [
      'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"b.io/y"}',
    ]);
  });
});

describe('Service', () => {
  test('valid shapes pass: ClusterIP, headless, NodePort, LoadBalancer, ExternalName, ClientIP', () => {
    assert.deepEqual(svcErrors({}), []);
    assert.deepEqual(svcErrors({ clusterIP: 'None', ports: [] }), []);
    assert.deepEqual(svcErrors({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }), []);
    assert.deepEqual(svcErrors({ type: 'LoadBalancer', loadBalancerSourceRanges: [' 10.0.0.0/8 '], loadBalancerClass: 'example.com/lb' }), []);
    assert.deepEqual(render(validateService(withDefaults({ metadata: { name: 'e' }, spec: { type: 'ExternalName', externalName: 'db.example.com.' } }))), []);
    assert.deepEqual(svcErrors({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 86400 } } }), []);
    assert.deepEqual(svcErrors({ ports: [{ port: 53, name: 'dns', protocol: 'UDP' }, { port: 53, name: 'dns-tcp' }] }), []);
  });

  test('#2 topology annotations must agree', () => {
    assert.deepEqual(
      svcErrors({}, { annotations: { 'service.kubernetes.io/topology-mode': 'Auto', 'service.kubernetes.io/topology-aware-hints': 'Disabled' } }),
      [
        'metadata.annotations[service.kubernetes.io/topology-mode]: Invalid value: "Auto": must match annotations[service.kubernetes.io/topology-aware-hints] when both are specified',
      ],
    );
  });

  test('#3 ports required unless headless or ExternalName', () => {
    assert.deepEqual(svcErrors({ ports: [] }), ['spec.ports: Required value']);
  });

  test('#4/#5 NodePort and LoadBalancer may not be headless', () => {
    assert.deepEqual(svcErrors({ type: 'LoadBalancer', clusterIP: 'None' }), [
      "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for LoadBalancer services",
    ]);
    assert.deepEqual(svcErrors({ type: 'NodePort', clusterIP: 'None' }), ["spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services"]);
  });

  test('#6–#10 ExternalName', () => {
    const en = (spec: Service['spec']) =>
      render(validateService({ metadata: { name: 'e' }, spec: { type: 'ExternalName', sessionAffinity: 'None', ...spec } }));
    assert.deepEqual(en({ externalName: 'a.b', clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' }), [
      'spec.clusterIPs: Forbidden: may not be set for ExternalName services',
      'spec.ipFamilies: Forbidden: may not be set for ExternalName services',
      'spec.ipFamilyPolicy: Forbidden: may not be set for ExternalName services',
    ]);
    assert.deepEqual(en({ externalName: '.' }), ['spec.externalName: Required value']);
    assert.deepEqual(en({}), ['spec.externalName: Required value']);
    assert.deepEqual(en({ externalName: 'foo_bar' }), [`spec.externalName: Invalid value: "foo_bar": ${DNS1123_SUBDOMAIN}`]);
  });

  test('#11 several ports need names (the unnamed ones are reported)', () => {
    assert.deepEqual(svcErrors({ ports: [{ port: 80, name: 'http' }, { port: 443 }] }), ['spec.ports[1].name: Required value']);
  });

  test('#12/#13 port names are DNS-1123 labels and unique', () => {
    assert.deepEqual(svcErrors({ ports: [{ port: 80, name: 'Http' }] }), [`spec.ports[0].name: Invalid value: "Http": ${DNS1123_LABEL}`]);
    assert.deepEqual(svcErrors({ ports: [{ port: 80, name: 'http' }, { port: 81, name: 'http' }] }), ['spec.ports[1].name: Duplicate value: "http"']);
  });

  test('#14–#18 port, protocol, targetPort, appProtocol', () => {
    assert.deepEqual(svcErrors({ ports: [{ port: 0, targetPort: 80 }] }), ['spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive']);
    assert.deepEqual(svcErrors({ ports: [{ port: 80, protocol: 'HTTP' }] }), [
      'spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    ]);
    assert.deepEqual(render(validateService({ ...svc({}), spec: { ...svc({}).spec, ports: [{ port: 80, targetPort: 80, protocol: '' }] } })), [
      'spec.ports[0].protocol: Required value',
    ]);
    assert.deepEqual(svcErrors({ ports: [{ port: 80, targetPort: 70000 }] }), [
      'spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    ]);
    assert.deepEqual(svcErrors({ ports: [{ port: 80, targetPort: 'http--x' }] }), [
      'spec.ports[0].targetPort: Invalid value: "http--x": must not contain consecutive hyphens',
    ]);
    assert.deepEqual(svcErrors({ ports: [{ port: 80, appProtocol: 'kubernetes.io/h2c' }] }), []);
    assert.deepEqual(svcErrors({ ports: [{ port: 80, appProtocol: 'bad proto' }] }), [`spec.ports[0].appProtocol: Invalid value: "bad proto": ${NAME_PART}`]);
  });

  test('#19 selector keys and values are label-checked', () => {
    assert.deepEqual(svcErrors({ selector: { app: 'bad value' } }), [`spec.selector: Invalid value: "bad value": ${LABEL_VALUE}`]);
  });

  test('#20–#23 session affinity', () => {
    assert.deepEqual(svcErrors({ sessionAffinity: 'Sticky' }), ['spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"']);
    const raw = svc({});
    assert.deepEqual(render(validateService({ ...raw, spec: { ...raw.spec, sessionAffinity: '' } })), ['spec.sessionAffinity: Required value']);
    assert.deepEqual(render(validateService({ ...raw, spec: { ...raw.spec, sessionAffinity: 'ClientIP' } })), [
      'spec.sessionAffinityConfig: Required value: when session affinity type is ClientIP',
    ]);
    assert.deepEqual(render(validateService({ ...raw, spec: { ...raw.spec, sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } } } })), [
      'spec.sessionAffinityConfig: Forbidden: must not be set when session affinity is None',
    ]);
    assert.deepEqual(svcErrors({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } } }), [
      'spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400',
    ]);
    assert.deepEqual(svcErrors({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 86401 } } }), [
      'spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be greater than 0 and less than 86400',
    ]);
  });

  test('#24/#25 external IPs must be real, non-special IPs', () => {
    assert.deepEqual(svcErrors({ externalIPs: ['foo'] }), [`spec.externalIPs[0]: Invalid value: "foo": ${INVALID_IP}`]);
    assert.deepEqual(svcErrors({ externalIPs: ['127.0.0.1'] }), [
      'spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    ]);
    assert.deepEqual(svcErrors({ externalIPs: ['80.11.12.10'] }), []);
  });

  test('#26 type', () => {
    const raw = svc({});
    assert.deepEqual(render(validateService({ ...raw, spec: { ...raw.spec, type: '' } })), ['spec.type: Required value']);
    assert.deepEqual(svcErrors({ type: 'Foo' }), ['spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']);
  });

  test('#27–#29 nodePorts and duplicate ports', () => {
    assert.deepEqual(svcErrors({ ports: [{ port: 80, nodePort: 30080 }] }), ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]);
    assert.deepEqual(
      svcErrors({ type: 'NodePort', ports: [{ port: 80, name: 'a', nodePort: 30080 }, { port: 81, name: 'b', nodePort: 30080 }] }),
      ['spec.ports[1].nodePort: Duplicate value: 30080'],
    );
    // Same nodePort for TCP and UDP is fine.
    assert.deepEqual(
      svcErrors({ type: 'NodePort', ports: [{ port: 53, name: 'a', nodePort: 30053 }, { port: 53, name: 'b', protocol: 'UDP', nodePort: 30053 }] }),
      [],
    );
    assert.deepEqual(svcErrors({ ports: [{ port: 80, name: 'a' }, { port: 80, name: 'b', targetPort: 8080 }] }), [
      'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
    ]);
  });

  test('#30–#32 load balancer source ranges', () => {
    assert.deepEqual(svcErrors({ loadBalancerSourceRanges: ['10.0.0.0/8'] }), [
      "spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'",
    ]);
    assert.deepEqual(svcErrors({ type: 'LoadBalancer', loadBalancerSourceRanges: ['10.0.0.0/33'] }), [
      'spec.LoadBalancerSourceRanges[0]: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    ]);
    assert.deepEqual(svcErrors({}, { annotations: { 'service.beta.kubernetes.io/load-balancer-source-ranges': '10.0.0.0/8' } }), [
      "metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]: Forbidden: may only be used when `type` is 'LoadBalancer'",
    ]);
    assert.deepEqual(
      svcErrors({ type: 'LoadBalancer' }, { annotations: { 'service.beta.kubernetes.io/load-balancer-source-ranges': '10.0.0.0/8, bad' } }),
      [
        'metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]: Invalid value: "bad": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
      ],
    );
  });

  test('#33–#36 LoadBalancer-only fields', () => {
    assert.deepEqual(svcErrors({ allocateLoadBalancerNodePorts: false }), [
      "spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'",
    ]);
    const lb = svc({ type: 'LoadBalancer' });
    delete lb.spec!.allocateLoadBalancerNodePorts;
    assert.deepEqual(render(validateService(lb)), ['allocateLoadBalancerNodePorts: Required value']);
    assert.deepEqual(svcErrors({ loadBalancerClass: 'example.com/lb' }), ["spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'"]);
    assert.deepEqual(svcErrors({ type: 'LoadBalancer', loadBalancerClass: '-x' }), [`spec.loadBalancerClass: Invalid value: "-x": ${NAME_PART}`]);
  });

  test('#37–#41 external traffic policy and health-check node port', () => {
    assert.deepEqual(svcErrors({ externalTrafficPolicy: 'Local' }), [
      'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services',
    ]);
    const np = svc({ type: 'NodePort' });
    delete np.spec!.externalTrafficPolicy;
    assert.deepEqual(render(validateService(np)), ['spec.externalTrafficPolicy: Required value']);
    assert.deepEqual(svcErrors({ type: 'NodePort', externalTrafficPolicy: 'Global' }), [
      'spec.externalTrafficPolicy: Unsupported value: "Global": supported values: "Cluster", "Local"',
    ]);
    assert.deepEqual(svcErrors({ type: 'NodePort', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 }), [
      "spec.healthCheckNodePort: Invalid value: 32000: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
    ]);
    assert.deepEqual(svcErrors({ type: 'LoadBalancer', externalTrafficPolicy: 'Local' }), ['spec.healthCheckNodePort: Required value']);
    assert.deepEqual(svcErrors({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 70000 }), [
      'spec.healthCheckNodePort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    ]);
    assert.deepEqual(svcErrors({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 }), []);
  });

  test('#42–#44 internal traffic policy and traffic distribution', () => {
    const raw = svc({});
    delete raw.spec!.internalTrafficPolicy;
    assert.deepEqual(render(validateService(raw)), ['spec.internalTrafficPolicy: Required value']);
    assert.deepEqual(svcErrors({ internalTrafficPolicy: 'Foo' }), ['spec.internalTrafficPolicy: Unsupported value: "Foo": supported values: "Cluster", "Local"']);
    assert.deepEqual(svcErrors({ trafficDistribution: 'PreferClose' }), []);
    assert.deepEqual(svcErrors({ trafficDistribution: 'Foo' }), [
      'spec.trafficDistribution: Unsupported value: "Foo": supported values: "PreferClose", "PreferSameNode", "PreferSameZone"',
    ]);
  });
});

describe('Service cluster IPs and families', () => {
  test('clusterIP and clusterIPs must agree', () => {
    const raw = svc({ clusterIP: '10.96.0.5' });
    assert.deepEqual(render(validateService({ ...raw, spec: { ...raw.spec, clusterIPs: [] } })), ['spec.clusterIPs: Required value']);
    assert.deepEqual(render(validateService({ ...raw, spec: { ...raw.spec, clusterIPs: ['10.0.0.2'] } })), [
      'spec.clusterIPs: Invalid value: []string{"10.0.0.2"}: first value must match `clusterIP`',
    ]);
    assert.deepEqual(render(validateService({ ...raw, spec: { ...raw.spec, clusterIP: '', clusterIPs: ['10.0.0.2'] } })), [
      'spec.clusterIPs: Invalid value: []string{"10.0.0.2"}: must be empty when `clusterIP` is not specified',
    ]);
  });

  test('families and policy values', () => {
    assert.deepEqual(svcErrors({ ipFamilies: ['IPv5'] }), ['spec.ipFamilies[0]: Unsupported value: "IPv5": supported values: "IPv4", "IPv6"']);
    assert.deepEqual(svcErrors({ ipFamilies: ['IPv4', 'IPv4'], ipFamilyPolicy: 'RequireDualStack' }), ['spec.ipFamilies[1]: Duplicate value: "IPv4"']);
    assert.deepEqual(svcErrors({ ipFamilyPolicy: 'Foo' }), [
      'spec.ipFamilyPolicy: Unsupported value: "Foo": supported values: "PreferDualStack", "RequireDualStack", "SingleStack"',
    ]);
  });

  test('clusterIPs values', () => {
    assert.deepEqual(svcErrors({ clusterIP: 'None', clusterIPs: ['None', '10.0.0.1'] }), [
      'spec.clusterIPs: Invalid value: []string{"None", "10.0.0.1"}: \'None\' must be the first and only value',
    ]);
    assert.deepEqual(svcErrors({ clusterIP: 'abc' }), [`spec.clusterIPs[0]: Invalid value: "abc": ${INVALID_IP}`]);
    assert.deepEqual(svcErrors({ clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1', 'fd00::1', '10.0.0.2'], ipFamilyPolicy: 'RequireDualStack' }), [
      'spec.clusterIPs: Invalid value: []string{"10.0.0.1", "fd00::1", "10.0.0.2"}: may only hold up to 2 values',
    ]);
    assert.deepEqual(svcErrors({ clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1', '10.0.0.2'], ipFamilyPolicy: 'RequireDualStack' }), [
      'spec.clusterIPs: Invalid value: []string{"10.0.0.1", "10.0.0.2"}: may specify no more than one IP for each IP family',
    ]);
    assert.deepEqual(svcErrors({ clusterIP: 'fd00::1', ipFamilies: ['IPv4'] }), [
      'spec.clusterIPs[0]: Invalid value: "fd00::1": expected an IPv4 value as indicated by `ipFamilies[0]`',
    ]);
  });

  test('single-stack IPv4 cluster: dual-stack and IPv6 requests are refused', () => {
    assert.deepEqual(svcErrors({ ipFamilyPolicy: 'RequireDualStack' }), [
      'spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services',
    ]);
    assert.deepEqual(svcErrors({ ipFamilies: ['IPv6'] }), ['spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster']);
    assert.deepEqual(svcErrors({ ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' }), [
      'spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services',
      'spec.ipFamilies[1]: Invalid value: "IPv6": not configured on this cluster',
    ]);
    assert.deepEqual(svcErrors({ ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'SingleStack' }), [
      "spec.ipFamilyPolicy: Invalid value: \"SingleStack\": must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified",
    ]);
    // An IPv6 clusterIP with no families given is reported against the IP.
    const raw = svc({ clusterIP: 'fd00::10' });
    delete raw.spec!.ipFamilies;
    assert.deepEqual(render(validateService(raw)), ['spec.clusterIPs[0]: Invalid value: []string{"fd00::10"}: IPv6 is not configured on this cluster']);
    // PreferDualStack falls back to one family; headless selectorless may carry both.
    assert.deepEqual(svcErrors({ ipFamilyPolicy: 'PreferDualStack' }), []);
    assert.deepEqual(svcErrors({ clusterIP: 'None', selector: undefined, ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' }), []);
    // A dual-stack cluster takes them.
    assert.deepEqual(render(validateService(svc({ ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' }), { ipFamilies: ['IPv4', 'IPv6'] })), []);
  });
});

describe('Service update', () => {
  const old = svc({ clusterIP: '10.96.0.5' });

  test('clusterIPs may not change once set', () => {
    assert.deepEqual(render(validateServiceUpdate(deepCopy(old), old)), []);
    assert.deepEqual(render(validateServiceUpdate(svc({ clusterIP: '10.0.0.9' }), old)), [
      'spec.clusterIPs[0]: Invalid value: []string{"10.0.0.9"}: may not change once set',
    ]);
  });

  test('ClusterIP <-> headless is not allowed; via ExternalName it is', () => {
    assert.deepEqual(render(validateServiceUpdate(svc({ clusterIP: 'None' }), old)), [
      'spec.clusterIPs[0]: Invalid value: []string{"None"}: may not change once set',
    ]);
    const en = withDefaults({ metadata: old.metadata, spec: { type: 'ExternalName', externalName: 'a.example.com' } });
    assert.deepEqual(render(validateServiceUpdate(en, old)), []);
  });

  test('primary clusterIP can not be unset; secondary release needs SingleStack', () => {
    const next = deepCopy(old);
    next.spec!.clusterIP = '';
    next.spec!.clusterIPs = [];
    assert.ok(render(validateServiceUpdate(next, old)).includes('spec.clusterIPs[0]: Invalid value: []string{}: primary clusterIP can not be unset'));
    const dual = svc({ clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5', 'fd00::5'], ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' });
    const single = svc({ clusterIP: '10.96.0.5', ipFamilyPolicy: 'RequireDualStack' });
    assert.deepEqual(render(validateServiceUpdate(single, dual, { ipFamilies: ['IPv4', 'IPv6'] })), [
      "spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": must be set to 'SingleStack' when releasing the secondary clusterIP",
      "spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": must be set to 'SingleStack' when releasing the secondary ipFamily",
    ]);
    single.spec!.ipFamilyPolicy = 'SingleStack';
    assert.deepEqual(render(validateServiceUpdate(single, dual, { ipFamilies: ['IPv4', 'IPv6'] })), []);
  });

  test('ipFamilies may not change once set', () => {
    const v6old = svc({ clusterIP: 'fd00::5', ipFamilies: ['IPv6'] });
    const next = svc({ clusterIP: 'fd00::5', ipFamilies: ['IPv4'] });
    assert.ok(render(validateServiceUpdate(next, v6old)).includes('spec.ipFamilies[0]: Invalid value: []core.IPFamily{"IPv4"}: may not change once set'));
  });

  test('loadBalancerClass is fixed while LoadBalancer -> LoadBalancer', () => {
    const lb = svc({ type: 'LoadBalancer', clusterIP: '10.96.0.5', loadBalancerClass: 'a.io/x' });
    assert.deepEqual(render(validateServiceUpdate(svc({ type: 'LoadBalancer', clusterIP: '10.96.0.5', loadBalancerClass: 'a.io/y' }), lb)), [
      'spec.loadBalancerClass: Invalid value: "a.io/y": may not change once set',
    ]);
    assert.deepEqual(render(validateServiceUpdate(svc({ type: 'LoadBalancer', clusterIP: '10.96.0.5' }), lb)), [
      'spec.loadBalancerClass: Invalid value: null: may not change once set',
    ]);
    // Switching to LoadBalancer may set it.
    assert.deepEqual(render(validateServiceUpdate(deepCopy(lb), old)), []);
  });

  test('healthCheckNodePort is immutable while needed', () => {
    const local = svc({ type: 'LoadBalancer', clusterIP: '10.96.0.5', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 });
    const next = svc({ type: 'LoadBalancer', clusterIP: '10.96.0.5', externalTrafficPolicy: 'Local', healthCheckNodePort: 32001 });
    assert.deepEqual(render(validateServiceUpdate(next, local)), ['spec.healthCheckNodePort: Forbidden: field is immutable']);
  });
});

describe('Service status', () => {
  const lb = svc({ type: 'LoadBalancer' });
  const withIngress = (s: Service, ingress: object[]) => ({ ...s, status: { loadBalancer: { ingress } } }) as Service;

  test('ingress only on LoadBalancer', () => {
    assert.deepEqual(render(validateServiceStatusUpdate(withIngress(svc({}), [{ ip: '1.2.3.4', ipMode: 'VIP' }]), svc({}))), [
      "status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is 'LoadBalancer'",
    ]);
    assert.deepEqual(render(validateServiceStatusUpdate(withIngress(lb, [{ ip: '1.2.3.4', ipMode: 'VIP' }, { hostname: 'lb.example.com' }]), lb)), []);
  });

  test('ip, ipMode, hostname', () => {
    const errs = (ing: object) => render(validateServiceStatusUpdate(withIngress(lb, [ing]), lb));
    assert.deepEqual(errs({ ip: 'x', ipMode: 'VIP' }), [`status.loadBalancer.ingress[0].ip: Invalid value: "x": ${INVALID_IP}`]);
    assert.deepEqual(errs({ ip: '1.2.3.4' }), ['status.loadBalancer.ingress[0].ipMode: Required value: must be specified when `ip` is set']);
    assert.deepEqual(errs({ hostname: 'a.com', ipMode: 'VIP' }), ['status.loadBalancer.ingress[0].ipMode: Forbidden: may not be specified when `ip` is not set']);
    assert.deepEqual(errs({ ip: '1.2.3.4', ipMode: 'Foo' }), ['status.loadBalancer.ingress[0].ipMode: Unsupported value: "Foo": supported values: "Proxy", "VIP"']);
    assert.deepEqual(errs({ hostname: '1.2.3.4' }), ['status.loadBalancer.ingress[0].hostname: Invalid value: "1.2.3.4": must be a DNS name, not an IP address']);
    assert.deepEqual(errs({ hostname: 'Bad_Host' }), [`status.loadBalancer.ingress[0].hostname: Invalid value: "Bad_Host": ${DNS1123_SUBDOMAIN}`]);
  });
});

describe('Endpoints', () => {
  const ep = (subsets: Endpoints['subsets']): Endpoints => ({ metadata: { name: 'e', namespace: 'default' }, subsets });

  test('special addresses are refused with exact messages', () => {
    const e = (ip: string) => render(validateEndpoints(ep([{ addresses: [{ ip }], ports: [{ port: 80 }] }])));
    assert.deepEqual(e('127.0.0.1'), ['subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)']);
    assert.deepEqual(e('0.0.0.0'), ['subsets[0].addresses[0].ip: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)']);
    assert.deepEqual(e('169.254.1.1'), ['subsets[0].addresses[0].ip: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)']);
    assert.deepEqual(e('224.0.0.1'), [
      'subsets[0].addresses[0].ip: Invalid value: "224.0.0.1": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)',
    ]);
    assert.deepEqual(e('239.1.1.1'), []);
    assert.deepEqual(e('foo'), [
      `subsets[0].addresses[0].ip: Invalid value: "foo": ${INVALID_IP}`,
      'subsets[0].addresses[0].ip: Invalid value: "foo": must be a valid IP address',
    ]);
  });

  test('subsets need addresses; not-ready addresses are checked too', () => {
    assert.deepEqual(render(validateEndpoints(ep([{ ports: [{ port: 80 }] }]))), ['subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`']);
    assert.deepEqual(render(validateEndpoints(ep([{ notReadyAddresses: [{ ip: '::1' }] }]))), [
      'subsets[0].notReadyAddresses[0].ip: Invalid value: "::1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    ]);
  });

  test('hostname, nodeName and ports', () => {
    assert.deepEqual(
      render(
        validateEndpoints(
          ep([
            {
              addresses: [{ ip: '10.0.0.1', hostname: 'a.b', nodeName: 'Node_1' }],
              ports: [{ port: 80 }, { port: 0, name: 'x', protocol: 'HTTP' }],
            },
          ]),
        ),
      ),
      [
        'subsets[0].addresses[0].hostname: Invalid value: "a.b": must not contain dots',
        `subsets[0].addresses[0].nodeName: Invalid value: "Node_1": ${DNS1123_SUBDOMAIN}`,
        'subsets[0].ports[0].name: Required value',
        'subsets[0].ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive',
        'subsets[0].ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
      ],
    );
    // Upstream does not check duplicate port names on Endpoints.
    assert.deepEqual(render(validateEndpoints(ep([{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80, name: 'a' }, { port: 81, name: 'a' }] }]))), []);
  });
});

describe('EndpointSlice', () => {
  const slice = (s: Partial<EndpointSlice>): EndpointSlice => ({ addressType: 'IPv4', endpoints: [], ports: [], metadata: { name: 's' }, ...s });
  const errs = (s: Partial<EndpointSlice>) => render(validateEndpointSlice(slice(s)));

  test('addressType', () => {
    assert.deepEqual(errs({ addressType: '' }), ['addressType: Required value']);
    assert.deepEqual(errs({ addressType: 'IPv5' }), ['addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"']);
    assert.deepEqual(render(validateEndpointSliceUpdate(slice({ addressType: 'IPv6' }), slice({}))), ['addressType: Invalid value: "IPv6": field is immutable']);
  });

  test('endpoints and addresses', () => {
    assert.deepEqual(errs({ endpoints: [{ addresses: [] }] }), ['endpoints[0].addresses: Required value: must contain at least 1 address']);
    assert.deepEqual(errs({ endpoints: [{ addresses: Array.from({ length: 101 }, (_, i) => `10.0.${i >> 8}.${(i & 255) + 1}`) }] }), [
      'endpoints[0].addresses: Too many: 101: must have at most 100 items',
    ]);
    assert.deepEqual(errs({ endpoints: Array.from({ length: 1001 }, () => ({ addresses: ['10.0.0.1'] })) }), [
      'endpoints: Too many: 1001: must have at most 1000 items',
    ]);
    assert.deepEqual(errs({ endpoints: [{ addresses: ['fd00::1'] }] }), ['endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address']);
    assert.deepEqual(errs({ addressType: 'IPv6', endpoints: [{ addresses: ['10.0.0.1'] }] }), [
      'endpoints[0].addresses[0]: Invalid value: "10.0.0.1": must be a valid IPv6 address',
    ]);
    assert.deepEqual(errs({ endpoints: [{ addresses: ['127.0.0.1'] }] }), [
      'endpoints[0].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    ]);
    assert.deepEqual(errs({ addressType: 'FQDN', endpoints: [{ addresses: ['localhost'] }] }), [
      'endpoints[0].addresses[0]: Invalid value: "localhost": should be a domain with at least two segments separated by dots',
    ]);
    assert.deepEqual(errs({ addressType: 'FQDN', endpoints: [{ addresses: ['db.example.com.'] }] }), []);
  });

  test('hostname, nodeName, topology, hints', () => {
    assert.deepEqual(
      errs({
        endpoints: [
          {
            addresses: ['10.0.0.1'],
            hostname: 'a.b',
            nodeName: 'Bad_Node',
            hints: { forZones: [{ name: 'z1' }, { name: 'z1' }] },
          },
        ],
      }),
      [
        `endpoints[0].nodeName: Invalid value: "Bad_Node": ${DNS1123_SUBDOMAIN}`,
        'endpoints[0].hostname: Invalid value: "a.b": must not contain dots',
        'endpoints[0].hints.forZones[1].name: Duplicate value: "z1"',
      ],
    );
    assert.deepEqual(errs({ endpoints: [{ addresses: ['10.0.0.1'], hints: { forZones: Array.from({ length: 9 }, (_, i) => ({ name: `z${i}` })) } }] }), [
      'endpoints[0].hints.forZones: Too many: 9: must have at most 8 items',
    ]);
    assert.deepEqual(
      errs({ endpoints: [{ addresses: ['10.0.0.1'], deprecatedTopology: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }] }),
      ['endpoints[0].deprecatedTopology: Too many: 17: must have at most 16 items'],
    );
  });

  test('ports', () => {
    assert.deepEqual(errs({ ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }] }), ['ports[1].name: Duplicate value: "http"']);
    assert.deepEqual(errs({ ports: [{ port: 80 }, { port: 81 }] }), ['ports[1].name: Duplicate value: ""']);
    assert.deepEqual(errs({ ports: [{ name: 'Http', protocol: 'HTTP', appProtocol: '-x' }] }), [
      `ports[0].name: Invalid value: "Http": ${DNS1123_LABEL}`,
      'ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
      `ports[0].appProtocol: Invalid value: "-x": ${NAME_PART}`,
    ]);
  });
});

describe('workloads', () => {
  const podSpec = { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80, name: 'http' }] }] };

  test('pods: containers, names, images, ports, policies', () => {
    const pod = (spec: object) => render(validatePod({ metadata: { name: 'p' }, spec: spec as never }));
    assert.deepEqual(pod(podSpec), []);
    assert.deepEqual(pod({ containers: [] }), ['spec.containers: Required value']);
    assert.deepEqual(pod({ containers: [{ name: 'web' }] }), ['spec.containers[0].image: Required value']);
    assert.deepEqual(pod({ containers: [{ name: 'Web', image: 'x' }] }), [`spec.containers[0].name: Invalid value: "Web": ${DNS1123_LABEL}`]);
    assert.deepEqual(pod({ containers: [{ name: 'a', image: 'x' }, { name: 'a', image: 'y' }] }), ['spec.containers[1].name: Duplicate value: "a"']);
    assert.deepEqual(pod({ containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 70000, protocol: 'HTTP' }, { containerPort: 0 }] }] }), [
      'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
      'spec.containers[0].ports[1].containerPort: Required value',
    ]);
    assert.deepEqual(pod({ ...podSpec, restartPolicy: 'Sometimes' }), ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"']);
    assert.deepEqual(pod({ ...podSpec, dnsPolicy: 'Foo' }), [
      'spec.dnsPolicy: Unsupported value: "Foo": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
    ]);
    assert.deepEqual(pod({ ...podSpec, dnsPolicy: 'None' }), ['spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None']);
    assert.deepEqual(pod({ containers: [{ name: 'a', image: 'x', readinessProbe: { periodSeconds: 1 } }] }), [
      'spec.containers[0].readinessProbe: Required value: must specify a handler type',
    ]);
    assert.deepEqual(pod({ containers: [{ name: 'a', image: 'x', readinessProbe: { tcpSocket: { port: 'http--x' } } }] }), [
      'spec.containers[0].readinessProbe.tcpSocket.port: Invalid value: "http--x": must not contain consecutive hyphens',
    ]);
  });

  test('pods: security contexts (ids, fsGroupChangePolicy, shareProcessNamespace with hostPID, privilege escalation)', () => {
    const pod = (spec: object) => render(validatePod({ metadata: { name: 'p' }, spec: spec as never }));
    assert.deepEqual(pod({ ...podSpec, securityContext: { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000], fsGroupChangePolicy: 'OnRootMismatch' } }), []);
    assert.deepEqual(pod({ ...podSpec, securityContext: { fsGroup: -1, supplementalGroups: [5, 3000000000], fsGroupChangePolicy: 'Sometimes' } }), [
      'spec.securityContext.fsGroup: Invalid value: -1: must be between 0 and 2147483647, inclusive',
      'spec.securityContext.supplementalGroups[1]: Invalid value: 3000000000: must be between 0 and 2147483647, inclusive',
      'spec.securityContext.fsGroupChangePolicy: Unsupported value: "Sometimes": supported values: "OnRootMismatch", "Always"',
    ]);
    assert.deepEqual(pod({ ...podSpec, hostPID: true, shareProcessNamespace: true }), ['spec.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and HostPID cannot both be enabled']);
    assert.deepEqual(pod({ containers: [{ name: 'a', image: 'x', securityContext: { runAsUser: -5 } }] }), [
      'spec.containers[0].securityContext.runAsUser: Invalid value: -5: must be between 0 and 2147483647, inclusive',
    ]);
    const [escalation] = pod({ containers: [{ name: 'a', image: 'x', securityContext: { privileged: true, allowPrivilegeEscalation: false } }] });
    assert.match(escalation ?? '', /^spec\.containers\[0\]\.securityContext: Invalid value: .*: cannot set `allowPrivilegeEscalation` to false and `privileged` to true$/);
  });

  const deployment = (spec: object): Deployment => ({ metadata: { name: 'd', namespace: 'default' }, spec: spec as never });
  const template = { metadata: { labels: { app: 'x' } }, spec: podSpec };

  test('deployments: selector required and matching, replicas non-negative, template validated', () => {
    assert.deepEqual(render(validateDeployment(deployment({ replicas: 2, selector: { matchLabels: { app: 'x' } }, template }))), []);
    assert.deepEqual(render(validateDeployment(deployment({ template }))), [
      'spec.selector: Required value',
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`',
    ]);
    assert.deepEqual(render(validateDeployment(deployment({ selector: { matchLabels: { app: 'y' } }, template }))), [
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`',
    ]);
    assert.deepEqual(render(validateDeployment(deployment({ replicas: -1, selector: { matchLabels: { app: 'x' } }, template }))), [
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    ]);
    assert.deepEqual(
      render(validateDeployment(deployment({ selector: { matchLabels: { app: 'x' } }, template: { ...template, spec: { containers: [{ name: 'a' }] } } }))),
      ['spec.template.spec.containers[0].image: Required value'],
    );
    assert.deepEqual(render(validateDeployment(deployment({ selector: {}, template }))), [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment',
    ]);
    assert.deepEqual(
      render(validateDeployment(deployment({ selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['x', 'y'] }] }, template }))),
      [],
    );
    assert.deepEqual(
      render(validateDeployment(deployment({ selector: { matchLabels: { app: 'x' } }, template: { ...template, spec: { ...podSpec, restartPolicy: 'Never' } } }))),
      ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
    );
    const old = deployment({ selector: { matchLabels: { app: 'x' } }, template });
    const changed = deployment({ selector: { matchLabels: { app: 'x', tier: 'web' } }, template: { ...template, metadata: { labels: { app: 'x', tier: 'web' } } } });
    assert.deepEqual(render(validateDeploymentUpdate(changed, old)), [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"x", "tier":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ]);
  });

  test('replica sets and daemon sets', () => {
    assert.deepEqual(render(validateReplicaSet({ metadata: { name: 'r' }, spec: { selector: { matchLabels: { app: 'x' } }, template } as never })), []);
    assert.deepEqual(render(validateReplicaSet({ metadata: { name: 'r' }, spec: { template } as never })), [
      'spec.selector: Required value',
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`',
    ]);
    assert.deepEqual(render(validateDaemonSet({ metadata: { name: 'ds' }, spec: { selector: { matchLabels: { app: 'x' } }, template } as never })), []);
    assert.deepEqual(render(validateDaemonSet({ metadata: { name: 'ds' }, spec: { selector: { matchLabels: { app: 'y' } }, template } as never })), [
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`',
    ]);
  });

  test('config maps: keys must be valid config keys', () => {
    assert.deepEqual(render(validateConfigMap({ metadata: { name: 'c' }, data: { 'app.conf': 'x', Corefile: '.:53 {}' } })), []);
    assert.deepEqual(render(validateConfigMap({ metadata: { name: 'c' }, data: { 'a/b': 'x' } })), [
      "data[a/b]: Invalid value: \"a/b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    ]);
  });
});

describe('the test fixtures', () => {

  test('every document in invalid.yaml is refused (or left to the allocator)', () => {
    const docs = loadYAML(join(fixtures, 'invalid.yaml'));
    const byName = new Map(docs.map((d) => [(d.metadata as { name: string }).name, d]));
    assert.equal(docs.length, 5);

    const message = (name: string) => {
      const d = byName.get(name)!;
      const errs = validateAsCreate(d);
      return errs.length ? errors.invalid(d.kind as string, '', name, errs).status.message : '';
    };
    assert.equal(
      message('bad-multiport-unnamed'),
      'Service "bad-multiport-unnamed" is invalid: [spec.ports[0].name: Required value, spec.ports[1].name: Required value]',
    );
    assert.equal(
      message('bad-affinity-timeout'),
      'Service "bad-affinity-timeout" is invalid: spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400',
    );
    assert.equal(
      message('bad-loopback-endpoint'),
      'Endpoints "bad-loopback-endpoint" is invalid: subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    );
    // Out-of-range nodePort and clusterIP are the allocators' to refuse, not validation's.
    assert.equal(message('bad-nodeport-range'), '');
    assert.equal(message('bad-clusterip-range'), '');
  });

  test('services.yaml and selectorless.yaml are valid', () => {
    const docs = [...loadYAML(join(fixtures, 'services.yaml')), ...loadYAML(join(fixtures, 'selectorless.yaml'))];
    assert.ok(docs.length >= 9);
    for (const d of docs) assert.deepEqual(render(validateAsCreate(d)), [], `${d.kind} ${(d.metadata as { name: string }).name}`);
  });

  test('the deployment fixtures are valid', () => {
    for (const f of ['nginx-deployment.yaml', 'backend-deployment.yaml']) {
      for (const d of loadYAML(join(fixtures, f)).filter((x) => x.kind === 'Deployment')) {
        assert.deepEqual(render(validateAsCreate(d)), [], f);
      }
    }
  });
});
