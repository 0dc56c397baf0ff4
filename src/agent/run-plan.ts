// What a container's run is made of, before the runtime makes it a process:
// for a built-in image (./image-resolve.ts; which images run built in is
// the image manager's to say, after `up --images`: ./image-source.ts), its
// argv, environment and private files, run on the host view (the node's own
// files, read-only); for any other image, the image made present by the image manager
// (./image-pull.ts) and its config merged with the container
// (./image-config.ts), run on its layers. Both under the OCI launcher.
import type { Container, Pod } from '../api/types.js';
import { mergeImageConfig, nonRootRefusal } from './image-config.js';
import type { ImageEvent, ImageManager } from './image-pull.js';
import { resolveImage } from './image-resolve.js';
import type { ImagePlan } from './contracts.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface RunPlan {
  /** A built-in image (its root is the host view): the kubesvc program implementing it, if any (none: the node's own programs run the command). */
  builtin?: { program?: string };
  argv: string[];
  /** The environment under the container's own env (the image's). */
  env: Record<string, string>;
  workingDir?: string;
  /** A built-in image's private files. */
  files?: Extract<ImagePlan, { kind: 'run' }>['files'];
  /** A pulled image's layers (top first), USER, reference and ID as the status shows them. */
  layers?: string[];
  imageUser?: string;
  /** A pulled image's StopSignal (none: SIGTERM). */
  stopSignal?: NodeJS.Signals;
  image?: string;
  imageID?: string;
}

export type PlanOutcome = { kind: 'run'; plan: RunPlan } | { kind: 'waiting'; reason: string; message: string; retryMs?: number };

export interface PlanInput {
  pod: Pod;
  container: Container;
  /** The container's command and args, expanded with its environment. */
  command?: string[];
  args?: string[];
  /** The container's hostname (HOSTNAME of a built-in image's process). */
  hostname: string;
  /** None: every image is resolved as a built-in one (an unknown one waits, or runs its command on the host). */
  images?: ImageManager;
  event: ImageEvent;
}

/** The container's run, or why it waits. */
export async function planRun(i: PlanInput): Promise<PlanOutcome> {
  const image = i.container.image ?? '';
  if (!i.images || i.images.runsBuiltin(image)) {
    const plan = resolveImage({ image, command: i.command, args: i.args });
    if (plan.kind === 'waiting') return plan;
    return {
      kind: 'run',
      plan: {
        builtin: { program: plan.program },
        argv: plan.argv,
        env: { PATH: DEFAULT_PATH, HOSTNAME: i.hostname, HOME: '/root', ...plan.env },
        workingDir: i.container.workingDir,
        files: plan.files,
      },
    };
  }
  const ready = await i.images.ensureImage(i.pod, i.container, i.event);
  if (ready.kind === 'waiting') return ready;
  const merged = mergeImageConfig(ready.config, { workingDir: i.container.workingDir, command: i.command, args: i.args });
  const refusal = nonRootRefusal(i.pod, i.container, merged.user);
  if (refusal) return { kind: 'waiting', reason: 'CreateContainerConfigError', message: refusal };
  if (!merged.argv.length) return { kind: 'waiting', reason: 'CreateContainerError', message: 'failed to generate container spec: no command specified' };
  return {
    kind: 'run',
    plan: {
      argv: merged.argv,
      env: merged.env,
      workingDir: merged.workingDir,
      layers: ready.layers,
      imageUser: merged.user,
      stopSignal: merged.stopSignal,
      image: ready.record.ref,
      imageID: `${ready.record.name}@${ready.record.digest}`,
    },
  };
}
