// The tar header block (POSIX ustar, with GNU's base-256 numbers) and the
// PAX extended header records that `docker save` and image builders write.

export const BLOCK = 512;

export type TarEntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo';

export interface TarHeader {
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (fractional from a PAX mtime). */
  mtime: number;
  linkname: string;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes from PAX SCHILY.xattr.* records. */
  xattrs?: Record<string, Buffer>;
}

const typeFlags: Record<string, TarEntryType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'char', '4': 'block', '5': 'directory', '6': 'fifo' };
const flagOf: Record<TarEntryType, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', directory: '5', fifo: '6' };

/** What a raw header block says, before PAX and GNU long-name records are applied. */
export interface RawHeader extends Omit<TarHeader, 'type'> {
  typeflag: string;
}

function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? length : nul).toString('utf8');
}

/** An octal field, or a GNU base-256 one (its first byte's high bit set). */
function numeric(block: Buffer, start: number, length: number): number {
  const field = block.subarray(start, start + length);
  if (field[0]! & 0x80) {
    let n = field[0]! & 0x7f;
    for (let i = 1; i < length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const s = field.toString('latin1').replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '');
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new Error(`invalid tar header: bad number field "${s}"`);
  return parseInt(s, 8);
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** Parses one header block; throws "invalid tar header" for anything that is not one. */
export function parseHeader(block: Buffer): RawHeader {
  const stored = numeric(block, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 32 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  if (stored !== unsigned && stored !== signed) throw new Error('invalid tar header: checksum mismatch');
  const magic = block.subarray(257, 263).toString('latin1');
  let name = text(block, 0, 100);
  // POSIX ustar splits long names into prefix and name; GNU tar uses that space for times.
  if (magic === 'ustar\0') {
    const prefix = text(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  return {
    name,
    typeflag: String.fromCharCode(block[156]!),
    mode: numeric(block, 100, 8),
    uid: numeric(block, 108, 8),
    gid: numeric(block, 116, 8),
    size: numeric(block, 124, 12),
    mtime: numeric(block, 136, 12),
    linkname: text(block, 157, 100),
    uname: text(block, 265, 32),
    gname: text(block, 297, 32),
    devmajor: numeric(block, 329, 8),
    devminor: numeric(block, 337, 8),
  };
}

export function entryType(typeflag: string): TarEntryType | undefined {
  return typeFlags[typeflag];
}

/** PAX records: "<length> <key>=<value>\n", the length counting the whole record. */
export function parsePax(data: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const length = Number(data.subarray(pos, space).toString('latin1'));
    if (!Number.isInteger(length) || length <= 0 || pos + length > data.length) throw new Error('invalid tar header: bad PAX record');
    const record = data.subarray(space + 1, pos + length - 1);
    const eq = record.indexOf(0x3d);
    if (eq > 0) records.set(record.subarray(0, eq).toString('utf8'), Buffer.from(record.subarray(eq + 1)));
    pos += length;
  }
  return records;
}

export function formatPax(records: Array<[string, Buffer | string]>): Buffer {
  return Buffer.concat(
    records.map(([key, value]) => {
      const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
      let length = body.length + 1;
      while (String(length).length + body.length !== length) length = String(length).length + body.length;
      return Buffer.concat([Buffer.from(String(length)), body]);
    }),
  );
}

function writeText(block: Buffer, start: number, length: number, value: string): void {
  block.write(value, start, length, 'utf8');
}

function writeOctal(block: Buffer, start: number, length: number, value: number): void {
  block.write(`${Math.floor(value).toString(8).padStart(length - 1, '0')}\0`, start, length, 'latin1');
}

/** Whether a number fits an octal field of `length` bytes. */
export function fitsOctal(value: number, length: number): boolean {
  return value >= 0 && value < 8 ** (length - 1);
}

/** One ustar header block; the caller has made every field fit (PAX or GNU records carry the rest). */
export function formatHeader(h: RawHeader | (TarHeader & { typeflag?: string })): Buffer {
  const block = Buffer.alloc(BLOCK);
  writeText(block, 0, 100, h.name);
  writeOctal(block, 100, 8, h.mode & 0o7777);
  writeOctal(block, 108, 8, h.uid);
  writeOctal(block, 116, 8, h.gid);
  writeOctal(block, 124, 12, h.size);
  writeOctal(block, 136, 12, h.mtime);
  const flag = 'typeflag' in h && h.typeflag ? h.typeflag : flagOf[(h as TarHeader).type];
  block.write(flag, 156, 1, 'latin1');
  writeText(block, 157, 100, h.linkname);
  block.write('ustar\x0000', 257, 8, 'latin1');
  writeText(block, 265, 32, h.uname ?? '');
  writeText(block, 297, 32, h.gname ?? '');
  writeOctal(block, 329, 8, h.devmajor ?? 0);
  writeOctal(block, 337, 8, h.devminor ?? 0);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i]!;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}
