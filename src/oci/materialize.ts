// From a manifest whose blobs are all in the store to an image the runtime
// can use: its config read and checked, each layer unpacked (once), and the
// record the index keeps for its reference.
import { digestOf } from './digest.js';
import type { ImageRecord, LayerRecord } from './image-index.js';
import type { BlobStore } from './blob-store.js';
import type { LayerStore } from './layer-store.js';
import { mapLimit } from './limit.js';
import { type Descriptor, type ImageConfigFile, type ImageManifest } from './media-types.js';
import type { ImageReference } from './reference.js';

export interface Stores {
  blobs: BlobStore;
  layers: LayerStore;
}

/** A manifest's config, parsed and checked against its layers. */
export async function readConfig(blobs: BlobStore, manifest: ImageManifest): Promise<ImageConfigFile> {
  const config = JSON.parse((await blobs.read(manifest.config.digest)).toString('utf8')) as ImageConfigFile;
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new Error(`mismatched image rootfs and manifest layers: the config names ${diffIds.length} diff IDs for ${manifest.layers.length} layers`);
  }
  return config;
}

/**
 * Unpacks the layers of `manifest` (blobs already stored) and returns the
 * record of `ref`. `resolved` is what the reference named (an index or this
 * manifest).
 */
export async function materialize(stores: Stores, ref: ImageReference, resolved: Descriptor, manifestDesc: Descriptor, manifest: ImageManifest): Promise<ImageRecord> {
  const config = await readConfig(stores.blobs, manifest);
  const layers: LayerRecord[] = manifest.layers.map((l, i) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size, diffId: config.rootfs.diff_ids[i]! }));
  await mapLimit(layers, 2, (l) => stores.layers.ensure(l.diffId, stores.blobs.path(l.digest)));
  return {
    ref: ref.normalized,
    name: ref.name,
    tag: ref.tag,
    digest: resolved.digest,
    mediaType: resolved.mediaType,
    manifest: manifestDesc.digest,
    config: manifest.config.digest,
    layers,
    size: manifestDesc.size + manifest.config.size + layers.reduce((n, l) => n + l.size, 0),
    stored: new Date().toISOString(),
  };
}

/** The descriptor of a document stored as JSON. */
export function describe(data: Buffer, mediaType: string): Descriptor {
  return { mediaType, digest: digestOf(data), size: data.length };
}
