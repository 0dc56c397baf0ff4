// A pulled image's config merged with its container as the kubelet and
// containerd's CRI plugin do it: the container's command replaces the
// image's Entrypoint and drops its Cmd, the container's args replace Cmd;
// the image's Env comes first and the container's env wins; the container's
// workingDir, else the image's; the image's USER unless the securityContext
// names runAsUser; and the kubelet's refusal to run a root image under
// runAsNonRoot (verifyRunAsNonRoot). The image's StopSignal is what stops
// the container (containerd's StopContainer), SIGTERM when it names none.
import { constants as osConstants } from 'node:os';
import type { Container, Pod } from '../api/types.js';
import type { ImageRuntimeConfig } from '../oci/media-types.js';
import { effectiveSecurityContext } from './oci/security.js';
import { runAsNonRootError } from './oci/user.js';
import { formatPod } from './pod-actions.js';

/** What a container of the image runs. */
export interface MergedImageConfig {
  /** The command line; empty when neither the image nor the container names one. */
  argv: string[];
  /** The image's Env, to go under the container's. */
  env: Record<string, string>;
  workingDir?: string;
  /** The image's USER; undefined for root. */
  user?: string;
  /** The image's StopSignal; undefined: SIGTERM. */
  stopSignal?: NodeJS.Signals;
}

/**
 * An image's StopSignal ("SIGQUIT", "QUIT" or "3", as docker's
 * signal.ParseSignal takes it); undefined when it names no signal this
 * system has.
 */
export function parseStopSignal(text: string | undefined): NodeJS.Signals | undefined {
  const t = (text ?? '').trim().toUpperCase();
  if (!t) return undefined;
  const signals = osConstants.signals as Record<string, number>;
  if (/^\d+$/.test(t)) return Object.keys(signals).find((name) => signals[name] === Number(t)) as NodeJS.Signals | undefined;
  const name = t.startsWith('SIG') ? t : `SIG${t}`;
  return name in signals ? (name as NodeJS.Signals) : undefined;
}

/** The command line: command replaces Entrypoint and drops Cmd; args replace Cmd. */
export function imageArgv(config: ImageRuntimeConfig, command: string[] | undefined, args: string[] | undefined): string[] {
  if (command?.length) return [...command, ...(args ?? [])];
  return [...(config.Entrypoint ?? []), ...(args?.length ? args : (config.Cmd ?? []))];
}

/** The image's Env entries ("NAME=value") as a map, in order; a later name replaces an earlier one. */
export function imageEnv(config: ImageRuntimeConfig): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of config.Env ?? []) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    else if (entry) env[entry] = '';
  }
  return env;
}

/** The container's run of the image (command and args already expanded with the container's env). */
export function mergeImageConfig(config: ImageRuntimeConfig, c: Pick<Container, 'workingDir'> & { command?: string[]; args?: string[] }): MergedImageConfig {
  return {
    argv: imageArgv(config, c.command, c.args),
    env: imageEnv(config),
    workingDir: c.workingDir || config.WorkingDir || undefined,
    user: config.User || undefined,
    stopSignal: parseStopSignal(config.StopSignal),
  };
}

/** verifyRunAsNonRoot for a container of an image whose USER is `imageUser`: the refusal, or undefined. */
export function nonRootRefusal(pod: Pod, c: Container, imageUser: string | undefined): string | undefined {
  const sc = effectiveSecurityContext(pod.spec?.securityContext, c.securityContext);
  return runAsNonRootError({ runAsNonRoot: sc.runAsNonRoot, runAsUser: sc.runAsUser ?? undefined, imageUser, pod: formatPod(pod), container: c.name });
}
