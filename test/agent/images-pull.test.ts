// The kubelet's image handling for pulled images, without a registry: the
// image config merged with the container (command, args, env, workingDir,
// USER, runAsNonRoot), the pull policy the API server defaults, and the image
// manager's statuses and events over a stand-in store (present, Never,
// pulled, failed then backing off, pull secrets matched to the registry).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod } from '../../src/api/types.js';
import { imageArgv, imageEnv, mergeImageConfig, nonRootRefusal, parseStopSignal } from '../../src/agent/image-config.js';
import { createImageManager, defaultPullPolicy, pulledMessage, pullPolicyOf, type ImageManagerOptions } from '../../src/agent/image-pull.js';
import type { ImageRecord, PullOptions } from '../../src/oci/image-store.js';
import { ImagePullError } from '../../src/oci/puller.js';

const config = { Entrypoint: ['/entry'], Cmd: ['serve', '--port=80'], Env: ['PATH=/bin', 'A=image', 'B=image'], WorkingDir: '/app', User: '1000' };

test('command replaces Entrypoint and drops Cmd; args replace Cmd', () => {
  assert.deepEqual(imageArgv(config, undefined, undefined), ['/entry', 'serve', '--port=80']);
  assert.deepEqual(imageArgv(config, ['/bin/sh'], undefined), ['/bin/sh']);
  assert.deepEqual(imageArgv(config, ['/bin/sh'], ['-c', 'true']), ['/bin/sh', '-c', 'true']);
  assert.deepEqual(imageArgv(config, undefined, ['other']), ['/entry', 'other']);
  assert.deepEqual(imageArgv({ Cmd: ['sh'] }, undefined, ['ls']), ['ls']);
  assert.deepEqual(imageArgv({}, undefined, undefined), []);
});

test('the image Env under the container env; workingDir and USER', () => {
  assert.deepEqual(imageEnv(config), { PATH: '/bin', A: 'image', B: 'image' });
  assert.deepEqual(imageEnv({ Env: ['X=1', 'X=2', 'Y=a=b', 'EMPTY'] }), { X: '2', Y: 'a=b', EMPTY: '' });
  const m = mergeImageConfig(config, { workingDir: '', command: undefined, args: ['x'] });
  assert.equal(m.workingDir, '/app');
  assert.equal(m.user, '1000');
  assert.equal(mergeImageConfig(config, { workingDir: '/mine' }).workingDir, '/mine');
  assert.equal(mergeImageConfig({ User: '' }, {}).user, undefined);
});

test("the image's StopSignal: a name with or without SIG, or a number; none or unknown: SIGTERM's default", () => {
  assert.equal(parseStopSignal('SIGQUIT'), 'SIGQUIT');
  assert.equal(parseStopSignal('quit'), 'SIGQUIT');
  assert.equal(parseStopSignal('10'), 'SIGUSR1');
  assert.equal(parseStopSignal(''), undefined);
  assert.equal(parseStopSignal('SIGNOPE'), undefined);
  assert.equal(mergeImageConfig({ StopSignal: 'SIGWINCH' }, {}).stopSignal, 'SIGWINCH');
  assert.equal(mergeImageConfig({}, {}).stopSignal, undefined);
});

test('runAsNonRoot refuses a root image with the kubelet\'s words; runAsUser decides when set', () => {
  const pod = (sc: object, csc: object = {}): [Pod, Container] => {
    const c = { name: 'c', image: 'x', securityContext: csc } as Container;
    return [{ metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { securityContext: sc, containers: [c] } } as Pod, c];
  };
  assert.equal(nonRootRefusal(...pod({ runAsNonRoot: true }), undefined), 'container has runAsNonRoot and image will run as root (pod: "p_ns(u1)", container: c)');
  assert.equal(nonRootRefusal(...pod({ runAsNonRoot: true }), '1000'), undefined);
  assert.equal(nonRootRefusal(...pod({ runAsNonRoot: true }, { runAsUser: 1000 }), undefined), undefined);
  assert.match(nonRootRefusal(...pod({ runAsNonRoot: true }), 'app') ?? '', /non-numeric user \(app\)/);
  assert.equal(nonRootRefusal(...pod({}), undefined), undefined);
});

test('the pull policy as the API server defaults it', () => {
  assert.equal(defaultPullPolicy('busybox'), 'Always');
  assert.equal(defaultPullPolicy('busybox:latest'), 'Always');
  assert.equal(defaultPullPolicy('localhost:5000/app'), 'Always');
  assert.equal(defaultPullPolicy('localhost:5000/app:1.0'), 'IfNotPresent');
  assert.equal(defaultPullPolicy(`app@sha256:${'a'.repeat(64)}`), 'IfNotPresent');
  assert.equal(defaultPullPolicy(`app:latest@sha256:${'a'.repeat(64)}`), 'Always');
  assert.equal(pullPolicyOf({ image: 'app:1', imagePullPolicy: 'Never' }), 'Never');
});

test('the Pulled event in Go durations', () => {
  assert.equal(pulledMessage('a:1', 1234.9, 1234.9, 42), 'Successfully pulled image "a:1" in 1.234s (1.234s including waiting). Image size: 42 bytes.');
  assert.equal(pulledMessage('a:1', 87.5, 90, 1), 'Successfully pulled image "a:1" in 87ms (90ms including waiting). Image size: 1 bytes.');
});

function fakeStore(opts: { present?: string[]; fail?: string }) {
  const present = new Set(opts.present ?? []);
  const pulls: { image: string; opts: PullOptions }[] = [];
  const record = (image: string) => ({ ref: image, name: image.split(':')[0], digest: 'sha256:d', config: 'sha256:c', layers: [], size: 123 }) as unknown as ImageRecord;
  const store: ImageManagerOptions['store'] = {
    resolveLocal: (image) => (present.has(image) ? record(image) : undefined),
    pull: async (image, o = {}) => {
      pulls.push({ image, opts: o });
      if (opts.fail) throw new ImagePullError(opts.fail);
      present.add(image);
      return record(image);
    },
    imageConfig: async () => ({ ...config, id: 'sha256:c' }),
    layerDirs: () => ['/layers/top', '/layers/base'],
  };
  return { store, pulls };
}

const podOf = (c: Partial<Container>, secrets?: string[]): [Pod, Container] => {
  const container = { name: 'c', ...c } as Container;
  return [{ metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { containers: [container], imagePullSecrets: secrets?.map((name) => ({ name })) } } as Pod, container];
};

test('present images are not pulled (IfNotPresent); Never waits for an absent one', async () => {
  const { store, pulls } = fakeStore({ present: ['reg.example/app:1'] });
  const m = createImageManager({ store, getSecret: async () => undefined });
  const events: string[] = [];
  const ev = (t: string, r: string, msg: string) => events.push(`${t} ${r} ${msg}`);
  const ok = await m.ensureImage(...podOf({ image: 'reg.example/app:1' }), ev);
  assert.equal(ok.kind, 'ready');
  assert.deepEqual(ok.kind === 'ready' && ok.layers, ['/layers/top', '/layers/base']);
  assert.deepEqual(events, ['Normal Pulled Container image "reg.example/app:1" already present on machine']);
  assert.equal(pulls.length, 0);
  const never = await m.ensureImage(...podOf({ image: 'reg.example/app:2', imagePullPolicy: 'Never' }), ev);
  assert.deepEqual(never, { kind: 'waiting', reason: 'ErrImageNeverPull', message: 'Container image "reg.example/app:2" is not present with pull policy of Never' });
  assert.equal(events.at(-1), 'Warning ErrImageNeverPull Container image "reg.example/app:2" is not present with pull policy of Never');
  const invalid = await m.ensureImage(...podOf({ image: 'Bad Image' }), ev);
  assert.equal(invalid.kind === 'waiting' && invalid.reason, 'InvalidImageName');
  assert.match(events.at(-1)!, /^Warning InspectFailed Failed to apply default image tag "Bad Image"/);
});

test('a pull with the pod\'s secrets: Pulling, Pulled; a missing secret is a warning', async () => {
  const { store, pulls } = fakeStore({});
  const auth = Buffer.from(JSON.stringify({ auths: { 'reg.example': { username: 'u', password: 'p' } } })).toString('base64');
  const getSecret = async (_ns: string, name: string) => (name === 'reg' ? ({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': auth } } as never) : undefined);
  const m = createImageManager({ store, getSecret });
  const events: string[] = [];
  const ok = await m.ensureImage(...podOf({ image: 'reg.example/app:1' }, ['reg', 'gone']), (t, r, msg) => events.push(`${t} ${r} ${msg}`));
  assert.equal(ok.kind, 'ready');
  assert.deepEqual(pulls[0]!.opts.credentials, [{ username: 'u', password: 'p' }]);
  assert.equal(pulls[0]!.opts.policy, 'IfNotPresent');
  assert.equal(events[0], 'Warning FailedToRetrieveImagePullSecret Unable to retrieve some image pull secrets (gone); attempting to pull the image may not succeed.');
  assert.equal(events[1], 'Normal Pulling Pulling image "reg.example/app:1"');
  assert.match(events[2]!, /^Normal Pulled Successfully pulled image "reg\.example\/app:1" in \d+(\.\d+)?m?s \(.* including waiting\)\. Image size: 123 bytes\.$/);
});

test('a failed pull is ErrImagePull, retried after 10 s, then ImagePullBackOff until the doubled back-off has passed', async () => {
  const { store, pulls } = fakeStore({ fail: 'manifest unknown' });
  let now = 1_000_000;
  const m = createImageManager({ store, getSecret: async () => undefined, now: () => now });
  const events: string[] = [];
  const ev = (t: string, r: string, msg: string) => events.push(`${t} ${r} ${msg}`);
  const args = podOf({ image: 'reg.example/app:1' });
  const first = await m.ensureImage(...args, ev);
  assert.deepEqual(first, { kind: 'waiting', reason: 'ErrImagePull', message: 'manifest unknown', retryMs: 10_000 });
  assert.equal(events.at(-1), 'Warning Failed Failed to pull image "reg.example/app:1": manifest unknown');
  // Synced again meanwhile (another update of the pod): the same status, no pull, no event.
  now += 3000;
  const count = events.length;
  assert.deepEqual(await m.ensureImage(...args, ev), { kind: 'waiting', reason: 'ErrImagePull', message: 'manifest unknown', retryMs: 7000 });
  assert.equal(events.length, count);
  now -= 3000;
  // The pod worker's retry 10 s later: the back-off (10 s) is over, another pull fails and doubles it.
  now += 10_000;
  assert.equal((await m.ensureImage(...args, ev)).kind === 'waiting' && pulls.length, 2);
  now += 10_000;
  const backoff = await m.ensureImage(...args, ev);
  assert.deepEqual(backoff, { kind: 'waiting', reason: 'ImagePullBackOff', message: 'Back-off pulling image "reg.example/app:1"', retryMs: 10_000 });
  assert.equal(events.at(-1), 'Normal BackOff Back-off pulling image "reg.example/app:1"');
  assert.equal(pulls.length, 2);
  assert.equal((await m.ensureImage(...args, ev)).kind === 'waiting' && events.filter((e) => e.includes('BackOff')).length, 1, 'BackOff once per back-off');
  now += 10_000;
  assert.equal((await m.ensureImage(...args, ev)).kind === 'waiting' && pulls.length, 3);
  m.forgetPod('u1');
  await m.ensureImage(...args, ev);
  assert.equal(pulls.length, 4);
});
