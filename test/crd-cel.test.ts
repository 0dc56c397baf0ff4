// x-kubernetes-validations (CEL rules) end to end with the real kubectl: a
// CRD whose rules do not compile is refused, objects that break a rule are
// refused with the rule's message (or messageExpression, fieldPath,
// reason), transition rules see the old object on update only, and a
// trimmed Gateway API Gateway CRD's own rules accept and refuse Gateways.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

const fixtures = join(import.meta.dirname, 'fixtures', 'crds');
const demoCRD = join(fixtures, 'celdemos.cel.example.com.yaml');
const gatewayCRD = join(fixtures, 'gateways.gateway.networking.k8s.io.yaml');

const demo = (name: string, spec: string) => `apiVersion: cel.example.com/v1
kind: CelDemo
metadata: {name: ${name}, namespace: default}
spec:
  minReplicas: 1
${spec}`;

const gateway = (name: string, listeners: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: default}
spec:
  gatewayClassName: example
  listeners:
${listeners}`;

describe('CRD validation rules (CEL)', () => {
  let t: TestApiServer;
  const create = (input: string) => t.kubectl(['create', '-f', '-'], { input });
  const refused = async (input: string, stderr: string) => {
    const r = await create(input);
    assert.equal(r.code, 1, r.stdout);
    assert.equal(r.stderr, stderr);
  };
  before(async () => {
    t = await startTestApiServer();
    await t.kubectl.ok(['apply', '-f', demoCRD, '-f', gatewayCRD]);
    await t.kubectl.ok(['wait', '--for=condition=Established', 'crd/celdemos.cel.example.com', 'crd/gateways.gateway.networking.k8s.io', '--timeout=30s']);
  });
  after(async () => {
    await t?.stop();
  });

  describe('the CRD', () => {
    it('refuses rules that do not compile, with the compiler errors', async () => {
      const bad = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.cel.example.com}
spec:
  group: cel.example.com
  names: {plural: widgets, kind: Widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - rule: "self.nope > 0"
            - rule: "self.size + 1"
              message: "not a bool"
            - rule: "self.size > 'a'"
            - rule: "self.tags.all(t, t == self.size[0])"
            - {rule: "self.size > 0", reason: Unknown}
            properties:
              size: {type: integer}
              tags:
                type: array
                items:
                  type: string
                  x-kubernetes-validations:
                  - rule: "self == oldSelf"
`;
      const r = await t.kubectl(['apply', '-f', '-'], { input: bad });
      assert.equal(r.code, 1);
      const at = 'spec.versions[0].schema.openAPIV3Schema.properties[spec]';
      const rule = (text: string, extra = 'Message:""') =>
        `apiextensions.ValidationRule{Rule:${JSON.stringify(text)}, ${extra}, MessageExpression:"", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}`;
      assert.equal(
        r.stderr,
        'The CustomResourceDefinition "widgets.cel.example.com" is invalid: \n' +
          `* ${at}.properties[tags].items.x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within ${at}.properties[tags]\n` +
          `* ${at}.x-kubernetes-validations[4].reason: Unsupported value: "Unknown": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"\n`,
        'rule field errors come first; the rules are compiled once those are fixed',
      );
      const fixed = bad.replace('reason: Unknown', 'reason: FieldValueInvalid').replace('                  x-kubernetes-validations:\n                  - rule: "self == oldSelf"\n', '');
      const r2 = await t.kubectl(['apply', '-f', '-'], { input: fixed });
      assert.equal(r2.code, 1);
      assert.equal(
        r2.stderr,
        'The CustomResourceDefinition "widgets.cel.example.com" is invalid: \n' +
          `* ${at}.x-kubernetes-validations[0].rule: Invalid value: ${rule('self.nope > 0')}: compilation failed: ERROR: <input>:1:5: undefined field 'nope'\n | self.nope > 0\n | ....^\n` +
          `* ${at}.x-kubernetes-validations[1].rule: Invalid value: ${rule('self.size + 1', 'Message:"not a bool"')}: cel expression must evaluate to a bool\n` +
          `* ${at}.x-kubernetes-validations[2].rule: Invalid value: ${rule("self.size > 'a'")}: compilation failed: ERROR: <input>:1:11: found no matching overload for '_>_' applied to '(int, string)'\n | self.size > 'a'\n | ..........^\n` +
          `* ${at}.x-kubernetes-validations[3].rule: Invalid value: ${rule('self.tags.all(t, t == self.size[0])')}: compilation failed: ERROR: <input>:1:32: found no matching overload for '_[_]' applied to '(int, int)'\n | self.tags.all(t, t == self.size[0])\n | ...............................^\n`,
      );
    });
  });

  describe('custom objects', () => {
    it('accepts an object that keeps every rule', async () => {
      await t.kubectl.ok(['create', '-f', '-'], {
        input: demo(
          'demo-ok',
          '  maxReplicas: 3\n  tier: gold\n  image: registry.example.com/app:1\n  mode: fast\n  replicasHistory: 5\n' +
            '  ports: [{name: http, port: 80, protocol: TCP}, {name: https, port: 443}]\n  labels: {app: web}\n  size: 10Gi\n  timeout: 30m\n  memory: 512Mi\n',
        ),
      });
    });

    it('refuses a broken rule with its message, messageExpression, fieldPath and reason', async () => {
      await refused(demo('demo-a', '  maxReplicas: 0\n'), 'The CelDemo "demo-a" is invalid: spec: Invalid value: "object": minReplicas must not exceed maxReplicas\n');
      await refused(
        demo('demo-b', '  maxReplicas: 2\n  image: docker.io/nginx\n'),
        'The CelDemo "demo-b" is invalid: spec: Invalid value: "object": image docker.io/nginx is not from registry.example.com\n',
      );
      await refused(demo('demo-c', '  maxReplicas: 2\n  tier: gold\n'), 'The CelDemo "demo-c" is invalid: spec.maxReplicas: Forbidden: gold needs at least 3 replicas\n');
      await refused(demo('other', '  maxReplicas: 2\n'), 'The CelDemo "other" is invalid: <nil>: Invalid value: "object": the name must start with demo-\n');
    });

    it('evaluates rules on lists, their items, maps, int-or-string, durations and quantities', async () => {
      await refused(
        demo('demo-d', '  maxReplicas: 2\n  ports: [{name: ssh, port: 22}, {name: big, port: 70000}]\n'),
        'The CelDemo "demo-d" is invalid: \n' +
          '* spec.ports: Invalid value: "array": failed rule: self.all(p, p.port != 22)\n' +
          '* spec.ports[1].port: Invalid value: "integer": port out of range\n',
      );
      await refused(
        demo('demo-e', '  maxReplicas: 2\n  labels: {Foo: x}\n  size: 0\n  timeout: 2h\n  memory: 8Gi\n'),
        'The CelDemo "demo-e" is invalid: \n' +
          '* spec.labels: Invalid value: "object": label keys must be short lowercase names\n' +
          '* spec.memory: Invalid value: "string": memory must be a quantity below 4Gi\n' +
          '* spec.size: Invalid value: "": size must be a positive integer or a number of Gi\n' +
          '* spec.timeout: Invalid value: "string": timeout must be at most 1h\n',
      );
      await refused(demo('demo-f', '  maxReplicas: 2\n  ports: [{name: b, port: 90}, {name: a, port: 80}]\n'), 'The CelDemo "demo-f" is invalid: spec.ports: Invalid value: "array": ports must be sorted\n');
    });

    it('skips the rules while schema errors block them', async () => {
      await refused(
        demo('demo-g', '  maxReplicas: many\n'),
        'The CelDemo "demo-g" is invalid: \n' +
          '* spec.maxReplicas: Invalid value: "string": spec.maxReplicas in body must be of type integer: "string"\n' +
          '* <nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation\n',
      );
    });

    it('checks transition rules against the old object on update only', async () => {
      await t.kubectl.ok(['create', '-f', '-'], { input: demo('demo-t', '  maxReplicas: 2\n  mode: fast\n  replicasHistory: 5\n  ports: [{name: a, port: 80, protocol: TCP}]\n') });
      const r = await t.kubectl(['patch', 'celdemo', 'demo-t', '--type=merge', '-p', '{"spec":{"mode":"slow","replicasHistory":3,"ports":[{"name":"a","port":80,"protocol":"UDP"}]}}']);
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        'The CelDemo "demo-t" is invalid: \n' +
          '* spec.mode: Invalid value: "string": mode is immutable\n' +
          '* spec.ports[0].protocol: Invalid value: "string": a port\'s protocol is immutable\n' +
          '* spec.replicasHistory: Invalid value: "integer": replicasHistory may only grow\n',
      );
      // A new map-list item has no old item to compare with; an unchanged one keeps its rule.
      await t.kubectl.ok(['patch', 'celdemo', 'demo-t', '--type=merge', '-p', '{"spec":{"replicasHistory":6,"ports":[{"name":"a","port":80,"protocol":"TCP"},{"name":"b","port":81,"protocol":"UDP"}]}}']);
      const obj = JSON.parse(await t.kubectl.ok(['get', 'celdemo', 'demo-t', '-o', 'json']));
      assert.equal(obj.spec.replicasHistory, 6);
    });

    it('validates the status subresource with its rules', async () => {
      const r = await t.request('PATCH', '/apis/cel.example.com/v1/namespaces/default/celdemos/demo-ok/status', { status: { phase: 'Lost' } }, { 'Content-Type': 'application/merge-patch+json' });
      assert.equal(r.status, 422);
      assert.equal(r.json.message, `CelDemo.cel.example.com "demo-ok" is invalid: status.phase: Invalid value: "string": failed rule: self in ['Pending', 'Running', 'Done']`);
      assert.deepEqual(r.json.details.causes, [{ reason: 'FieldValueInvalid', message: `Invalid value: "string": failed rule: self in ['Pending', 'Running', 'Done']`, field: 'status.phase' }]);
    });
  });

  describe('the Gateway API Gateway CRD', () => {
    it('accepts a valid Gateway', async () => {
      await t.kubectl.ok(['create', '-f', '-'], {
        input: gateway('web', '  - {name: http, port: 80, protocol: HTTP}\n  - {name: https, port: 443, protocol: HTTPS, hostname: example.com, tls: {mode: Terminate, certificateRefs: [{name: web-tls}]}}\n'),
      });
    });

    it('refuses Gateways that break its rules, with their messages', async () => {
      await refused(
        gateway('tls-on-http', '  - {name: http, port: 80, protocol: HTTP, tls: {mode: Terminate, certificateRefs: [{name: x}]}}\n'),
        `The Gateway "tls-on-http" is invalid: spec.listeners: Invalid value: "array": tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']\n`,
      );
      await refused(
        gateway('tcp-hostname', '  - {name: tcp, port: 9000, protocol: TCP, hostname: example.com}\n'),
        `The Gateway "tcp-hostname" is invalid: spec.listeners: Invalid value: "array": hostname must not be specified for protocols ['TCP', 'UDP']\n`,
      );
      await refused(
        gateway('clash', '  - {name: a, port: 80, protocol: HTTP}\n  - {name: b, port: 80, protocol: HTTP}\n'),
        'The Gateway "clash" is invalid: spec.listeners: Invalid value: "array": Combination of port, protocol and hostname must be unique for each listener\n',
      );
      await refused(
        gateway('tls-needs-mode', '  - {name: tls, port: 443, protocol: TLS}\n'),
        'The Gateway "tls-needs-mode" is invalid: spec.listeners: Invalid value: "array": tls mode must be set for protocol TLS\n',
      );
      await refused(
        gateway('https-passthrough', '  - {name: https, port: 443, protocol: HTTPS, tls: {mode: Passthrough}}\n'),
        'The Gateway "https-passthrough" is invalid: spec.listeners: Invalid value: "array": tls mode must be Terminate for protocol HTTPS\n',
      );
      await refused(
        gateway('bad-labels', '  - {name: http, port: 80, protocol: HTTP}\n').replace('  listeners:', '  infrastructure: {labels: {"-bad": x}}\n  listeners:'),
        'The Gateway "bad-labels" is invalid: spec.infrastructure.labels: Invalid value: "object": ' +
          'Label keys must be in the form of an optional DNS subdomain prefix followed by a required name segment of up to 63 characters.\n',
      );
    });
  });
});
