// Content-addressed blobs under <images>/blobs/<algorithm>/<hex>: written to
// a temporary file in <images>/ingest, checked against the descriptor's
// size and digest as they stream in, then renamed into place — a blob in
// its place is always whole and what its name says. Mismatches are refused
// with containerd's content-store words.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digestAlgorithm, digestHex, digestOf, hasherFor, validateDigest } from './digest.js';
import { ingestRefKey, type Descriptor } from './media-types.js';
import { PreconditionError } from './registry-errors.js';
import { processAlive } from './stale.js';

type Expected = Pick<Descriptor, 'digest' | 'size'> & Partial<Pick<Descriptor, 'mediaType'>>;

export class BlobStore {
  readonly blobsDir: string;
  readonly ingestDir: string;

  constructor(readonly root: string) {
    this.blobsDir = join(root, 'blobs');
    this.ingestDir = join(root, 'ingest');
    mkdirSync(this.ingestDir, { recursive: true, mode: 0o700 });
  }

  path(digest: string): string {
    validateDigest(digest);
    return join(this.blobsDir, digestAlgorithm(digest), digestHex(digest));
  }

  has(digest: string): boolean {
    return existsSync(this.path(digest));
  }

  read(digest: string): Promise<Buffer> {
    return readFile(this.path(digest));
  }

  tempPath(): string {
    return join(this.ingestDir, `${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  /** Streams `source` into the store as the blob `expected` describes; refuses other content. */
  async write(expected: Expected, source: AsyncIterable<Buffer> | NodeJS.ReadableStream): Promise<string> {
    const key = ingestRefKey({ mediaType: expected.mediaType ?? '', digest: expected.digest });
    const hash = hasherFor(expected.digest);
    let size = 0;
    const sizeError = (n: number) => new PreconditionError(`failed commit on ref "${key}": "${key}" failed size validation: ${n} != ${expected.size}: failed precondition`);
    const check = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (expected.size >= 0 && size > expected.size) return done(sizeError(size));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const temp = this.tempPath();
    try {
      await pipeline(source as AsyncIterable<Buffer>, check, createWriteStream(temp, { mode: 0o600 }));
      if (expected.size >= 0 && size !== expected.size) throw sizeError(size);
      const actual = `${digestAlgorithm(expected.digest)}:${hash.digest('hex')}`;
      if (actual !== expected.digest) throw new PreconditionError(`failed commit on ref "${key}": unexpected commit digest ${actual}, expected ${expected.digest}: failed precondition`);
      await this.place(temp, expected.digest);
    } finally {
      await rm(temp, { force: true });
    }
    return this.path(expected.digest);
  }

  /** Stores `data` as the blob of its own sha256 digest (or checks it against `expected`). */
  async writeBuffer(data: Buffer, expected?: Expected): Promise<Descriptor> {
    const digest = expected?.digest ?? digestOf(data);
    if (!this.has(digest)) await this.write({ digest, size: data.length, mediaType: expected?.mediaType }, Readable.from([data]));
    return { mediaType: expected?.mediaType ?? '', digest, size: data.length };
  }

  /** Moves the file at `path` (same file system) into the store after hashing it; checks it against `expected` when given. */
  async importFile(path: string, expected?: Expected): Promise<Descriptor> {
    const { size } = await stat(path);
    const hash = createHash(expected ? digestAlgorithm(expected.digest) : 'sha256');
    await pipeline(createReadStream(path), async (chunks: AsyncIterable<Buffer>) => {
      for await (const c of chunks) hash.update(c);
    });
    const digest = `${expected ? digestAlgorithm(expected.digest) : 'sha256'}:${hash.digest('hex')}`;
    if (expected && digest !== expected.digest) throw new PreconditionError(`unexpected commit digest ${digest}, expected ${expected.digest}: failed precondition`);
    await this.place(path, digest);
    return { mediaType: expected?.mediaType ?? '', digest, size };
  }

  private async place(temp: string, digest: string): Promise<void> {
    const final = this.path(digest);
    mkdirSync(join(this.blobsDir, digestAlgorithm(digest)), { recursive: true, mode: 0o700 });
    if (existsSync(final)) return;
    await rename(temp, final);
  }

  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const alg of await readdir(this.blobsDir).catch(() => [] as string[])) {
      for (const hex of await readdir(join(this.blobsDir, alg))) out.push(`${alg}:${hex}`);
    }
    return out;
  }

  /** Removes what writers in processes that are gone left in ingest/. */
  async sweep(): Promise<void> {
    for (const n of await readdir(this.ingestDir)) if (!processAlive(n.split('-')[0]!)) await rm(join(this.ingestDir, n), { recursive: true, force: true });
  }

  remove(digest: string): Promise<void> {
    return rm(this.path(digest), { force: true });
  }
}
