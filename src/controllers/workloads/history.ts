// ControllerRevision history (pkg/controller/history and the revision parts
// of the StatefulSet and DaemonSet controllers): a revision snapshots a pod
// template as the strategic merge patch that restores it,
//   {"spec":{"template":{...,"$patch":"replace"}}}
// which is also what `kubectl rollout undo` sends back to the owner.
//
// Upstream builds that patch by encoding the owner with Go's encoding/json
// and re-marshalling it through a map, so the bytes are canonical: keys
// sorted, HTML characters escaped, and the Go struct's always-present fields
// written out (a template's metadata.creationTimestamp as null, a container's
// resources as {}). goJSON and goTemplate reproduce that for the fields a
// template carries after defaulting, so revisions compare as upstream's do
// (byte for byte) and kubectl's own re-encoding of the owner matches them.
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import { isPlainObject, type KubeObject } from '../../api/object.js';
import type { DeepMutable, Stored } from '../../api/types.js';
import { isAlreadyExists, type ResourceClient } from '../../client/client.js';
import { newControllerRef } from './controller-ref.js';
import { safeEncodeString } from './hash.js';
import { controllerRevisionHashLabel, type PodTemplateSpec } from './types.js';

/** `data` is any JSON (a RawExtension), here always the restoring patch. */
export type ControllerRevisionObject = Stored<Omit<DeepMutable<ControllerRevision>, 'data'> & { data?: unknown }>;

/** Key order of Go's map marshalling: byte-wise, which for the keys API objects use is JS's code-unit order. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) if (value[k] !== undefined) out[k] = sortKeys(value[k]);
  return out;
}

/** encoding/json's output for a JSON value: sorted keys, and <, >, &, U+2028, U+2029 escaped. */
export function goJSON(value: unknown): string {
  return (JSON.stringify(sortKeys(value)) ?? 'null').replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A template as Go marshals the PodTemplateSpec struct: metadata and spec always present, zero Time as null, each container's resources. */
function goTemplate(template: PodTemplateSpec | undefined): Record<string, unknown> {
  const t = structuredClone(template ?? {}) as Record<string, unknown> & PodTemplateSpec;
  t.metadata = { creationTimestamp: null, ...(t.metadata ?? {}) } as PodTemplateSpec['metadata'];
  const spec = (t.spec ??= { containers: [] });
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) c.resources ??= {};
  return t;
}

/**
 * The patch that restores `template` on its owner (the StatefulSet
 * controller's getPatch, the DaemonSet controller's getPatch), keys sorted.
 */
export function templatePatch(template: PodTemplateSpec | undefined): Record<string, unknown> {
  return sortKeys({ spec: { template: { ...goTemplate(template), $patch: 'replace' } } }) as Record<string, unknown>;
}

/** The template a revision's patch restores (applying `$patch: replace` at spec.template). */
export function templateOfRevision(rev: ControllerRevisionObject): PodTemplateSpec {
  const data = rev.data as { spec?: { template?: Record<string, unknown> } } | undefined;
  const { $patch: _directive, ...template } = data?.spec?.template ?? {};
  return structuredClone(template) as PodTemplateSpec;
}

/** Two snapshots are the same state when their bytes are (EqualRevision compares Data.Raw). */
export function sameRevisionData(a: unknown, b: unknown): boolean {
  return goJSON(a) === goJSON(b);
}

const fnvOffset = 0x811c9dc5;
const fnvPrime = 0x01000193;

/** hash/fnv New32 (FNV-1: multiply, then xor), which HashControllerRevision uses. */
export function fnv32(data: Uint8Array, seed = fnvOffset): number {
  let h = seed >>> 0;
  for (const b of data) h = (Math.imul(h, fnvPrime) ^ b) >>> 0;
  return h >>> 0;
}

/** HashControllerRevision: FNV-1 of the data's bytes and the collision count in decimal, safe-encoded. */
export function hashControllerRevision(data: unknown, collisionCount?: number | null): string {
  let h = fnv32(Buffer.from(goJSON(data), 'utf8'));
  if (collisionCount != null) h = fnv32(Buffer.from(String(collisionCount), 'utf8'), h);
  return safeEncodeString(String(h));
}

/** ControllerRevisionName: `<prefix>-<hash>`, the prefix cut to 223 characters so the name stays a DNS subdomain. */
export function controllerRevisionName(prefix: string, hash: string): string {
  return `${prefix.slice(0, 223)}-${hash}`;
}

/**
 * NewControllerRevision: labelled with the template's labels and the hash,
 * controlled by `parent`, named `<parent>-<hash>`.
 */
export function newControllerRevision(
  parent: KubeObject,
  gvk: { apiVersion: string; kind: string },
  templateLabels: Record<string, string> | undefined,
  data: unknown,
  revision: number,
  collisionCount?: number | null,
): ControllerRevisionObject {
  const hash = hashControllerRevision(data, collisionCount);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: controllerRevisionName(parent.metadata.name!, hash),
      namespace: parent.metadata.namespace,
      labels: { ...(templateLabels ?? {}), [controllerRevisionHashLabel]: hash },
      ownerReferences: [newControllerRef(parent, gvk)],
    },
    data,
    revision,
  };
}

const creationTime = (r: ControllerRevisionObject) => (r.metadata.creationTimestamp ? Date.parse(r.metadata.creationTimestamp) : 0);

/** SortControllerRevisions: by revision; ties by creation time, then name. */
export function sortControllerRevisions(revisions: ControllerRevisionObject[]): ControllerRevisionObject[] {
  return revisions.sort((a, b) => {
    if ((a.revision ?? 0) !== (b.revision ?? 0)) return (a.revision ?? 0) - (b.revision ?? 0);
    const ta = creationTime(a);
    const tb = creationTime(b);
    if (ta !== tb) return ta - tb;
    const na = a.metadata.name ?? '';
    const nb = b.metadata.name ?? '';
    return na < nb ? -1 : na > nb ? 1 : 0;
  });
}

/**
 * EqualRevision: hash labels that both parse as integers must agree (safe-encoded
 * hashes usually do not parse), then the data must be the same bytes.
 */
export function equalRevision(a: ControllerRevisionObject | undefined, b: ControllerRevisionObject | undefined): boolean {
  if (!a || !b) return a === b;
  const parsed = (r: ControllerRevisionObject) => {
    const v = r.metadata.labels?.[controllerRevisionHashLabel];
    return v !== undefined && /^[+-]?\d+$/.test(v) ? Number(v) : undefined;
  };
  const ha = parsed(a);
  const hb = parsed(b);
  if (ha !== undefined && hb !== undefined && ha !== hb) return false;
  return sameRevisionData(a.data, b.data);
}

/** FindEqualRevisions. */
export function findEqualRevisions(revisions: ControllerRevisionObject[], needle: ControllerRevisionObject): ControllerRevisionObject[] {
  return revisions.filter((r) => equalRevision(r, needle));
}

/** nextRevision: one past the highest of sorted revisions, 1 for none. */
export function nextRevision(sorted: ControllerRevisionObject[]): number {
  return sorted.length ? (sorted[sorted.length - 1]!.revision ?? 0) + 1 : 1;
}

/**
 * realHistory.CreateControllerRevision: names the revision by its hash and
 * creates it; a name taken by the same data is that revision, one taken by
 * other data is a collision: the count goes up and the name changes.
 * `collisionCount.value` carries the count back to the owner's status.
 */
export async function createControllerRevision(
  client: ResourceClient<ControllerRevisionObject>,
  parent: KubeObject,
  revision: ControllerRevisionObject,
  collisionCount: { value: number },
): Promise<ControllerRevisionObject> {
  for (;;) {
    const candidate = structuredClone(revision);
    candidate.metadata.name = controllerRevisionName(parent.metadata.name!, hashControllerRevision(revision.data, collisionCount.value));
    try {
      return await client.create(parent.metadata.namespace, candidate);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const exists = await client.get(parent.metadata.namespace, candidate.metadata.name!);
      if (sameRevisionData(exists.data, candidate.data)) return exists;
      collisionCount.value++;
    }
  }
}

/**
 * Which history to delete so that at most `limit` non-live revisions remain,
 * oldest first; `live` names (or hashes) are never deleted. A negative limit keeps everything.
 */
export function revisionsToTruncate(sortedHistory: ControllerRevisionObject[], limit: number, isLive: (r: ControllerRevisionObject) => boolean): ControllerRevisionObject[] {
  if (limit < 0) return [];
  const history = sortedHistory.filter((r) => !isLive(r));
  return history.length <= limit ? [] : history.slice(0, history.length - limit);
}

/**
 * The DaemonSet controller's cleanupHistory: past revisions beyond `limit`
 * (live ones counted, but never deleted) go, oldest first.
 */
export function pastRevisionsToDelete(sortedPast: ControllerRevisionObject[], limit: number, isLive: (r: ControllerRevisionObject) => boolean): ControllerRevisionObject[] {
  let toKill = sortedPast.length - limit;
  const doomed: ControllerRevisionObject[] = [];
  for (const rev of sortedPast) {
    if (toKill <= 0) break;
    if (isLive(rev)) continue;
    doomed.push(rev);
    toKill--;
  }
  return doomed;
}
