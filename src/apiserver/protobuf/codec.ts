// Objects in their JSON shape ↔ protobuf message bytes, driven by the
// declarations, as Go's generated (gogo) marshalers write them: fields in
// number order, maps as entries sorted by key, repeated fields unpacked, the
// embedded (inline) structs always written. A key that is present in the JSON
// object is written — also a zero value, since a pointer field's zero is
// meaningful (replicas: 0) — and an absent one is not: Go writes non-pointer
// zero scalars too, but decoding an absent proto2 field leaves the same zero,
// so client-go reads the same object either way.
//
// The types whose JSON differs from their message: metav1.Time and MicroTime
// (RFC 3339 text ↔ seconds + nanos), intstr.IntOrString (a number or a string
// ↔ type/intVal/strVal), resource.Quantity (text ↔ {string}),
// runtime.RawExtension and metav1.FieldsV1 (any JSON ↔ its JSON bytes), and
// bytes fields (base64 text ↔ bytes).
//
// Decoding gives every field on the wire its key, or, with `zeroIsUnset`,
// reads the bytes as a Go encoder wrote them: every non-pointer field is on
// the wire, so its zero value ('' / 0 / false / an empty struct / the zero
// time) means unset and is left out, as JSON's omitempty leaves it out and
// defaulting then fills it in; a pointer field (`*` in messages.ts) is there
// only when set, so it is kept even when zero (replicas: 0, emptyDir: {}).
import { createRequire } from 'node:module';
import type { Reader, Writer } from 'protobufjs';
import { isKind, isStringList, message, META, RUNTIME, type FieldDecl, type MessageDecl } from './declarations.js';

/** An object that the declarations cannot carry whole (a key with no field, a value of the wrong type). */
export class ProtobufEncodeError extends Error {
  override name = 'ProtobufEncodeError';
}

/** Bytes that do not decode as the declared message (or as a Kubernetes protobuf object). */
export class ProtobufDecodeError extends Error {
  override name = 'ProtobufDecodeError';
}

type Protobuf = typeof import('protobufjs');
let lib: Protobuf | undefined;
// Loaded on first use, so that a server never asked for protobuf pays nothing.
function protobuf(): Protobuf {
  return (lib ??= createRequire(import.meta.url)('protobufjs') as Protobuf);
}

const VARINT = 0;
const LEN = 2;
const tag = (id: number, wire: number) => ((id << 3) | wire) >>> 0;

const TIME = `${META}.Time`;
const MICRO_TIME = `${META}.MicroTime`;
const FIELDS_V1 = `${META}.FieldsV1`;
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const RAW_EXTENSION = `${RUNTIME}.RawExtension`;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------- encoding

const NONE: ReadonlySet<string> = new Set();
/** The keys the envelope carries (runtime.Unknown's typeMeta), not the message. */
export const TYPE_META: ReadonlySet<string> = new Set(['apiVersion', 'kind']);

/** The message bytes of `obj` (without envelope). */
export function encodeMessage(typeName: string, obj: Obj, skip?: ReadonlySet<string>): Uint8Array {
  const w = protobuf().Writer.create();
  writeFields(w, message(typeName), obj, typeName, skip);
  return w.finish();
}


/** Writes obj's fields; throws when a key of obj (not in `skip`) has no field. */
function writeFields(w: Writer, msg: MessageDecl, obj: Obj, path: string, given?: ReadonlySet<string>): void {
  const skip = given ?? (isKind(msg) ? TYPE_META : NONE);
  const consumed = writeDeclared(w, msg, obj, path);
  const keys = Object.keys(obj);
  let skipped = 0;
  for (const k of skip) if (obj[k] !== undefined) skipped++;
  if (consumed + skipped < keys.length) {
    const known = new Set<string>();
    collectNames(msg, known);
    const lost = keys.filter((k) => !known.has(k) && !skip.has(k));
    if (lost.length) throw new ProtobufEncodeError(`${path}.${lost[0]} has no field in the protobuf message ${msg.name}`);
  }
}

function collectNames(msg: MessageDecl, into: Set<string>): void {
  for (const f of msg.fields) {
    if (f.inline) collectNames(message(f.type), into);
    else into.add(f.name);
  }
}

/** Returns how many of obj's keys the fields (inline ones included) took. */
function writeDeclared(w: Writer, msg: MessageDecl, obj: Obj, path: string): number {
  let consumed = 0;
  for (const f of msg.fields) {
    if (f.inline) {
      w.uint32(tag(f.id, LEN)).fork();
      consumed += writeDeclared(w, message(f.type), obj, path);
      w.ldelim();
      continue;
    }
    const v = obj[f.name];
    if (v === undefined) continue;
    consumed++;
    if (v === null) continue; // Go's nil pointer, or the zero Time that JSON writes as null
    const at = `${path}.${f.name}`;
    if (f.map) {
      if (!isObj(v)) throw new ProtobufEncodeError(`${at} is not an object`);
      for (const k of Object.keys(v).sort()) {
        const item = v[k];
        w.uint32(tag(f.id, LEN)).fork();
        w.uint32(tag(1, LEN)).string(k);
        if (item !== null && item !== undefined) writeValue(w, f, 2, item, `${at}.${k}`);
        w.ldelim();
      }
    } else if (f.repeated) {
      if (!Array.isArray(v)) throw new ProtobufEncodeError(`${at} is not an array`);
      for (let i = 0; i < v.length; i++) writeValue(w, f, f.id, v[i], `${at}[${i}]`);
    } else {
      writeValue(w, f, f.id, v, at);
    }
  }
  return consumed;
}

function writeValue(w: Writer, f: FieldDecl, id: number, v: unknown, at: string): void {
  if (f.scalar) return writeScalar(w, f.type, id, v, at);
  w.uint32(tag(id, LEN)).fork();
  switch (f.type) {
    case TIME:
    case MICRO_TIME: {
      if (typeof v !== 'string') throw new ProtobufEncodeError(`${at} is not a timestamp`);
      const { seconds, nanos } = parseTimestamp(v, at);
      w.uint32(tag(1, VARINT)).int64(seconds);
      w.uint32(tag(2, VARINT)).int32(nanos);
      break;
    }
    case INT_OR_STRING:
      if (typeof v === 'number') {
        w.uint32(tag(1, VARINT)).int64(0).uint32(tag(2, VARINT)).int32(v).uint32(tag(3, LEN)).string('');
      } else if (typeof v === 'string') {
        w.uint32(tag(1, VARINT)).int64(1).uint32(tag(2, VARINT)).int32(0).uint32(tag(3, LEN)).string(v);
      } else throw new ProtobufEncodeError(`${at} is neither an integer nor a string`);
      break;
    case QUANTITY:
      if (typeof v !== 'string' && typeof v !== 'number') throw new ProtobufEncodeError(`${at} is not a quantity`);
      w.uint32(tag(1, LEN)).string(String(v));
      break;
    case RAW_EXTENSION:
    case FIELDS_V1:
      w.uint32(tag(1, LEN)).bytes(Buffer.from(JSON.stringify(v)));
      break;
    default:
      if (isStringList(f.type)) {
        if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new ProtobufEncodeError(`${at} is not a list of strings`);
        for (const s of v as string[]) w.uint32(tag(1, LEN)).string(s);
        break;
      }
      if (!isObj(v)) throw new ProtobufEncodeError(`${at} is not an object`);
      writeFields(w, message(f.type), v, at);
  }
  w.ldelim();
}


function writeScalar(w: Writer, type: string, id: number, v: unknown, at: string): void {
  switch (type) {
    case 'string':
      if (typeof v !== 'string') throw new ProtobufEncodeError(`${at} is not a string`);
      w.uint32(tag(id, LEN)).string(v);
      return;
    case 'bool':
      if (typeof v !== 'boolean') throw new ProtobufEncodeError(`${at} is not a boolean`);
      w.uint32(tag(id, VARINT)).bool(v);
      return;
    case 'int32':
    case 'int64':
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new ProtobufEncodeError(`${at} is not an integer`);
      if (type === 'int32') w.uint32(tag(id, VARINT)).int32(v);
      else w.uint32(tag(id, VARINT)).int64(v);
      return;
    case 'bytes':
      if (typeof v !== 'string') throw new ProtobufEncodeError(`${at} is not base64 text`);
      w.uint32(tag(id, LEN)).bytes(Buffer.from(v, 'base64'));
      return;
  }
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

function parseTimestamp(text: string, at: string): { seconds: number; nanos: number } {
  const m = TIMESTAMP.exec(text);
  if (!m) throw new ProtobufEncodeError(`${at} is not an RFC 3339 timestamp: ${text}`);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  let seconds = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) / 1000;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone![0] === '-' ? -1 : 1;
    seconds -= sign * (Number(zone!.slice(1, 3)) * 3600 + Number(zone!.slice(4, 6)) * 60);
  }
  const nanos = frac ? Number(frac.padEnd(9, '0')) : 0;
  return { seconds, nanos };
}

// ---------------------------------------------------------------- decoding

export interface DecodeOptions {
  /** Zero values of non-pointer fields are unset (see the top of this file). */
  zeroIsUnset?: boolean;
  /** What the bytes are, for the error message (default: the message's name). */
  what?: string;
}

/** The JSON shape of message bytes. */
export function decodeMessage(typeName: string, bytes: Uint8Array, options: DecodeOptions = {}): Obj {
  const msg = message(typeName);
  let obj: Obj;
  try {
    const r = protobuf().Reader.create(bytes);
    obj = readFields(r, msg, r.len, {});
  } catch (e) {
    if (e instanceof ProtobufDecodeError) throw e;
    throw new ProtobufDecodeError(`malformed protobuf ${options.what ?? typeName}: ${(e as Error).message}`);
  }
  if (options.zeroIsUnset) dropUnset(msg, obj);
  return obj;
}

/** Removes the zero values of non-pointer fields, in place (see the top of this file). */
function dropUnset(msg: MessageDecl, obj: Obj): void {
  for (const f of msg.fields) {
    if (f.inline) {
      dropUnset(message(f.type), obj);
      continue;
    }
    if (!Object.prototype.hasOwnProperty.call(obj, f.name)) continue;
    const v = obj[f.name];
    if (f.map) {
      // Map entries and list items are values, kept even when empty: a label "a" with value "" is meaningful.
      for (const item of Object.values(v as Obj)) settle(f, item, true);
    } else if (f.repeated) {
      for (const item of v as unknown[]) settle(f, item, true);
    } else if (settle(f, v, f.pointer) === undefined) {
      delete obj[f.name];
    }
  }
}

/** The value as kept (nested messages pruned), or undefined when it is an unset zero. */
function settle(f: FieldDecl, v: unknown, keep: boolean): unknown {
  if (v === null || v === undefined) return undefined; // the zero time, an empty RawExtension
  if (isObj(v) && !f.scalar && !OPAQUE.has(f.type)) {
    dropUnset(message(f.type), v);
    return keep || Object.keys(v).length > 0 ? v : undefined;
  }
  return keep || (v !== '' && v !== 0 && v !== false) ? v : undefined;
}

/** Types whose decoded value is not their message's shape (a timestamp, a quantity, any JSON). */
const OPAQUE: ReadonlySet<string> = new Set([TIME, MICRO_TIME, FIELDS_V1, INT_OR_STRING, QUANTITY, RAW_EXTENSION]);

function readFields(r: Reader, msg: MessageDecl, end: number, into: Obj): Obj {
  while (r.pos < end) {
    const t = r.uint32();
    const f = msg.byId.get(t >>> 3);
    if (!f) {
      r.skipType(t & 7);
      continue;
    }
    if (f.inline) {
      const len = r.uint32();
      readFields(r, message(f.type), r.pos + len, into);
    } else if (f.map) {
      const len = r.uint32();
      const stop = r.pos + len;
      let key = '';
      let value: unknown;
      while (r.pos < stop) {
        const et = r.uint32();
        if (et >>> 3 === 1) key = r.string();
        else if (et >>> 3 === 2) value = readValue(r, f);
        else r.skipType(et & 7);
      }
      // An entry without a value holds the zero value, as Go reads it.
      value ??= f.scalar ? zeroOf(f.type) : valueOf(f.type, readFields(r, message(f.type), r.pos, {}));
      const map = (into[f.name] ??= {}) as Obj;
      Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
    } else if (f.repeated) {
      const list = (into[f.name] ??= []) as unknown[];
      if ((t & 7) === LEN && f.scalar && f.type !== 'string' && f.type !== 'bytes') {
        const stop = r.uint32() + r.pos; // packed, as other encoders may write
        while (r.pos < stop) list.push(readValue(r, f));
      } else list.push(readValue(r, f));
    } else {
      into[f.name] = readValue(r, f);
    }
  }
  if (r.pos !== end) throw new Error(`message ${msg.name} overruns its length`);
  return into;
}

function zeroOf(type: string): unknown {
  return type === 'string' || type === 'bytes' ? '' : type === 'bool' ? false : 0;
}

function readValue(r: Reader, f: FieldDecl): unknown {
  switch (f.type) {
    case 'string':
      return r.string();
    case 'bool':
      return r.bool();
    case 'int32':
      return r.int32();
    case 'int64':
      return toNumber(r.int64());
    case 'bytes':
      return Buffer.from(r.bytes()).toString('base64');
  }
  const len = r.uint32();
  const end = r.pos + len;
  return valueOf(f.type, readFields(r, message(f.type), end, {}));
}

/** The JSON value of a decoded message: its fields, or the form of a type that JSON writes otherwise. */
function valueOf(type: string, sub: Obj): unknown {
  switch (type) {
    case TIME:
    case MICRO_TIME:
      if (sub.seconds === undefined && sub.nanos === undefined) return null; // the zero time
      return formatTimestamp((sub.seconds as number | undefined) ?? 0, (sub.nanos as number | undefined) ?? 0, type === MICRO_TIME);
    case INT_OR_STRING:
      return sub.type === 1 ? ((sub.strVal as string | undefined) ?? '') : ((sub.intVal as number | undefined) ?? 0);
    case QUANTITY:
      return (sub.string as string | undefined) ?? '';
    case RAW_EXTENSION:
      return parseRaw(sub.raw as string | undefined);
    case FIELDS_V1:
      return parseRaw(sub.Raw as string | undefined);
    default:
      return isStringList(type) ? ((sub.items as string[] | undefined) ?? []) : sub;
  }
}

function parseRaw(base64: string | undefined): unknown {
  if (!base64) return null;
  return JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'toNumber' in v && typeof v.toNumber === 'function') return v.toNumber() as number;
  return Number(v);
}

/** metav1.Time's JSON: RFC 3339 at second precision in UTC; MicroTime's: six fraction digits. */
function formatTimestamp(seconds: number, nanos: number, micro: boolean): string {
  if (nanos < 0 || nanos > 999_999_999) throw new ProtobufDecodeError(`invalid protobuf timestamp: nanos ${nanos} out of range`);
  const date = new Date(seconds * 1000);
  const year = date.getUTCFullYear();
  // RFC 3339 has four-digit years, as Go's time.MarshalJSON insists.
  if (!Number.isFinite(date.getTime()) || year < 0 || year > 9999) throw new ProtobufDecodeError(`invalid protobuf timestamp: seconds ${seconds} out of range`);
  const base = date.toISOString().slice(0, 19);
  if (!micro) return `${base}Z`;
  return `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
}
