// Pod status as the kubelet reports it: phase (getPhase), the kubelet's
// conditions and their messages, container statuses with defaults, QoS
// class, and the restart back-off.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../src/api/types.js';
import {
  generatePodStatus,
  imageIDFor,
  normalizeImage,
  podPhase,
  podQOSClass,
  podStatusChanged,
  type ContainerObservation,
  type ContainerStatus,
  type PodStatusInput,
} from '../../src/agent/pod-status.js';
import { isInBackOff, nextBackoff } from '../../src/agent/pod-actions.js';

const NOW = '2025-01-02T03:04:05Z';
const EARLIER = '2025-01-01T00:00:00Z';

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}, status?: Pod['status']): Pod {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1' },
    spec: { containers: [{ name: 'app', image: 'nginx' }], restartPolicy: 'Always', ...spec },
    status: status ?? { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: EARLIER }] },
  };
}

const running = (name: string, o: Partial<ContainerObservation> = {}): ContainerObservation => ({
  name,
  state: { running: { startedAt: EARLIER } },
  restartCount: 0,
  containerID: `kubesvc://${name}id`,
  image: 'docker.io/library/nginx:latest',
  imageID: 'docker.io/library/nginx:latest',
  ready: true,
  started: true,
  ...o,
});
const exited = (name: string, exitCode: number, o: Partial<ContainerObservation> = {}): ContainerObservation => ({
  name,
  state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: EARLIER, finishedAt: NOW, containerID: `kubesvc://${name}id` } },
  restartCount: 0,
  ready: false,
  started: false,
  ...o,
});

function input(p: Pod, o: Partial<PodStatusInput> = {}): PodStatusInput {
  return { pod: p, hostIPs: ['172.18.0.2'], podIPs: ['10.244.0.7'], sandboxReady: true, containers: [], initContainers: [], now: NOW, ...o };
}

const cond = (s: ReturnType<typeof generatePodStatus>, type: string) => s.conditions?.find((c) => c.type === type);

describe('generatePodStatus', () => {
  test('a new pod: ContainerCreating, Pending, conditions in the kubelet order', () => {
    const s = generatePodStatus(input(pod(), { sandboxReady: false, podIPs: [] }));
    assert.equal(s.phase, 'Pending');
    assert.deepEqual(
      s.conditions?.map((c) => [c.type, c.status]),
      [
        ['PodReadyToStartContainers', 'False'],
        ['Initialized', 'True'],
        ['Ready', 'False'],
        ['ContainersReady', 'False'],
        ['PodScheduled', 'True'],
      ],
    );
    assert.equal(cond(s, 'Ready')?.reason, 'ContainersNotReady');
    assert.equal(cond(s, 'Ready')?.message, 'containers with unready status: [app]');
    assert.equal(cond(s, 'PodScheduled')?.lastTransitionTime, EARLIER, 'unchanged conditions keep their transition time');
    assert.equal(cond(s, 'Ready')?.lastTransitionTime, NOW);
    assert.deepEqual(s.containerStatuses, [
      { name: 'app', state: { waiting: { reason: 'ContainerCreating' } }, lastState: {}, ready: false, restartCount: 0, image: 'nginx', imageID: '', started: false },
    ]);
    assert.equal(s.podIP, undefined);
    assert.equal(s.hostIP, '172.18.0.2');
    assert.deepEqual(s.hostIPs, [{ ip: '172.18.0.2' }]);
    assert.equal(s.startTime, NOW);
    assert.equal(s.qosClass, 'BestEffort');
  });

  test('running and ready', () => {
    const p = pod({}, { phase: 'Pending', startTime: EARLIER, conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: EARLIER }] });
    const s = generatePodStatus(input(p, { containers: [running('app')] }));
    assert.equal(s.phase, 'Running');
    assert.equal(cond(s, 'Ready')?.status, 'True');
    assert.equal(cond(s, 'Ready')?.reason, undefined);
    assert.equal(cond(s, 'ContainersReady')?.status, 'True');
    assert.equal(cond(s, 'PodReadyToStartContainers')?.status, 'True');
    assert.equal(s.podIP, '10.244.0.7');
    assert.deepEqual(s.podIPs, [{ ip: '10.244.0.7' }]);
    assert.equal(s.startTime, EARLIER, 'startTime is set once');
    const cs = s.containerStatuses![0];
    assert.equal(cs.containerID, 'kubesvc://appid');
    assert.equal(cs.image, 'docker.io/library/nginx:latest');
    assert.deepEqual(cs.lastState, {});
    assert.equal(cs.started, true);
  });

  test('running but not ready (readiness probe failing)', () => {
    const s = generatePodStatus(input(pod(), { containers: [running('app', { ready: false })] }));
    assert.equal(s.phase, 'Running');
    assert.equal(cond(s, 'Ready')?.status, 'False');
    assert.equal(cond(s, 'ContainersReady')?.message, 'containers with unready status: [app]');
  });

  test('CrashLoopBackOff counts as stopped: Running for Always', () => {
    const s = generatePodStatus(
      input(pod(), {
        containers: [
          {
            name: 'app',
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=app pod=web_default(uid-1)' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: EARLIER, finishedAt: NOW } },
            restartCount: 1,
            ready: false,
            started: false,
          },
        ],
      }),
    );
    assert.equal(s.phase, 'Running');
    assert.equal(s.containerStatuses![0].state?.waiting?.reason, 'CrashLoopBackOff');
    assert.equal(s.containerStatuses![0].restartCount, 1);
    assert.equal(s.containerStatuses![0].lastState?.terminated?.exitCode, 1);
  });

  test('ErrImagePull with no run yet keeps the pod Pending', () => {
    const s = generatePodStatus(
      input(pod(), { containers: [{ name: 'app', state: { waiting: { reason: 'ErrImagePull', message: 'no such image' } }, restartCount: 0, ready: false, started: false }] }),
    );
    assert.equal(s.phase, 'Pending');
    assert.deepEqual(s.containerStatuses![0].state, { waiting: { reason: 'ErrImagePull', message: 'no such image' } });
  });

  test('restartPolicy Never: Succeeded or Failed; Succeeded conditions say PodCompleted', () => {
    const done = generatePodStatus(input(pod({ restartPolicy: 'Never' }), { containers: [exited('app', 0)] }));
    assert.equal(done.phase, 'Succeeded');
    assert.equal(cond(done, 'Ready')?.reason, 'PodCompleted');
    assert.equal(cond(done, 'ContainersReady')?.reason, 'PodCompleted');
    assert.equal(cond(done, 'Initialized')?.reason, 'PodCompleted');
    const failed = generatePodStatus(input(pod({ restartPolicy: 'Never' }), { containers: [exited('app', 2)] }));
    assert.equal(failed.phase, 'Failed');
    assert.equal(cond(failed, 'Ready')?.reason, 'PodFailed');
  });

  test('OnFailure: a failed container is restarting (Running), a succeeded one completes', () => {
    assert.equal(generatePodStatus(input(pod({ restartPolicy: 'OnFailure' }), { containers: [exited('app', 1)] })).phase, 'Running');
    assert.equal(generatePodStatus(input(pod({ restartPolicy: 'OnFailure' }), { containers: [exited('app', 0)] })).phase, 'Succeeded');
  });

  test('a pod being deleted is terminal once its containers stopped, whatever the policy', () => {
    assert.equal(generatePodStatus(input(pod(), { containers: [exited('app', 0)], podIsTerminal: true })).phase, 'Succeeded');
    assert.equal(generatePodStatus(input(pod(), { containers: [exited('app', 137)], podIsTerminal: true })).phase, 'Failed');
    assert.equal(generatePodStatus(input(pod(), { containers: [exited('app', 0)] })).phase, 'Running', 'Always restarts it otherwise');
  });

  test('a terminal phase in the API is kept', () => {
    const p = pod({}, { phase: 'Failed', conditions: [] });
    assert.equal(generatePodStatus(input(p, { containers: [running('app')] })).phase, 'Failed');
  });

  test('init containers: PodInitializing, Initialized=False with the upstream message, then Running', () => {
    const p = pod({ initContainers: [{ name: 'setup', image: 'busybox' }] });
    const s = generatePodStatus(input(p, { initContainers: [running('setup', { ready: false })] }));
    assert.equal(s.phase, 'Pending');
    assert.equal(cond(s, 'Initialized')?.status, 'False');
    assert.equal(cond(s, 'Initialized')?.reason, 'ContainersNotInitialized');
    assert.equal(cond(s, 'Initialized')?.message, 'containers with incomplete status: [setup]');
    assert.equal(s.containerStatuses![0].state?.waiting?.reason, 'PodInitializing');
    assert.equal(s.initContainerStatuses![0].name, 'setup');

    const after = generatePodStatus(input(p, { initContainers: [exited('setup', 0, { ready: true })], containers: [running('app')] }));
    assert.equal(after.phase, 'Running');
    assert.equal(cond(after, 'Initialized')?.status, 'True');
  });

  test('a failed init container fails a Never pod', () => {
    const p = pod({ restartPolicy: 'Never', initContainers: [{ name: 'setup', image: 'busybox' }] });
    assert.equal(generatePodStatus(input(p, { initContainers: [exited('setup', 1)] })).phase, 'Failed');
  });

  test('container statuses are sorted by name; unknown containers are listed as unknown', () => {
    const p = pod({ containers: [{ name: 'zeta', image: 'nginx' }, { name: 'alpha', image: 'nginx' }] });
    const s = generatePodStatus(input(p, { containers: [running('zeta')] }));
    assert.deepEqual(s.containerStatuses!.map((c: ContainerStatus) => c.name), ['alpha', 'zeta']);
    assert.equal(s.phase, 'Pending');
    assert.equal(cond(s, 'ContainersReady')?.message, 'containers with unready status: [alpha]');
  });

  test('readiness gates', () => {
    const p = pod({ readinessGates: [{ conditionType: 'example.com/lb' }] }, { phase: 'Running', conditions: [{ type: 'example.com/lb', status: 'False' }] });
    const s = generatePodStatus(input(p, { containers: [running('app')] }));
    assert.equal(cond(s, 'ContainersReady')?.status, 'True');
    assert.equal(cond(s, 'Ready')?.status, 'False');
    assert.equal(cond(s, 'Ready')?.reason, 'ReadinessGatesNotReady');
    assert.equal(cond(s, 'Ready')?.message, 'the status of pod readiness gate "example.com/lb" is not "True", but False');
    assert.ok(cond(s, 'example.com/lb'), "conditions the kubelet does not own are kept");
  });

  test('podStatusChanged ignores key order and is false for what was just written', () => {
    const s = generatePodStatus(input(pod(), { containers: [running('app')] }));
    assert.equal(podStatusChanged(JSON.parse(JSON.stringify(s)), s), false);
    const p2 = pod({}, s);
    assert.equal(podStatusChanged(p2.status, generatePodStatus(input(p2, { containers: [running('app')] }))), false, 'a second report changes nothing');
  });
});

describe('podPhase edge cases', () => {
  test('no statuses at all is Pending', () => {
    assert.equal(podPhase(pod(), [], [], false), 'Pending');
  });
});

describe('QoS class', () => {
  const withResources = (...rs: object[]) => pod({ containers: rs.map((resources, i) => ({ name: `c${i}`, image: 'x', resources })) });
  test('BestEffort, Burstable, Guaranteed', () => {
    assert.equal(podQOSClass(withResources({})), 'BestEffort');
    assert.equal(podQOSClass(withResources({ requests: { cpu: '100m' } })), 'Burstable');
    assert.equal(podQOSClass(withResources({ limits: { cpu: '1', memory: '1Gi' } })), 'Guaranteed', 'requests default to limits');
    assert.equal(podQOSClass(withResources({ requests: { cpu: '1000m', memory: '1024Mi' }, limits: { cpu: '1', memory: '1Gi' } })), 'Guaranteed');
    assert.equal(podQOSClass(withResources({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } })), 'Burstable');
    assert.equal(podQOSClass(withResources({ limits: { cpu: '1', memory: '1Gi' } }, {})), 'Burstable', 'every container needs limits');
    assert.equal(podQOSClass(withResources({ requests: { 'ephemeral-storage': '1Gi' } })), 'BestEffort', 'only cpu and memory count');
  });
});

describe('images', () => {
  test('normalized as containerd reports them', () => {
    assert.equal(normalizeImage('nginx'), 'docker.io/library/nginx:latest');
    assert.equal(normalizeImage('nginx:1.27'), 'docker.io/library/nginx:1.27');
    assert.equal(normalizeImage('registry.k8s.io/e2e-test-images/agnhost:2.53'), 'registry.k8s.io/e2e-test-images/agnhost:2.53');
    assert.equal(imageIDFor('nginx@sha256:abc'), 'docker.io/library/nginx@sha256:abc');
    assert.equal(imageIDFor('busybox'), 'docker.io/library/busybox:latest', 'no digest is made up');
  });
});

describe('CrashLoopBackOff back-off (flowcontrol.Backoff as the kubelet uses it)', () => {
  test('first restart at once, then 10s, 20s, 40s ... capped at 5m', () => {
    let entry;
    let t = 0;
    // First exit: no entry, not in back-off; the restart records 10 s.
    assert.equal(isInBackOff(entry, t, t), false);
    entry = nextBackoff(entry, t, t);
    assert.equal(entry.backoffMs, 10_000);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      t += 1000; // the container runs a second, then exits
      const finished = t;
      assert.equal(isInBackOff(entry, finished, t), true);
      assert.equal(isInBackOff(entry, finished, t + entry.backoffMs - 1), true);
      assert.equal(isInBackOff(entry, finished, t + entry.backoffMs), false);
      waits.push(entry.backoffMs / 1000);
      t += entry.backoffMs;
      entry = nextBackoff(entry, finished, t);
    }
    assert.deepEqual(waits, [10, 20, 40, 80, 160, 300, 300, 300]);
  });

  test('reset after running for more than 10 minutes', () => {
    const entry = { backoffMs: 300_000, lastUpdate: 0 };
    const finished = 600_001;
    assert.equal(isInBackOff(entry, finished, finished), false);
    assert.equal(nextBackoff(entry, finished, finished).backoffMs, 10_000);
  });
});
