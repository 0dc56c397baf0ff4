// Loads image archives into the store, as `docker load` and `ctr images
// import` take them: an OCI image layout (oci-layout, index.json, blobs/,
// names in the io.containerd.image.name or org.opencontainers.image.ref.name
// annotations; Docker 25 and later save this too), or a classic `docker
// save` tarball (manifest.json with each image's config, layer tars and
// RepoTags). Plain or gzip-compressed. Every blob is checked against its
// digest; every layer is unpacked once.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { link, mkdir, readFile, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { fileCompression } from './decompress.js';
import { digestAlgorithm, digestHex } from './digest.js';
import type { ImageRecord, ImageStore } from './image-store.js';
import { describe } from './materialize.js';
import { MediaType, parseManifestDocument, type Descriptor, type ImageManifest } from './media-types.js';
import { selectManifest } from './platform.js';
import { parseImageReference } from './reference.js';
import { cleanEntryPath, resolveInRoot } from './scoped-path.js';
import { readTar } from './tar-reader.js';

export interface LoadOptions {
  /** The repository for OCI images named only by a tag (ctr import's --base-name). */
  baseName?: string;
}

/** An archive that is not one kubesvc can load. */
export class ArchiveError extends Error {}

const ANNOTATION_IMAGE_NAME = 'io.containerd.image.name';
const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

/** Unpacks the archive's files (and links between them) into `dir`. */
async function extract(file: string, dir: string): Promise<void> {
  const compression = await fileCompression(file).catch((e: NodeJS.ErrnoException) => {
    throw new ArchiveError(e.code === 'ENOENT' ? `${file}: no such file` : e.code === 'EISDIR' ? `${file} is a directory, not an image archive` : e.message);
  });
  const stream = compression === 'gzip' ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
  try {
    for await (const { header, body } of readTar(stream)) {
      const rel = cleanEntryPath(header.name);
      if (!rel || !(header.type === 'file' || header.type === 'symlink')) continue;
      const path = join(await resolveInRoot(dir, dirname(rel) === '.' ? '' : dirname(rel)), rel.split('/').pop()!);
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      // Never write through a link an earlier entry made.
      await rm(path, { recursive: true, force: true });
      if (header.type === 'symlink') await symlink(header.linkname, path);
      else await pipeline(Readable.from(body), createWriteStream(path, { flags: 'wx', mode: 0o600 }));
    }
  } catch (e) {
    throw new ArchiveError(`${file} is not a docker save or OCI image archive: ${(e as Error).message}`);
  }
}

class Archive {
  constructor(
    private readonly store: ImageStore,
    private readonly dir: string,
  ) {}

  /** A file of the archive, through its links, never outside it. */
  async path(name: string): Promise<string> {
    const path = await resolveInRoot(this.dir, cleanEntryPath(name));
    if (!existsSync(path)) throw new ArchiveError(`the archive has no ${name}`);
    return path;
  }

  async json<T>(name: string): Promise<T> {
    return JSON.parse(await readFile(await this.path(name), 'utf8')) as T;
  }

  /** Puts one file of the archive into the blob store (checked against `expected` when given). */
  async importBlob(name: string, expected?: Descriptor): Promise<Descriptor> {
    const source = await this.path(name);
    if (expected && this.store.blobs.has(expected.digest)) return expected;
    // A hard link into ingest/, so that a file two images share can be imported twice.
    const temp = this.store.blobs.tempPath();
    await link(source, temp);
    try {
      return await this.store.blobs.importFile(temp, expected);
    } finally {
      await rm(temp, { force: true });
    }
  }

  async ociBlob(desc: Descriptor): Promise<Descriptor> {
    return this.importBlob(`blobs/${digestAlgorithm(desc.digest)}/${digestHex(desc.digest)}`, desc);
  }
}

/** An OCI image layout: each entry of index.json, resolved to this platform, named by its annotations. */
async function loadOciLayout(store: ImageStore, archive: Archive, opts: LoadOptions): Promise<ImageRecord[]> {
  const index = await archive.json<{ manifests?: Descriptor[] }>('index.json');
  const loaded: ImageRecord[] = [];
  for (const top of index.manifests ?? []) {
    const refName = top.annotations?.[ANNOTATION_IMAGE_NAME] ?? top.annotations?.[ANNOTATION_REF_NAME];
    if (!refName) continue;
    const full = refName.includes('/') || refName.includes(':') || refName.includes('@');
    if (!full && !opts.baseName) throw new ArchiveError(`the OCI archive names an image only by the tag ${JSON.stringify(refName)}: give the repository with --base-name (e.g. --base-name localhost/app)`);
    const ref = parseImageReference(full ? refName : `${opts.baseName}:${refName}`);
    let desc = top;
    let manifest: ImageManifest | undefined;
    for (let depth = 0; !manifest && depth < 4; depth++) {
      await archive.ociBlob(desc);
      const doc = parseManifestDocument(await store.blobs.read(desc.digest), desc.mediaType);
      manifest = doc.manifest;
      if (doc.index) {
        const chosen = selectManifest(doc.index.manifests);
        if (!chosen) throw new ArchiveError(`${ref.normalized}: no match for platform in manifest: not found`);
        desc = chosen;
      }
    }
    if (!manifest) throw new ArchiveError(`${ref.normalized}: manifest lists nested too deep`);
    for (const blob of [manifest.config, ...manifest.layers]) await archive.ociBlob(blob);
    loaded.push(await store.add(ref, top, desc, manifest));
  }
  return loaded;
}

interface DockerSaveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/** A classic `docker save`: manifest.json; the layers are stored as they are (tar or gzip) under an OCI manifest made for them. */
async function loadDockerSave(store: ImageStore, archive: Archive): Promise<ImageRecord[]> {
  const entries = await archive.json<DockerSaveEntry[]>('manifest.json');
  if (!Array.isArray(entries)) throw new ArchiveError('manifest.json is not a docker save manifest');
  const loaded: ImageRecord[] = [];
  for (const entry of entries) {
    const config = { ...(await archive.importBlob(entry.Config)), mediaType: MediaType.ociConfig };
    const layers: Descriptor[] = [];
    for (const name of entry.Layers) {
      const compression = await fileCompression(await archive.path(name));
      const mediaType = compression === 'gzip' ? MediaType.ociLayerGzip : compression === 'zstd' ? MediaType.ociLayerZstd : MediaType.ociLayer;
      layers.push({ ...(await archive.importBlob(name)), mediaType });
    }
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers };
    const data = Buffer.from(JSON.stringify(manifest));
    const desc = describe(data, MediaType.ociManifest);
    await store.blobs.writeBuffer(data, desc);
    for (const tag of entry.RepoTags ?? []) loaded.push(await store.add(parseImageReference(tag), desc, desc, manifest));
  }
  return loaded;
}

/** Loads every image of the archive `file` into `store`; returns the stored records, one per name. */
export async function loadArchive(store: ImageStore, file: string, opts: LoadOptions = {}): Promise<ImageRecord[]> {
  const dir = join(store.blobs.ingestDir, `${process.pid}-load-${randomBytes(4).toString('hex')}`);
  await mkdir(dir, { mode: 0o700 });
  try {
    await extract(file, dir);
    const archive = new Archive(store, dir);
    if (existsSync(join(dir, 'oci-layout')) && existsSync(join(dir, 'index.json'))) return await loadOciLayout(store, archive, opts);
    if (existsSync(join(dir, 'manifest.json'))) return await loadDockerSave(store, archive);
    throw new ArchiveError(`${file} is not a docker save or OCI image archive (it has neither manifest.json nor oci-layout and index.json)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
