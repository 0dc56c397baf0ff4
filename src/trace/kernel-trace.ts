// The kernel's path for the probe's packet, in one node's network namespace:
// a monitor started first, then a rule that marks exactly the probe's first
// packet for tracing (its source address and port, TCP SYN only), read back,
// and both removed at the end.
//
//   nft:     `nft monitor` and a table of our own, `table ip kubesvc-trace-<pid>`, whose prerouting and output
//            chains at priority -400 (before conntrack and every kube-proxy chain) `meta nftrace set 1`
//   xtables: `xtables-monitor --trace --event` and `iptables -t raw -I PREROUTING/OUTPUT … -j TRACE` (the raw
//            table runs at -300, before the nat and filter chains kube-proxy fills), commented `kubesvc-trace <pid>`
//
// The monitor is known to listen when it prints our own rule's creation (a
// change is made again until it does). A trace left behind by a killed run
// (its pid gone) is removed before a new one starts.
import { spawn, type ChildProcess } from 'node:child_process';
import { CommandError, execInNetns, netnsExecArgv } from '../net/ip.js';
import { parseNftTraceLine, parseXtablesTraceLine, type KernelTraceEvent } from './trace-events.js';

export type TraceBackend = 'nft' | 'xtables';

export const tracerName = { nft: 'nft monitor trace', xtables: 'xtables-monitor --trace' } as const;

/** What marks the probe's packet: its source, before any NAT. */
export interface ProbeMatch {
  protocol: 'TCP' | 'UDP';
  saddr: string;
  sport: number;
}

export interface NodeTrace {
  node: string;
  /** The trace events so far, in order, without our own marking rule's. */
  readonly events: KernelTraceEvent[];
  /** Called with each event as it comes. */
  onEvent?: (event: KernelTraceEvent) => void;
  /** Removes the marking rule and stops the monitor; safe to call twice. */
  stop(): Promise<void>;
}

const tablePrefix = 'kubesvc-trace-';
const commentPrefix = 'kubesvc-trace ';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const inNetns = (netns: string, argv: string[], input?: string) => execInNetns(netns, argv, { input, timeoutMs: 5_000 });

/** Removes traces of runs that are gone (killed before they cleaned up). */
async function removeStaleTraces(netns: string, backend: TraceBackend): Promise<void> {
  if (backend === 'nft') {
    const { stdout } = await inNetns(netns, ['nft', 'list', 'tables']);
    for (const m of stdout.matchAll(new RegExp(`^table ip (${tablePrefix}(\\d+))$`, 'gm'))) {
      if (!pidAlive(Number(m[2]))) await inNetns(netns, ['nft', 'delete', 'table', 'ip', m[1]]).catch(() => {});
    }
    return;
  }
  const { stdout } = await inNetns(netns, ['iptables', '-w', '-t', 'raw', '-S']);
  for (const line of stdout.split('\n')) {
    const m = new RegExp(`--comment "?${commentPrefix}(\\d+)"? `).exec(line);
    if (m && line.startsWith('-A ') && !pidAlive(Number(m[1]))) {
      await inNetns(netns, ['sh', '-c', `iptables -w -t raw -D ${line.slice(3)}`]).catch(() => {});
    }
  }
}

function nftTable(match: ProbeMatch): string {
  const table = `${tablePrefix}${process.pid}`;
  const proto = match.protocol.toLowerCase();
  const syn = match.protocol === 'TCP' ? ' tcp flags & (syn | ack) == syn' : '';
  const rule = `ip saddr ${match.saddr} ${proto} sport ${match.sport}${syn} meta nftrace set 1`;
  return [
    `table ip ${table} {`,
    `  chain prerouting { type filter hook prerouting priority -400; policy accept; ${rule}; }`,
    `  chain output { type filter hook output priority -400; policy accept; ${rule}; }`,
    '}',
    '',
  ].join('\n');
}

function iptablesRule(match: ProbeMatch): string[] {
  const proto = match.protocol.toLowerCase();
  const syn = match.protocol === 'TCP' ? ['--tcp-flags', 'SYN,ACK', 'SYN'] : [];
  return ['-s', match.saddr, '-p', proto, '-m', proto, '--sport', String(match.sport), ...syn, '-m', 'comment', '--comment', `${commentPrefix}${process.pid}`, '-j', 'TRACE'];
}

/** Starts tracing the probe's packet in `netns` (node `node`); resolves once the monitor listens and the rule is in. */
export async function startNodeTrace(node: string, netns: string, backend: TraceBackend, match: ProbeMatch): Promise<NodeTrace> {
  await removeStaleTraces(netns, backend);
  const table = `${tablePrefix}${process.pid}`;
  const monitorArgv = backend === 'nft' ? ['nft', 'monitor'] : ['stdbuf', '-oL', 'xtables-monitor', '--trace', '--event'];
  const [file, ...args] = netnsExecArgv(netns, monitorArgv);
  const monitor: ChildProcess = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: KernelTraceEvent[] = [];
  let listening = false;
  let buffered = '';
  let stderr = '';
  const readyMark = backend === 'nft' ? `ip ${table}` : `${commentPrefix}${process.pid}`;
  const trace: NodeTrace = { node, events, stop: async () => {} };
  monitor.stderr!.on('data', (d) => (stderr += d));
  monitor.stdout!.setEncoding('utf8');
  monitor.stdout!.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      if (!listening && line.includes(readyMark) && !line.includes('trace id')) listening = true;
      const event = backend === 'nft' ? parseNftTraceLine(line) : parseXtablesTraceLine(line);
      if (!event) continue;
      // Our own marking rule's hops say nothing about the path.
      if (event.table === table || (backend === 'xtables' && event.table === 'raw')) continue;
      events.push(event);
      trace.onEvent?.(event);
    }
  });
  const monitorGone = new Promise<void>((resolve) => monitor.on('close', () => resolve()));
  monitor.on('error', () => {});

  let rawTableExisted = true;
  const install = async () => {
    if (backend === 'nft') {
      await inNetns(netns, ['nft', '-f', '-'], nftTable(match));
    } else {
      const rule = iptablesRule(match);
      await inNetns(netns, ['iptables', '-w', '-t', 'raw', '-I', 'PREROUTING', ...rule]);
      await inNetns(netns, ['iptables', '-w', '-t', 'raw', '-I', 'OUTPUT', ...rule]);
    }
  };
  const uninstall = async () => {
    if (backend === 'nft') {
      await inNetns(netns, ['nft', 'delete', 'table', 'ip', table]).catch(() => {});
      return;
    }
    const rule = iptablesRule(match);
    for (const chain of ['PREROUTING', 'OUTPUT']) {
      // -D removes one copy: a re-installed rule may be there twice.
      for (let i = 0; i < 3; i++) {
        try {
          await inNetns(netns, ['iptables', '-w', '-t', 'raw', '-D', chain, ...rule]);
        } catch {
          break;
        }
      }
    }
    // A raw table that only we made is removed again.
    if (!rawTableExisted) {
      const { stdout } = await inNetns(netns, ['iptables', '-w', '-t', 'raw', '-S']).catch(() => ({ stdout: '-A' }));
      if (!stdout.includes('-A ')) await inNetns(netns, ['nft', 'delete', 'table', 'ip', 'raw']).catch(() => {});
    }
  };
  let stopped = false;
  trace.stop = async () => {
    if (stopped) return;
    stopped = true;
    await uninstall();
    monitor.kill('SIGTERM');
    await Promise.race([monitorGone, new Promise((r) => setTimeout(r, 500))]);
    monitor.kill('SIGKILL');
  };
  try {
    if (backend === 'xtables') {
      rawTableExisted = await inNetns(netns, ['nft', 'list', 'table', 'ip', 'raw']).then(
        () => true,
        (e: unknown) => !(e instanceof CommandError),
      );
    }
    await install();
    // Until the monitor shows it listens: it may subscribe after our change, so changes are made again.
    const deadline = Date.now() + 3_000;
    let poke = 0;
    while (!listening) {
      if (monitor.exitCode !== null || monitor.signalCode !== null) throw new Error(`${monitorArgv.join(' ')} in ${netns} exited: ${stderr.trim() || monitor.exitCode}`);
      if (Date.now() > deadline) throw new Error(`${monitorArgv.join(' ')} in ${netns} did not start listening within 3 s`);
      await new Promise((r) => setTimeout(r, 20));
      if (!listening && ++poke % 5 === 0) {
        if (backend === 'nft') await inNetns(netns, ['nft', 'add', 'chain', 'ip', table, `ready-${poke}`]);
        else {
          await uninstall();
          await install();
        }
      }
    }
  } catch (e) {
    await trace.stop();
    throw e;
  }
  return trace;
}
