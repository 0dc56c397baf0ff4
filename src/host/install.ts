// Installs host packages with the system's package manager, as a person would
// type it: `apt-get install -y …` (after `apt-get update` when the machine has
// no package lists yet, as a fresh container has not), `dnf install -y …`,
// `apk add …`. One line before each step and one with its time after.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { onPath, type PackageManager } from './tools.js';

/** The first package manager this machine has (Debian/Ubuntu, Fedora/RHEL, Alpine). */
export function detectPackageManager(path?: string): PackageManager | undefined {
  return (['apt-get', 'dnf', 'apk'] as const).find((m) => onPath(m, path));
}

/** The command that installs `packages`, as it is shown to a person and run. */
export function installCommand(manager: PackageManager, packages: readonly string[]): string[] {
  switch (manager) {
    case 'apt-get':
      return ['apt-get', 'install', '-y', '--no-install-recommends', ...packages];
    case 'dnf':
      return ['dnf', 'install', '-y', ...packages];
    case 'apk':
      return ['apk', 'add', '--no-cache', ...packages];
  }
}

export class InstallError extends Error {}

/** Runs one command to its end, its output kept for the message if it fails. */
function runStep(argv: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    let output = '';
    const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (e) => reject(new InstallError(`${argv.join(' ')}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const tail = output.trim().split('\n').slice(-6).join('\n');
      reject(new InstallError(`${argv.join(' ')} failed (${signal ?? `exit ${code}`})${tail ? `:\n${tail}` : ''}`));
    });
  });
}

function hasAptLists(): boolean {
  try {
    return readdirSync('/var/lib/apt/lists').some((f) => f.endsWith('_Packages') || f.endsWith('_Packages.lz4'));
  } catch {
    return false;
  }
}

export type Progress = (line: string) => void;

/** One step: a line as it starts, one with its time when it is done. */
async function step(doing: string, done: string, argv: readonly string[], progress: Progress): Promise<void> {
  progress(`  … ${doing}`);
  const started = performance.now();
  await runStep(argv);
  progress(`  ✓ ${done} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

/**
 * Installs `packages`. apt-get reads its package lists first when the machine
 * has none, and once more (then tries again) when the install fails on lists
 * that are out of date. Throws InstallError with the tail of the output.
 */
export async function installPackages(manager: PackageManager, packages: readonly string[], progress: Progress): Promise<void> {
  const what = `${packages.join(' ')} (${manager})`;
  const install = () => step(`installing ${what}`, `installed ${packages.join(' ')} with ${manager}`, installCommand(manager, packages), progress);
  const update = () => step('reading the package lists (apt-get update)', 'read the package lists (apt-get update)', ['apt-get', 'update', '-q'], progress);
  if (manager !== 'apt-get') return install();
  if (!hasAptLists()) await update();
  try {
    await install();
  } catch (e) {
    if (!(e instanceof InstallError)) throw e;
    progress(`  ✗ ${e.message.split('\n')[0]}; reading the package lists again`);
    await update();
    await install();
  }
}
