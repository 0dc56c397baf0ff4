// StatefulSet validation after upstream's pkg/apis/apps/validation
// (ValidateStatefulSetSpec, ValidateStatefulSetUpdate, ValidateStatefulSetStatusUpdate).
//
// Upstream validates the pod template of a StatefulSet only as far as its
// labels and annotations: the template's volume mounts may name volume claim
// templates, which a plain pod spec check would reject. A template that
// cannot make a valid pod is refused when the controller creates the pod.
import type { StatefulSet, StatefulSetStatus } from 'kubernetes-types/apps/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { fieldErrors, GoLiteral, type FieldError } from '../../api/field-errors.js';
import { canonicalJSON } from '../../controllers/workloads/hash.js';
import { goLabelSelector, goStringMap, validateAnnotations, validateLabels, validateNonnegativeField } from '../validation/object-meta.js';
import {
  intOrPercentValue,
  intOrStringLiteral,
  isEmptySelector,
  isNotMoreThan100Percent,
  labelSelectorMatches,
  notSupportedInOrder,
  validateLabelSelector,
  validatePositiveIntOrPercent,
} from '../workloads/validation.js';

type Spec = NonNullable<StatefulSet['spec']>;
type RollingUpdate = NonNullable<NonNullable<Spec['updateStrategy']>['rollingUpdate']>;

/** Go %#v of the internal RollingUpdateStatefulSetStrategy (a set pointer's address is not reproducible). */
function rollingUpdateLiteral(ru: RollingUpdate): GoLiteral {
  const maxUnavailable = ru.maxUnavailable == null ? '(*intstr.IntOrString)(nil)' : '(*intstr.IntOrString)(…)';
  return new GoLiteral(`apps.RollingUpdateStatefulSetStrategy{Partition:${ru.partition ?? 0}, MaxUnavailable:${maxUnavailable}}`);
}

/** validateRollingUpdateStatefulSet: a non-negative partition; maxUnavailable a positive int or percentage up to 100%. */
function validateRollingUpdate(ru: RollingUpdate, path: string): FieldError[] {
  const errs = validateNonnegativeField(ru.partition ?? 0, `${path}.partition`);
  if (ru.maxUnavailable != null) {
    const p = `${path}.maxUnavailable`;
    errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, p));
    if (intOrPercentValue(ru.maxUnavailable) === 0) errs.push(fieldErrors.invalid(p, intOrStringLiteral(ru.maxUnavailable), 'cannot be 0'));
    errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, p));
  }
  return errs;
}

function validateUpdateStrategy(strategy: Spec['updateStrategy'], path: string): FieldError[] {
  const ru = strategy?.rollingUpdate;
  switch (strategy?.type ?? '') {
    case '':
      return [fieldErrors.required(path)];
    case 'OnDelete':
      return ru != null ? [fieldErrors.invalid(`${path}.rollingUpdate`, rollingUpdateLiteral(ru), "only allowed for updateStrategy 'RollingUpdate'")] : [];
    case 'RollingUpdate':
      return ru != null ? validateRollingUpdate(ru, `${path}.rollingUpdate`) : [];
    default: {
      const rollingUpdate = ru == null ? '(*apps.RollingUpdateStatefulSetStrategy)(nil)' : '(*apps.RollingUpdateStatefulSetStrategy)(…)';
      const literal = new GoLiteral(`apps.StatefulSetUpdateStrategy{Type:${JSON.stringify(strategy!.type)}, RollingUpdate:${rollingUpdate}}`);
      return [fieldErrors.invalid(path, literal, "must be 'RollingUpdate' or 'OnDelete'")];
    }
  }
}

function validateRetentionPolicy(policy: Spec['persistentVolumeClaimRetentionPolicy'], path: string): FieldError[] {
  if (policy == null) return [];
  const errs: FieldError[] = [];
  for (const field of ['whenDeleted', 'whenScaled'] as const) {
    const value = policy[field] ?? '';
    if (value !== 'Retain' && value !== 'Delete') errs.push(notSupportedInOrder(`${path}.${field}`, value, ['Retain', 'Delete']));
  }
  return errs;
}

/**
 * The selector and the template's metadata (ValidatePodTemplateSpecForStatefulSet).
 * A nil selector selects nothing, so the template "does not match" it as well; an
 * empty one selects everything and is reported as empty instead.
 */
function validateSelectorAndTemplateMeta(selector: LabelSelector | undefined, template: Spec['template'] | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const selectorErrs = selector == null ? [] : validateLabelSelector(selector, 'spec.selector');
  if (selector == null) errs.push(fieldErrors.required('spec.selector'));
  else {
    errs.push(...selectorErrs);
    if (isEmptySelector(selector)) errs.push(fieldErrors.invalid('spec.selector', goLabelSelector(selector), 'empty selector is invalid for statefulset'));
  }
  // LabelSelectorAsSelector fails exactly when the selector is invalid; the detail is empty upstream.
  if (selectorErrs.length) return [...errs, fieldErrors.invalid('spec.selector', goLabelSelector(selector!), '')];
  const labels = template?.metadata?.labels;
  if ((selector == null || !isEmptySelector(selector)) && !labelSelectorMatches(selector, labels)) {
    errs.push(fieldErrors.invalid('spec.template.metadata.labels', goStringMap(labels), '`selector` does not match template `labels`'));
  }
  errs.push(...validateLabels(labels, 'spec.template.labels'));
  errs.push(...validateAnnotations(template?.metadata?.annotations, 'spec.template.annotations'));
  return errs;
}

/** ValidateStatefulSetSpec (run after defaulting, so "Required" only answers explicit empty values). */
export function validateStatefulSet(sts: StatefulSet): FieldError[] {
  const spec: Spec = sts.spec ?? ({} as Spec);
  const errs: FieldError[] = [];
  const policy = spec.podManagementPolicy ?? '';
  if (policy === '') errs.push(fieldErrors.required('spec.podManagementPolicy'));
  else if (policy !== 'OrderedReady' && policy !== 'Parallel') {
    errs.push(fieldErrors.invalid('spec.podManagementPolicy', policy, "must be 'OrderedReady' or 'Parallel'"));
  }
  errs.push(...validateUpdateStrategy(spec.updateStrategy, 'spec.updateStrategy'));
  errs.push(...validateRetentionPolicy(spec.persistentVolumeClaimRetentionPolicy, 'spec.persistentVolumeClaimRetentionPolicy'));
  errs.push(...validateNonnegativeField(spec.replicas ?? 0, 'spec.replicas'));
  errs.push(...validateNonnegativeField(spec.minReadySeconds ?? 0, 'spec.minReadySeconds'));
  // Zero is a valid limit (keep no history); a negative one was once accepted and crashed the controller.
  if (spec.revisionHistoryLimit != null) errs.push(...validateNonnegativeField(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (spec.ordinals != null) errs.push(...validateNonnegativeField(spec.ordinals.start ?? 0, 'spec.ordinals.start'));
  errs.push(...validateSelectorAndTemplateMeta(spec.selector, spec.template));
  const restartPolicy = spec.template?.spec?.restartPolicy;
  if (restartPolicy != null && restartPolicy !== 'Always') errs.push(notSupportedInOrder('spec.template.spec.restartPolicy', restartPolicy, ['Always']));
  if (spec.template?.spec?.activeDeadlineSeconds != null) {
    errs.push(fieldErrors.forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in StatefulSet is not Supported'));
  }
  return errs;
}

/** The spec fields an update may change; the rest (selector, serviceName, volumeClaimTemplates, podManagementPolicy) are fixed at creation. */
const mutableSpecFields = ['replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'] as const;

/** ValidateStatefulSetUpdate: the new spec is valid, and only the mutable fields changed (nil and empty compare equal, as Semantic.DeepEqual). */
export function validateStatefulSetUpdate(sts: StatefulSet, old: StatefulSet): FieldError[] {
  const errs = validateStatefulSet(sts);
  const fixed = (s: StatefulSet) => {
    const spec: Record<string, unknown> = { ...(s.spec ?? {}) };
    for (const f of mutableSpecFields) delete spec[f];
    return canonicalJSON(spec);
  };
  if (fixed(sts) !== fixed(old)) {
    errs.push(
      fieldErrors.forbidden(
        'spec',
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    );
  }
  return errs;
}

/** ValidateStatefulSetStatusUpdate: counts non-negative and consistent; collisionCount never goes down. */
export function validateStatefulSetStatusUpdate(sts: StatefulSet, old: StatefulSet): FieldError[] {
  const s: StatefulSetStatus = sts.status ?? { replicas: 0 };
  const errs: FieldError[] = [];
  for (const f of ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas'] as const) {
    errs.push(...validateNonnegativeField(s[f] ?? 0, `status.${f}`));
  }
  if (s.observedGeneration != null) errs.push(...validateNonnegativeField(s.observedGeneration, 'status.observedGeneration'));
  if (s.collisionCount != null) errs.push(...validateNonnegativeField(s.collisionCount, 'status.collisionCount'));
  const replicas = s.replicas ?? 0;
  for (const f of ['readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas'] as const) {
    if ((s[f] ?? 0) > replicas) errs.push(fieldErrors.invalid(`status.${f}`, s[f], 'cannot be greater than status.replicas'));
  }
  if ((s.availableReplicas ?? 0) > (s.readyReplicas ?? 0)) {
    errs.push(fieldErrors.invalid('status.availableReplicas', s.availableReplicas, 'cannot be greater than status.readyReplicas'));
  }
  const oldCount = old.status?.collisionCount;
  if (oldCount != null && (s.collisionCount == null || s.collisionCount < oldCount)) {
    errs.push(fieldErrors.invalid('status.collisionCount', s.collisionCount ?? 0, 'cannot be decremented'));
  }
  return errs;
}
