// The store's names: <images>/index.json maps each normalized reference to
// the image it names (what it resolved to, the platform manifest, the config
// digest that is the image ID, the layers). Rewritten whole through a
// temporary file and a rename, re-read before every change so that two
// processes sharing a data dir (an agent pulling, `kubesvc images load`)
// lose nothing but in a write's own instant.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LayerRecord {
  /** The blob as stored (compressed or not). */
  digest: string;
  mediaType: string;
  size: number;
  /** The digest of its uncompressed tar: the name of its unpacked directory. */
  diffId: string;
}

export interface ImageRecord {
  /** The normalized reference: docker.io/library/nginx:latest, or name@sha256:… when pulled by digest. */
  ref: string;
  /** docker.io/library/nginx */
  name: string;
  tag?: string;
  /** What the reference resolved to: the index (manifest list) or the manifest; the repo digest. */
  digest: string;
  mediaType: string;
  /** The manifest for this platform. */
  manifest: string;
  /** The config blob's digest: the image ID, as crictl shows it. */
  config: string;
  layers: LayerRecord[];
  /** Manifest, config and layer blobs, as containerd sizes an image. */
  size: number;
  /** When it was stored (RFC 3339). */
  stored: string;
}

type IndexFile = { images: Record<string, ImageRecord> };

export class ImageIndex {
  readonly path: string;

  constructor(root: string) {
    this.path = join(root, 'index.json');
  }

  read(): Record<string, ImageRecord> {
    if (!existsSync(this.path)) return {};
    return (JSON.parse(readFileSync(this.path, 'utf8')) as IndexFile).images ?? {};
  }

  /** Applies `change` to the index as it is on disk now and writes it back. */
  update(change: (images: Record<string, ImageRecord>) => void): void {
    const images = this.read();
    change(images);
    const temp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify({ images }, null, 2)}\n`, { mode: 0o600 });
    renameSync(temp, this.path);
  }
}
