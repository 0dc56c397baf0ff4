// What the kubelet's volume plugins project into configMap, secret,
// downwardAPI and projected volumes (MakePayload / CollectData / the
// projected plugin's collectData): file path → content and mode, to be
// written with the atomic writer. Files are 0644 unless the volume's
// defaultMode or an item's mode says otherwise (the API's default, 420).
import type * as core from 'kubernetes-types/core/v1.js';
import type { DeepMutable, Pod } from '../api/types.js';
import { errorMessage } from '../util/errors.js';
import type { Payload } from './atomic-writer.js';
import { notFoundMessage, sourceRef, sourceValues, type ObjectLookup, type SourceKind, type SourceRef } from './config-sources.js';
import { containerResourceValue, podFieldValue, type NodeAllocatable } from './envvars.js';
import type { TokenManager } from './token-manager.js';

export type Volume = DeepMutable<core.Volume>;
type KeyToPath = DeepMutable<core.KeyToPath>;
type DownwardAPIFile = DeepMutable<core.DownwardAPIVolumeFile>;
type ProjectedSource = DeepMutable<core.VolumeProjection>;

/** SecretVolumeSourceDefaultMode, ConfigMapVolumeSourceDefaultMode, DownwardAPIVolumeSourceDefaultMode, ProjectedVolumeSourceDefaultMode. */
export const defaultFileMode = 0o644;

/** The default lifetime of a projected token (the API's default for expirationSeconds). */
const defaultTokenSeconds = 3600;

export interface PayloadContext {
  pod: Pod;
  podIPs: string[];
  hostIPs: string[];
  node: NodeAllocatable;
  lookup: ObjectLookup;
  tokens: TokenManager;
  /** A problem that leaves a file as it was without failing the volume (a token refresh failed, the old token is still valid). */
  warn(message: string): void;
}

const missingKeyMessage: Record<SourceKind, (key: string) => string> = {
  configmap: (key) => `configmap references non-existent config key: ${key}`,
  secret: (key) => `references non-existent secret key: ${key}`,
};

/** MakePayload of the configMap and secret plugins: every key with the default mode, or the items (each with its mode). */
export async function keyedPayload(ctx: PayloadContext, ref: SourceRef, items: KeyToPath[] | undefined, defaultMode: number): Promise<Payload> {
  const values = await sourceValues(ctx.lookup, ctx.pod.metadata?.namespace ?? 'default', ref, true);
  if (!values && !ref.optional) throw new Error(notFoundMessage(ref));
  const data = values ?? new Map<string, Buffer>();
  const payload: Payload = new Map();
  if (!items?.length) {
    for (const [key, v] of data) payload.set(key, { data: v, mode: defaultMode });
    return payload;
  }
  for (const item of items) {
    const v = data.get(item.key);
    if (v === undefined) {
      if (ref.optional) continue;
      throw new Error(missingKeyMessage[ref.kind](item.key));
    }
    payload.set(item.path, { data: v, mode: item.mode ?? defaultMode });
  }
  return payload;
}

/** downwardapi.CollectData: the pod's fields and its containers' resources, one file per item. */
export function downwardAPIPayload(ctx: PayloadContext, items: DownwardAPIFile[], defaultMode: number): Payload {
  const payload: Payload = new Map();
  const { pod } = ctx;
  for (const item of items) {
    let value: string;
    if (item.fieldRef) value = podFieldValue(pod, item.fieldRef.fieldPath, ctx.podIPs, ctx.hostIPs);
    else if (item.resourceFieldRef) {
      const r = item.resourceFieldRef;
      const container = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === r.containerName);
      if (!container) throw new Error(`container ${r.containerName ?? ''} not found`);
      value = containerResourceValue(container, r.resource, r.divisor as string | undefined, ctx.node);
    } else continue;
    payload.set(item.path, { data: Buffer.from(value), mode: item.mode ?? defaultMode });
  }
  return payload;
}

/** A projected serviceAccountToken source: the token manager's token for the pod's service account. */
async function tokenPayload(ctx: PayloadContext, source: NonNullable<ProjectedSource['serviceAccountToken']>, mode: number): Promise<Payload> {
  const { pod } = ctx;
  const { token, refreshError } = await ctx.tokens.get(pod.metadata?.namespace ?? 'default', pod.spec?.serviceAccountName || 'default', {
    audiences: source.audience ? [source.audience] : [],
    expirationSeconds: source.expirationSeconds ?? defaultTokenSeconds,
    boundPod: { name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' },
  });
  if (refreshError) ctx.warn(`the token in ${source.path} was not refreshed (the current one is still valid): ${refreshError}`);
  return new Map([[source.path, { data: Buffer.from(token), mode }]]);
}

async function projectionPayload(ctx: PayloadContext, s: ProjectedSource, mode: number): Promise<Payload> {
  const keyed = sourceRef({ configmap: s.configMap, secret: s.secret });
  if (keyed) return keyedPayload(ctx, keyed, (s.configMap ?? s.secret)!.items, mode);
  if (s.downwardAPI) return downwardAPIPayload(ctx, s.downwardAPI.items ?? [], mode);
  if (s.serviceAccountToken) return tokenPayload(ctx, s.serviceAccountToken, mode);
  throw new Error(`kubesvc projects configMap, secret, downwardAPI and serviceAccountToken sources only, not ${Object.keys(s).join(', ')}`);
}

/** The projected plugin: every source's files together; the errors of all failed sources, as an aggregate. */
export async function projectedPayload(ctx: PayloadContext, sources: ProjectedSource[], defaultMode: number): Promise<Payload> {
  const payload: Payload = new Map();
  const errors: string[] = [];
  for (const s of sources) {
    try {
      for (const [path, f] of await projectionPayload(ctx, s, defaultMode)) payload.set(path, f);
    } catch (e) {
      errors.push(errorMessage(e));
    }
  }
  if (errors.length) throw new Error(errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`);
  return payload;
}

/** The files of a configMap, secret, downwardAPI or projected volume; undefined for other kinds. */
export async function volumePayload(ctx: PayloadContext, v: Volume): Promise<Payload | undefined> {
  const keyed = sourceRef({ configmap: v.configMap, secret: v.secret && { name: v.secret.secretName, optional: v.secret.optional } });
  if (keyed) {
    const source = (v.configMap ?? v.secret)!;
    return keyedPayload(ctx, keyed, source.items, source.defaultMode ?? defaultFileMode);
  }
  if (v.downwardAPI) return downwardAPIPayload(ctx, v.downwardAPI.items ?? [], v.downwardAPI.defaultMode ?? defaultFileMode);
  if (v.projected) return projectedPayload(ctx, v.projected.sources ?? [], v.projected.defaultMode ?? defaultFileMode);
  return undefined;
}
