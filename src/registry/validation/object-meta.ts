// ObjectMeta validation as apimachinery's api/validation/objectmeta.go plus
// the core additions (kube finalizer names), and the per-kind name rules.
import type { LabelSelector, ObjectMeta, OwnerReference } from 'kubernetes-types/meta/v1.js';
import { fieldErrors, GoLiteral, type FieldError } from '../../api/field-errors.js';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from './names.js';

// Go %#v renderings for error values that are not plain strings or numbers,
// so messages read exactly as the Go apiserver prints them.

/** Go %q. */
export function goString(s: string): string {
  return JSON.stringify(s);
}

/** Go %#v of a map[string]string: keys sorted, nil map spelled out. */
export function goStringMap(m: Record<string, string> | undefined | null): GoLiteral {
  if (m == null) return new GoLiteral('map[string]string(nil)');
  const entries = Object.keys(m)
    .sort()
    .map((k) => `${goString(k)}:${goString(m[k])}`);
  return new GoLiteral(`map[string]string{${entries.join(', ')}}`);
}

function goStringSlice(v: string[] | undefined | null): string {
  return v == null ? '[]string(nil)' : `[]string{${v.map(goString).join(', ')}}`;
}

/** Go %#v of a metav1.LabelSelector value. */
export function goLabelSelector(sel: LabelSelector): GoLiteral {
  const exprs =
    sel.matchExpressions == null
      ? '[]v1.LabelSelectorRequirement(nil)'
      : `[]v1.LabelSelectorRequirement{${sel.matchExpressions
          .map((r) => `v1.LabelSelectorRequirement{Key:${goString(r.key)}, Operator:${goString(r.operator)}, Values:${goStringSlice(r.values)}}`)
          .join(', ')}}`;
  return new GoLiteral(`v1.LabelSelector{MatchLabels:${goStringMap(sel.matchLabels).text}, MatchExpressions:${exprs}}`);
}

/** (name, prefix) => detail messages; prefix is true when validating generateName. */
export type NameValidator = (name: string, prefix: boolean) => string[];

export const fieldImmutableErrorMsg = 'field is immutable';
export const isNegativeErrorMsg = 'must be greater than or equal to 0';
/** TotalAnnotationSizeLimitB: 256 KiB of keys plus values. */
export const totalAnnotationSizeLimitB = 256 * 1024;

/**
 * maskTrailingDash: a generateName may end in '-' because random characters
 * follow. Upstream replaces the last two characters with "a" (an old quirk,
 * kept for identical messages).
 */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? `${name.slice(0, -2)}a` : name;
}

export const nameIsDNSSubdomain: NameValidator = (name, prefix) => isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);
export const nameIsDNSLabel: NameValidator = (name, prefix) => isDNS1123Label(prefix ? maskTrailingDash(name) : name);
export const nameIsDNS1035Label: NameValidator = (name, prefix) => isDNS1035Label(prefix ? maskTrailingDash(name) : name);

/** Services become DNS labels and env-var prefixes, so they get the strictest rule. */
export const validateServiceName = nameIsDNS1035Label;
export const validateNamespaceName = nameIsDNSLabel;
export const validatePodName = nameIsDNSSubdomain;
/** apps ValidateDeploymentName / ValidateReplicaSetName / ValidateDaemonSetName are all subdomains. */
export const validateDeploymentName = nameIsDNSSubdomain;
export const validateReplicaSetName = nameIsDNSSubdomain;
export const validateDaemonSetName = nameIsDNSSubdomain;
export const validateEndpointsName = nameIsDNSSubdomain;
export const validateEndpointSliceName = nameIsDNSSubdomain;
export const validateConfigMapName = nameIsDNSSubdomain;
export const validateEventName = nameIsDNSSubdomain;
export const validateNodeName = nameIsDNSSubdomain;

/** Name rule per kind, for resource definitions. */
export const nameValidators: Record<string, NameValidator> = {
  Service: validateServiceName,
  Namespace: validateNamespaceName,
  Pod: validatePodName,
  Deployment: validateDeploymentName,
  ReplicaSet: validateReplicaSetName,
  DaemonSet: validateDaemonSetName,
  Endpoints: validateEndpointsName,
  EndpointSlice: validateEndpointSliceName,
  ConfigMap: validateConfigMapName,
  Event: validateEventName,
  Node: validateNodeName,
};

/** metav1validation.ValidateLabelName: a label key is a qualified name. */
export function validateLabelName(labelName: string, fldPath: string): FieldError[] {
  return isQualifiedName(labelName).map((msg) => fieldErrors.invalid(fldPath, labelName, msg));
}

/** metav1validation.ValidateLabels: keys and values, both reported at the map's path. */
export function validateLabels(labels: Record<string, string> | undefined, fldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    errs.push(...validateLabelName(k, fldPath));
    errs.push(...isValidLabelValue(v).map((msg) => fieldErrors.invalid(fldPath, v, msg)));
  }
  return errs;
}

/** ValidateAnnotations: keys are qualified names (case-insensitively); 256 KiB in total. */
export function validateAnnotations(annotations: Record<string, string> | undefined, fldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    errs.push(...isQualifiedName(k.toLowerCase()).map((msg) => fieldErrors.invalid(fldPath, k, msg)));
    total += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (total > totalAnnotationSizeLimitB) errs.push(fieldErrors.tooLong(fldPath, totalAnnotationSizeLimitB));
  return errs;
}

/** ValidateNonnegativeField. */
export function validateNonnegativeField(value: number, fldPath: string): FieldError[] {
  return value < 0 ? [fieldErrors.invalid(fldPath, value, isNegativeErrorMsg)] : [];
}

/** schema.FromAPIVersionAndKind's group/version split ("a/b/c" yields no version). */
function parseAPIVersion(apiVersion: string): { group: string; version: string } {
  if (apiVersion === '') return { group: '', version: '' };
  const parts = apiVersion.split('/');
  if (parts.length === 1) return { group: '', version: parts[0] };
  if (parts.length === 2) return { group: parts[0], version: parts[1] };
  return { group: '', version: '' };
}

function goBoolPtr(v: boolean | undefined): string {
  // Go prints a non-nil pointer as an address; there is no faithful way to render it.
  return v === undefined ? '(*bool)(nil)' : `(*bool)(${v})`;
}

function ownerReferenceLiteral(r: OwnerReference): string {
  return (
    `v1.OwnerReference{APIVersion:${goString(r.apiVersion ?? '')}, Kind:${goString(r.kind ?? '')}, Name:${goString(r.name ?? '')}, ` +
    `UID:${goString(r.uid ?? '')}, Controller:${goBoolPtr(r.controller)}, BlockOwnerDeletion:${goBoolPtr(r.blockOwnerDeletion)}}`
  );
}

function validateOwnerReference(r: OwnerReference, fldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  const gv = parseAPIVersion(r.apiVersion ?? '');
  if (!gv.version) errs.push(fieldErrors.invalid(`${fldPath}.apiVersion`, r.apiVersion ?? '', 'version must not be empty'));
  if (!r.kind) errs.push(fieldErrors.invalid(`${fldPath}.kind`, r.kind ?? '', 'must not be empty'));
  if (!r.name) errs.push(fieldErrors.invalid(`${fldPath}.name`, r.name ?? '', 'must not be empty'));
  if (!r.uid) errs.push(fieldErrors.invalid(`${fldPath}.uid`, r.uid ?? '', 'must not be empty'));
  // BannedOwners: events are ephemeral and may not own anything.
  if (gv.group === '' && gv.version === 'v1' && r.kind === 'Event') {
    errs.push(fieldErrors.invalid(fldPath, new GoLiteral(ownerReferenceLiteral(r)), '/v1, Kind=Event is disallowed from being an owner'));
  }
  return errs;
}

/** ValidateOwnerReferences: note upstream reports at the list path, without an index. */
export function validateOwnerReferences(refs: OwnerReference[] | undefined, fldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  let firstController = '';
  for (const r of refs ?? []) {
    errs.push(...validateOwnerReference(r, fldPath));
    if (r.controller) {
      const cur = `${r.kind}/${r.name}`;
      if (firstController) {
        const literal = `[]v1.OwnerReference{${(refs ?? []).map(ownerReferenceLiteral).join(', ')}}`;
        errs.push(
          fieldErrors.invalid(
            fldPath,
            new GoLiteral(literal),
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${cur}`,
          ),
        );
      } else {
        firstController = cur;
      }
    }
  }
  return errs;
}

const standardFinalizers = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

/** Finalizers are qualified names; orphan and foregroundDeletion contradict each other. */
export function validateFinalizers(finalizers: string[] | undefined, fldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of finalizers ?? []) errs.push(...isQualifiedName(f).map((msg) => fieldErrors.invalid(fldPath, f, msg)));
  if (finalizers?.includes('orphan') && finalizers.includes('foregroundDeletion')) {
    errs.push(fieldErrors.invalid(fldPath, finalizers, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  return errs;
}

/** validateKubeFinalizerName (core): an unprefixed finalizer must be one Kubernetes knows. */
export function validateKubeFinalizerName(name: string, fldPath: string): FieldError[] {
  if (!name.includes('/') && !standardFinalizers.has(name)) {
    return [fieldErrors.invalid(fldPath, name, 'name is neither a standard finalizer name nor is it fully qualified')];
  }
  return [];
}

export interface ObjectMetaOptions {
  namespaced: boolean;
  nameValidator: NameValidator;
}

/**
 * ValidateObjectMeta for create (and re-run on update). Expects name
 * generation to have happened already, as upstream does; a generateName is
 * still checked so a bad prefix is reported against the field the user wrote.
 */
export function validateObjectMeta(meta: ObjectMeta | undefined, opts: ObjectMetaOptions): FieldError[] {
  const m = meta ?? {};
  const errs: FieldError[] = [];
  if (m.generateName) {
    errs.push(...opts.nameValidator(m.generateName, true).map((msg) => fieldErrors.invalid('metadata.generateName', m.generateName, msg)));
  }
  if (!m.name) {
    errs.push(fieldErrors.required('metadata.name', 'name or generateName is required'));
  } else {
    errs.push(...opts.nameValidator(m.name, false).map((msg) => fieldErrors.invalid('metadata.name', m.name, msg)));
  }
  if (opts.namespaced) {
    if (!m.namespace) errs.push(fieldErrors.required('metadata.namespace'));
    else errs.push(...validateNamespaceName(m.namespace, false).map((msg) => fieldErrors.invalid('metadata.namespace', m.namespace, msg)));
  } else if (m.namespace) {
    errs.push(fieldErrors.forbidden('metadata.namespace', 'not allowed on this type'));
  }
  errs.push(...validateNonnegativeField(m.generation ?? 0, 'metadata.generation'));
  errs.push(...validateLabels(m.labels, 'metadata.labels'));
  errs.push(...validateAnnotations(m.annotations, 'metadata.annotations'));
  errs.push(...validateOwnerReferences(m.ownerReferences, 'metadata.ownerReferences'));
  errs.push(...validateFinalizers(m.finalizers, 'metadata.finalizers'));
  for (const f of m.finalizers ?? []) errs.push(...validateKubeFinalizerName(f, 'metadata.finalizers'));
  return errs;
}

/** Go's time.Time.String() for an RFC 3339 UTC timestamp, the way ValidateImmutableField prints metav1.Time. */
function goTime(ts: string | undefined): GoLiteral {
  if (!ts) return new GoLiteral('0001-01-01 00:00:00 +0000 UTC');
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return new GoLiteral(ts);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return new GoLiteral(
    `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000 UTC`,
  );
}

function immutable(newVal: unknown, oldVal: unknown, fldPath: string, shown: unknown = newVal): FieldError[] {
  return newVal === oldVal ? [] : [fieldErrors.invalid(fldPath, shown, fieldImmutableErrorMsg)];
}

/**
 * ValidateObjectMetaUpdate: identity and lifecycle fields cannot change.
 * Labels/annotations/ownerReferences are re-checked by validateObjectMeta,
 * which the registry runs on update too. The "resourceVersion must be
 * specified" rule is left to the registry, which decides whether an
 * unconditional update is allowed before validation runs.
 */
export function validateObjectMetaUpdate(meta: ObjectMeta | undefined, old: ObjectMeta | undefined): FieldError[] {
  const n = meta ?? {};
  const o = old ?? {};
  const errs: FieldError[] = [];
  if (o.deletionTimestamp) {
    const extra = [...new Set((n.finalizers ?? []).filter((f) => !(o.finalizers ?? []).includes(f)))].sort();
    if (extra.length) {
      errs.push(
        fieldErrors.forbidden(
          'metadata.finalizers',
          `no new finalizers can be added if the object is being deleted, found new finalizers []string{${extra.map(goString).join(', ')}}`,
        ),
      );
    }
  }
  if ((n.generation ?? 0) < (o.generation ?? 0)) {
    errs.push(fieldErrors.invalid('metadata.generation', n.generation ?? 0, 'must not be decremented'));
  }
  errs.push(...immutable(n.name ?? '', o.name ?? '', 'metadata.name'));
  errs.push(...immutable(n.namespace ?? '', o.namespace ?? '', 'metadata.namespace'));
  errs.push(...immutable(n.uid ?? '', o.uid ?? '', 'metadata.uid'));
  errs.push(...immutable(n.creationTimestamp ?? '', o.creationTimestamp ?? '', 'metadata.creationTimestamp', goTime(n.creationTimestamp)));
  errs.push(
    ...immutable(
      n.deletionTimestamp ?? '',
      o.deletionTimestamp ?? '',
      'metadata.deletionTimestamp',
      n.deletionTimestamp ? goTime(n.deletionTimestamp) : null,
    ),
  );
  errs.push(
    ...immutable(n.deletionGracePeriodSeconds ?? null, o.deletionGracePeriodSeconds ?? null, 'metadata.deletionGracePeriodSeconds'),
  );
  for (const f of n.finalizers ?? []) errs.push(...validateKubeFinalizerName(f, 'metadata.finalizers'));
  return errs;
}
