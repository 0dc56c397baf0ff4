// The Kubernetes protobuf wire format of whole objects, as
// k8s.io/apimachinery's runtime/serializer/protobuf writes it: the magic
// "k8s\0", then a runtime.Unknown holding the object's apiVersion/kind and its
// message bytes. Watches are length-delimited frames (4-byte big-endian
// length) of metav1.WatchEvent, each event's object a RawExtension holding the
// object in the enveloped form above.
import { createRequire } from 'node:module';
import { schemaNameOf } from '../openapi/schemas.js';
import { decodeMessage, encodeMessage, TYPE_META } from './codec.js';
import { messages } from './declarations.js';
import { missingFields } from './completeness.js';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';
export const PROTOBUF_WATCH = `${PROTOBUF};stream=watch`;
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

const META_GROUP = 'meta.k8s.io';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

/**
 * The kinds answered in protobuf when asked: the built-in kinds whose
 * declarations messages.ts holds. Each must also pass the completeness check
 * before it is used.
 */
const PROTOBUF_KINDS: readonly string[] = [
  'v1/Pod', 'v1/Service', 'v1/Endpoints', 'v1/Node', 'v1/Namespace', 'v1/ConfigMap', 'v1/Secret', 'v1/ServiceAccount', 'v1/Event',
  'discovery.k8s.io/v1/EndpointSlice',
  'apps/v1/Deployment', 'apps/v1/ReplicaSet', 'apps/v1/DaemonSet', 'apps/v1/StatefulSet', 'apps/v1/ControllerRevision',
  'coordination.k8s.io/v1/Lease',
  'batch/v1/Job', 'batch/v1/CronJob',
  'policy/v1/PodDisruptionBudget',
  'rbac.authorization.k8s.io/v1/Role', 'rbac.authorization.k8s.io/v1/ClusterRole',
  'rbac.authorization.k8s.io/v1/RoleBinding', 'rbac.authorization.k8s.io/v1/ClusterRoleBinding',
  'autoscaling/v1/Scale',
  'v1/Status',
];

/** The kinds meant for protobuf, with their List kinds, as "apiVersion/kind". */
export function protobufKindNames(): string[] {
  return PROTOBUF_KINDS.flatMap((k) => (k.endsWith('/Status') || k.endsWith('/Scale') ? [k] : [k, `${k}List`]));
}

interface KindEntry {
  message: string;
  schema?: string;
}

function entryOf(apiVersion: string, kind: string): KindEntry | undefined {
  if (apiVersion === `${META_GROUP}/v1` && (kind === 'PartialObjectMetadata' || kind === 'PartialObjectMetadataList')) {
    return { message: `${META}.${kind}` };
  }
  const base = kind.endsWith('List') ? kind.slice(0, -4) : kind;
  if (!PROTOBUF_KINDS.includes(`${apiVersion}/${base}`)) return undefined;
  if (kind === 'Status') return { message: `${META}.Status`, schema: `${META}.Status` };
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  const schema = schemaNameOf({ group, version, kind });
  if (!schema || !messages().has(schema)) return undefined;
  return { message: schema, schema };
}

const encodable = new Map<string, string | undefined>();

/** The message of a kind that protobuf can carry whole, or undefined (then it is answered in JSON only). */
export function protobufMessageOf(apiVersion: string, kind: string): string | undefined {
  const key = `${apiVersion}/${kind}`;
  if (!encodable.has(key)) {
    const entry = entryOf(apiVersion, kind);
    let ok = entry !== undefined;
    if (entry?.schema) ok = missingFields(entry.schema, entry.message).length === 0;
    else if (entry) ok = missingFields(`${META}.ObjectMeta`, `${META}.ObjectMeta`).length === 0;
    encodable.set(key, ok ? entry!.message : undefined);
  }
  return encodable.get(key);
}

type Obj = Record<string, unknown>;

/** Whether this body is an API object protobuf can carry. */
export function canEncode(body: unknown): body is Obj & { apiVersion: string; kind: string } {
  if (typeof body !== 'object' || body === null) return false;
  const { apiVersion, kind } = body as Obj;
  return typeof apiVersion === 'string' && typeof kind === 'string' && protobufMessageOf(apiVersion, kind) !== undefined;
}

type Protobuf = typeof import('protobufjs');
let lib: Protobuf | undefined;
const writer = () => (lib ??= createRequire(import.meta.url)('protobufjs') as Protobuf).Writer.create();

/** "k8s\0" + runtime.Unknown{typeMeta, raw, contentEncoding: "", contentType: ""}, as Go writes every one of its fields. */
export function encodeObject(obj: Obj): Buffer {
  const apiVersion = obj.apiVersion as string;
  const kind = obj.kind as string;
  const typeName = protobufMessageOf(apiVersion, kind);
  if (!typeName) throw new Error(`${apiVersion}/${kind} has no complete protobuf declaration`);
  const raw = encodeMessage(typeName, obj, TYPE_META);
  const w = writer();
  w.uint32(0x0a).fork().uint32(0x0a).string(apiVersion).uint32(0x12).string(kind).ldelim();
  w.uint32(0x12).bytes(raw);
  w.uint32(0x1a).string('');
  w.uint32(0x22).string('');
  return Buffer.concat([MAGIC, w.finish()]);
}

/** An enveloped object back in its JSON shape (apiVersion and kind from the envelope). */
export function decodeObject(bytes: Uint8Array): Obj {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (buf.length < 4 || !buf.subarray(0, 4).equals(MAGIC)) throw new Error('not a Kubernetes protobuf object: no "k8s\\x00" prefix');
  const unknown = decodeMessage('io.k8s.apimachinery.pkg.runtime.Unknown', buf.subarray(4));
  const typeMeta = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const apiVersion = typeMeta.apiVersion ?? '';
  const kind = typeMeta.kind ?? '';
  const typeName = entryOf(apiVersion, kind)?.message;
  if (!typeName) throw new Error(`no protobuf declaration of ${apiVersion}/${kind}`);
  const raw = Buffer.from((unknown.raw as string | undefined) ?? '', 'base64');
  return { apiVersion, kind, ...decodeMessage(typeName, raw) };
}

/** One watch event as a length-delimited frame of metav1.WatchEvent. */
export function encodeWatchFrame(type: string, obj: Obj): Buffer {
  const w = writer();
  w.uint32(0x0a).string(type);
  w.uint32(0x12).fork().uint32(0x0a).bytes(encodeObject(obj)).ldelim();
  const event = w.finish();
  const frame = Buffer.allocUnsafe(4 + event.length);
  frame.writeUInt32BE(event.length, 0);
  frame.set(event, 4);
  return frame;
}

/** Splits a watch stream into events; `rest` is an incomplete trailing frame. */
export function decodeWatchFrames(stream: Buffer): { events: { type: string; object: Obj }[]; rest: Buffer } {
  const events: { type: string; object: Obj }[] = [];
  let at = 0;
  while (stream.length - at >= 4) {
    const len = stream.readUInt32BE(at);
    if (stream.length - at - 4 < len) break;
    const frame = stream.subarray(at + 4, at + 4 + len);
    at += 4 + len;
    const r = (lib ??= createRequire(import.meta.url)('protobufjs') as Protobuf).Reader.create(frame);
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
    if (!raw) throw new Error('watch event without an object');
    events.push({ type, object: decodeObject(raw) });
  }
  return { events, rest: stream.subarray(at) };
}
