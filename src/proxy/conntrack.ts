// UDP conntrack cleanup for the kernel modes (pkg/proxy/conntrack/cleanup.go):
// NATed UDP flows outlive rule changes, so a client would keep sending to an
// endpoint that is gone — upstream's most recurring UDP bug. After each sync:
// flows from a service address to a removed endpoint are deleted, and flows
// to a service address that had no endpoints (stuck on REJECT) are deleted
// once it has some. Pure planning plus a runner for the `conntrack` tool.
import { run, CommandError } from '../net/ip.js';
import { logger } from '../util/log.js';
import { diffSnapshots, servicePortKey, type ProxySnapshot, type ServicePortEntry, type SnapshotDiff } from './snapshot.js';

const log = logger('proxy');

/** conntrack(8) arguments, one deletion each. */
export type ConntrackDeletion = string[];

function serviceIPs(e: ServicePortEntry): string[] {
  return [...new Set([e.info.clusterIP, ...e.info.externalIPs, ...e.info.loadBalancerIPs].filter(Boolean))];
}

/** What to delete after syncing from `before` to `after` (UDP only; TCP and SCTP recover on their own). */
export function planConntrackCleanup(diff: SnapshotDiff, before: ProxySnapshot | undefined, after: ProxySnapshot): ConntrackDeletion[] {
  const out: ConntrackDeletion[] = [];
  const seen = new Set<string>();
  const add = (args: string[]) => {
    const k = args.join(' ');
    if (seen.has(k)) return;
    seen.add(k);
    out.push(args);
  };
  for (const { servicePort, endpoint } of diff.removedEndpoints) {
    if (servicePort.protocol !== 'UDP') continue;
    const e = before?.servicePorts.get(servicePortKey(servicePort)) ?? after.servicePorts.get(servicePortKey(servicePort));
    if (!e) continue;
    for (const ip of serviceIPs(e)) add(['-D', '--orig-dst', ip, '--dst-nat', endpoint.ip, '-p', 'udp']);
    if (e.info.nodePort) add(['-D', '-p', 'udp', '--dport', String(e.info.nodePort), '--dst-nat', endpoint.ip]);
  }
  for (const name of diff.becameReachable) {
    if (name.protocol !== 'UDP') continue;
    const e = after.servicePorts.get(servicePortKey(name));
    if (!e) continue;
    for (const ip of serviceIPs(e)) add(['-D', '--orig-dst', ip, '-p', 'udp']);
    if (e.info.nodePort) add(['-D', '-p', 'udp', '--dport', String(e.info.nodePort)]);
  }
  return out;
}

/** Runs the deletions; "0 flow entries have been deleted" (exit 1) is success. Returns how many commands failed otherwise. */
export async function runConntrackCleanup(deletions: ConntrackDeletion[]): Promise<number> {
  let failed = 0;
  for (const args of deletions) {
    try {
      await run(['conntrack', ...args]);
    } catch (e) {
      if (e instanceof CommandError && /0 flow entries have been deleted/.test(e.stderr)) continue;
      failed++;
    }
  }
  return failed;
}

/** After a kernel mode applied `after` over `before`: deletes the UDP flows that change strands, and says if some could not be. */
export async function cleanupConntrackAfterSync(before: ProxySnapshot | undefined, after: ProxySnapshot): Promise<void> {
  const deletions = planConntrackCleanup(diffSnapshots(before, after), before, after);
  if (!deletions.length) return;
  const failed = await runConntrackCleanup(deletions);
  if (failed) log.warn('conntrack cleanup failed for some UDP flows', { failed, of: deletions.length });
}
