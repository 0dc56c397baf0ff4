// A throwaway etcd cluster of several members on loopback (plain http,
// random ports, one temporary dir), for tests that need quorum: a member can
// be killed while the others serve on. Gone (processes and dir) on stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type RunResult } from './root.js';
import { waitFor } from './apiserver.js';
import { freePort } from './ports.js';

export interface TestEtcdCluster {
  /** The members' client URLs, in member order. */
  urls: string[];
  /** `etcdctl --endpoints <all> ARGS`. */
  etcdctl(args: string[]): Promise<RunResult>;
  /** SIGKILL member i. */
  kill(i: number): Promise<void>;
  stop(): Promise<void>;
}


/** Where each member runs: a network namespace of the test's (a "machine") and its address there; default: loopback here. */
export interface EtcdMachine {
  netns: string;
  ip: string;
}

export async function startEtcdCluster(size = 3, machines?: EtcdMachine[]): Promise<TestEtcdCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-etcd-cluster-'));
  const members: { name: string; client: string; peer: string; netns?: string }[] = [];
  for (let i = 0; i < size; i++) {
    const m = machines?.[i];
    members.push(
      m
        ? { name: `m${i}`, client: `http://${m.ip}:2379`, peer: `http://${m.ip}:2380`, netns: m.netns }
        : { name: `m${i}`, client: `http://127.0.0.1:${await freePort()}`, peer: `http://127.0.0.1:${await freePort()}` },
    );
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peer}`).join(',');
  let output = '';
  const inNetns = (netns: string | undefined, argv: string[]) => (netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv);
  const procs: ChildProcess[] = members.map((m) => {
    const [file, ...args] = inNetns(m.netns, [
      'etcd',
        '--name', m.name,
        '--data-dir', join(dir, m.name),
        '--listen-client-urls', m.client,
        '--advertise-client-urls', m.client,
        '--listen-peer-urls', m.peer,
        '--initial-advertise-peer-urls', m.peer,
        '--initial-cluster', initialCluster,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', 'kubesvc-test',
        '--log-level', 'warn',
        '--logger', 'zap',
    ]);
    const p = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    return p;
  });
  const exited = procs.map((p) => new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r()))));
  const urls = members.map((m) => m.client);
  const [ctl, ...ctlArgs] = inNetns(members[0]!.netns, ['etcdctl', '--endpoints', urls.join(',')]);
  const etcdctl = (args: string[]) => run(ctl!, [...ctlArgs, ...args]);
  const kill = async (i: number) => {
    const p = procs[i]!;
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await exited[i];
  };
  const stop = async () => {
    for (const [i, p] of procs.entries()) {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
      const killer = setTimeout(() => p.kill('SIGKILL'), 5000);
      await exited[i];
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('the etcd cluster to be healthy', async () => (await etcdctl(['endpoint', 'health'])).code === 0, 30_000);
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n${output}`, { cause: e });
  }
  return { urls, etcdctl, kill, stop };
}
