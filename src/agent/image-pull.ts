// The kubelet's image manager (pkg/kubelet/images/image_manager.go) for the
// images kubesvc does not build in: EnsureImageExists over the node's image
// store (../oci/image-store.ts), with the pull policy (defaulted as the API
// server does), the pod's imagePullSecrets matched as the kubelet's keyring
// does, the per pod and image back-off (10 s doubling to 5 min), and the
// kubelet's events: Pulling, Pulled, Failed, BackOff, ErrImageNeverPull,
// InspectFailed. What it returns is the image to run, or why the container
// waits (ErrImagePull, ImagePullBackOff, ErrImageNeverPull, InvalidImageName).
// Which images are built in instead, present on the machine without a pull,
// is the node's image source's to say (./image-source.ts).
import type { Container, Pod } from '../api/types.js';
import { credentialsFor, type PullSecret } from '../oci/docker-config.js';
import type { ImageConfig, ImageRecord, ImageStore, PullPolicy } from '../oci/image-store.js';
import { parseImageReference } from '../oci/reference.js';
import { formatGoDuration } from '../util/go-duration.js';
import { errorMessage } from '../util/errors.js';
import type { ObjectLookup } from './config-sources.js';
import { isInBackOff, nextBackoff, type BackoffEntry } from './pod-actions.js';
import { isBuiltinImage } from './image-resolve.js';

/** The image of a container, ready to run. */
export interface ReadyImage {
  kind: 'ready';
  record: ImageRecord;
  config: ImageConfig;
  /** Its layers' directories, top first. */
  layers: string[];
}

/** Why the container waits; `retryMs`: when to look again. */
export interface ImageWaiting {
  kind: 'waiting';
  reason: 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'InvalidImageName';
  message: string;
  retryMs?: number;
}

export type ImageOutcome = ReadyImage | ImageWaiting;

export type ImageEvent = (type: 'Normal' | 'Warning', reason: string, message: string) => void;

export interface ImageManager {
  /** Whether the node runs `image` as kubesvc's built-in implementation: present on the machine, never pulled. */
  runsBuiltin(image: string): boolean;
  /** EnsureImageExists: the container's image present as its pull policy asks, or why it waits. */
  ensureImage(pod: Pod, c: Container, event: ImageEvent): Promise<ImageOutcome>;
  /** The pod is gone: its back-off entries go. */
  forgetPod(uid: string): void;
}

export interface ImageManagerOptions {
  /** The node's image store (what of it the manager uses). */
  store: Pick<ImageStore, 'pull' | 'resolveLocal' | 'imageConfig' | 'layerDirs'>;
  getSecret: ObjectLookup['getSecret'];
  /** Which images run built in (./image-source.ts's builtinImagePolicy); by default every image kubesvc implements. */
  runsBuiltin?: (image: string) => boolean;
  /** The clock (ms since the epoch); Date.now by default. */
  now?: () => number;
}

/** The API server's default (SetDefaults_Container): Always when the tag is "latest" (no tag and no digest: latest), else IfNotPresent. */
export function defaultPullPolicy(image: string): PullPolicy {
  const name = image.split('@')[0]!;
  const last = name.slice(name.lastIndexOf('/') + 1);
  const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : image.includes('@') ? '' : 'latest';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** The container's pull policy: its own, else the default for its image. */
export function pullPolicyOf(c: Pick<Container, 'image' | 'imagePullPolicy'>): PullPolicy {
  const p = c.imagePullPolicy;
  return p === 'Always' || p === 'IfNotPresent' || p === 'Never' ? p : defaultPullPolicy(c.image ?? '');
}

/** The Pulled event's message: the pull's time (Go's Duration, truncated to ms) and the image's size. */
export function pulledMessage(image: string, pullMs: number, totalMs: number, size: number): string {
  const d = (ms: number) => formatGoDuration(Math.trunc(ms));
  return `Successfully pulled image ${JSON.stringify(image)} in ${d(pullMs)} (${d(totalMs)} including waiting). Image size: ${size} bytes.`;
}

/** getPullSecretsForPod: the pod's imagePullSecrets that exist; the names of those that do not. */
async function pullSecrets(pod: Pod, getSecret: ObjectLookup['getSecret']): Promise<{ secrets: PullSecret[]; missing: string[] }> {
  const secrets: PullSecret[] = [];
  const missing: string[] = [];
  const namespace = pod.metadata?.namespace ?? 'default';
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    if (!ref.name) continue;
    const s = await getSecret(namespace, ref.name).catch(() => undefined);
    if (s) secrets.push({ type: s.type, data: s.data as Record<string, string> | undefined });
    else missing.push(ref.name);
  }
  return { secrets, missing };
}

/** The kubelet's pod worker retries a sync that failed (ErrImagePull) after this long (backOffPeriod). */
const podWorkerBackOffMs = 10_000;

const errReason = (e: unknown) => (e as { reason?: string }).reason;

export function createImageManager(o: ImageManagerOptions): ImageManager {
  const now = o.now ?? Date.now;
  const backoffs = new Map<string, BackoffEntry>();
  // The last failed pull of each pod and image: until the pod worker's retry
  // is due, a sync (another pod update) shows it unchanged, as the kubelet,
  // which does not sync the pod again before then, would.
  const failures = new Map<string, { at: number; message: string; backoffReported?: boolean }>();

  async function ready(image: string): Promise<ReadyImage> {
    const record = o.store.resolveLocal(image)!;
    return { kind: 'ready', record, config: await o.store.imageConfig(record.ref), layers: o.store.layerDirs(record.ref) };
  }

  async function ensureImage(pod: Pod, c: Container, event: ImageEvent): Promise<ImageOutcome> {
    const image = c.image ?? '';
    try {
      parseImageReference(image);
    } catch (e) {
      event('Warning', 'InspectFailed', errorMessage(e));
      return { kind: 'waiting', reason: 'InvalidImageName', message: errorMessage(e) };
    }
    const policy = pullPolicyOf(c);
    const present = o.store.resolveLocal(image) !== undefined;
    if (policy !== 'Always' && present) {
      event('Normal', 'Pulled', `Container image ${JSON.stringify(image)} already present on machine`);
      return ready(image);
    }
    if (policy === 'Never') {
      const message = `Container image ${JSON.stringify(image)} is not present with pull policy of Never`;
      event('Warning', 'ErrImageNeverPull', message);
      return { kind: 'waiting', reason: 'ErrImageNeverPull', message };
    }
    const key = `${pod.metadata?.uid}_${image}`;
    const entry = backoffs.get(key);
    const t = now();
    const failed = failures.get(key);
    if (failed && t - failed.at < podWorkerBackOffMs) return { kind: 'waiting', reason: 'ErrImagePull', message: failed.message, retryMs: failed.at + podWorkerBackOffMs - t };
    if (entry && isInBackOff(entry, entry.lastUpdate, t)) {
      const message = `Back-off pulling image ${JSON.stringify(image)}`;
      if (!failed?.backoffReported) event('Normal', 'BackOff', message);
      if (failed) failed.backoffReported = true;
      return { kind: 'waiting', reason: 'ImagePullBackOff', message, retryMs: entry.lastUpdate + entry.backoffMs - t };
    }
    const { secrets, missing } = await pullSecrets(pod, o.getSecret);
    if (missing.length) {
      event('Warning', 'FailedToRetrieveImagePullSecret', `Unable to retrieve some image pull secrets (${missing.join(', ')}); attempting to pull the image may not succeed.`);
    }
    event('Normal', 'Pulling', `Pulling image ${JSON.stringify(image)}`);
    const started = now();
    try {
      const record = await o.store.pull(image, { policy, credentials: credentialsFor(parseImageReference(image).name, secrets) });
      backoffs.delete(key);
      failures.delete(key);
      const ms = now() - started;
      event('Normal', 'Pulled', pulledMessage(image, ms, ms, record.size));
      return ready(image);
    } catch (e) {
      const message = errorMessage(e);
      event('Warning', 'Failed', `Failed to pull image ${JSON.stringify(image)}: ${message}`);
      const next = nextBackoff(entry, t, now());
      backoffs.set(key, next);
      failures.set(key, { at: now(), message });
      if (errReason(e) === 'ErrImageNeverPull') return { kind: 'waiting', reason: 'ErrImageNeverPull', message };
      // Looked at again when the pod worker retries a failed sync (its 10 s back-off period):
      // a pull again after the first failure, the back-off (doubled) after the next.
      return { kind: 'waiting', reason: 'ErrImagePull', message, retryMs: podWorkerBackOffMs };
    }
  }

  return {
    runsBuiltin: o.runsBuiltin ?? isBuiltinImage,
    ensureImage,
    forgetPod(uid) {
      for (const map of [backoffs, failures]) for (const key of map.keys()) if (key.startsWith(`${uid}_`)) map.delete(key);
    },
  };
}
