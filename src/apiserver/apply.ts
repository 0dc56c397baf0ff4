// Server-side apply: the applied configuration is merged into the live object
// (strategic merge semantics), and each applier's field set is recorded in
// metadata.managedFields (FieldsV1), so that fields a manager applied before
// and no longer applies are removed — the property that makes re-applying a
// trimmed manifest converge. Ownership conflicts with other managers are not
// detected yet.
import { isPlainObject, nowTimestamp, type KubeObject } from '../api/object.js';
import { fieldPatchMeta, patchSchemaOf, type FieldPatchMeta } from './patch/patch-meta.js';
import { applyStrategicMergePatch } from './patch/strategic-merge-patch.js';

export interface FieldsV1 {
  [key: string]: FieldsV1;
}

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: FieldsV1;
  subresource?: string;
}

function keyOf(item: unknown, mergeKey: string): string {
  const v = isPlainObject(item) ? item[mergeKey] : undefined;
  return `k:${JSON.stringify({ [mergeKey]: v })}`;
}

/** The FieldsV1 set of an applied configuration: merged lists are sets keyed as strategic merge patch keys them. */
export function fieldSet(value: Record<string, unknown>, kind: string): FieldsV1 {
  const child = (v: unknown, meta: FieldPatchMeta | undefined): FieldsV1 => {
    if (isPlainObject(v)) return { '.': {}, ...object(v, meta?.struct) };
    if (Array.isArray(v) && meta?.strategy === 'merge') {
      const mk = meta.mergeKey ?? '';
      const out: FieldsV1 = {};
      for (const item of v) {
        if (mk === '') out[`v:${JSON.stringify(item)}`] = {};
        else out[keyOf(item, mk)] = { '.': {}, ...(isPlainObject(item) ? object(item, meta.struct) : {}) };
      }
      return out;
    }
    return {};
  };
  const object = (o: Record<string, unknown>, struct: string | undefined): FieldsV1 => {
    const out: FieldsV1 = {};
    for (const [k, v] of Object.entries(o)) {
      if (v === null || v === undefined) continue;
      out[`f:${k}`] = child(v, fieldPatchMeta(struct, k));
    }
    return out;
  };
  const { apiVersion: _a, kind: _k, status: _s, ...rest } = value;
  const fields = object(rest, patchSchemaOf(kind));
  const meta = fields['f:metadata'];
  if (meta) {
    for (const k of ['f:name', 'f:namespace', 'f:resourceVersion', 'f:uid', 'f:creationTimestamp', 'f:managedFields']) delete meta[k];
    if (Object.keys(meta).length <= 1) delete fields['f:metadata'];
  }
  return fields;
}

function covered(paths: FieldsV1[], key: string): FieldsV1[] {
  return paths.map((p) => p[key]).filter((p): p is FieldsV1 => isPlainObject(p));
}

/**
 * Removes from `live` what `previous` owned and `next` no longer does, unless
 * `others` still own it. Field sets come from stored managedFields, which a
 * client may have written: anything but an object owns nothing.
 */
function removeDropped(live: unknown, previous: unknown, next: unknown, others: FieldsV1[]): void {
  if (!isPlainObject(previous)) return;
  const nextSet = isPlainObject(next) ? next : {};
  for (const [key, sub] of Object.entries(previous)) {
    if (key === '.') continue;
    const stillOwned = others.some((o) => Object.hasOwn(o, key));
    if (!Object.hasOwn(nextSet, key)) {
      if (!stillOwned) removeEntry(live, key);
      continue;
    }
    const target = entry(live, key);
    if (target !== undefined) removeDropped(target, sub, nextSet[key], covered(others, key));
  }
}

function matchesKey(item: unknown, key: string): boolean {
  let wanted: unknown;
  try {
    wanted = JSON.parse(key.slice(2));
  } catch {
    return false; // a client-written key that names no list item
  }
  return isPlainObject(item) && isPlainObject(wanted) && Object.entries(wanted).every(([k, v]) => JSON.stringify(item[k]) === JSON.stringify(v));
}

function entry(live: unknown, key: string): unknown {
  if (key.startsWith('f:') && isPlainObject(live)) return live[key.slice(2)];
  if (key.startsWith('k:') && Array.isArray(live)) return live.find((item) => matchesKey(item, key));
  return undefined;
}

function removeEntry(live: unknown, key: string): void {
  if (key.startsWith('f:') && isPlainObject(live)) delete live[key.slice(2)];
  else if (Array.isArray(live)) {
    const match = key.startsWith('k:') ? (x: unknown) => matchesKey(x, key) : (x: unknown) => JSON.stringify(x) === key.slice(2);
    const i = live.findIndex(match);
    if (i >= 0) live.splice(i, 1);
  }
}

export function serverSideApply(live: KubeObject, applied: KubeObject, kind: string, manager: string, apiVersion: string): KubeObject {
  const managed = (live.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  const mine = managed.find((m) => m.manager === manager && m.operation === 'Apply' && !m.subresource);
  const others = managed.filter((m) => m !== mine && isPlainObject(m.fieldsV1)).map((m) => m.fieldsV1!);
  const next = fieldSet(applied as Record<string, unknown>, kind);
  const base = structuredClone(live);
  if (mine?.fieldsV1) removeDropped(base, mine.fieldsV1, next, others);
  const { resourceVersion: _rv, managedFields: _mf, ...appliedMeta } = applied.metadata;
  const merged = applyStrategicMergePatch(base, { ...applied, metadata: appliedMeta }, kind) as KubeObject;
  merged.metadata.managedFields = [
    ...managed.filter((m) => m !== mine),
    { manager, operation: 'Apply', apiVersion, time: nowTimestamp(), fieldsType: 'FieldsV1', fieldsV1: next },
  ];
  return merged;
}

/** The managedFields a create by server-side apply starts with. */
export function initialManagedFields(applied: KubeObject, kind: string, manager: string, apiVersion: string): ManagedFieldsEntry[] {
  return [{ manager, operation: 'Apply', apiVersion, time: nowTimestamp(), fieldsType: 'FieldsV1', fieldsV1: fieldSet(applied as Record<string, unknown>, kind) }];
}
