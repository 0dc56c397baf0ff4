// The user a container's process runs as: the securityContext's runAsUser /
// runAsGroup, else the image's USER, looked up in the image's /etc/passwd
// and /etc/group as containerd does (a numeric uid missing from passwd runs
// with gid 0; a name must exist), plus the supplemental groups: the user's
// groups from /etc/group, the pod's supplementalGroups and fsGroup.
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { ContainerSpecError } from './spec-error.js';
import type { OciUser } from './types.js';

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/**
 * The lines of `<etc>/<file>`, or none when it is missing or leads outside
 * `etc`'s tree (an image's /etc/passwd that links to the host's files).
 */
function etcLines(etc: string, file: string): string[][] {
  try {
    const path = realpathSync(join(etc, file));
    const root = realpathSync(join(etc, '..'));
    if (root !== '/' && !path.startsWith(`${root}/`)) return [];
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

const numeric = (s: string) => /^\d+$/.test(s);

function passwd(etc: string): PasswdEntry[] {
  return etcLines(etc, 'passwd')
    .filter((f) => f.length >= 4 && numeric(f[2]!) && numeric(f[3]!))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) }));
}

function groups(etc: string): GroupEntry[] {
  return etcLines(etc, 'group')
    .filter((f) => f.length >= 3 && numeric(f[2]!))
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }));
}

export interface UserInput {
  /** The directory holding passwd and group: the image root's etc/, or /etc for the host's files. */
  etc: string;
  /** The effective securityContext's runAsUser / runAsGroup (the container's over the pod's). */
  runAsUser?: number;
  runAsGroup?: number;
  /** The image's USER ("name", "uid", "name:group", "uid:gid"); "" or undefined for root. */
  imageUser?: string;
  /** The pod's supplementalGroups and fsGroup. */
  supplementalGroups?: number[];
  fsGroup?: number;
  /** Merge (the default) adds the user's groups from /etc/group; Strict only the pod's. */
  supplementalGroupsPolicy?: 'Merge' | 'Strict';
}

/**
 * The user string the CRI hands the runtime: runAsUser (with runAsGroup)
 * when set, else the image's user (whose group part the kubelet drops: it
 * passes on the image's uid or name alone) with runAsGroup.
 */
function userString(o: UserInput): string {
  const user = o.runAsUser !== undefined ? String(o.runAsUser) : (o.imageUser ?? '').split(':')[0] || '0';
  return o.runAsGroup !== undefined ? `${user}:${o.runAsGroup}` : user;
}

/** The process user of the spec. */
export function resolveUser(o: UserInput): OciUser {
  const [userPart, groupPart] = userString(o).split(':') as [string, string | undefined];
  const users = passwd(o.etc);
  let uid: number;
  let gid = 0;
  let name: string | undefined;
  if (numeric(userPart)) {
    uid = Number(userPart);
    const entry = users.find((u) => u.uid === uid);
    if (entry) ({ gid, name } = entry);
  } else {
    const entry = users.find((u) => u.name === userPart);
    if (!entry) throw new ContainerSpecError(`unable to find user ${userPart}: no matching entries in passwd file`);
    ({ uid, gid, name } = entry);
  }
  const groupList = groups(o.etc);
  if (groupPart !== undefined) {
    if (numeric(groupPart)) gid = Number(groupPart);
    else {
      const g = groupList.find((e) => e.name === groupPart);
      if (!g) throw new ContainerSpecError(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  const extra = new Set<number>([gid, ...(o.supplementalGroups ?? [])]);
  if (o.fsGroup !== undefined) extra.add(o.fsGroup);
  if (o.supplementalGroupsPolicy !== 'Strict' && name !== undefined) {
    for (const g of groupList) if (g.name !== name && g.members.includes(name)) extra.add(g.gid);
  }
  return { uid, gid, additionalGids: [...extra].sort((a, b) => a - b) };
}

/**
 * verifyRunAsNonRoot: the kubelet's refusal to start a container that would
 * run as root when runAsNonRoot is set (undefined when it may start).
 */
export function runAsNonRootError(o: { runAsNonRoot?: boolean; runAsUser?: number; imageUser?: string; pod: string; container: string }): string | undefined {
  if (!o.runAsNonRoot) return undefined;
  const where = `(pod: "${o.pod}", container: ${o.container})`;
  if (o.runAsUser !== undefined) return o.runAsUser === 0 ? `container's runAsUser breaks non-root policy ${where}` : undefined;
  const user = (o.imageUser ?? '').split(':')[0] || '0';
  if (!numeric(user)) return `container has runAsNonRoot and image has non-numeric user (${user}), cannot verify user is non-root ${where}`;
  return Number(user) === 0 ? `container has runAsNonRoot and image will run as root ${where}` : undefined;
}
