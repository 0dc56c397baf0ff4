// Pulls one image from its registry into the store, as containerd's CRI
// PullImage does: resolve the reference, fetch the manifest (an index or
// manifest list resolved to this platform), the config and every layer blob
// the store lacks — each checked against its digest and size — then unpack
// the layers. Errors carry containerd's words, prefixed as the kubelet
// shows them: failed to pull and unpack image "REF": …. A registry with a
// mirror is pulled from the mirror alone (registry-mirrors.ts); the image
// keeps its own name.
import type { BlobStore } from './blob-store.js';
import type { ImageRecord } from './image-index.js';
import { mapLimit } from './limit.js';
import { materialize, type Stores } from './materialize.js';
import { parseManifestDocument, type Descriptor, type ImageManifest, type Platform } from './media-types.js';
import { hostPlatform, selectManifest } from './platform.js';
import type { ImageReference } from './reference.js';
import type { RegistryCredentials } from './registry-auth.js';
import { RegistryClient } from './registry-client.js';
import { mirrorFor, type RegistryMirrors } from './registry-mirrors.js';
import { NotFoundError } from './registry-errors.js';

/** A pull that failed: the container waits with reason ErrImagePull. */
export class ImagePullError extends Error {
  readonly reason = 'ErrImagePull';
}

export interface RegistryPullOptions {
  credentials?: RegistryCredentials;
  /** Plain HTTP from the start (loopback registries only). */
  plainHttp?: boolean;
  platform?: Platform;
  fetch?: typeof fetch;
  /**
   * Mirrors by registry: the image's registry, if it has one here, is
   * reached only through it (credentials matched to the registry go to it).
   */
  mirrors?: RegistryMirrors;
}

async function fetchInto(blobs: BlobStore, client: RegistryClient, desc: Descriptor, kind: 'manifests' | 'blobs'): Promise<void> {
  if (blobs.has(desc.digest)) return;
  await blobs.write(desc, await client.fetch(desc, kind));
}

/** The manifest (JSON) of `desc`, fetched into the store; an index is resolved to `platform`'s entry. */
async function fetchManifest(blobs: BlobStore, client: RegistryClient, desc: Descriptor, platform: Platform): Promise<{ desc: Descriptor; manifest: ImageManifest }> {
  for (let depth = 0; depth < 4; depth++) {
    await fetchInto(blobs, client, desc, 'manifests');
    const doc = parseManifestDocument(await blobs.read(desc.digest), desc.mediaType);
    if (doc.manifest) return { desc: { ...desc, mediaType: doc.mediaType }, manifest: doc.manifest };
    const chosen = selectManifest(doc.index!.manifests, platform);
    if (!chosen) throw new NotFoundError('no match for platform in manifest: not found');
    desc = chosen;
  }
  throw new Error('manifest lists nested too deep');
}

/** Pulls `ref` with one set of credentials (or none) into the stores; returns the image's record (not yet in the index). */
export async function pullFromRegistry(stores: Stores, ref: ImageReference, opts: RegistryPullOptions = {}): Promise<ImageRecord> {
  const fail = (e: unknown) => new ImagePullError(`failed to pull and unpack image ${JSON.stringify(ref.normalized)}: ${(e as Error).message}`);
  let client: RegistryClient;
  let resolved: Descriptor;
  try {
    const mirror = mirrorFor(opts.mirrors, ref.domain);
    client = new RegistryClient(ref.domain, ref.path, { credentials: opts.credentials, plainHttp: opts.plainHttp, fetch: opts.fetch, mirror });
    resolved = await client.resolve(ref.digest ?? ref.tag!, ref.normalized);
  } catch (e) {
    throw fail(new Error(`failed to resolve reference ${JSON.stringify(ref.normalized)}: ${(e as Error).message}`));
  }
  try {
    const { desc, manifest } = await fetchManifest(stores.blobs, client, resolved, opts.platform ?? hostPlatform());
    const blobs = [manifest.config, ...manifest.layers];
    await mapLimit(blobs, 3, (b) => fetchInto(stores.blobs, client, b, 'blobs'));
    return await materialize(stores, ref, { ...resolved, mediaType: resolved.mediaType || desc.mediaType }, desc, manifest);
  } catch (e) {
    throw fail(e);
  }
}
