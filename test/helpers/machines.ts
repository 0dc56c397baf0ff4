// "Machines" for multi-machine tests: network namespaces with their own
// address on a test bridge (TEST-NET-2, 198.51.100.0/24, never routed
// anywhere), as separate hosts on one LAN. The bridge lives in a namespace of
// its own, so the host namespace gets nothing. Names start with `kmt<pid>-`,
// never `ksvc-` (kubesvc's own leftovers cleanup must not take them).
import { run, type RunResult } from './root.js';

export interface Machine {
  name: string;
  netns: string;
  ip: string;
}

export interface Machines {
  list: Machine[];
  byName(name: string): Machine;
  /** Runs argv inside a machine's namespace, to completion. */
  exec(name: string, argv: string[], timeoutMs?: number): Promise<RunResult>;
  remove(): Promise<void>;
}

async function ipOk(args: string[]): Promise<void> {
  const r = await run('ip', args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

export async function createMachines(names: string[]): Promise<Machines> {
  const prefix = `kmt${process.pid}`;
  const sw = `${prefix}-sw`;
  const list = names.map((name, i) => ({ name, netns: `${prefix}-${name}`, ip: `198.51.100.${11 + i}` }));
  const remove = async () => {
    for (const ns of [...list.map((m) => m.netns), sw]) await run('ip', ['netns', 'del', ns]);
  };
  try {
    await ipOk(['netns', 'add', sw]);
    await ipOk(['-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    await ipOk(['-n', sw, 'link', 'set', 'br0', 'up']);
    for (const [i, m] of list.entries()) {
      await ipOk(['netns', 'add', m.netns]);
      await ipOk(['-n', m.netns, 'link', 'set', 'lo', 'up']);
      await ipOk(['-n', sw, 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', m.netns]);
      await ipOk(['-n', sw, 'link', 'set', `p${i}`, 'master', 'br0', 'up']);
      await ipOk(['-n', m.netns, 'addr', 'add', `${m.ip}/24`, 'dev', 'eth0']);
      await ipOk(['-n', m.netns, 'link', 'set', 'eth0', 'up']);
    }
  } catch (e) {
    await remove();
    throw e;
  }
  return {
    list,
    byName(name) {
      const m = list.find((x) => x.name === name);
      if (!m) throw new Error(`no machine ${name}`);
      return m;
    },
    exec: (name, argv, timeoutMs) => run('ip', ['netns', 'exec', list.find((x) => x.name === name)!.netns, ...argv], timeoutMs),
    remove,
  };
}
