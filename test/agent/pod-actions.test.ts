// computePodActions: what the runtime does with a pod's containers, from its
// spec, what it observed of them and the clock; the cases of the kubelet's
// TestComputePodActions (with init and restartable init containers) that
// apply to a runtime without sandboxes to recreate, and the back-off and
// stop cases it leaves to doBackOff and killPod.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod } from '../../src/api/types.js';
import { computePodActions, type BackoffEntry, type ObservedContainer, type ObservedRun, type PodAction, type PodStop } from '../../src/agent/pod-actions.js';

const NOW = 1_750_000_000_000;
const POD = 'foo_new(12345678)';

interface Case {
  pod?: (p: Pod) => void;
  containers: ObservedContainer[];
  now?: number;
  stop?: PodStop;
  want: PodAction[];
}

function run(cases: Record<string, Case>, base: () => Pod) {
  for (const [desc, c] of Object.entries(cases)) {
    test(desc, () => {
      const pod = base();
      c.pod?.(pod);
      assert.deepStrictEqual(computePodActions({ pod, containers: c.containers, now: c.now ?? NOW, stop: c.stop }), c.want);
    });
  }
}

const spec = (name: string, o: Partial<Container> = {}): Container => ({ name, image: 'busybox', ...o });

/** Three containers foo1..foo3, restartPolicy unset (Always). */
function basePod(): Pod {
  return { metadata: { name: 'foo', namespace: 'new', uid: '12345678' }, spec: { containers: [spec('foo1'), spec('foo2'), spec('foo3')] } };
}

/** Three regular init containers before the containers. */
function podWithInit(): Pod {
  const p = basePod();
  p.spec!.initContainers = [spec('init1'), spec('init2'), spec('init3')];
  return p;
}

const always = { restartPolicy: 'Always' } as Partial<Container>;

/** Two sidecars (the second with a startup probe) and a regular init container before the containers. */
function podWithSidecars(): Pod {
  const p = basePod();
  p.spec!.initContainers = [spec('sidecar1', always), spec('sidecar2', { ...always, startupProbe: { exec: { command: ['true'] } } }), spec('init3')];
  return p;
}

const running = (name: string, o: Partial<ObservedRun> = {}, init = false): ObservedContainer => ({ name, init, run: { image: 'busybox', started: true, ...o } });
const exited = (name: string, exitCode: number, o: { init?: boolean; finishedAt?: number; killedFor?: 'definition' | 'liveness' | 'startup'; backoff?: BackoffEntry } = {}): ObservedContainer => ({
  name,
  init: o.init ?? false,
  run: { image: 'busybox', started: false, exited: { exitCode, finishedAt: o.finishedAt ?? NOW - 1000, killedFor: o.killedFor } },
  backoff: o.backoff && { key: `${name}/busybox`, entry: o.backoff },
});
const allRunning = () => [running('foo1'), running('foo2'), running('foo3')];

const start = (name: string, init = false): PodAction => ({ type: 'start', name, init });
/** A restart: the back-off it records. */
const restart = (name: string, backoffMs = 10_000, init = false): PodAction => ({
  type: 'start',
  name,
  init,
  backoff: { key: `${name}/busybox`, entry: { backoffMs, lastUpdate: NOW } },
});
const kill = (name: string, reason: 'definition' | 'liveness' | 'startup', message: string, o: { graceSeconds?: number; restart?: boolean; init?: boolean } = {}): PodAction => ({
  type: 'kill',
  name,
  init: o.init ?? false,
  reason,
  message,
  graceSeconds: o.graceSeconds ?? 30,
  override: false,
  restart: o.restart ?? true,
});

describe('computePodActions: containers', () => {
  run(
    {
      'everything is good; do nothing': { containers: allRunning(), want: [] },
      'start all containers for a new pod, in order': { containers: [], want: [start('foo1'), start('foo2'), start('foo3')] },
      'restart exited containers if RestartPolicy == Always': {
        pod: (p) => (p.spec!.restartPolicy = 'Always'),
        containers: [exited('foo1', 0), exited('foo2', 111), running('foo3')],
        want: [restart('foo1'), restart('foo2')],
      },
      'restart failed containers if RestartPolicy == OnFailure': {
        pod: (p) => (p.spec!.restartPolicy = 'OnFailure'),
        containers: [exited('foo1', 0), exited('foo2', 111), running('foo3')],
        want: [restart('foo2')],
      },
      "don't restart containers if RestartPolicy == Never": {
        pod: (p) => (p.spec!.restartPolicy = 'Never'),
        containers: [exited('foo1', 0), exited('foo2', 111), running('foo3')],
        want: [],
      },
      'start again a container that never ran (it waited on a config error)': {
        pod: (p) => (p.spec!.restartPolicy = 'Never'),
        containers: [running('foo1'), { name: 'foo2', init: false }, running('foo3')],
        want: [start('foo2')],
      },
      "kill and recreate the container if the container's spec changed": {
        containers: [running('foo1'), running('foo2', { image: 'busybox:1.36' }), running('foo3')],
        want: [kill('foo2', 'definition', 'Container foo2 definition changed, will be restarted')],
      },
      'a changed definition restarts the container whatever the policy': {
        pod: (p) => {
          p.spec!.restartPolicy = 'Never';
          p.spec!.terminationGracePeriodSeconds = 5;
        },
        containers: [running('foo1'), running('foo2', { image: 'busybox:1.36' }), running('foo3')],
        want: [kill('foo2', 'definition', 'Container foo2 definition changed, will be restarted', { graceSeconds: 5 })],
      },
      'kill and recreate the container if the liveness check has failed': {
        containers: [running('foo1'), running('foo2', { unhealthy: 'liveness' }), running('foo3')],
        want: [kill('foo2', 'liveness', 'Container foo2 failed liveness probe, will be restarted')],
      },
      'kill and recreate the container if the startup check has failed': {
        containers: [running('foo1'), running('foo2', { unhealthy: 'startup', started: false }), running('foo3')],
        want: [kill('foo2', 'startup', 'Container foo2 failed startup probe, will be restarted')],
      },
      "a probe kill takes the probe's terminationGracePeriodSeconds": {
        pod: (p) => {
          p.spec!.terminationGracePeriodSeconds = 60;
          p.spec!.containers[1]!.livenessProbe = { exec: { command: ['false'] }, terminationGracePeriodSeconds: 3 };
        },
        containers: [running('foo1'), running('foo2', { unhealthy: 'liveness' }), running('foo3')],
        want: [kill('foo2', 'liveness', 'Container foo2 failed liveness probe, will be restarted', { graceSeconds: 3 })],
      },
      'a failed probe only kills the container if RestartPolicy == Never': {
        pod: (p) => (p.spec!.restartPolicy = 'Never'),
        containers: [running('foo1'), running('foo2', { unhealthy: 'liveness' }), running('foo3')],
        want: [kill('foo2', 'liveness', 'Container foo2 failed liveness probe', { restart: false })],
      },
      'the containers after a killed one are decided too': {
        containers: [running('foo1', { unhealthy: 'liveness' }), exited('foo2', 1), running('foo3')],
        want: [kill('foo1', 'liveness', 'Container foo1 failed liveness probe, will be restarted'), restart('foo2')],
      },
      'a container killed for its probe is not restarted if RestartPolicy == Never': {
        pod: (p) => (p.spec!.restartPolicy = 'Never'),
        containers: [running('foo1'), exited('foo2', 137, { killedFor: 'liveness' }), running('foo3')],
        want: [],
      },
      'a container killed for its probe is restarted if RestartPolicy == OnFailure, whatever its exit code': {
        pod: (p) => (p.spec!.restartPolicy = 'OnFailure'),
        containers: [running('foo1'), exited('foo2', 0, { killedFor: 'liveness' }), running('foo3')],
        want: [restart('foo2')],
      },
      'a container killed for a changed definition is restarted if RestartPolicy == Never': {
        pod: (p) => (p.spec!.restartPolicy = 'Never'),
        containers: [running('foo1'), exited('foo2', 137, { killedFor: 'definition' }), running('foo3')],
        want: [restart('foo2')],
      },
    },
    basePod,
  );
});

describe('computePodActions: CrashLoopBackOff', () => {
  const backoff = (backoffMs: number, lastUpdate: number): BackoffEntry => ({ backoffMs, lastUpdate });
  run(
    {
      'the first restart is at once and records 10s': { containers: [exited('foo1', 1)], want: [restart('foo1'), start('foo2'), start('foo3')] },
      'within the back-off: CrashLoopBackOff until the run end plus the back-off': {
        containers: [exited('foo1', 1, { finishedAt: NOW - 4000, backoff: backoff(10_000, NOW - 6000) }), running('foo2'), running('foo3')],
        want: [{ type: 'backoff', name: 'foo1', init: false, backoffMs: 10_000, retryAt: NOW + 6000, message: `back-off 10s restarting failed container=foo1 pod=${POD}` }],
      },
      'after the back-off: restart and double it': {
        containers: [exited('foo1', 1, { finishedAt: NOW - 10_000, backoff: backoff(10_000, NOW - 12_000) }), running('foo2'), running('foo3')],
        want: [restart('foo1', 20_000)],
      },
      'the back-off stops doubling at 5m': {
        containers: [exited('foo1', 1, { finishedAt: NOW - 300_000, backoff: backoff(300_000, NOW - 301_000) }), running('foo2'), running('foo3')],
        want: [restart('foo1', 300_000)],
      },
      'the message says the back-off as Go says a duration': {
        containers: [exited('foo1', 1, { finishedAt: NOW - 1000, backoff: backoff(160_000, NOW - 2000) }), running('foo2'), running('foo3')],
        want: [{ type: 'backoff', name: 'foo1', init: false, backoffMs: 160_000, retryAt: NOW + 159_000, message: `back-off 2m40s restarting failed container=foo1 pod=${POD}` }],
      },
      'a run of more than 10 minutes resets the back-off': {
        containers: [exited('foo1', 1, { finishedAt: NOW - 1000, backoff: backoff(300_000, NOW - 1000 - 600_001) }), running('foo2'), running('foo3')],
        want: [restart('foo1')],
      },
      'a new image starts the back-off afresh': {
        pod: (p) => (p.spec!.containers[0]!.image = 'busybox:1.36'),
        containers: [{ ...exited('foo1', 1, { backoff: backoff(300_000, NOW - 2000) }), run: { image: 'busybox', started: false, exited: { exitCode: 1, finishedAt: NOW - 1000 } } }, running('foo2'), running('foo3')],
        want: [{ type: 'start', name: 'foo1', init: false, backoff: { key: 'foo1/busybox:1.36', entry: { backoffMs: 10_000, lastUpdate: NOW } } }],
      },
      'a container killed to restart waits out its back-off too': {
        containers: [exited('foo1', 137, { finishedAt: NOW, killedFor: 'liveness', backoff: backoff(20_000, NOW - 30_000) }), running('foo2'), running('foo3')],
        want: [{ type: 'backoff', name: 'foo1', init: false, backoffMs: 20_000, retryAt: NOW + 20_000, message: `back-off 20s restarting failed container=foo1 pod=${POD}` }],
      },
    },
    basePod,
  );
});

describe('computePodActions: init containers', () => {
  const initDone = () => [exited('init1', 0, { init: true }), exited('init2', 0, { init: true }), exited('init3', 0, { init: true })];
  run(
    {
      'initialization completed; start all containers': { containers: initDone(), want: [start('foo1'), start('foo2'), start('foo3')] },
      'no init containers have been started; start the first one': { containers: [], want: [start('init1', true)] },
      'an init container exited 0; start the next': { containers: [exited('init1', 0, { init: true })], want: [start('init2', true)] },
      'initialization in progress; do nothing': {
        pod: (p) => (p.spec!.restartPolicy = 'Always'),
        containers: [exited('init1', 0, { init: true }), exited('init2', 0, { init: true }), running('init3', { started: true }, true)],
        want: [],
      },
      'initialization failed; restart the last init container if RestartPolicy == Always': {
        pod: (p) => (p.spec!.restartPolicy = 'Always'),
        containers: [exited('init1', 0, { init: true }), exited('init2', 0, { init: true }), exited('init3', 137, { init: true })],
        want: [restart('init3', 10_000, true)],
      },
      'initialization failed; restart the last init container if RestartPolicy == OnFailure': {
        pod: (p) => (p.spec!.restartPolicy = 'OnFailure'),
        containers: [exited('init1', 0, { init: true }), exited('init2', 0, { init: true }), exited('init3', 137, { init: true })],
        want: [restart('init3', 10_000, true)],
      },
      'initialization failed; nothing more if RestartPolicy == Never': {
        pod: (p) => (p.spec!.restartPolicy = 'Never'),
        containers: [exited('init1', 0, { init: true }), exited('init2', 0, { init: true }), exited('init3', 137, { init: true })],
        want: [],
      },
      'a failed init container in back-off holds the containers back': {
        containers: [exited('init1', 0, { init: true }), exited('init2', 1, { init: true, backoff: { backoffMs: 10_000, lastUpdate: NOW - 2000 } })],
        want: [{ type: 'backoff', name: 'init2', init: true, backoffMs: 10_000, retryAt: NOW + 9000, message: `back-off 10s restarting failed container=init2 pod=${POD}` }],
      },
      'an init container whose definition changed is killed and restarted': {
        pod: (p) => (p.spec!.initContainers![2]!.image = 'busybox:1.36'),
        containers: [exited('init1', 0, { init: true }), exited('init2', 0, { init: true }), running('init3', {}, true)],
        want: [kill('init3', 'definition', 'Container init3 definition changed, will be restarted', { init: true })],
      },
    },
    podWithInit,
  );
});

describe('computePodActions: restartable init containers (sidecars)', () => {
  const initDone = () => [running('sidecar1', {}, true), running('sidecar2', {}, true), exited('init3', 0, { init: true })];
  run(
    {
      'initialization completed; start all containers': { containers: initDone(), want: [start('foo1'), start('foo2'), start('foo3')] },
      'initialization completed and the containers run; do nothing': { containers: [...initDone(), ...allRunning()], want: [] },
      'no init containers have been started; start the first one': { containers: [], want: [start('sidecar1', true)] },
      'restartable init container has started; start the next': { containers: [running('sidecar1', {}, true)], want: [start('sidecar2', true)] },
      'startupProbe in progress; do nothing': { containers: [running('sidecar1', {}, true), running('sidecar2', { started: false }, true)], want: [] },
      'startupProbe has completed; start the next': { containers: [running('sidecar1', {}, true), running('sidecar2', {}, true)], want: [start('init3', true)] },
      'kill and recreate the restartable init container if the liveness check has failed': {
        containers: [running('sidecar1', {}, true), running('sidecar2', { unhealthy: 'liveness' }, true), exited('init3', 0, { init: true }), ...allRunning()],
        want: [kill('sidecar2', 'liveness', 'Container sidecar2 failed liveness probe, will be restarted', { init: true })],
      },
      'kill and recreate the restartable init container if the startup check has failed': {
        containers: [running('sidecar1', {}, true), running('sidecar2', { unhealthy: 'startup', started: false }, true)],
        want: [kill('sidecar2', 'startup', 'Container sidecar2 failed startup probe, will be restarted', { init: true })],
      },
      'kill and recreate the restartable init container if the container definition changes': {
        pod: (p) => (p.spec!.initContainers![1]!.image = 'foo-image'),
        containers: [...initDone(), ...allRunning()],
        want: [kill('sidecar2', 'definition', 'Container sidecar2 definition changed, will be restarted', { init: true })],
      },
      'restart a terminated restartable init container first': {
        containers: [exited('sidecar1', 0, { init: true }), running('sidecar2', {}, true), exited('init3', 0, { init: true }), ...allRunning()],
        want: [restart('sidecar1', 10_000, true)],
      },
      "restart the restartable init container even if pod's RestartPolicy == Never": {
        pod: (p) => (p.spec!.restartPolicy = 'Never'),
        containers: [running('sidecar1', {}, true), exited('sidecar2', 137, { init: true })],
        want: [restart('sidecar2', 10_000, true)],
      },
      "restart the restartable init container if regular containers are running even if pod's RestartPolicy == Never": {
        pod: (p) => (p.spec!.restartPolicy = 'Never'),
        containers: [running('sidecar1', {}, true), exited('sidecar2', 137, { init: true }), exited('init3', 0, { init: true }), ...allRunning()],
        want: [restart('sidecar2', 10_000, true)],
      },
      "a regular init container after the sidecars fails for good if pod's RestartPolicy == Never": {
        pod: (p) => (p.spec!.restartPolicy = 'Never'),
        containers: [running('sidecar1', {}, true), running('sidecar2', {}, true), exited('init3', 1, { init: true })],
        want: [],
      },
    },
    podWithSidecars,
  );
});

describe('computePodActions: stopping the pod', () => {
  const stopKill = (name: string, graceSeconds: number, override: boolean, init = false): PodAction => ({
    type: 'kill',
    name,
    init,
    reason: 'stop',
    message: `Stopping container ${name}`,
    graceSeconds,
    override,
    restart: false,
  });
  /** An init container done, two containers running (one unhealthy) and one exited: the two running ones are killed. */
  const mixed = (stop: PodStop, graceSeconds: number, override: boolean): Case => ({
    stop,
    containers: [exited('init1', 0, { init: true }), running('foo1'), exited('foo2', 1), running('foo3', { unhealthy: 'liveness' })],
    want: [stopKill('foo1', graceSeconds, override), stopKill('foo3', graceSeconds, override)],
  });
  run(
    {
      'deleted: every running container is killed within the deletion grace period, no 2 s minimum': {
        pod: (p) => (p.metadata!.deletionGracePeriodSeconds = 7),
        ...mixed({ kind: 'delete' }, 7, true),
      },
      'deleted with a grace period of 0: the spec decides': {
        pod: (p) => {
          p.metadata!.deletionGracePeriodSeconds = 0;
          p.spec!.terminationGracePeriodSeconds = 12;
        },
        ...mixed({ kind: 'delete' }, 12, true),
      },
      'deleted: at least 1 s': {
        pod: (p) => (p.spec!.terminationGracePeriodSeconds = 0),
        stop: { kind: 'delete' },
        containers: [running('foo1')],
        want: [stopKill('foo1', 1, true)],
      },
      'deleted: a running init container is killed too, nothing starts': {
        stop: { kind: 'delete' },
        containers: [running('init1', {}, true)],
        want: [stopKill('init1', 30, true, true)],
      },
      "finished: within the spec's grace period, with the 2 s minimum": {
        pod: (p) => (p.spec!.terminationGracePeriodSeconds = 1),
        ...mixed({ kind: 'finish' }, 1, false),
      },
      'shut down: within the grace given': mixed({ kind: 'shutdown', graceSeconds: 2 }, 2, true),
    },
    podWithInit,
  );
});
