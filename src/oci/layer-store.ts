// Unpacked layers under <images>/layers/<diff ID hex>/, each unpacked once
// whatever the number of images that share it: into a temporary directory
// first, renamed into place only once its diff ID (the sha256 of its
// uncompressed tar) is the one the image config names. A layer's directory
// holds only its own changes, whiteouts in overlayfs form, so it is the same
// whatever layers lie below it: overlayfs stacks them.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openLayer } from './decompress.js';
import { digestHex } from './digest.js';
import { unpackLayer } from './unpack.js';
import { processAlive } from './stale.js';

export class LayerStore {
  readonly dir: string;
  private readonly unpacking = new Map<string, Promise<string>>();

  constructor(root: string) {
    this.dir = join(root, 'layers');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  path(diffId: string): string {
    return join(this.dir, digestHex(diffId));
  }

  has(diffId: string): boolean {
    return existsSync(this.path(diffId));
  }

  /** The directory of layer `diffId`, unpacked from the blob at `blobPath` unless it already is (concurrent callers share one unpack). */
  ensure(diffId: string, blobPath: string): Promise<string> {
    if (this.has(diffId)) return Promise.resolve(this.path(diffId));
    let p = this.unpacking.get(diffId);
    if (!p) {
      p = this.unpack(diffId, blobPath).finally(() => this.unpacking.delete(diffId));
      this.unpacking.set(diffId, p);
    }
    return p;
  }

  private async unpack(diffId: string, blobPath: string): Promise<string> {
    const final = this.path(diffId);
    const temp = join(this.dir, `.unpack-${process.pid}-${digestHex(diffId).slice(0, 12)}-${randomBytes(4).toString('hex')}`);
    await mkdir(temp, { mode: 0o755 });
    try {
      let actual: string;
      try {
        actual = await unpackLayer(await openLayer(blobPath), temp);
      } catch (e) {
        throw new Error(`failed to extract layer ${diffId}: ${(e as Error).message}`, { cause: e });
      }
      if (actual !== diffId) throw new Error(`failed to extract layer ${diffId}: wrong diff id ${actual} calculated on extraction`);
      // Another process may have unpacked it meanwhile: then its directory stands and ours goes.
      if (!existsSync(final)) await rename(temp, final);
      return final;
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }

  /** The diff IDs of the unpacked layers. */
  async list(): Promise<string[]> {
    return (await readdir(this.dir)).filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  remove(diffId: string): Promise<void> {
    return rm(this.path(diffId), { recursive: true, force: true });
  }

  /** Removes what unpacks of processes that are gone left behind. */
  async sweep(): Promise<void> {
    for (const n of await readdir(this.dir)) if (n.startsWith('.unpack-') && !processAlive(n.split('-')[1]!)) await rm(join(this.dir, n), { recursive: true, force: true });
  }
}
