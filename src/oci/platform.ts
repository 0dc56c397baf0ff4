// The platform an image must be for: linux and Node's process.arch as Go
// names it (GOARCH), and the order in which containerd's default platform
// matcher prefers the entries of an index (exact first, then compatible ones:
// an arm64 node also runs arm/v7).
import type { Descriptor, Platform } from './media-types.js';

const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64', mips: 'mips', mipsel: 'mipsle' };

/** The platform of this machine, as containerd's platforms.DefaultSpec. */
export function hostPlatform(arch: string = process.arch): Platform {
  const architecture = goArch[arch] ?? arch;
  if (architecture === 'arm') {
    const v = (process.config.variables as { arm_version?: string }).arm_version;
    return { os: 'linux', architecture, variant: `v${v ?? '7'}` };
  }
  return { os: 'linux', architecture };
}

/** containerd's platforms.Normalize of an architecture's variant. */
function normalizeVariant(architecture: string, variant = ''): string {
  const v = variant.toLowerCase();
  if (architecture === 'arm64' && ['8', 'v8', 'v8.0'].includes(v)) return '';
  if (architecture === 'amd64' && ['1', 'v1'].includes(v)) return '';
  if (architecture === 'arm' && /^\d$/.test(v)) return `v${v}`;
  return v;
}

/** The (architecture, variant) pairs `host` runs, best first. */
function compatible(host: Platform): Array<[string, string]> {
  const variant = normalizeVariant(host.architecture, host.variant);
  switch (host.architecture) {
    case 'amd64':
      return [['amd64', ''], ['amd64', 'v2'], ['amd64', 'v3'], ['amd64', 'v4']];
    case 'arm64':
      return [['arm64', ''], ['arm', 'v8'], ['arm', 'v7'], ['arm', 'v6'], ['arm', 'v5']];
    case 'arm': {
      const n = Number(variant.slice(1)) || 7;
      return [7, 6, 5].filter((v) => v <= n).map((v) => ['arm', `v${v}`] as [string, string]);
    }
    default:
      return [[host.architecture, variant]];
  }
}

/** How well an index entry fits `host`: 0 best, undefined when it does not run there. */
export function platformRank(p: Platform | undefined, host: Platform = hostPlatform()): number | undefined {
  if (!p || p.os !== host.os) return undefined;
  const variant = normalizeVariant(p.architecture, p.variant);
  const i = compatible(host).findIndex(([a, v]) => a === p.architecture && v === variant);
  return i < 0 ? undefined : i;
}

/** The entry of an index containerd would pick for `host`, or undefined ("no match for platform in manifest"). */
export function selectManifest(manifests: Descriptor[], host: Platform = hostPlatform()): Descriptor | undefined {
  let best: Descriptor | undefined;
  let bestRank = Infinity;
  for (const m of manifests) {
    const rank = platformRank(m.platform, host);
    if (rank !== undefined && rank < bestRank) [best, bestRank] = [m, rank];
  }
  return best;
}

export function platformString(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}
