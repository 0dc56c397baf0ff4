// The DNS wire format (RFC 1035 §4, EDNS0 per RFC 6891): parsing with name
// decompression, serialization with name compression and size-bounded
// truncation, and the name helpers the server needs (normalization, reverse
// names of IP addresses). Parsing is the first thing untrusted network input
// meets, so it checks every bound, terminates on any input (compression
// pointers must point backward, so they cannot loop) and throws nothing but
// WireError. Label and TXT bytes are read as Latin-1, one character per byte,
// so whatever was parsed serializes back to the same bytes.
import { formatIPv6, parseIPStrict, type IPBytes } from '../net/addr.js';
import { RRClass, RRType, type Edns, type EdnsOption, type Header, type Message, type Question, type RData, type ResourceRecord } from './types.js';

/** Malformed input to parse, or a message, name or address that cannot be written. The only error this module throws. */
export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

const headerSize = 12;
const maxNameOctets = 255;
const maxLabelOctets = 63;
/** A name has at most 127 labels, so a well-formed name never follows more pointers than that. */
const maxPointers = 127;
/** Compression pointers have 14 bits: names beyond this offset cannot be pointed at. */
const maxPointerTarget = 0x3fff;
/** Class NONE (RFC 2136): update records of this class, like those of class ANY, carry empty or foreign RDATA and are kept raw. */
const classNone = 254;

// ---------------------------------------------------------------------------
// Parsing

/** The message id, when the buffer has one (FORMERR replies to unparseable queries need it). */
export function parseHeaderId(buf: Buffer): number | undefined {
  return buf.length >= 2 ? buf.readUInt16BE(0) : undefined;
}

/**
 * Reads the name at `start`. Bytes before the first compression pointer must lie
 * below `end`; a pointer may go anywhere earlier in the message but must point
 * before the place the labels being read started (as dnspython requires), which
 * rules out loops and bounds the work by the message size.
 */
function readName(buf: Buffer, start: number, end: number): { name: string; next: number } {
  let pos = start;
  let segmentStart = start;
  let limit = end;
  let next = -1;
  let octets = 1; // the root label's length byte
  let pointers = 0;
  let name = '';
  for (;;) {
    if (pos >= limit) throw new WireError(`name at offset ${start} runs past the end of its data`);
    const len = buf[pos];
    if (len === 0) {
      if (next < 0) next = pos + 1;
      return { name, next };
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= limit) throw new WireError(`compression pointer at offset ${pos} is cut off`);
      const target = ((len & 0x3f) << 8) | buf[pos + 1];
      if (next < 0) next = pos + 2;
      if (target >= buf.length) throw new WireError(`compression pointer at offset ${pos} points to ${target}, outside the ${buf.length}-byte message`);
      if (target >= segmentStart) throw new WireError(`compression pointer at offset ${pos} points forward to ${target} (pointer loop)`);
      if (target < headerSize) throw new WireError(`compression pointer at offset ${pos} points into the header`);
      if (++pointers > maxPointers) throw new WireError(`name at offset ${start} follows more than ${maxPointers} compression pointers`);
      pos = segmentStart = target;
      limit = buf.length;
      continue;
    }
    if (kind !== 0) throw new WireError(`label length ${len} at offset ${pos} is over ${maxLabelOctets} (extended label types are not supported)`);
    octets += len + 1;
    if (octets > maxNameOctets) throw new WireError(`name at offset ${start} is longer than ${maxNameOctets} octets`);
    if (pos + 1 + len > limit) throw new WireError(`label at offset ${pos} runs past the end of its data`);
    const label = buf.toString('latin1', pos + 1, pos + 1 + len);
    // A dot inside a label has no escape-free text form; reading it as a separator would change the name.
    if (label.includes('.')) throw new WireError(`label at offset ${pos} contains a dot`);
    name = name ? `${name}.${label}` : label;
    pos += 1 + len;
  }
}

function need(buf: Buffer, off: number, n: number, what: string): void {
  if (off + n > buf.length) throw new WireError(`message ends inside ${what} at offset ${off}`);
}

/**
 * An IPv6 address as Node's net module prints it (c-ares/BIND inet_ntop): lower
 * case, the first longest run of two or more zero groups as "::", and the last
 * 32 bits dotted for IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) addresses.
 */
function formatIPv6Node(ip: IPBytes): string {
  return formatIPv6(ip, { dottedTail: true });
}

function readRData(buf: Buffer, type: number, cls: number, start: number, end: number): RData {
  const len = end - start;
  const exact = (next: number, what: string) => {
    if (next !== end) throw new WireError(`${what} RDATA at offset ${start} is ${len} bytes, its content ${next - start}`);
  };
  const internet = cls === RRClass.IN;
  // Updates (RFC 2136) use class ANY/NONE records with empty RDATA: nothing to decode.
  if (cls === RRClass.ANY || cls === classNone) return { kind: 'raw', data: Buffer.from(buf.subarray(start, end)) };
  switch (type) {
    case RRType.A:
      if (!internet) break;
      if (len !== 4) throw new WireError(`A RDATA at offset ${start} is ${len} bytes, not 4`);
      return { kind: 'A', address: buf.subarray(start, end).join('.') };
    case RRType.AAAA:
      if (!internet) break;
      if (len !== 16) throw new WireError(`AAAA RDATA at offset ${start} is ${len} bytes, not 16`);
      return { kind: 'AAAA', address: formatIPv6Node(buf.subarray(start, end)) };
    case RRType.NS:
    case RRType.CNAME:
    case RRType.PTR: {
      const n = readName(buf, start, end);
      exact(n.next, 'name');
      return { kind: 'name', target: n.name };
    }
    case RRType.MX: {
      if (len < 3) throw new WireError(`MX RDATA at offset ${start} is too short`);
      const n = readName(buf, start + 2, end);
      exact(n.next, 'MX');
      return { kind: 'MX', preference: buf.readUInt16BE(start), exchange: n.name };
    }
    case RRType.SRV: {
      if (!internet) break;
      if (len < 7) throw new WireError(`SRV RDATA at offset ${start} is too short`);
      const n = readName(buf, start + 6, end);
      exact(n.next, 'SRV');
      return { kind: 'SRV', priority: buf.readUInt16BE(start), weight: buf.readUInt16BE(start + 2), port: buf.readUInt16BE(start + 4), target: n.name };
    }
    case RRType.TXT: {
      const texts: string[] = [];
      for (let pos = start; pos < end; ) {
        const n = buf[pos];
        if (pos + 1 + n > end) throw new WireError(`TXT character-string at offset ${pos} runs past its RDATA`);
        texts.push(buf.toString('latin1', pos + 1, pos + 1 + n));
        pos += 1 + n;
      }
      return { kind: 'TXT', texts };
    }
    case RRType.SOA: {
      const m = readName(buf, start, end);
      const r = readName(buf, m.next, end);
      if (end - r.next !== 20) throw new WireError(`SOA RDATA at offset ${start} does not end with five 32-bit fields`);
      const at = (i: number) => buf.readUInt32BE(r.next + 4 * i);
      return { kind: 'SOA', mname: m.name, rname: r.name, serial: at(0), refresh: at(1), retry: at(2), expire: at(3), minimum: at(4) };
    }
  }
  return { kind: 'raw', data: Buffer.from(buf.subarray(start, end)) };
}

function readOptions(buf: Buffer, start: number, end: number): EdnsOption[] {
  const options: EdnsOption[] = [];
  for (let pos = start; pos < end; ) {
    if (pos + 4 > end) throw new WireError(`EDNS option at offset ${pos} is cut off`);
    const code = buf.readUInt16BE(pos);
    const len = buf.readUInt16BE(pos + 2);
    if (pos + 4 + len > end) throw new WireError(`EDNS option ${code} at offset ${pos} runs past the OPT RDATA`);
    options.push({ code, data: Buffer.from(buf.subarray(pos + 4, pos + 4 + len)) });
    pos += 4 + len;
  }
  return options;
}

/**
 * Parses a whole DNS message. The OPT pseudo-record is returned as `edns`,
 * never among the additionals. Bytes after the last record are ignored (as
 * BIND and most resolvers do). Throws WireError on anything malformed.
 */
export function parseMessage(input: Buffer): Message {
  // A plain Uint8Array (not a Buffer) would decode text differently: view it as a Buffer.
  const buf = Buffer.isBuffer(input) ? input : Buffer.from((input as Uint8Array).buffer, (input as Uint8Array).byteOffset, (input as Uint8Array).byteLength);
  if (buf.length < headerSize) throw new WireError(`message is ${buf.length} bytes, shorter than the ${headerSize}-byte header`);
  const flags = buf.readUInt16BE(2);
  const header: Header = {
    id: buf.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0x0f,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode: flags & 0x0f,
  };
  const counts = [buf.readUInt16BE(4), buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)];
  let off = headerSize;

  const questions: Question[] = [];
  for (let i = 0; i < counts[0]; i++) {
    const n = readName(buf, off, buf.length);
    need(buf, n.next, 4, 'a question');
    questions.push({ name: n.name, type: buf.readUInt16BE(n.next), class: buf.readUInt16BE(n.next + 2) });
    off = n.next + 4;
  }

  let edns: Edns | undefined;
  const sections: ResourceRecord[][] = [[], [], []];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]; i++) {
      const n = readName(buf, off, buf.length);
      need(buf, n.next, 10, 'a record header');
      const type = buf.readUInt16BE(n.next);
      const cls = buf.readUInt16BE(n.next + 2);
      const ttl = buf.readUInt32BE(n.next + 4);
      const rdlen = buf.readUInt16BE(n.next + 8);
      const start = n.next + 10;
      need(buf, start, rdlen, 'RDATA');
      off = start + rdlen;
      if (type === RRType.OPT) {
        if (s !== 2) throw new WireError('OPT record outside the additional section');
        if (edns) throw new WireError('more than one OPT record');
        if (n.name !== '') throw new WireError('OPT record with an owner name other than the root');
        edns = { udpSize: cls, extendedRcode: ttl >>> 24, version: (ttl >>> 16) & 0xff, dnssecOk: (ttl & 0x8000) !== 0, options: readOptions(buf, start, off) };
        continue;
      }
      sections[s].push({ name: n.name, type, class: cls, ttl, data: readRData(buf, type, cls, start, off) });
    }
  }
  const msg: Message = { header, questions, answers: sections[0], authorities: sections[1], additionals: sections[2] };
  if (edns) msg.edns = edns;
  return msg;
}

// ---------------------------------------------------------------------------
// Serialization

function checkInt(value: number, bits: 4 | 8 | 16 | 32, what: string): number {
  const max = 2 ** bits - 1;
  if (!Number.isInteger(value) || value < 0 || value > max) throw new WireError(`${what} ${value} is not an integer from 0 to ${max}`);
  return value;
}

/** The labels of a name (one trailing dot tolerated, '' is the root), checked against the RFC 1035 limits. */
function labelsOf(name: string): string[] {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (n === '') return [];
  const labels = n.split('.');
  let octets = 1;
  for (const l of labels) {
    if (l.length === 0) throw new WireError(`name "${name}" has an empty label`);
    if (l.length > maxLabelOctets) throw new WireError(`name "${name}" has a label longer than ${maxLabelOctets} octets`);
    if (/[\u0100-\uffff]/.test(l)) throw new WireError(`name "${name}" has a character that is not one byte (names are ASCII)`);
    octets += l.length + 1;
  }
  if (octets > maxNameOctets) throw new WireError(`name "${name}" is longer than ${maxNameOctets} octets`);
  return labels;
}

/** TXT text as character-strings of at most 255 bytes: Latin-1 when every character fits a byte (what parsing gives), UTF-8 otherwise. */
function characterStrings(text: string): Buffer[] {
  const latin1 = !/[\u0100-\uffff]/.test(text);
  const bytes = Buffer.from(text, latin1 ? 'latin1' : 'utf8');
  if (bytes.length === 0) return [bytes];
  const out: Buffer[] = [];
  for (let pos = 0; pos < bytes.length; ) {
    let end = Math.min(pos + 255, bytes.length);
    // Never split a UTF-8 sequence: back up to the start of the character that straddles the limit.
    if (!latin1 && end < bytes.length) while ((bytes[end] & 0xc0) === 0x80) end--;
    out.push(bytes.subarray(pos, end));
    pos = end;
  }
  return out;
}

/**
 * The bytes of an address in one of its canonical spellings (parseIPStrict: no
 * leading zeros; a dotted IPv4 tail allowed in IPv6) and of the family asked for:
 * 4 for IPv4 text, 16 for IPv6 text. Zones have no wire form.
 */
function addressBytes(text: string, bits: 32 | 128): IPBytes | undefined {
  const a = text.includes('%') ? null : parseIPStrict(text);
  if (a?.bits !== bits) return undefined;
  return bits === 32 ? a.ip.subarray(12) : a.ip;
}

/** The RDATA kinds each well-known type must use ('raw' goes with any type). */
const kindOfType: Record<number, RData['kind']> = {
  [RRType.A]: 'A',
  [RRType.AAAA]: 'AAAA',
  [RRType.NS]: 'name',
  [RRType.CNAME]: 'name',
  [RRType.PTR]: 'name',
  [RRType.SRV]: 'SRV',
  [RRType.TXT]: 'TXT',
  [RRType.SOA]: 'SOA',
  [RRType.MX]: 'MX',
};

class Writer {
  buf = Buffer.alloc(512);
  len = 0;
  /** Offsets of names already written, by their exact text (so pointers never change a name's case). */
  private readonly names = new Map<string, number>();

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const bigger = Buffer.alloc(size);
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.len++] = v;
  }

  u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16BE(v, this.len);
    this.len += 2;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v, this.len);
    this.len += 4;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** Writes a name, ending in a pointer to an earlier copy of its longest known suffix when `compress`. */
  name(name: string, compress: boolean): void {
    const labels = labelsOf(name);
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.');
      const earlier = this.names.get(suffix);
      if (compress && earlier !== undefined) {
        this.u16(0xc000 | earlier);
        return;
      }
      if (earlier === undefined && this.len <= maxPointerTarget) this.names.set(suffix, this.len);
      const l = labels[i];
      this.room(1 + l.length);
      this.buf[this.len] = l.length;
      this.buf.write(l, this.len + 1, 'latin1');
      this.len += 1 + l.length;
    }
    this.u8(0);
  }

  record(rr: ResourceRecord): void {
    const d = rr.data;
    const type = checkInt(rr.type, 16, `type of "${rr.name}"`);
    if (type === RRType.OPT) throw new WireError('OPT records go in Message.edns, not among the records');
    const want = kindOfType[type];
    if (d.kind !== 'raw' && d.kind !== want) throw new WireError(`record "${rr.name}" of type ${type} has ${d.kind} data`);
    this.name(rr.name, true);
    this.u16(type);
    this.u16(checkInt(rr.class, 16, `class of "${rr.name}"`));
    this.u32(checkInt(rr.ttl, 32, `TTL of "${rr.name}"`));
    const lenAt = this.len;
    this.u16(0);
    switch (d.kind) {
      case 'A': {
        const b = addressBytes(d.address, 32);
        if (!b) throw new WireError(`A record "${rr.name}": "${d.address}" is not an IPv4 address`);
        this.bytes(b);
        break;
      }
      case 'AAAA': {
        const b = addressBytes(d.address, 128);
        if (!b) throw new WireError(`AAAA record "${rr.name}": "${d.address}" is not an IPv6 address`);
        this.bytes(b);
        break;
      }
      case 'name':
        this.name(d.target, true);
        break;
      case 'MX':
        this.u16(checkInt(d.preference, 16, 'MX preference'));
        this.name(d.exchange, true);
        break;
      case 'SRV':
        this.u16(checkInt(d.priority, 16, 'SRV priority'));
        this.u16(checkInt(d.weight, 16, 'SRV weight'));
        this.u16(checkInt(d.port, 16, 'SRV port'));
        // RFC 2782: the target is never compressed.
        this.name(d.target, false);
        break;
      case 'TXT':
        for (const t of d.texts) {
          for (const s of characterStrings(t)) {
            this.u8(s.length);
            this.bytes(s);
          }
        }
        break;
      case 'SOA':
        this.name(d.mname, true);
        this.name(d.rname, true);
        for (const [k, v] of [['serial', d.serial], ['refresh', d.refresh], ['retry', d.retry], ['expire', d.expire], ['minimum', d.minimum]] as const) {
          this.u32(checkInt(v, 32, `SOA ${k}`));
        }
        break;
      case 'raw':
        this.bytes(d.data);
        break;
    }
    const rdlen = this.len - lenAt - 2;
    if (rdlen > 0xffff) throw new WireError(`RDATA of "${rr.name}" is ${rdlen} bytes, over 65535`);
    this.buf.writeUInt16BE(rdlen, lenAt);
  }
}

/** The OPT pseudo-record (RFC 6891 §6.1.2): root owner, class = UDP payload size, TTL = extended rcode, version, DO. */
function optRecord(e: Edns): Buffer {
  const w = new Writer();
  w.u8(0);
  w.u16(RRType.OPT);
  w.u16(checkInt(e.udpSize, 16, 'EDNS UDP size'));
  const ttl = checkInt(e.extendedRcode, 8, 'EDNS extended rcode') * 0x1000000 + checkInt(e.version, 8, 'EDNS version') * 0x10000 + (e.dnssecOk ? 0x8000 : 0);
  w.u32(ttl);
  const lenAt = w.len;
  w.u16(0);
  for (const o of e.options) {
    w.u16(checkInt(o.code, 16, 'EDNS option code'));
    w.u16(checkInt(o.data.length, 16, 'EDNS option length'));
    w.bytes(o.data);
  }
  const rdlen = w.len - lenAt - 2;
  if (rdlen > 0xffff) throw new WireError(`OPT RDATA is ${rdlen} bytes, over 65535`);
  w.buf.writeUInt16BE(rdlen, lenAt);
  return w.buf.subarray(0, w.len);
}

/**
 * Writes a message, compressing names (a pointer replaces a suffix only when
 * it was written before with exactly the same text, so every name keeps its
 * case). With `maxSize`, a message that would be larger loses whole records
 * from the end (additionals, then authorities, then answers) until it fits;
 * questions and the OPT record are always kept (so the result can exceed a
 * maxSize too small even for them). The TC bit is set, and `truncated` is
 * true, only when answers or authorities were dropped; losing additionals
 * alone is not truncation. A TC bit already set in `msg.header` is kept.
 * Throws WireError for names, addresses or numbers that cannot be written.
 */
export function serializeMessage(msg: Message, opts: { maxSize?: number } = {}): { buf: Buffer; truncated: boolean } {
  const h = msg.header;
  const records = [...msg.answers, ...msg.authorities, ...msg.additionals];
  const w = new Writer();
  w.len = headerSize;
  for (const q of msg.questions) {
    w.name(q.name, true);
    w.u16(checkInt(q.type, 16, `type of question "${q.name}"`));
    w.u16(checkInt(q.class, 16, `class of question "${q.name}"`));
  }
  const questionsEnd = w.len;
  const ends: number[] = [];
  for (const rr of records) {
    w.record(rr);
    ends.push(w.len);
  }
  const opt = msg.edns ? optRecord(msg.edns) : Buffer.alloc(0);

  const endOf = (k: number) => (k === 0 ? questionsEnd : ends[k - 1]);
  let kept = records.length;
  if (opts.maxSize !== undefined) while (kept > 0 && endOf(kept) + opt.length > opts.maxSize) kept--;
  const nAn = msg.answers.length;
  const nNs = msg.authorities.length;
  const truncated = kept < nAn + nNs;
  const counts = [msg.questions.length, Math.min(kept, nAn), Math.min(Math.max(kept - nAn, 0), nNs), Math.max(kept - nAn - nNs, 0) + (msg.edns ? 1 : 0)];
  for (const c of counts) if (c > 0xffff) throw new WireError(`a section has ${c} entries, over 65535`);

  w.len = endOf(kept);
  w.bytes(opt);
  const flags =
    (h.qr ? 0x8000 : 0) |
    (checkInt(h.opcode, 4, 'opcode') << 11) |
    (h.aa ? 0x0400 : 0) |
    (h.tc || truncated ? 0x0200 : 0) |
    (h.rd ? 0x0100 : 0) |
    (h.ra ? 0x0080 : 0) |
    (h.ad ? 0x0020 : 0) |
    (h.cd ? 0x0010 : 0) |
    checkInt(h.rcode, 4, 'header rcode (rcodes over 15 need edns.extendedRcode)');
  w.buf.writeUInt16BE(checkInt(h.id, 16, 'id'), 0);
  w.buf.writeUInt16BE(flags, 2);
  counts.forEach((c, i) => w.buf.writeUInt16BE(c, 4 + 2 * i));
  return { buf: w.buf.subarray(0, w.len), truncated };
}

// ---------------------------------------------------------------------------
// Names

/** The form names are compared in: ASCII lower case (DNS case-insensitivity, RFC 4343), without one trailing dot. */
export function normalizeName(name: string): string {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  return /[A-Z]/.test(n) ? n.replace(/[A-Z]+/g, (s) => s.toLowerCase()) : n;
}

/** The reverse-lookup name of an IP address: "d.c.b.a.in-addr.arpa", or 32 nibbles then "ip6.arpa". Throws WireError for anything else. */
export function reverseName(ip: string): string {
  const v4 = addressBytes(ip, 32);
  if (v4) return `${[...v4].reverse().join('.')}.in-addr.arpa`;
  const v6 = addressBytes(ip, 128);
  if (!v6) throw new WireError(`"${ip}" is not an IP address`);
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) nibbles.push((v6[i] & 0x0f).toString(16), (v6[i] >> 4).toString(16));
  return `${nibbles.join('.')}.ip6.arpa`;
}

/**
 * The address a reverse name stands for (any case, one trailing dot allowed),
 * IPv6 in Node's canonical form; undefined unless the name names one whole
 * address (4 decimal labels without leading zeros, or 32 hex nibbles).
 */
export function ipFromReverseName(name: string): string | undefined {
  const n = normalizeName(name);
  if (n.endsWith('.in-addr.arpa')) {
    const parts = n.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length !== 4) return undefined;
    const v4 = parts.reverse().join('.');
    return addressBytes(v4, 32) ? v4 : undefined;
  }
  if (n.endsWith('.ip6.arpa')) {
    const parts = n.slice(0, -'.ip6.arpa'.length).split('.');
    if (parts.length !== 32 || !parts.every((p) => /^[0-9a-f]$/.test(p))) return undefined;
    const bytes = new Uint8Array(16);
    for (let i = 0; i < 16; i++) bytes[i] = (parseInt(parts[31 - 2 * i], 16) << 4) | parseInt(parts[30 - 2 * i], 16);
    return formatIPv6Node(bytes);
  }
  return undefined;
}
