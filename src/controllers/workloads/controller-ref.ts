// ControllerRef handling (pkg/controller/controller_ref_manager.go): which
// object controls which, and the claim decision — keep, adopt an orphan the
// selector matches, release one it no longer matches — as pure functions. The
// controllers apply the decisions with the patches built here.
import type { KubeObject } from '../../api/object.js';
import type { OwnerReference } from './types.js';

export function getControllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** metav1.NewControllerRef. */
export function newControllerRef(owner: KubeObject, gvk: { apiVersion: string; kind: string }): OwnerReference {
  return {
    apiVersion: gvk.apiVersion,
    kind: gvk.kind,
    name: owner.metadata.name!,
    uid: owner.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export type ClaimDecision = 'owned' | 'adopt' | 'release' | 'ignore';

/**
 * BaseControllerRefManager.ClaimObject. `matches` is the owner's selector
 * applied to the object's labels.
 */
export function claimDecision(owner: KubeObject, obj: KubeObject, matches: boolean): ClaimDecision {
  const ref = getControllerOf(obj);
  if (ref) {
    if (ref.uid !== owner.metadata.uid) return 'ignore';
    if (matches) return 'owned';
    // Owned by us but the selector no longer matches: release, unless we are being deleted.
    return owner.metadata.deletionTimestamp ? 'ignore' : 'release';
  }
  if (owner.metadata.deletionTimestamp || !matches) return 'ignore';
  if (obj.metadata.deletionTimestamp) return 'ignore';
  if (owner.metadata.namespace && owner.metadata.namespace !== obj.metadata.namespace) return 'ignore';
  return 'adopt';
}

/** The strategic merge patch upstream's adopt sends (ownerReferences merge by uid). */
export function adoptPatch(owner: KubeObject, gvk: { apiVersion: string; kind: string }, obj: KubeObject) {
  return { metadata: { ownerReferences: [newControllerRef(owner, gvk)], uid: obj.metadata.uid } };
}

/** The strategic merge patch upstream's release sends. */
export function releasePatch(owner: KubeObject, obj: KubeObject) {
  return { metadata: { ownerReferences: [{ $patch: 'delete', uid: owner.metadata.uid }], uid: obj.metadata.uid } };
}

/** The object a controllerRef names, if the cache holds it with the same uid (resolveControllerRef). */
export function resolveControllerRef<T extends KubeObject>(ref: OwnerReference | undefined, kind: string, namespace: string | undefined, get: (key: string) => T | undefined): T | undefined {
  if (!ref || ref.kind !== kind) return undefined;
  const obj = get(namespace ? `${namespace}/${ref.name}` : ref.name);
  return obj && obj.metadata.uid === ref.uid ? obj : undefined;
}
