// The host programs a node runs, and the package that has each on the
// distributions whose package manager `up` can drive. Pure data and PATH
// look-ups; installing is install.ts's.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export type PackageManager = 'apt-get' | 'dnf' | 'apk';

export interface HostTool {
  /** The program looked for on PATH. */
  name: string;
  /** The package that has it, per package manager. */
  packages: Record<PackageManager, string>;
}

const tool = (name: string, apt: string, dnf: string, apk: string): HostTool => ({ name, packages: { 'apt-get': apt, dnf, apk } });

const ip = tool('ip', 'iproute2', 'iproute', 'iproute2');
const setpriv = tool('setpriv', 'util-linux', 'util-linux', 'util-linux');
const unshare = tool('unshare', 'util-linux', 'util-linux', 'util-linux');
const nsenter = tool('nsenter', 'util-linux', 'util-linux', 'util-linux');
const sysctl = tool('sysctl', 'procps', 'procps-ng', 'procps-ng');
const iptablesRestore = tool('iptables-restore', 'iptables', 'iptables-nft', 'iptables');
const nft = tool('nft', 'nftables', 'nftables', 'nftables');
const conntrack = tool('conntrack', 'conntrack', 'conntrack-tools', 'conntrack-tools');
const curl = tool('curl', 'curl', 'curl', 'curl');
const dig = tool('dig', 'dnsutils', 'bind-utils', 'bind-tools');
const crun = tool('crun', 'crun', 'crun', 'crun');
const runc = tool('runc', 'runc', 'runc', 'runc');
const setfattr = tool('setfattr', 'attr', 'attr', 'attr');

/**
 * What every node runs: namespaces, links and sysctls, and every container's
 * OCI runtime — runc, which runs on both cgroup layouts — with setfattr for
 * the overlay whiteouts of image layers.
 */
export const nodeTools: readonly HostTool[] = [ip, setpriv, unshare, nsenter, sysctl, runc, setfattr];

/** Each proxy mode's own programs (ipvs runs as iptables on kernels without IPVS). */
export const proxyModeTools: Readonly<Record<string, readonly HostTool[]>> = {
  iptables: [iptablesRestore, conntrack],
  ipvs: [iptablesRestore, conntrack],
  nftables: [nft, conntrack],
  'nftables-maps': [nft, conntrack],
  userspace: [iptablesRestore],
};

/** crun: the OCI runtime preferred where it accepts the host's cgroups (it starts containers faster); runc otherwise. */
export const ociTools: readonly HostTool[] = [crun];

/**
 * What `up` sets up besides the running mode's programs: every kernel mode's
 * (a mode is switched by editing the kube-proxy ConfigMap, with no restart of
 * `up`), the two clients its ready screen and the README's quickstart use,
 * and crun.
 */
export const clusterExtras: readonly HostTool[] = [iptablesRestore, nft, conntrack, curl, dig, ...ociTools];

/** The Debian package that has `program`, when it is one of the tools above. */
export function debianPackageOf(program: string): string | undefined {
  return [...nodeTools, ...clusterExtras].find((t) => t.name === program)?.packages['apt-get'];
}

export function onPath(program: string, path = process.env.PATH ?? ''): boolean {
  return path.split(':').some((dir) => dir && existsSync(join(dir, program)));
}

/** The tools not found on PATH, each once, in the order given. */
export function missingTools(tools: readonly HostTool[], path?: string): HostTool[] {
  const seen = new Set<string>();
  return tools.filter((t) => !seen.has(t.name) && (seen.add(t.name), !onPath(t.name, path)));
}

/** The packages that have `tools` under `manager`, each once. */
export function packagesFor(tools: readonly HostTool[], manager: PackageManager): string[] {
  return [...new Set(tools.map((t) => t.packages[manager]))];
}
