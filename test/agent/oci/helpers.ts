// A place to run real containers for the OCI layer's tests: a temporary
// directory laid out like a checkout with its data dir inside, a busybox
// image (the static busybox and its applet links), one pod's namespaces
// (a network namespace, pinned IPC and UTS, a shared /dev/shm), a runtime
// state directory and a cgroup parent of the test's own. cleanup() removes
// every container, mount, cgroup, namespace and file it made.
import { randomBytes } from 'node:crypto';
import { after, before, describe } from 'node:test';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { removeCgroup } from '../../../src/agent/oci/cgroups.js';
import { hostFeatures } from '../../../src/agent/oci/host.js';
import { openRuntime, type ContainerExit, type OciRuntime, type RuntimeKind } from '../../../src/agent/oci/crun.js';
import { unmountAllUnder } from '../../../src/agent/oci/mount.js';
import { mountImageRootfs, prepareHostView, type HostViewOptions } from '../../../src/agent/oci/rootfs.js';
import { createPodNamespaces, type PodNamespaceFiles } from '../../../src/agent/oci/sandbox.js';
import { containerSpec, type ContainerSpecInput } from '../../../src/agent/oci/spec.js';
import { resolveUser } from '../../../src/agent/oci/user.js';
import { onPath } from '../../../src/host/tools.js';
import { missingPackageReason, namespaceSkipReason, run } from '../../helpers/root.js';

const BUSYBOX = '/bin/busybox';

/** Whether an ELF file asks for a program interpreter (is dynamically linked). */
function isDynamic(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(64);
    readSync(fd, head, 0, 64, 0);
    const phoff = Number(head.readBigUInt64LE(0x20));
    const size = head.readUInt16LE(0x36);
    const count = head.readUInt16LE(0x38);
    const table = Buffer.alloc(size * count);
    readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < count; i++) if (table.readUInt32LE(i * size) === 3) return true; // PT_INTERP
    return false;
  } finally {
    closeSync(fd);
  }
}

/** Why the container tests cannot run here (root, crun, a static busybox), or false. */
export function ociSkipReason(): string | false {
  const base = namespaceSkipReason(['crun', 'ip', 'unshare', 'mount']);
  if (base) return base;
  if (!existsSync(BUSYBOX) || isDynamic(BUSYBOX)) return missingPackageReason('a statically linked /bin/busybox', 'busybox-static');
  return false;
}

/** The runtimes to test: crun always, runc too when it is installed (the choice on hybrid cgroup hosts). */
export function runtimeKinds(): RuntimeKind[] {
  return onPath('runc') ? ['crun', 'runc'] : ['crun'];
}

/** Waits until `check` returns a value (not undefined/false), polling, or fails after `ms`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The busybox image: the static binary and a link per applet, root and user 1000 in passwd. */
function busyboxImage(dir: string): void {
  for (const d of ['bin', 'etc', 'root', 'tmp', 'mnt', 'proc', 'sys', 'dev', 'home/app']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(dir, 'bin', a));
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\napp:x:1000:\nextra:x:2000:app\n');
}

export interface Ran {
  exit: ContainerExit;
  stdout: string;
  stderr: string;
}

export type SpecOverrides = Partial<Omit<ContainerSpecInput, 'user'>> & { runAsUser?: number; hostView?: Omit<HostViewOptions, 'dir'> };

export interface OciTestEnv {
  runtime: OciRuntime;
  /** Stands for the checkout; `dataDir` is inside it. */
  repo: string;
  dataDir: string;
  pod: PodNamespaceFiles;
  netnsPath: string;
  netns: string;
  cgroupParent: string;
  /** A new container id (unique per call). */
  id(name: string): string;
  /** Writes a bundle for `args` (busybox image, or the host view) and returns it with the container's id. */
  bundle(name: string, args: string[], o?: SpecOverrides): Promise<{ id: string; bundle: string }>;
  /** Runs a container to its end with piped output. */
  runToEnd(name: string, args: string[], o?: SpecOverrides): Promise<Ran>;
  cleanup(): Promise<void>;
}

function collect(stream: NodeJS.ReadableStream | null): () => string {
  const parts: Buffer[] = [];
  stream?.on('data', (b: Buffer) => parts.push(b));
  return () => Buffer.concat(parts).toString();
}

/** Sets up the place; call cleanup() in an after() hook. */
export async function ociTestEnv(kind: RuntimeKind): Promise<OciTestEnv> {
  const tag = randomBytes(3).toString('hex');
  const top = mkdtempSync(join(tmpdir(), 'kubesvc-oci-'));
  const repo = join(top, 'repo');
  const dataDir = join(repo, '.kubesvc');
  const image = join(dataDir, 'images', 'busybox');
  mkdirSync(image, { recursive: true });
  writeFileSync(join(repo, 'README.md'), 'a checkout\n');
  writeFileSync(join(dataDir, 'secret'), 'the data dir\n');
  busyboxImage(image);
  const netns = `kubesvc-ocitest-${tag}`;
  const cgroupParent = `/kubesvc-test-${tag}`;
  let runtime: OciRuntime | undefined;
  let netnsMade = false;
  const cleanup = async () => {
    if (runtime) await runtime.cleanup().catch(() => []);
    await unmountAllUnder(top);
    removeCgroup(cgroupParent);
    if (netnsMade) await run('ip', ['netns', 'delete', netns]);
    rmSync(top, { recursive: true, force: true });
  };
  try {
    runtime = await openRuntime({ root: join(dataDir, 'runtime'), runtime: kind });
    const made = await run('ip', ['netns', 'add', netns]);
    if (made.code !== 0) throw new Error(`ip netns add: ${made.stderr}`);
    netnsMade = true;
    const pod = await createPodNamespaces({ dir: join(dataDir, 'pods', 'p1', 'sandbox'), hostname: 'pod-one' });
    const host = hostFeatures();
    let n = 0;
    const id = (name: string) => `${tag}-${name}-${n++}`;
    const env: OciTestEnv = {
      runtime,
      repo,
      dataDir,
      pod,
      netns,
      netnsPath: `/var/run/netns/${netns}`,
      cgroupParent,
      id,
      async bundle(name, args, o = {}) {
        const { runAsUser, hostView, ...rest } = o;
        const cid = id(name);
        const dir = join(dataDir, 'pods', 'p1', cid);
        const bundle = join(dir, 'bundle');
        let rootfs = join(bundle, 'rootfs');
        let rootMounts = rest.rootMounts;
        let etc = join(image, 'etc');
        if (hostView) {
          const view = await prepareHostView({ dir, ...hostView });
          rootfs = view.rootfs;
          rootMounts = view.mounts;
          etc = '/etc';
        } else {
          await mountImageRootfs({ rootfs, lowers: [image], upper: join(dir, 'upper'), work: join(dir, 'work') });
        }
        const spec = containerSpec({
          args,
          rootfs,
          rootMounts,
          hostname: 'pod-one',
          user: resolveUser({ etc, runAsUser }),
          namespaces: { network: env.netnsPath, ipc: pod.ipc, uts: pod.uts },
          cgroupsPath: `${cgroupParent}/${cid}`,
          shm: pod.shm,
          host,
          ...rest,
        });
        mkdirSync(bundle, { recursive: true });
        writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 1));
        return { id: cid, bundle };
      },
      async runToEnd(name, args, o) {
        const { id: cid, bundle } = await env.bundle(name, args, o);
        const c = env.runtime.run({ id: cid, bundle, stdout: 'pipe', stderr: 'pipe' });
        const stdout = collect(c.process.stdout);
        const stderr = collect(c.process.stderr);
        const exit = await c.exited;
        return { exit, stdout: stdout(), stderr: stderr() };
      },
      cleanup,
    };
    return env;
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/**
 * A suite per runtime to test (skipped, with the reason, where containers
 * cannot run), each with its own place set up before and removed after.
 */
export function describeRuntimes(title: (kind: RuntimeKind) => string, body: (env: () => OciTestEnv, kind: RuntimeKind) => void): void {
  const skip = ociSkipReason();
  for (const kind of skip ? (['crun'] as const) : runtimeKinds()) {
    describe(title(kind), { skip, timeout: 120_000 }, () => {
      let env: OciTestEnv | undefined;
      before(async () => {
        env = await ociTestEnv(kind);
      });
      after(async () => {
        await env?.cleanup();
      });
      body(() => env!, kind);
    });
  }
}
