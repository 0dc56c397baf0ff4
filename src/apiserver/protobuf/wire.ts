// The Kubernetes protobuf wire format of whole objects, as
// k8s.io/apimachinery's runtime/serializer/protobuf writes it: the magic
// "k8s\0", then a runtime.Unknown holding the object's apiVersion/kind and its
// message bytes. Watches are length-delimited frames (4-byte big-endian
// length) of metav1.WatchEvent, each event's object a RawExtension holding the
// object in the enveloped form above.
// This file writes them, and knows which kinds are answered in protobuf;
// read.ts reads them back.
import { createRequire } from 'node:module';
import { schemaNameOf } from '../openapi/schemas.js';
import { encodeMessage, TYPE_META } from './codec.js';
import { messages } from './declarations.js';
import { missingFields } from './completeness.js';
import { MAGIC } from './read.js';

// The reading side, for the importers that know this file as the wire format.
export { decodeObject, decodeWatchFrames, PROTOBUF, PROTOBUF_WATCH } from './read.js';

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
  'certificates.k8s.io/v1/CertificateSigningRequest',
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
