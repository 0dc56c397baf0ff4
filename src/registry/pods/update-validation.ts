// ValidatePodUpdate: a pod's spec is immutable except container images,
// activeDeadlineSeconds, tolerations (additions) and terminationGracePeriodSeconds.
import type { Pod, PodSpec } from '../../api/types.js';
import { deepEqual } from '../../api/object.js';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import { validatePod } from '../workloads/validation.js';

function mutableFieldsMasked(spec: PodSpec | undefined): PodSpec | undefined {
  if (!spec) return spec;
  const copy = structuredClone(spec);
  copy.containers = (copy.containers ?? []).map((c) => ({ ...c, image: undefined }));
  copy.initContainers = copy.initContainers?.map((c) => ({ ...c, image: undefined }));
  delete copy.activeDeadlineSeconds;
  delete copy.tolerations;
  delete copy.terminationGracePeriodSeconds;
  return copy;
}

export function validatePodUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = validatePod(pod);
  const oldSpec = mutableFieldsMasked(old.spec);
  const newSpec = mutableFieldsMasked(pod.spec);
  // nodeName is set once through pods/binding; an update may carry it over unchanged.
  if (oldSpec && newSpec && !oldSpec.nodeName && newSpec.nodeName) oldSpec.nodeName = newSpec.nodeName;
  if (!deepEqual(oldSpec, newSpec)) {
    errs.push(
      fieldErrors.forbidden(
        'spec',
        'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
      ),
    );
  }
  return errs;
}
