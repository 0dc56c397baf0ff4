// ConfigMaps and Secrets as the kubelet reads them, one way for both kinds:
// for environment variables (env valueFrom configMapKeyRef/secretKeyRef,
// envFrom configMapRef/secretRef) and for volumes (configMap, secret and the
// projected sources), with the kubelet's messages naming each kind.
import type * as core from 'kubernetes-types/core/v1.js';
import type { ConfigMap, DeepMutable } from '../api/types.js';

export type Secret = DeepMutable<core.Secret>;

/** The API lookups: undefined when the object does not exist; other failures throw. */
export interface ObjectLookup {
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
}

export type SourceKind = 'configmap' | 'secret';

/** A reference to a ConfigMap or Secret, from any of the places a pod makes one. */
export interface SourceRef {
  kind: SourceKind;
  name: string;
  optional: boolean;
}

interface RefFields {
  name?: string;
  optional?: boolean;
}

/** The reference among a configMap and a secret field (the API allows one of them), or undefined when neither is set. */
export function sourceRef(fields: { configmap?: RefFields; secret?: RefFields }): SourceRef | undefined {
  const kind: SourceKind | undefined = fields.configmap ? 'configmap' : fields.secret ? 'secret' : undefined;
  if (!kind) return undefined;
  const f = fields[kind]!;
  return { kind, name: f.name ?? '', optional: f.optional === true };
}

/** How the kubelet's messages name each kind: the managers' NotFound resource, the Kind, envFrom's field. */
export const sourceNames: Record<SourceKind, { resource: string; kind: string; envFrom: string }> = {
  configmap: { resource: 'configmap', kind: 'ConfigMap', envFrom: 'configMap' },
  secret: { resource: 'secret', kind: 'Secret', envFrom: 'secret' },
};

/** `secret "db" not found`, as the kubelet's secret and configmap managers say it. */
export const notFoundMessage = (ref: SourceRef) => `${sourceNames[ref.kind].resource} "${ref.name}" not found`;

const base64Values = (m: Record<string, string> | undefined) => Object.entries(m ?? {}).map(([k, v]): [string, Buffer] => [k, Buffer.from(v, 'base64')]);

/**
 * The object's values as bytes, or undefined when it does not exist. A
 * ConfigMap's binaryData counts for volumes only: the kubelet builds
 * environment variables from its data alone.
 */
export async function sourceValues(lookup: ObjectLookup, namespace: string, ref: SourceRef, withBinaryData: boolean): Promise<Map<string, Buffer> | undefined> {
  if (ref.kind === 'secret') {
    const secret = await lookup.getSecret(namespace, ref.name);
    return secret && new Map(base64Values(secret.data));
  }
  const cm = await lookup.getConfigMap(namespace, ref.name);
  if (!cm) return undefined;
  const values = new Map(Object.entries(cm.data ?? {}).map(([k, v]): [string, Buffer] => [k, Buffer.from(v, 'utf8')]));
  if (withBinaryData) for (const [k, v] of base64Values(cm.binaryData)) values.set(k, v);
  return values;
}
