// A StatefulSet's revisions (stateful_set_utils.go newRevision / ApplyRevision,
// stateful_set_control.go getStatefulSetRevisions): which revision the spec
// is now, and the set as each revision had it. Pure functions; the controller
// creates and renumbers the ControllerRevisions they choose.
import {
  equalRevision,
  findEqualRevisions,
  newControllerRevision,
  nextRevision,
  templateOfRevision,
  templatePatch,
  type ControllerRevisionObject,
} from '../workloads/history.js';
import { statefulSetGVK } from './identity.js';
import type { StatefulSetObject } from './types.js';

/**
 * newRevision: the set's template as a restoring patch, labelled like the
 * template, annotated like the set (so `kubectl rollout history` shows its change-cause).
 */
export function newRevision(set: StatefulSetObject, revision: number, collisionCount: number): ControllerRevisionObject {
  const rev = newControllerRevision(set, statefulSetGVK, set.spec?.template?.metadata?.labels, templatePatch(set.spec?.template), revision, collisionCount);
  if (set.metadata.annotations) rev.metadata.annotations = { ...set.metadata.annotations };
  return rev;
}

/** ApplyRevision: the set with the revision's template restored. */
export function applyRevision(set: StatefulSetObject, revision: ControllerRevisionObject): StatefulSetObject {
  const clone = structuredClone(set);
  clone.spec = { ...clone.spec!, template: templateOfRevision(revision) };
  return clone;
}

/** What getStatefulSetRevisions must do for the update revision, given the sorted history. */
export type UpdateRevisionChoice =
  /** The newest revision already is the spec. */
  | { action: 'reuse'; revision: ControllerRevisionObject }
  /** An older revision is the spec again (a rollback): it becomes the newest by taking the next number. */
  | { action: 'renumber'; revision: ControllerRevisionObject; to: number }
  /** The spec is new: create this revision. */
  | { action: 'create'; revision: ControllerRevisionObject };

export function chooseUpdateRevision(set: StatefulSetObject, sorted: ControllerRevisionObject[]): UpdateRevisionChoice {
  const candidate = newRevision(set, nextRevision(sorted), set.status?.collisionCount ?? 0);
  const equal = findEqualRevisions(sorted, candidate);
  const newestEqual = equal[equal.length - 1];
  if (newestEqual && equalRevision(sorted[sorted.length - 1], newestEqual)) return { action: 'reuse', revision: sorted[sorted.length - 1]! };
  if (newestEqual) return { action: 'renumber', revision: newestEqual, to: candidate.revision ?? 0 };
  return { action: 'create', revision: candidate };
}

/** The current revision is the one status names; a set without one starts from the update revision. */
export function currentRevisionOf(set: StatefulSetObject, sorted: ControllerRevisionObject[], update: ControllerRevisionObject): ControllerRevisionObject {
  return sorted.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
}
