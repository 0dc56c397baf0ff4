// Kubernetes protobuf objects and watch streams read back into their JSON
// shape (wire.ts writes them): "k8s\0", then a runtime.Unknown holding the
// object's apiVersion/kind and its message bytes; a watch is a stream of
// length-prefixed (4-byte big-endian) metav1.WatchEvent frames. Any kind
// whose message is declared is read: request bodies (zero values as unset,
// see codec.ts) as well as answers. Kept apart from wire.ts so that a client
// reading protobuf loads the declarations only, not the OpenAPI schemas.
import { createRequire } from 'node:module';
import { decodeMessage, ProtobufDecodeError, type DecodeOptions } from './codec.js';
import { kindMessage } from './declarations.js';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';
export const PROTOBUF_WATCH = `${PROTOBUF};stream=watch`;
export const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

type Obj = Record<string, unknown>;
type Protobuf = typeof import('protobufjs');
let lib: Protobuf | undefined;
const reader = (bytes: Uint8Array) => (lib ??= createRequire(import.meta.url)('protobufjs') as Protobuf).Reader.create(bytes);

/** Whether a Content-Type header names the Kubernetes protobuf encoding (parameters aside). */
export function isProtobufContentType(ct: string | undefined): boolean {
  if (!ct) return false;
  return ct.split(';')[0]!.trim().toLowerCase() === PROTOBUF;
}

/** Whether decodeObject reads this kind. */
export function canDecode(apiVersion: string, kind: string): boolean {
  return kindMessage(apiVersion, kind) !== undefined;
}

/**
 * An enveloped object back in its JSON shape (apiVersion and kind from the
 * envelope); ProtobufDecodeError when the bytes are not one.
 */
export function decodeObject(bytes: Uint8Array, options: Pick<DecodeOptions, 'zeroIsUnset'> = {}): Obj {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (buf.length < 4 || !buf.subarray(0, 4).equals(MAGIC)) {
    throw new ProtobufDecodeError('protobuf body does not start with the Kubernetes magic prefix "k8s\\x00"');
  }
  const { apiVersion, kind, raw, contentEncoding, contentType } = readUnknown(buf.subarray(4));
  if (!apiVersion || !kind) throw new ProtobufDecodeError('protobuf body has no apiVersion/kind in its runtime.Unknown typeMeta');
  if (contentEncoding !== '') {
    throw new ProtobufDecodeError(`protobuf body uses unsupported contentEncoding "${contentEncoding}"`);
  }
  if (contentType !== '' && !isProtobufContentType(contentType)) {
    throw new ProtobufDecodeError(`protobuf body wraps unsupported contentType "${contentType}"`);
  }
  const typeName = kindMessage(apiVersion, kind);
  if (!typeName) throw new ProtobufDecodeError(`protobuf decoding of ${kind} in ${apiVersion} is not supported; send JSON instead`);
  return { apiVersion, kind, ...decodeMessage(typeName, raw, { ...options, what: `${apiVersion} ${kind}` }) };
}

/** runtime.Unknown's fields, read in place (raw is not copied). */
function readUnknown(bytes: Uint8Array): { apiVersion: string; kind: string; raw: Uint8Array; contentEncoding: string; contentType: string } {
  const out = { apiVersion: '', kind: '', raw: new Uint8Array(0) as Uint8Array, contentEncoding: '', contentType: '' };
  try {
    const r = reader(bytes);
    while (r.pos < r.len) {
      const t = r.uint32();
      if (t === 0x0a) {
        const end = r.uint32() + r.pos;
        while (r.pos < end) {
          const tt = r.uint32();
          if (tt === 0x0a) out.apiVersion = r.string();
          else if (tt === 0x12) out.kind = r.string();
          else r.skipType(tt & 7);
        }
        if (r.pos !== end) throw new Error('typeMeta overruns its length');
      } else if (t === 0x12) out.raw = r.bytes();
      else if (t === 0x1a) out.contentEncoding = r.string();
      else if (t === 0x22) out.contentType = r.string();
      else r.skipType(t & 7);
    }
  } catch (e) {
    throw new ProtobufDecodeError(`malformed protobuf runtime.Unknown envelope: ${(e as Error).message}`);
  }
  return out;
}

/** Splits a watch stream into events; `rest` is an incomplete trailing frame. */
export function decodeWatchFrames(stream: Buffer, options: Pick<DecodeOptions, 'zeroIsUnset'> = {}): { events: { type: string; object: Obj }[]; rest: Buffer } {
  const events: { type: string; object: Obj }[] = [];
  let at = 0;
  while (stream.length - at >= 4) {
    const len = stream.readUInt32BE(at);
    if (stream.length - at - 4 < len) break;
    const frame = stream.subarray(at + 4, at + 4 + len);
    at += 4 + len;
    const r = reader(frame);
    let type = '';
    let raw: Uint8Array | undefined;
    while (r.pos < r.len) {
      const t = r.uint32();
      if (t === 0x0a) type = r.string();
      else if (t === 0x12) {
        const end = r.uint32() + r.pos;
        while (r.pos < end) {
          const et = r.uint32();
          if (et === 0x0a) raw = r.bytes();
          else r.skipType(et & 7);
        }
      } else r.skipType(t & 7);
    }
    if (!raw) throw new ProtobufDecodeError('watch event without an object');
    events.push({ type, object: decodeObject(raw, options) });
  }
  return { events, rest: stream.subarray(at) };
}

/** Watch frames arriving in chunks: each complete event is handed on as it arrives (decode errors are thrown from push). */
export function watchFrameReader(
  onEvent: (e: { type: string; object: Obj }) => void,
  options: Pick<DecodeOptions, 'zeroIsUnset'> = {},
): { push(chunk: Buffer): void } {
  let chunks: Buffer[] = [];
  let size = 0;
  let need = 4;
  return {
    push(chunk) {
      chunks.push(chunk);
      size += chunk.length;
      if (size < need) return;
      const { events, rest } = decodeWatchFrames(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), options);
      chunks = rest.length ? [rest] : [];
      size = rest.length;
      need = rest.length >= 4 ? 4 + rest.readUInt32BE(0) : 4;
      for (const e of events) onEvent(e);
    },
  };
}
