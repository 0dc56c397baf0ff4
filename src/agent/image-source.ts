// Which images a node runs as kubesvc's own implementation and which it
// pulls (`kubesvc up --images`). builtin, the default: the images kubesvc
// implements (./image-resolve.ts: agnhost, nginx, serve_hostname, busybox,
// …) run built in — instantly, offline, nothing asked of a registry — and
// every other image is pulled. registry: every workload image is pulled,
// the tutorial ones included, so they run as the real images do.
//
// Either way the images kubesvc deploys for the cluster's own components
// (kube-proxy, coredns in kube-system) stay built in: those pods are
// kubesvc's programs, configured with kubesvc's flags (the coredns
// Deployment's `--upstream none`, kube-proxy reading kubesvc's proxy
// configuration), which the real images would not understand. They are told
// apart by the exact references kubesvc deploys (`systemImages`), not by
// name: another tag of kube-proxy, in a user's pod, is pulled in registry
// mode like any image.
import { parseImageReference } from '../oci/reference.js';
import { isBuiltinImage } from './image-resolve.js';

export const IMAGE_MODES = ['builtin', 'registry'] as const;
export type ImageMode = (typeof IMAGE_MODES)[number];

export function isImageMode(value: string): value is ImageMode {
  return (IMAGE_MODES as readonly string[]).includes(value);
}

export interface ImageSource {
  mode: ImageMode;
  /** The images kubesvc deploys for the cluster's components: built in whatever the mode. */
  systemImages?: readonly string[];
}

/** The reference as the store names it (docker.io/library/…:tag), or undefined for a name that does not parse. */
function normalized(image: string): string | undefined {
  try {
    return parseImageReference(image).normalized;
  } catch {
    return undefined;
  }
}

/** Whether a node with `source` runs `image` built in (rather than pulling it). */
export function builtinImagePolicy(source: ImageSource): (image: string) => boolean {
  if (source.mode === 'builtin') return isBuiltinImage;
  const system = new Set((source.systemImages ?? []).map(normalized).filter((n) => n !== undefined));
  return (image) => {
    const name = normalized(image);
    return name !== undefined && system.has(name) && isBuiltinImage(image);
  };
}
