// StatefulPodControl (stateful_pod_control.go): the StatefulSet controller's
// pod and claim writes, each recorded as upstream's events on the set:
//   SuccessfulCreate  create Pod web-0 in StatefulSet web successful
//   FailedCreate      create Pod web-0 in StatefulSet web failed error: <why>
// and likewise for delete and update, and "create Claim ..." for claims.
//
// Claims are created before their pod, through the API like any client.
// kubesvc does not serve PersistentVolumeClaims, so for a set with
// volumeClaimTemplates that create fails (404) and the pod is not made: the
// failure is reported as upstream reports a failed claim, nothing is faked.
// For the same reason the claim-side work upstream does around existing pods
// (re-creating a pending pod's missing claims, stale-claim checks, owner
// references for persistentVolumeClaimRetentionPolicy) has nothing to act on.
import type { KubeObject } from '../../api/object.js';
import { isAlreadyExists, resourceTypes, type Client, type ResourceType } from '../../client/client.js';
import type { EventRecorder } from '../../client/events.js';
import { errorMessage } from '../../util/errors.js';
import type { PodObject } from '../workloads/types.js';
import { claimsFor, ordinalOf } from './identity.js';
import type { StatefulSetObject } from './types.js';

const persistentVolumeClaims: ResourceType = { group: '', version: 'v1', resource: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', namespaced: true };

/** strings.Title of the verb, as the event reasons spell it. */
const title = (verb: string) => verb[0]!.toUpperCase() + verb.slice(1);

export interface StatefulPodControl {
  /** Claims first, then the pod; an AlreadyExists of the pod is returned without an event (the cache is behind). */
  create(set: StatefulSetObject, pod: PodObject): Promise<void>;
  update(set: StatefulSetObject, pod: PodObject): Promise<void>;
  delete(set: StatefulSetObject, pod: PodObject): Promise<void>;
}

export function statefulPodControl(client: Client, events: EventRecorder): StatefulPodControl {
  const pods = client.resource<PodObject>(resourceTypes.pods);
  const claims = client.resource<KubeObject>(persistentVolumeClaims);

  function podEvent(verb: string, set: StatefulSetObject, pod: PodObject, err?: unknown) {
    if (err === undefined) events.event(set, 'Normal', `Successful${title(verb)}`, `${verb} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
    else events.event(set, 'Warning', `Failed${title(verb)}`, `${verb} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorMessage(err)}`);
  }

  function claimEvent(set: StatefulSetObject, pod: PodObject, claim: string, err?: unknown) {
    if (err === undefined) events.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${claim} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} success`);
    else events.event(set, 'Warning', 'FailedCreate', `create Claim ${claim} for Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorMessage(err)}`);
  }

  /** createPersistentVolumeClaims: every claim the pod mounts; an existing one is fine. Errors aggregate as upstream's. */
  async function createClaims(set: StatefulSetObject, pod: PodObject): Promise<void> {
    const failures: string[] = [];
    for (const { claim } of claimsFor(set, ordinalOf(pod))) {
      try {
        await claims.create(set.metadata.namespace, claim as KubeObject);
        claimEvent(set, pod, claim.metadata.name);
      } catch (e) {
        if (isAlreadyExists(e)) continue;
        failures.push(`failed to create PVC ${claim.metadata.name}: ${errorMessage(e)}`);
        claimEvent(set, pod, claim.metadata.name, e);
      }
    }
    if (failures.length === 1) throw new Error(failures[0]);
    if (failures.length > 1) throw new Error(`[${failures.join(', ')}]`);
  }

  return {
    async create(set, pod) {
      try {
        await createClaims(set, pod);
      } catch (e) {
        podEvent('create', set, pod, e);
        throw e;
      }
      try {
        await pods.create(set.metadata.namespace, pod);
      } catch (e) {
        if (!isAlreadyExists(e)) podEvent('create', set, pod, e);
        throw e;
      }
      podEvent('create', set, pod);
    },
    async update(set, pod) {
      try {
        await pods.update(pod);
      } catch (e) {
        podEvent('update', set, pod, e);
        throw e;
      }
      podEvent('update', set, pod);
    },
    async delete(set, pod) {
      try {
        await pods.delete(pod.metadata.namespace, pod.metadata.name!);
      } catch (e) {
        podEvent('delete', set, pod, e);
        throw e;
      }
      podEvent('delete', set, pod);
    },
  };
}
