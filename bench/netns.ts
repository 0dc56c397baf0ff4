// Benchmarks that touch the kernel run inside a network namespace they create:
// the host side makes a node-like namespace (loopback, a veth pair inside it
// holding an address and the default route), re-runs the benchmark file in it
// with --inside, and always kills what is left there and deletes it.
import { spawnSync } from 'node:child_process';

/** True when this process is the copy running inside the namespace. */
export const insideNetns = process.argv[2] === '--inside';

/** Host side: runs `file` inside a fresh namespace (with this process's arguments) and exits with its status; skips (exit 0) without root. */
export function runInNetns(name: string, file: string, address: string): never {
  if (process.getuid?.() !== 0) {
    console.log(`bench/${name}: needs root (network namespaces); skipped`);
    process.exit(0);
  }
  const netns = `ksvc-bench-${name}-${process.pid}`;
  spawnSync('ip', ['netns', 'add', netns]);
  let status: number;
  try {
    // connect() to a ClusterIP needs a route before the OUTPUT rules can capture it: hence the default route.
    for (const args of [['link', 'set', 'lo', 'up'], ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1'], ['link', 'set', 'eth0', 'up'], ['link', 'set', 'eth1', 'up'], ['addr', 'add', `${address}/24`, 'dev', 'eth0'], ['route', 'add', 'default', 'dev', 'eth0']]) {
      spawnSync('ip', ['-n', netns, ...args]);
    }
    status = spawnSync('ip', ['netns', 'exec', netns, process.execPath, '--import', 'tsx', file, '--inside', ...process.argv.slice(2)], { stdio: 'inherit' }).status ?? 1;
  } finally {
    const pids = spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    for (const pid of pids) spawnSync('kill', ['-9', pid]);
    spawnSync('ip', ['netns', 'del', netns]);
  }
  process.exit(status);
}
