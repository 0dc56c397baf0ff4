// `up`'s first step on Linux as root: the host programs its nodes need. What
// is missing is installed with the system's package manager unless the user
// said not to (--no-install, KUBESVC_NO_INSTALL=1); then, or where nothing can
// be installed, one line says exactly what to run.
import { detectPackageManager, installCommand, InstallError, installPackages, type Progress } from '../host/install.js';
import { clusterExtras, missingTools, nodeTools, packagesFor, proxyModeTools, type HostTool } from '../host/tools.js';

/** KUBESVC_NO_INSTALL set to anything but "", 0 or false turns installing off. */
export function installDisabledByEnv(env = process.env): boolean {
  const v = (env.KUBESVC_NO_INSTALL ?? '').trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false';
}

/** Why this machine cannot run nodes at all (not Linux, not root), or undefined. */
function platformProblem(): string | undefined {
  if (process.platform !== 'linux') return 'nodes need Linux network namespaces; this is ' + process.platform;
  if (process.getuid?.() !== 0) return 'nodes need root (network namespaces, veths, bridges); run as root';
  return undefined;
}

/** How to get `tools`: the exact command for this machine's package manager, or the Debian package names. */
export function howToInstall(tools: readonly HostTool[]): string {
  const manager = detectPackageManager();
  if (manager) return `install them with: ${installCommand(manager, packagesFor(tools, manager)).join(' ')}`;
  const debian = packagesFor(tools, 'apt-get');
  return `install the package${debian.length > 1 ? 's' : ''} that ha${debian.length > 1 ? 've' : 's'} them (Debian: ${debian.join(' ')})`;
}

/** "nodes need …: install them with: …", the command covering `install` (the missing ones and what else is wanted). */
function missingLine(missing: readonly HostTool[], proxyMode: string | undefined, install: readonly HostTool[] = missing): string {
  return `nodes need ${missing.map((t) => t.name).join(', ')}${proxyMode ? ` (proxy mode ${proxyMode})` : ''}: ${howToInstall(install)}`;
}

/** Checks the machine can run nodes (and the proxy mode), with one clear line when it cannot. Installs nothing. */
export function nodePrerequisites(proxyMode?: string): string | undefined {
  const platform = platformProblem();
  if (platform) return platform;
  const missing = missingTools([...nodeTools, ...(proxyMode ? (proxyModeTools[proxyMode] ?? []) : [])]);
  return missing.length ? missingLine(missing, proxyMode) : undefined;
}

/**
 * Sets the host up for nodes running `proxyMode`: installs the missing
 * programs of the nodes, of the kernel proxy modes and of the ready screen's
 * commands (when `install`), in one package manager call. Returns why there
 * can be no nodes, or undefined when they can start. A second start finds
 * everything and runs nothing.
 */
export async function prepareNodeHost(proxyMode: string, install: boolean, progress: Progress): Promise<string | undefined> {
  const platform = platformProblem();
  if (platform) return platform;
  const required = [...nodeTools, ...(proxyModeTools[proxyMode] ?? [])];
  const wanted = missingTools([...required, ...clusterExtras]);
  if (wanted.length === 0) return undefined;
  const manager = detectPackageManager();
  if (install && manager) {
    try {
      await installPackages(manager, packagesFor(wanted, manager), progress);
    } catch (e) {
      if (!(e instanceof InstallError)) throw e;
      progress(`  ✗ ${e.message.replace(/\n/g, '\n    ')}`);
    }
    const missing = missingTools(required);
    return missing.length ? missingLine(missing, proxyMode, missing) : undefined;
  }
  // Nothing is installed: one command for all of it, on the screen's nodes line or on its own.
  const missing = missingTools(required);
  if (missing.length) return missingLine(missing, proxyMode, wanted);
  progress(`  ! not installed: ${wanted.map((t) => t.name).join(', ')} (used by the commands below); ${howToInstall(wanted)}`);
  return undefined;
}
