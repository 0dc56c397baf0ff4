// The declarations of messages.ts, parsed once into lookup structures: each
// message's fields in field-number order (Go's encoders write them so), by
// number for decoding and by JSON name for the completeness check.
import { API_VERSIONS, MESSAGES, PACKAGES } from './messages.js';

export type ScalarType = 'string' | 'int32' | 'int64' | 'bool' | 'bytes';
const SCALARS: ReadonlySet<string> = new Set<ScalarType>(['string', 'int32', 'int64', 'bool', 'bytes']);

export interface FieldDecl {
  /** The JSON name (also the proto name). */
  name: string;
  id: number;
  /** A scalar type, or the full name of a message (io.k8s.api.core.v1.PodSpec). */
  type: string;
  scalar: boolean;
  repeated: boolean;
  map: boolean;
  /** A pointer in the Go type: on the wire only when set (see messages.ts). */
  pointer: boolean;
  /** A Go embedded struct: its fields' keys live in the parent's JSON object. */
  inline: boolean;
}

export interface MessageDecl {
  /** Full name, as the OpenAPI schema names the same type. */
  name: string;
  fields: FieldDecl[];
  byId: Map<number, FieldDecl>;
}

let parsed: Map<string, MessageDecl> | undefined;

function parseField(spec: string, pkg: string, message: string): FieldDecl {
  const m = /^(\^?)([A-Za-z0-9_]+)=(\d+):(\[\]|\{\}|\*)?([A-Za-z0-9_.]+)$/.exec(spec);
  if (!m) throw new Error(`protobuf declaration of ${message}: cannot read field "${spec}"`);
  const [, inline, name, id, modifier, typeName] = m;
  const scalar = SCALARS.has(typeName!);
  let type = typeName!;
  if (!scalar) {
    const dot = type.indexOf('.');
    if (dot < 0) type = `${pkg}.${type}`;
    else {
      const target = PACKAGES[type.slice(0, dot)];
      if (!target) throw new Error(`protobuf declaration of ${message}: unknown package alias in "${spec}"`);
      type = `${target}.${type.slice(dot + 1)}`;
    }
  }
  return { name: name!, id: Number(id), type, scalar, repeated: modifier === '[]', map: modifier === '{}', pointer: modifier === '*', inline: inline === '^' };
}

/** Every declared message by full name. */
export function messages(): Map<string, MessageDecl> {
  if (!parsed) {
    const all = new Map<string, MessageDecl>();
    for (const [alias, decls] of Object.entries(MESSAGES)) {
      const pkg = PACKAGES[alias]!;
      for (const [short, text] of Object.entries(decls)) {
        const name = `${pkg}.${short}`;
        const fields = text
          .split(' ')
          .filter(Boolean)
          .map((s) => parseField(s, pkg, name))
          .sort((a, b) => a.id - b.id);
        all.set(name, { name, fields, byId: new Map(fields.map((f) => [f.id, f])) });
      }
    }
    for (const msg of all.values()) {
      for (const f of msg.fields) {
        if (!f.scalar && !all.has(f.type)) throw new Error(`protobuf declaration of ${msg.name}: field ${f.name} refers to undeclared ${f.type}`);
      }
    }
    parsed = all;
  }
  return parsed;
}

export function message(name: string): MessageDecl {
  const m = messages().get(name);
  if (!m) throw new Error(`no protobuf declaration of ${name}`);
  return m;
}

export const META = PACKAGES.meta!;
export const RUNTIME = PACKAGES.runtime!;

/**
 * A kind's message (its first field is ObjectMeta): Go's struct embeds a
 * TypeMeta that protobuf does not carry, so an embedded one (a list's items,
 * a StatefulSet's volumeClaimTemplates) loses apiVersion/kind, as upstream's
 * does: the field's type implies them.
 */
export function isKind(msg: MessageDecl): boolean {
  const first = msg.fields[0];
  return first?.name === 'metadata' && first.type === `${META}.ObjectMeta`;
}

/** metav1's kinds that every group-version knows (client-go writes DeleteOptions in the resource's). */
const META_KINDS: ReadonlySet<string> = new Set(['Status', 'DeleteOptions', 'WatchEvent']);
/** Kinds of a version that is no longer declared whose message is a declared one's. */
const SAME_MESSAGE: Readonly<Record<string, string>> = {
  // kubectl drain sends policy/v1beta1 Evictions to servers without policy/v1; the fields are the same.
  'policy/v1beta1/Eviction': 'io.k8s.api.policy.v1.Eviction',
};

/** The message of a kind (an object, a list, or one of metav1's), or undefined when none is declared. */
export function kindMessage(apiVersion: string, kind: string): string | undefined {
  const same = SAME_MESSAGE[`${apiVersion}/${kind}`];
  if (same) return same;
  const alias = API_VERSIONS[apiVersion];
  if (alias === undefined) return undefined;
  const own = messages().get(`${PACKAGES[alias]}.${kind}`);
  if (own && own.fields[0]?.name === 'metadata') return own.name;
  return META_KINDS.has(kind) ? `${META}.${kind}` : undefined;
}

/**
 * The ExtraValue messages (authentication, authorization, certificates): a Go []string type that protobuf wraps in
 * a message of one `repeated string items = 1`, and JSON writes as the list itself.
 */
export function isStringList(type: string): boolean {
  return type.endsWith('.ExtraValue');
}
