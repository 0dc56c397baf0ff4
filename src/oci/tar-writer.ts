// Writes tar archives in memory: ustar headers, with PAX records (or, when
// asked, GNU long-name entries) for what does not fit. For test images,
// archives of small images and `docker save`-style files.
import { BLOCK, fitsOctal, formatHeader, formatPax, type TarHeader } from './tar-header.js';

export type TarInput = Partial<TarHeader> & { name: string; type: TarHeader['type'] };

export interface TarWriterOptions {
  /** Long names as GNU tar writes them ('L'/'K' entries) instead of PAX records. */
  gnuLongNames?: boolean;
}

export class TarWriter {
  private readonly parts: Buffer[] = [];

  constructor(private readonly opts: TarWriterOptions = {}) {}

  private push(data: Buffer): void {
    this.parts.push(data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad) this.parts.push(Buffer.alloc(pad));
  }

  private special(name: string, typeflag: string, data: Buffer): void {
    this.parts.push(formatHeader({ name, typeflag, mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: 0, linkname: '' }));
    this.push(data);
  }

  /** Adds one entry; a file's data is `data`. */
  add(input: TarInput, data: Buffer = Buffer.alloc(0)): this {
    const h: TarHeader = { mode: input.type === 'directory' ? 0o755 : 0o644, uid: 0, gid: 0, mtime: 0, linkname: '', ...input, size: input.type === 'file' ? data.length : 0 };
    const pax: Array<[string, Buffer | string]> = [];
    let name = h.name;
    let linkname = h.linkname;
    if (Buffer.byteLength(name) > 100) {
      if (this.opts.gnuLongNames) this.special('././@LongLink', 'L', Buffer.from(`${name}\0`));
      else pax.push(['path', name]);
      name = name.slice(0, 99);
    }
    if (Buffer.byteLength(linkname) > 100) {
      if (this.opts.gnuLongNames) this.special('././@LongLink', 'K', Buffer.from(`${linkname}\0`));
      else pax.push(['linkpath', linkname]);
      linkname = linkname.slice(0, 99);
    }
    for (const [key, size] of [['uid', 8], ['gid', 8], ['size', 12]] as const) {
      if (!fitsOctal(h[key], size)) pax.push([key, String(h[key])]);
    }
    for (const [key, value] of Object.entries(h.xattrs ?? {})) pax.push([`SCHILY.xattr.${key}`, value]);
    if (pax.length) this.special(`PaxHeaders.0/${name.slice(0, 80)}`, 'x', formatPax(pax));
    const clamp = (v: number, size: number) => (fitsOctal(v, size) ? v : 0);
    this.parts.push(formatHeader({ ...h, name, linkname, uid: clamp(h.uid, 8), gid: clamp(h.gid, 8), size: clamp(h.size, 12) }));
    if (h.type === 'file') this.push(data);
    return this;
  }

  /** The archive, with its two closing zero blocks. */
  end(): Buffer {
    return Buffer.concat([...this.parts, Buffer.alloc(BLOCK * 2)]);
  }
}
