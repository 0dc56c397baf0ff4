// LoadBalancer services get an address from the pool, as MetalLB's controller
// assigns them (layer 2), with the events the cloud service controller records.
// What services hold in status.loadBalancer is the allocation: the pool is
// rebuilt from it on every reconcile, so a restart never moves an address.
import { deepEqual } from '../../api/object.js';
import { resourceTypes, type ResourceClient } from '../../client/client.js';
import { keyOf } from '../../client/informer.js';
import type { IPFamily } from '../../net/addr.js';
import { queueFor, type Controller, type ControllerContext } from '../controller.js';
import { allocate, canonicalIP, checkAssign, parseRange, poolUserOf, rangeContains, rebuildState, type Claim, type IPRange } from './pool.js';
import { errorMessage } from '../../util/errors.js';
import type { ServiceObject as Service } from '../../api/types.js';

/** A Service as the informer holds it: metadata always present. */

/** The class we implement; services without a class are ours too. */
export const loadBalancerClass = 'kubesvc.io/loadbalancer';

type LoadBalancerStatus = NonNullable<NonNullable<Service['status']>['loadBalancer']>;

/** wantsLoadBalancer, narrowed to the class we implement. */
export function isOurs(svc: Service | undefined): boolean {
  if (svc?.spec?.type !== 'LoadBalancer') return false;
  const cls = svc.spec.loadBalancerClass;
  return cls == null || cls === loadBalancerClass;
}

/** The first ingress IP, the address a service holds. */
function heldIP(status: LoadBalancerStatus | undefined): string | undefined {
  return status?.ingress?.find((i) => i.ip)?.ip;
}

function statusFor(ip: string | undefined): LoadBalancerStatus {
  return ip ? { ingress: [{ ip, ipMode: 'VIP' }] } : {};
}

function sameStatus(a: LoadBalancerStatus | undefined, b: LoadBalancerStatus): boolean {
  const norm = (s: LoadBalancerStatus | undefined) => (s?.ingress?.length ? s : {});
  return deepEqual(norm(a), norm(b));
}

/** Fields whose change makes the upstream service controller sync again (needsUpdate), and the selector (MetalLB's backend key). */
function fingerprint(svc: Service): string {
  const s = svc.spec ?? {};
  return JSON.stringify([
    svc.metadata.uid,
    s.type,
    s.loadBalancerSourceRanges,
    s.ports,
    s.sessionAffinity,
    s.sessionAffinityConfig,
    s.loadBalancerIP,
    s.externalIPs,
    svc.metadata.annotations,
    s.externalTrafficPolicy,
    s.healthCheckNodePort,
    s.ipFamilies?.length,
    s.selector,
  ]);
}

function familiesOf(svc: Service): IPFamily[] {
  const fams = (svc.spec?.ipFamilies ?? []).filter((f): f is IPFamily => f === 'IPv4' || f === 'IPv6');
  return fams;
}

/** resourceVersion `a` is at or past `b` (ours are revisions; elsewhere only equality is known). */
function caughtUp(a: string | undefined, b: string): boolean {
  if (a === b) return true;
  return !!a && /^\d+$/.test(a) && /^\d+$/.test(b) && BigInt(a) > BigInt(b);
}

function byAge(a: Service, b: Service): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = keyOf(a);
  const kb = keyOf(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export function createLoadBalancerController(ctx: ControllerContext): Controller {
  const rangeText = ctx.options.loadBalancerIPRange.trim();
  let range: IPRange | undefined;
  if (rangeText) {
    try {
      range = parseRange(rangeText);
    } catch (e) {
      throw new Error(`loadbalancer: loadBalancerIPRange: ${errorMessage(e)}`, { cause: e });
    }
  }
  const services = ctx.factory.informer<Service>(resourceTypes.services);
  const client: ResourceClient<Service> = ctx.client.resource<Service>(resourceTypes.services);

  // Status we wrote that the cache may not show yet: without it a second
  // service reconciled right after could be given the same address.
  const assumed = new Map<string, { uid: string; resourceVersion: string; status: LoadBalancerStatus }>();
  // Services left without an address; retried whenever one is freed.
  const pending = new Set<string>();
  // What each service held when we last reconciled it, for the cleanup events.
  const owned = new Map<string, { uid: string; ip: string }>();
  // The spec we last ensured, so events come once per change as upstream's.
  const ensured = new Map<string, string>();

  function effectiveStatus(svc: Service): LoadBalancerStatus | undefined {
    const key = keyOf(svc);
    const a = assumed.get(key);
    if (a && a.uid === svc.metadata.uid && !caughtUp(svc.metadata.resourceVersion, a.resourceVersion)) return a.status;
    if (a) assumed.delete(key);
    return svc.status?.loadBalancer;
  }

  /** An address was given up: every service waiting for one tries again (but `except`, which is already on its way). */
  function wakePending(except?: string) {
    for (const key of pending) if (key !== except) queue.add(key);
  }

  /** Every other service of ours that holds an address, oldest first. */
  function claimsExcept(key: string): Claim[] {
    const claims: Claim[] = [];
    for (const svc of services.list().filter(isOurs).sort(byAge)) {
      const k = keyOf(svc);
      if (k === key) continue;
      const ip = heldIP(effectiveStatus(svc));
      if (ip) claims.push({ ...poolUserOf(k, svc), ip });
    }
    return claims;
  }

  async function writeStatus(svc: Service, status: LoadBalancerStatus): Promise<Service> {
    const copy: Service = { ...svc, status: { ...svc.status, loadBalancer: status } };
    const written = await client.updateStatus(copy);
    assumed.set(keyOf(svc), { uid: svc.metadata.uid ?? '', resourceVersion: written.metadata.resourceVersion ?? '', status });
    return written;
  }

  async function reconcile(key: string): Promise<void> {
    if (!range) return;
    const svc = services.get(key);
    if (!svc || !isOurs(svc)) {
      assumed.delete(key);
      pending.delete(key);
      ensured.delete(key);
      const held = owned.get(key);
      owned.delete(key);
      if (held) {
        // No longer a LoadBalancer of ours (the API server cleared its status): the address is free.
        if (svc && svc.metadata.uid === held.uid) {
          ctx.events.event(svc, 'Normal', 'DeletingLoadBalancer', 'Deleting load balancer');
          ctx.events.event(svc, 'Normal', 'DeletedLoadBalancer', 'Deleted load balancer');
        }
        wakePending(key);
      }
      return;
    }

    const { state } = rebuildState(range, claimsExcept(key));
    const user = poolUserOf(key, svc);
    const status = effectiveStatus(svc);
    const current = heldIP(status);
    const requested = svc.spec?.loadBalancerIP?.trim() || undefined;
    const families = familiesOf(svc);

    let keep: string | undefined;
    if (current) {
      const canonical = canonicalIP(current);
      const err = canonical && rangeContains(range, canonical) ? checkAssign(state, canonical, user) : `"${current}" is not allowed in config`;
      if (err) {
        ctx.events.event(svc, 'Normal', 'ClearAssignment', `current IP for "${key}" not allowed by config, will attempt for new IP assignment: ${err}`);
      } else if (requested && canonicalIP(requested) !== canonical) {
        // The user asked for another address: give up this one and try that.
      } else {
        keep = canonical;
      }
    }

    const print = fingerprint(svc);
    const result = keep ? { ip: keep } : allocate(state, user, { requestedIP: requested, families });
    const desired = statusFor(result.ip);
    const changes = !sameStatus(status, desired);
    const ensuring = changes || ensured.get(key) !== print;
    if (ensuring) ctx.events.event(svc, 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');

    if (result.error !== undefined) {
      ensured.delete(key);
      pending.add(key);
      owned.delete(key);
      ctx.events.event(svc, 'Warning', 'AllocationFailed', `Failed to allocate IP for "${key}": ${result.error}`);
      // Never show an address the service does not hold.
      if (changes) {
        await writeStatus(svc, desired);
        if (current) wakePending(key);
      }
      return;
    }

    pending.delete(key);
    if (changes) {
      await writeStatus(svc, desired);
      if (!keep) ctx.events.event(svc, 'Normal', 'IPAllocated', `Assigned IP ["${result.ip}"]`);
      if (current && !keep) wakePending(key);
    }
    owned.set(key, { uid: svc.metadata.uid ?? '', ip: result.ip });
    if (ensuring) ctx.events.event(svc, 'Normal', 'EnsuredLoadBalancer', 'Ensured load balancer');
    ensured.set(key, print);
  }

  // One worker: every decision reads the whole pool, so two at once could
  // hand out the same address.
  const { queue, log } = queueFor('loadbalancer', reconcile, 1);

  return {
    name: 'loadbalancer',
    setup() {
      if (!range) {
        log.info('no loadBalancerIPRange: LoadBalancer services stay pending');
        return;
      }
      services.on({
        add(svc) {
          if (isOurs(svc)) queue.add(keyOf(svc));
        },
        update(old, svc) {
          const key = keyOf(svc);
          const was = isOurs(old);
          const is = isOurs(svc);
          if (!was && !is && !owned.has(key)) return;
          // Upstream records these on the updates it observes (needsUpdate).
          if (was !== is) {
            ctx.events.event(svc, 'Normal', 'Type', `${old.spec?.type ?? ''} -> ${svc.spec?.type ?? ''}`);
          } else if (is && (old.spec?.loadBalancerIP ?? '') !== (svc.spec?.loadBalancerIP ?? '')) {
            ctx.events.event(svc, 'Normal', 'LoadbalancerIP', `${old.spec?.loadBalancerIP ?? ''} -> ${svc.spec?.loadBalancerIP ?? ''}`);
          }
          // Our own status write coming back changes nothing: no second pass.
          const a = assumed.get(key);
          const ownWrite = a && svc.metadata.resourceVersion === a.resourceVersion && was === is && fingerprint(old) === fingerprint(svc);
          if (!ownWrite) queue.add(key);
          // An address given up (or a holder's ports or sharing changed) may let a pending service in.
          const before = heldIP(old.status?.loadBalancer);
          if (before && (before !== heldIP(svc.status?.loadBalancer) || fingerprint(old) !== fingerprint(svc))) wakePending(key);
        },
        delete(svc) {
          const key = keyOf(svc);
          assumed.delete(key);
          queue.add(key);
          if (heldIP(svc.status?.loadBalancer) || owned.has(key)) wakePending(key);
        },
      });
    },
    run() {
      log.info('started', { range: range?.text ?? '' });
    },
    stop() {
      queue.shutdown();
    },
    idle: () => queue.idle(),
  };
}
