// Reads a tar stream entry by entry: ustar headers, PAX extended headers
// (local and global) and GNU long names and link names, as `docker save` and
// image builders write them. Each entry's body is read as the consumer reads
// it; what it leaves unread is skipped.
import { ByteSource } from './byte-source.js';
import { BLOCK, entryType, isZeroBlock, parseHeader, parsePax, type TarHeader } from './tar-header.js';

export interface TarEntry {
  header: TarHeader;
  /** The entry's data; read it (or not) before asking for the next entry. */
  body: AsyncIterable<Buffer>;
}

const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

async function readAll(source: ByteSource, size: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source.take(size)) parts.push(Buffer.from(part));
  await source.skip(padding(size));
  return Buffer.concat(parts);
}

function applyPax(h: TarHeader, records: Map<string, Buffer>): void {
  for (const [key, value] of records) {
    const s = value.toString('utf8');
    if (key === 'path') h.name = s;
    else if (key === 'linkpath') h.linkname = s;
    else if (key === 'size') h.size = Number(s);
    else if (key === 'uid') h.uid = Number(s);
    else if (key === 'gid') h.gid = Number(s);
    else if (key === 'uname') h.uname = s;
    else if (key === 'gname') h.gname = s;
    else if (key === 'mtime') h.mtime = Number(s);
    else if (key.startsWith('SCHILY.xattr.') || key.startsWith('LIBARCHIVE.xattr.')) {
      (h.xattrs ??= {})[key.slice(key.indexOf('xattr.') + 6)] = value;
    }
  }
}

/** The entries of a tar stream, in order. Throws "invalid tar header" for a stream that is not tar. */
export async function* readTar(stream: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<TarEntry> {
  const source = new ByteSource(stream);
  let global = new Map<string, Buffer>();
  let local = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await source.read(BLOCK);
    if (!block || isZeroBlock(block)) break;
    const raw = parseHeader(block);
    const flag = raw.typeflag;
    if (flag === 'x' || flag === 'g') {
      const records = parsePax(await readAll(source, raw.size));
      if (flag === 'g') global = new Map([...global, ...records]);
      else local = records;
      continue;
    }
    if (flag === 'L' || flag === 'K') {
      const value = (await readAll(source, raw.size)).toString('utf8').replace(/\0+$/, '');
      if (flag === 'L') longName = value;
      else longLink = value;
      continue;
    }
    const type = entryType(flag);
    const header: TarHeader = { ...raw, type: type ?? 'file' };
    delete (header as Partial<typeof raw>).typeflag;
    if (longName !== undefined) header.name = longName;
    if (longLink !== undefined) header.linkname = longLink;
    applyPax(header, global);
    applyPax(header, local);
    local = new Map();
    longName = longLink = undefined;
    // A tar's own directory names may end in "/"; a link or device has no data whatever its size field says.
    const size = header.type === 'file' || type === undefined ? header.size : 0;
    if (type === undefined) {
      // Volume labels, GNU sparse and multi-volume entries and other kinds: skipped, as containerd skips them.
      await source.skip(size + padding(size));
      continue;
    }
    let consumed = 0;
    const body = (async function* () {
      for await (const part of source.take(size)) {
        consumed += part.length;
        yield part;
      }
    })();
    yield { header, body };
    // Whatever the consumer did not read is skipped, then the block padding.
    for await (const _ of body);
    if (consumed < size) await source.skip(size - consumed);
    await source.skip(padding(size));
  }
  await source.drain();
}
