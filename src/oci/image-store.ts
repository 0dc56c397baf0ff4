// The node's image store, everything under <data dir>/images/ (0700):
//   blobs/sha256/<hex>   manifests, indexes, configs and layer blobs, content-addressed
//   layers/<diff hex>/   each layer unpacked once, an overlayfs lower dir
//   index.json           references → images (image-index.ts)
//   ingest/              blobs being written
// What the runtime calls: pull (with the kubelet's pull policies, one pull at
// a time per reference), resolveLocal, imageConfig, layerDirs; and list and
// remove for `kubesvc images`.
import { mkdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { BlobStore } from './blob-store.js';
import { ImageIndex, type ImageRecord } from './image-index.js';
import { LayerStore } from './layer-store.js';
import type { ImageConfigFile, ImageManifest, ImageRuntimeConfig, Platform } from './media-types.js';
import { materialize } from './materialize.js';
import { hostPlatform } from './platform.js';
import { ImagePullError, pullFromRegistry } from './puller.js';
import { parseImageReference, type ImageReference } from './reference.js';
import type { RegistryCredentials } from './registry-auth.js';
import type { RegistryMirrors } from './registry-mirrors.js';
import type { Descriptor } from './media-types.js';

export type { ImageRecord } from './image-index.js';
export type { RegistryCredentials } from './registry-auth.js';

/** The kubelet's imagePullPolicy values. */
export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface PullOptions {
  /**
   * Credentials for the registry: one set, or the kubelet keyring's matches
   * tried in order (the first pull that succeeds wins; all failing gives
   * every error). None means anonymous.
   */
  credentials?: RegistryCredentials | RegistryCredentials[];
  /** Default IfNotPresent. */
  policy?: PullPolicy;
  /** Plain HTTP from the first request; loopback registries only (they fall back to it by themselves). */
  plainHttp?: boolean;
}

export interface ImageStoreOptions {
  platform?: Platform;
  /** The fetch the registry client uses (tests). */
  fetch?: typeof fetch;
  /** Registries' mirrors (registry-mirrors.ts): a pull from one of those registries goes to its mirror only. */
  mirrors?: RegistryMirrors;
}

/** Policy Never and the image is not here: the container waits with reason ErrImageNeverPull. */
export class ImageNeverPullError extends Error {
  readonly reason = 'ErrImageNeverPull';
}

/** No image of that reference in the store. */
export class ImageNotFoundError extends Error {}

/** The image's runtime configuration: what a container of it runs, as the OCI image config has it. */
export interface ImageConfig extends ImageRuntimeConfig {
  /** The image ID (the config's digest). */
  id: string;
  architecture?: string;
  os?: string;
}

/** kubelet's aggregate of errors: one as itself, more as "[a, b]". */
function aggregate(errors: Error[]): Error {
  if (errors.length === 1) return errors[0]!;
  return new ImagePullError(`[${errors.map((e) => e.message).join(', ')}]`);
}

export class ImageStore {
  readonly dir: string;
  readonly blobs: BlobStore;
  readonly layers: LayerStore;
  readonly index: ImageIndex;
  private readonly pulls = new Map<string, Promise<ImageRecord>>();
  private readonly platform: Platform;

  constructor(
    dataDir: string,
    private readonly opts: ImageStoreOptions = {},
  ) {
    this.dir = join(dataDir, 'images');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    this.blobs = new BlobStore(this.dir);
    this.layers = new LayerStore(this.dir);
    this.index = new ImageIndex(this.dir);
    this.platform = opts.platform ?? hostPlatform();
  }

  /**
   * Makes `image` present as `policy` asks and returns it: IfNotPresent (the
   * default) pulls only when absent, Always resolves it again (downloading
   * only blobs not yet stored), Never fails with ErrImageNeverPull when it is
   * absent. Concurrent pulls of one reference share one.
   * Throws InvalidImageNameError, ImageNeverPullError or ImagePullError.
   */
  async pull(image: string, opts: PullOptions = {}): Promise<ImageRecord> {
    // No await before the map is consulted and filled: concurrent callers find each other's pull.
    const ref = parseImageReference(image);
    const policy = opts.policy ?? 'IfNotPresent';
    const local = this.find(ref);
    if (policy === 'Never') {
      if (local) return local;
      throw new ImageNeverPullError(`Container image ${JSON.stringify(image)} is not present with pull policy of Never`);
    }
    if (policy === 'IfNotPresent' && local) return local;
    let p = this.pulls.get(ref.normalized);
    if (!p) {
      p = this.pullNow(ref, opts).finally(() => this.pulls.delete(ref.normalized));
      this.pulls.set(ref.normalized, p);
    }
    return p;
  }

  private async pullNow(ref: ImageReference, opts: PullOptions): Promise<ImageRecord> {
    const sets = opts.credentials === undefined ? [undefined] : Array.isArray(opts.credentials) ? opts.credentials : [opts.credentials];
    const errors: Error[] = [];
    for (const credentials of sets.length ? sets : [undefined]) {
      try {
        const record = await pullFromRegistry(this, ref, { credentials, plainHttp: opts.plainHttp, platform: this.platform, fetch: this.opts.fetch, mirrors: this.opts.mirrors });
        this.put(record);
        return record;
      } catch (e) {
        errors.push(e as Error);
      }
    }
    throw aggregate(errors);
  }

  /** Stores the image of `manifest` (its blobs already in the store) under `ref`: archive loading. */
  async add(ref: ImageReference, resolved: Descriptor, manifestDesc: Descriptor, manifest: ImageManifest): Promise<ImageRecord> {
    const record = await materialize(this, ref, resolved, manifestDesc, manifest);
    this.put(record);
    return record;
  }

  private put(record: ImageRecord): void {
    this.index.update((images) => {
      images[record.ref] = record;
    });
  }

  private find(ref: ImageReference): ImageRecord | undefined {
    const images = this.index.read();
    if (images[ref.normalized]) return images[ref.normalized];
    if (ref.digest) return Object.values(images).find((r) => r.name === ref.name && (r.digest === ref.digest || r.manifest === ref.digest));
    return undefined;
  }

  /** The stored image `image` names (a reference, or an image ID or its unique prefix), or undefined. No network. */
  resolveLocal(image: string): ImageRecord | undefined {
    const id = /^(?:sha256:)?([a-f0-9]{12,64})$/.exec(image)?.[1];
    if (id) {
      const byId = Object.values(this.index.read()).filter((r) => r.config.slice(7).startsWith(id));
      if (new Set(byId.map((r) => r.config)).size === 1) return byId[0];
    }
    try {
      return this.find(parseImageReference(image));
    } catch {
      return undefined;
    }
  }

  private require(image: string): ImageRecord {
    const record = this.resolveLocal(image);
    if (!record) throw new ImageNotFoundError(`no such image ${JSON.stringify(image)} present`);
    return record;
  }

  /** Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts (and the rest of the image config's "config"). */
  async imageConfig(image: string): Promise<ImageConfig> {
    const record = this.require(image);
    const file = JSON.parse((await this.blobs.read(record.config)).toString('utf8')) as ImageConfigFile;
    return { ...(file.config ?? {}), id: record.config, architecture: file.architecture, os: file.os };
  }

  /** The image's unpacked layers as overlayfs lowerdir wants them: the top layer first. */
  layerDirs(image: string): string[] {
    return this.require(image)
      .layers.map((l) => this.layers.path(l.diffId))
      .reverse();
  }

  /** Every stored image, by reference. */
  list(): ImageRecord[] {
    return Object.values(this.index.read()).sort((a, b) => a.ref.localeCompare(b.ref));
  }

  /**
   * Removes `image`: a reference removes that name, an image ID (or unique
   * prefix) every name of the image. Blobs and layers no other image uses are
   * deleted. Returns the removed records; throws ImageNotFoundError.
   */
  async remove(image: string): Promise<ImageRecord[]> {
    const record = this.require(image);
    const byId = /^(?:sha256:)?[a-f0-9]{12,64}$/.test(image) && !image.includes('/');
    const removed: ImageRecord[] = [];
    this.index.update((images) => {
      for (const [key, r] of Object.entries(images)) {
        if (byId ? r.config === record.config : key === record.ref) {
          removed.push(r);
          delete images[key];
        }
      }
    });
    await this.collectGarbage();
    return removed;
  }

  /** Deletes blobs and unpacked layers that no image references (not while a pull of this process runs). */
  async collectGarbage(): Promise<void> {
    if (this.pulls.size) return;
    const keep = new Set<string>();
    for (const r of Object.values(this.index.read())) {
      for (const d of [r.digest, r.manifest, r.config, ...r.layers.flatMap((l) => [l.digest, l.diffId])]) keep.add(d);
    }
    // An index's other platform manifests are dropped with it; the chosen one is kept above.
    for (const d of await this.blobs.list()) if (!keep.has(d)) await this.blobs.remove(d);
    for (const d of await this.layers.list()) if (!keep.has(d)) await this.layers.remove(d);
    await this.blobs.sweep();
    await this.layers.sweep();
  }
}
