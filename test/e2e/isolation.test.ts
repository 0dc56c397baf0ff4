// Built-in images run isolated, as any container does, on `kubesvc up
// --nodes 1`: a busybox pod (the node's own programs) and an agnhost pod
// (kubesvc's program) run under the OCI runtime on a read-only view of the
// host's files. They cannot write the host's files (markers written to /etc
// and /root stay inside), see only their own processes, cannot mount or
// change links, and cannot see the data dir; the Pulled event says the image
// is built in. The privileged kube-proxy still programs its node (a
// ClusterIP answers), and an older kubesvc's kube-proxy DaemonSet without
// the privileged securityContext is replaced when `up` starts again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Kubectl } from '../helpers/kubectl.js';
import { startUp, type UpCluster } from '../helpers/up.js';
import { namespaceSkipReason, toolSkipReason } from '../helpers/root.js';
import { waitFor } from '../helpers/apiserver.js';

const skip = namespaceSkipReason(['iptables-restore', 'kubectl']) || toolSkipReason(['crun']);

describe('built-in images run isolated', { skip, timeout: 180_000 }, () => {
  let cluster: UpCluster | undefined;
  let kubectl: Kubectl;
  let dataDir: string;
  const marker = `kubesvc-isolation-${randomBytes(4).toString('hex')}`;
  const pods = ['x', 'ag'];
  /** Runs a shell script in the pod; never throws (the exit code says how it went). */
  const sh = (pod: string, script: string) => kubectl(['exec', pod, '--', 'sh', '-c', script]);

  before(async () => {
    cluster = await startUp('isolation', ['--nodes', '1']);
    ({ dataDir, kubectl } = cluster);
    const started = Date.now();
    await kubectl.ok(['run', 'x', '--image=busybox', '--', 'sleep', '3600']);
    await kubectl.ok(['run', 'ag', '--image=registry.k8s.io/e2e-test-images/agnhost:2.53', '--port=8080', '--', 'netexec', '--http-port=8080']);
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/x', 'pod/ag', '--timeout=60s']);
    process.stderr.write(`# two built-in pods Ready in ${Date.now() - started} ms\n`);
  });
  after(async () => {
    for (const dir of ['/etc', '/root', '/usr/bin']) rmSync(`${dir}/${marker}`, { force: true });
    await cluster?.stop();
  });

  test('the Pulled event says the image is built in, and by what', async () => {
    const events = async (pod: string) => kubectl.ok(['get', 'events', '--field-selector', `involvedObject.name=${pod},reason=Pulled`, '-o', 'jsonpath={.items[*].message}']);
    assert.equal(await events('x'), 'Container image "busybox" already present on machine (built into kubesvc: the node\'s programs)');
    assert.equal(await events('ag'), 'Container image "registry.k8s.io/e2e-test-images/agnhost:2.53" already present on machine (built into kubesvc: agnhost)');
  });

  test('writes stay in the container: markers in /etc and /root are not on the host', async () => {
    for (const pod of pods) {
      const r = await sh(pod, `echo ${pod} > /etc/${marker} && echo ${pod} > /root/${marker} && cat /etc/${marker} /root/${marker}`);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${pod}\n${pod}\n`);
    }
    assert.equal(existsSync(`/etc/${marker}`), false);
    assert.equal(existsSync(`/root/${marker}`), false);
    // The host's programs too: the container changes its view of them only.
    assert.equal((await sh('x', `echo x > /usr/bin/${marker}`)).code, 0);
    assert.equal(existsSync(`/usr/bin/${marker}`), false);
  });

  test('each container sees its own processes only', async () => {
    const x = await sh('x', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done');
    assert.equal(x.code, 0, x.stderr);
    const procs = x.stdout.split('\n').filter((l) => l.trim());
    assert.ok(procs.length <= 4, procs.join('\n'));
    assert.equal((await sh('x', 'tr "\\0" " " < /proc/1/cmdline')).stdout.trim(), 'sleep 3600');
    const ag = await sh('ag', 'tr "\\0" " " < /proc/1/cmdline');
    assert.match(ag.stdout, /images\/main\.(ts|js) agnhost netexec --http-port=8080/);
    // Nothing of the node's agent, API server or the other pod.
    for (const pod of pods) assert.doesNotMatch((await sh(pod, 'cat /proc/[0-9]*/cmdline | tr "\\0" " "')).stdout, /src\/cli\/main\.ts|sleep 3600.*netexec|netexec.*sleep 3600/);
  });

  test('no mounts, no link changes (no CAP_SYS_ADMIN, CAP_NET_ADMIN)', async () => {
    for (const pod of pods) {
      const mount = await sh(pod, 'mkdir -p /tmp/m && mount -t tmpfs none /tmp/m');
      assert.notEqual(mount.code, 0, `${pod}: mount succeeded`);
      const link = await sh(pod, 'ip link set lo down');
      assert.notEqual(link.code, 0, `${pod}: ip link set succeeded`);
      assert.match(link.stderr, /Operation not permitted/);
    }
    // The pod's network still works: its loopback is up.
    assert.match((await sh('ag', 'ip -o link show lo')).stdout, /UP/);
  });

  test('the data dir is not there', async () => {
    for (const pod of pods) {
      const r = await sh(pod, `ls ${dataDir}`);
      assert.notEqual(r.code, 0, `${pod} sees ${dataDir}: ${r.stdout}`);
      assert.notEqual((await sh(pod, `test -e ${dataDir}/kubeconfig`)).code, 0);
    }
  });

  test('fsGroup owns the volumes; Secrets and memory emptyDirs are tmpfs, gone with the pod', async () => {
    await kubectl.ok(['create', 'secret', 'generic', 'fsg', '--from-literal=key=s3cret']);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'fsg' },
      spec: {
        securityContext: { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000 },
        containers: [{
          name: 'c',
          image: 'busybox',
          command: ['sleep', '3600'],
          volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'mem', mountPath: '/mem' }, { name: 'sec', mountPath: '/sec' }],
        }],
        volumes: [{ name: 'data', emptyDir: {} }, { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } }, { name: 'sec', secret: { secretName: 'fsg' } }],
      },
    };
    await kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/fsg', '--timeout=60s']);
    // As upstream's security-context task shows: the process's groups include the fsGroup, and what it makes in a volume is the fsGroup's.
    const ids = await sh('fsg', 'id -u; id -g; id -G');
    assert.equal(ids.stdout, '1000\n3000\n3000 2000\n', ids.stderr);
    const made = await sh('fsg', 'echo x > /data/f && stat -c "%u %g" /data/f; stat -c "%g %A" /data');
    assert.equal(made.stdout, '1000 2000\n2000 drwxrwsrwx\n', made.stderr);
    assert.equal((await sh('fsg', 'cat /sec/key; stat -L -c "%g" /sec/key')).stdout, 's3cret2000\n');
    const mounts = await sh('fsg', 'grep -E " /(mem|sec|data) " /proc/mounts');
    assert.match(mounts.stdout, /^tmpfs \/mem tmpfs \S*size=8192k/m);
    assert.match(mounts.stdout, /^tmpfs \/sec tmpfs /m);
    assert.doesNotMatch(mounts.stdout, /^tmpfs \/data /m, 'a disk emptyDir is no tmpfs');
    const uid = (await kubectl.ok(['get', 'pod', 'fsg', '-o', 'jsonpath={.metadata.uid}'])).trim();
    const hostMounts = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(uid));
    assert.ok(hostMounts().length >= 2, 'the tmpfs volumes are mounts on the node');
    await kubectl.ok(['delete', 'pod', 'fsg', '--grace-period=1']);
    await kubectl.ok(['delete', 'secret', 'fsg']);
    assert.deepEqual(hostMounts(), [], 'nothing of the pod is left mounted');
  });

  test('the privileged kube-proxy still programs its node: a ClusterIP answers from a pod', async () => {
    assert.equal(await kubectl.ok(['get', 'daemonset', 'kube-proxy', '-n', 'kube-system', '-o', 'jsonpath={.spec.template.spec.containers[0].securityContext.privileged}']), 'true');
    await kubectl.ok(['expose', 'pod', 'ag', '--port=80', '--target-port=8080']);
    const ip = await kubectl.ok(['get', 'svc', 'ag', '-o', 'jsonpath={.spec.clusterIP}']);
    await waitFor('the ClusterIP answering', async () => (await sh('x', `curl -s -m 2 http://${ip}/hostname`)).stdout === 'ag', 20_000);
    assert.equal((await sh('x', 'curl -s -m 2 http://ag.default.svc.cluster.local/hostname')).stdout, 'ag');
  });

  test("an older kubesvc's kube-proxy DaemonSet without privileged is replaced when up starts again", async () => {
    await kubectl.ok(['patch', 'daemonset', 'kube-proxy', '-n', 'kube-system', '--type=json', '-p', '[{"op":"remove","path":"/spec/template/spec/containers/0/securityContext"}]']);
    assert.equal(await kubectl.ok(['get', 'daemonset', 'kube-proxy', '-n', 'kube-system', '-o', 'jsonpath={.spec.template.spec.containers[0].securityContext}']), '');
    cluster!.up.child.kill('SIGINT');
    await cluster!.up.exited;
    cluster!.kubectl.cleanup();
    cluster = await startUp('isolation', ['--nodes', '1'], { dataDir });
    kubectl = cluster.kubectl;
    assert.equal(await kubectl.ok(['get', 'daemonset', 'kube-proxy', '-n', 'kube-system', '-o', 'jsonpath={.spec.template.spec.containers[0].securityContext.privileged}']), 'true');
  });
});
