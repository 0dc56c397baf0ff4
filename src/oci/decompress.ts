// A layer's tar stream from its blob, whatever the media type claims: the
// compression is told by the first bytes, as containerd's DecompressStream
// does (gzip 1f 8b, zstd 28 b5 2f fd, else plain tar).
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import * as zlib from 'node:zlib';

export type Compression = 'gzip' | 'zstd' | 'none';

export function compressionOf(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

export async function fileCompression(path: string): Promise<Compression> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return compressionOf(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/** The uncompressed tar of the layer blob at `path`. Zstd needs a Node.js with zlib zstd (22.15 and later). */
export async function openLayer(path: string): Promise<Readable> {
  const compression = await fileCompression(path);
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  if (compression === 'none') return file;
  const createZstd = (zlib as unknown as { createZstdDecompress?: () => import('node:stream').Transform }).createZstdDecompress;
  if (compression === 'zstd' && !createZstd) {
    file.destroy();
    throw new Error(`zstd-compressed layers are not supported by Node.js ${process.version} (zstd needs 22.15 or later): rebuild the image with gzip layers`);
  }
  const inflate = compression === 'gzip' ? zlib.createGunzip() : createZstd!();
  file.on('error', (e) => inflate.destroy(e));
  return file.pipe(inflate);
}
