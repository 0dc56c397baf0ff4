// The field manager of every write, as kube-apiserver's default field manager
// stacks it: updates (create, update, non-apply patches) record what they
// changed for their manager and take it from others; applies merge the
// configuration, prune what the applier stopped applying, and fail with a 409
// on fields other managers own with other values unless forced. Around that:
// tracking starts on create (or at the first apply, with a "before-first-apply"
// entry for what exists), metadata the server owns is never recorded, Update
// entries beyond 10 merge into "ancient-changes", and kubectl's own applier
// may take over what its client-side apply annotation says it applied.
import { deepClone, isPlainObject, nowTimestamp, type KubeObject } from '../../api/object.js';
import { errors, StatusError } from '../../api/status.js';
import { FieldSet, type Path } from './fieldpath.js';
import {
  capUpdateManagers,
  conflictError,
  conflictsOf,
  decodeManagedFields,
  emptyManaged,
  encodeManagedFields,
  isResetManagedFields,
  managerIdentifier,
  tryDecodeManagedFields,
  type Managed,
} from './managed.js';
import { compare, ensureNamedFieldsAreMembers, merge, removeItems, toFieldSet, typeOfKind, type TypeRef } from './typed.js';
import { typingErrors } from './validate.js';

/** What a write is to the field manager: the kind's type, the served version, the subresource. */
export interface FieldManagerScope {
  kind: string;
  apiVersion: string;
  /** '' for the main resource, else "status", "scale", … */
  subresource: string;
  /** Whether the kind has a status subresource: then main writes do not own status, and status writes own only it. */
  hasStatus: boolean;
  /** The type of the kind's objects when the kind does not have a published schema: a custom resource's, from its CRD version. */
  type?: TypeRef;
}

const typeOf = (scope: FieldManagerScope): TypeRef => scope.type ?? typeOfKind(scope.kind);

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const BEFORE_FIRST_APPLY = 'before-first-apply';

/** Fields never recorded for a manager (stripmeta). */
const STRIPPED: Path[] = [
  [{ field: 'apiVersion' }],
  [{ field: 'kind' }],
  [{ field: 'metadata' }],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((f) => [{ field: 'metadata' }, { field: f }]),
];
const STRIP_SET = FieldSet.fromPaths(STRIPPED);

/** The reset fields of a write (the strategy's GetResetFields): status for the main resource, all but status for status. */
function ignoreFilter(scope: FieldManagerScope): (s: FieldSet) => FieldSet {
  if (!scope.hasStatus) return (s) => s;
  const status = 'f:status';
  if (scope.subresource === 'status') {
    return (s) => {
      const out = new FieldSet();
      if (s.members.has(status)) out.members.set(status, s.members.get(status)!);
      const c = s.children.get(status);
      if (c) out.children.set(status, { pe: c.pe, set: c.set.clone() });
      return out;
    };
  }
  return (s) => {
    const out = s.clone();
    out.members.delete(status);
    out.children.delete(status);
    return out;
  };
}

/** The object as the field manager compares it: without managedFields. */
function valueOf(obj: KubeObject | undefined): Record<string, unknown> {
  if (!obj) return {};
  const copy = deepClone(obj) as Record<string, unknown> & KubeObject;
  if (isPlainObject(copy.metadata)) delete copy.metadata.managedFields;
  return copy;
}

/**
 * Updates `managed` for an update from `live` to `next` by `id` (merge.Updater.Update,
 * then the managed fields updater): everyone else loses what changed or went away,
 * the manager gains what it changed, and its time moves only when it changed something.
 */
function trackUpdate(live: unknown, next: unknown, type: TypeRef, managed: Managed, id: string, scope: FieldManagerScope): void {
  const filter = ignoreFilter(scope);
  const c = compare(live, next, type);
  const changed = filter(c.modified.union(c.added));
  const removed = filter(c.removed);
  for (const [other, vs] of managed.fields) {
    const rest = vs.set.difference(changed).difference(removed);
    if (rest.empty()) managed.fields.delete(other);
    else managed.fields.set(other, { ...vs, set: rest });
  }
  const mine = changed.difference(STRIP_SET);
  if (mine.empty()) return;
  const previous = managed.fields.get(id);
  managed.fields.set(id, { set: previous ? mine.union(previous.set) : mine, apiVersion: scope.apiVersion, applied: false });
  managed.times.set(id, nowTimestamp());
}

function dropStaleTimes(managed: Managed): void {
  for (const id of [...managed.times.keys()]) if (!managed.fields.has(id)) managed.times.delete(id);
}

/**
 * Records an update (create, update, or a non-apply patch) by `manager` in
 * `next.metadata.managedFields` (in place). The request's own managedFields
 * are taken when they decode (a client may rewrite them; [] or [{}] strips
 * them), except on subresources, which always keep the live ones.
 */
export function recordUpdate(live: KubeObject | undefined, next: KubeObject, manager: string, scope: FieldManagerScope): void {
  if (!isPlainObject(next) || !isPlainObject(next.metadata)) return;
  const liveEntries = live?.metadata?.managedFields;
  const requested = next.metadata.managedFields;
  let managed: Managed;
  if (scope.subresource) managed = tryDecodeManagedFields(liveEntries) ?? emptyManaged();
  else if (isResetManagedFields(requested)) managed = emptyManaged();
  else {
    const fromRequest = tryDecodeManagedFields(requested);
    managed = fromRequest && fromRequest.fields.size ? fromRequest : (tryDecodeManagedFields(liveEntries) ?? emptyManaged());
  }
  delete next.metadata.managedFields;
  // Tracking starts at creation; an existing object without managed fields is tracked from its first apply.
  if (managed.fields.size === 0 && live?.metadata?.uid) return;
  const id = managerIdentifier({ manager, operation: 'Update', apiVersion: scope.apiVersion, subresource: scope.subresource });
  trackUpdate(valueOf(live), valueOf(next), typeOf(scope), managed, id, scope);
  capUpdateManagers(managed);
  dropStaleTimes(managed);
  const encoded = encodeManagedFields(managed);
  if (encoded) next.metadata.managedFields = encoded;
}

/** The fields kubectl's client-side apply annotation shows it set, with the values still live (lastappliedmanager). */
function allowedFromLastApplied(live: Record<string, unknown>, type: TypeRef, apiVersion: string): FieldSet | undefined {
  const annotations = (live.metadata as KubeObject['metadata'] | undefined)?.annotations;
  const text = annotations?.[LAST_APPLIED];
  if (!text) return undefined;
  let last: unknown;
  try {
    last = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isPlainObject(last) || last.apiVersion !== apiVersion) return undefined;
  const c = compare(last, live, type);
  return toFieldSet(last, type).difference(c.modified).difference(c.added).difference(c.removed);
}

interface ApplyPlan {
  merged: Record<string, unknown>;
  fields: Managed['fields'];
  removed: FieldSet;
  /** What the apply changes that other managers own, by manager. */
  conflicts: Map<string, FieldSet>;
}

/** merge.Updater.Apply up to the conflict check: merge, record the applier's set, prune, compare. */
function planApply(live: Record<string, unknown>, config: Record<string, unknown>, type: TypeRef, managed: Managed, id: string, scope: FieldManagerScope): ApplyPlan {
  const filter = ignoreFilter(scope);
  const fields = new Map(managed.fields);
  const merged = merge(live, config, type) as Record<string, unknown>;
  const last = fields.get(id);
  fields.set(id, { set: filter(toFieldSet(config, type)), apiVersion: scope.apiVersion, applied: true });
  // Prune what the applier applied last time and no longer does, unless someone still owns it.
  if (last && !last.set.empty()) {
    let owned = new FieldSet();
    for (const vs of fields.values()) owned = owned.union(vs.set);
    removeItems(merged, ensureNamedFieldsAreMembers(last.set, type).difference(ensureNamedFieldsAreMembers(owned, type)), type);
  }
  const c = compare(live, merged, type);
  const changed = filter(c.modified.union(c.added));
  const conflicts = new Map<string, FieldSet>();
  for (const [other, vs] of fields) {
    if (other === id) continue;
    const clash = vs.set.intersection(changed);
    if (!clash.empty()) conflicts.set(other, clash);
  }
  return { merged, fields, removed: filter(c.removed), conflicts };
}

/** The rest of the apply once it may go ahead: others lose what it took or removed, the applier keeps its set. */
function settleApply(plan: ApplyPlan, live: Record<string, unknown>, managed: Managed, id: string): Managed {
  const { fields } = plan;
  for (const [other, vs] of fields) {
    if (other === id) continue;
    const rest = vs.set.difference(plan.conflicts.get(other) ?? new FieldSet()).difference(plan.removed);
    if (rest.empty()) fields.delete(other);
    else fields.set(other, { ...vs, set: rest });
  }
  const mine = fields.get(id)!.set.difference(STRIP_SET);
  if (mine.empty()) fields.delete(id);
  else fields.set(id, { ...fields.get(id)!, set: mine });
  const times = new Map(managed.times);
  if (!deepEqualValues(live, plan.merged)) times.set(id, nowTimestamp());
  const out = { fields, times };
  dropStaleTimes(out);
  return out;
}

/** Conflicts left after taking out `allowed` paths. */
function remaining(conflicts: Map<string, FieldSet>, allowed: FieldSet): Map<string, FieldSet> {
  const out = new Map<string, FieldSet>();
  for (const [id, set] of conflicts) {
    const rest = set.difference(allowed);
    if (!rest.empty()) out.set(id, rest);
  }
  return out;
}

function deepEqualValues(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!isPlainObject(v)) return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
}

/**
 * The error of a configuration structured-merge-diff cannot type: not a Status upstream, so kube-apiserver
 * answers it as any such error (ErrorToAPIStatus), a 500 without a reason carrying the message as it is.
 */
function typedPatchError(config: KubeObject, problems: string): StatusError {
  const apiVersion = config.apiVersion ?? '';
  const gv = apiVersion.includes('/') ? apiVersion : `/${apiVersion}`;
  const where = `${config.metadata?.namespace ?? ''}/${config.metadata?.name ?? ''}; ${gv}, Kind=${config.kind ?? ''}`;
  const message = `failed to create typed patch object (${where}): ${problems}`;
  return new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, code: 500 });
}

/**
 * Server-side apply of `config` by `manager` to `live` (undefined when the
 * apply creates the object): the merged object with its managedFields, or a
 * 409 with the conflicts (unless `force`).
 */
export function applyConfiguration(live: KubeObject | undefined, config: KubeObject, manager: string, force: boolean, scope: FieldManagerScope): KubeObject {
  if (config.metadata?.managedFields !== undefined && config.metadata.managedFields !== null) throw errors.badRequest('metadata.managedFields must be nil');
  const type = typeOf(scope);
  const liveValue = valueOf(live);
  const configValue = valueOf(config);
  // Custom resources' configurations must type by their schema (built-in kinds' are checked by their decoding).
  if (scope.type) {
    const problems = typingErrors(configValue, type);
    if (problems) throw typedPatchError(config, problems);
  }
  // Stored managed fields were written by this field manager or validated by it; what cannot decode starts over.
  let managed: Managed;
  try {
    managed = decodeManagedFields(live?.metadata?.managedFields);
  } catch {
    managed = emptyManaged();
  }
  if (managed.fields.size === 0 && live) {
    const before = managerIdentifier({ manager: BEFORE_FIRST_APPLY, operation: 'Update', apiVersion: scope.apiVersion });
    trackUpdate({}, liveValue, type, managed, before, scope);
  }
  const id = managerIdentifier({ manager, operation: 'Apply', subresource: scope.subresource });
  const plan = planApply(liveValue, configValue, type, managed, id, scope);
  if (!force && plan.conflicts.size) {
    // kubectl's server-side apply may take over what its client-side apply set and is still live (lastappliedmanager).
    const allowed = manager === 'kubectl' ? allowedFromLastApplied(liveValue, type, scope.apiVersion) : undefined;
    const blocked = allowed ? remaining(plan.conflicts, allowed) : plan.conflicts;
    if (blocked.size) throw conflictError(conflictsOf(blocked));
  }
  const settled = settleApply(plan, liveValue, managed, id);
  const object = plan.merged as KubeObject;
  if (manager === 'kubectl' && (liveValue.metadata as KubeObject['metadata'] | undefined)?.annotations?.[LAST_APPLIED]) {
    // Keep the client-side apply annotation in step with what kubectl applies (lastappliedupdater).
    const applied = deepClone(configValue) as KubeObject;
    if (applied.metadata?.annotations) {
      delete applied.metadata.annotations[LAST_APPLIED];
      if (Object.keys(applied.metadata.annotations).length === 0) delete applied.metadata.annotations;
    }
    object.metadata.annotations = { ...object.metadata.annotations, [LAST_APPLIED]: JSON.stringify(applied) };
  }
  const encoded = encodeManagedFields(settled);
  if (encoded) object.metadata.managedFields = encoded;
  else delete object.metadata.managedFields;
  return object;
}
