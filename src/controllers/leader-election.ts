// Leader election on a coordination.k8s.io Lease, as client-go's
// tools/leaderelection (LeaseLock) runs it for kube-controller-manager:
//
//   - acquire: every retryPeriod (jittered by 1.2, as wait.JitterUntil), try
//     to take the lease: create it when missing; take it over when its
//     holder is empty or its record has not changed for leaseDuration as
//     this process observed it (its own clock, never the holder's
//     renewTime); an update carries the resourceVersion read, so two
//     candidates cannot both win;
//   - renew: every retryPeriod, renew the lease; a renewal that has not
//     succeeded within renewDeadline loses the leadership (onStoppedLeading:
//     kube-controller-manager exits, "leaderelection lost").
//
// Events as the resource lock records them: "<identity> became leader" on
// the Lease (reason LeaderElection).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { KubeObject } from '../api/object.js';
import { isAlreadyExists, isConflict, isNotFound, resourceTypes, type Client } from '../client/client.js';
import type { EventRecorder } from '../client/events.js';
import { errorMessage } from '../util/errors.js';
import { logger } from '../util/log.js';

const log = logger('leaderelection');

type LeaseObject = Lease & KubeObject;

/** metav1.MicroTime: RFC 3339 with microseconds. */
const microTime = (date = new Date()) => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export interface LeaderElectionConfig {
  /** The lock: kube-system/kube-controller-manager for the controller manager. */
  namespace: string;
  name: string;
  /** `<hostname>_<uuid>`, as kube-controller-manager's (leaderElectionIdentity). */
  identity: string;
  /** --leader-elect-lease-duration (15s), --leader-elect-renew-deadline (10s), --leader-elect-retry-period (2s). */
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  callback: { onStartedLeading(): void | Promise<void>; onStoppedLeading(): void | Promise<void>; onNewLeader?(identity: string): void };
  events?: EventRecorder;
}

/** kube-controller-manager's defaults (component-base's LeaderElectionConfiguration). */
export const leaderElectionDefaults = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** kube-controller-manager's identity: the host name and a fresh UUID, so two processes on one host differ. */
export const leaderElectionIdentity = (): string => `${hostname()}_${randomUUID()}`;

export interface LeaderElector {
  isLeader(): boolean;
  /** The holder this process last observed. */
  leader(): string | undefined;
  /**
   * Stops trying or renewing; a leader releases the lease (client-go's
   * ReleaseOnCancel: holder cleared, duration 1s), so a standby takes over
   * at its next try instead of after the lease duration; with release
   * false it leaves the lease to run out, as a process that died does.
   */
  stop(release?: boolean): Promise<void>;
  /** Resolves when leadership was lost or the elector stopped. */
  done: Promise<void>;
}

export function validateLeaderElection(c: Pick<LeaderElectionConfig, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>): string | undefined {
  // NewLeaderElector's checks, word for word.
  if (c.leaseDurationMs <= c.renewDeadlineMs) return 'leaseDuration must be greater than renewDeadline';
  if (c.renewDeadlineMs <= 1.2 * c.retryPeriodMs) return 'renewDeadline must be greater than retryPeriod*JitterFactor';
  if (c.leaseDurationMs < 1) return 'leaseDuration must be greater than zero';
  if (c.renewDeadlineMs < 1) return 'renewDeadline must be greater than zero';
  if (c.retryPeriodMs < 1) return 'retryPeriod must be greater than zero';
  return undefined;
}

export function startLeaderElection(client: Client, config: LeaderElectionConfig): LeaderElector {
  const leases = client.resource<LeaseObject>(resourceTypes.leases);
  const lockName = `${config.namespace}/${config.name}`;
  const seconds = Math.round(config.leaseDurationMs / 1000);
  let observed: { record: string; time: number; holder?: string } | undefined;
  let lastLease: LeaseObject | undefined;
  let leading = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));

  const recordOf = (l: LeaseObject) => JSON.stringify(l.spec ?? {});

  /** One attempt (tryAcquireOrRenew): true when this process holds the lease afterwards. */
  async function tryAcquireOrRenew(): Promise<boolean> {
    const now = microTime();
    let current: LeaseObject;
    try {
      current = await leases.get(config.namespace, config.name);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      const lease: LeaseObject = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: config.name, namespace: config.namespace },
        spec: { holderIdentity: config.identity, leaseDurationSeconds: seconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
      };
      try {
        const created = await leases.create(config.namespace, lease);
        lastLease = created;
        observed = { record: recordOf(created), time: Date.now(), holder: config.identity };
        return true;
      } catch (err) {
        if (isAlreadyExists(err)) return false;
        throw err;
      }
    }
    const spec = current.spec ?? {};
    const record = recordOf(current);
    if (!observed || observed.record !== record) {
      const before = observed?.holder;
      observed = { record, time: Date.now(), holder: spec.holderIdentity ?? undefined };
      if (spec.holderIdentity && spec.holderIdentity !== config.identity && spec.holderIdentity !== before) config.callback.onNewLeader?.(spec.holderIdentity);
    }
    const held = !!spec.holderIdentity && spec.holderIdentity !== config.identity;
    const durationMs = (spec.leaseDurationSeconds ?? seconds) * 1000;
    if (held && observed.time + durationMs > Date.now()) return false; // "lock is held by <holder> and has not yet expired"
    const ours = spec.holderIdentity === config.identity;
    current.spec = {
      ...spec,
      holderIdentity: config.identity,
      leaseDurationSeconds: seconds,
      renewTime: now,
      acquireTime: ours ? spec.acquireTime : now,
      leaseTransitions: ours ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
    };
    try {
      const updated = await leases.update(current);
      lastLease = updated;
      observed = { record: recordOf(updated), time: Date.now(), holder: config.identity };
      return true;
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
  }

  const attempt = async (): Promise<boolean> => {
    try {
      return await tryAcquireOrRenew();
    } catch (e) {
      log.error('error retrieving resource lock', { lock: lockName, error: errorMessage(e) });
      return false;
    }
  };

  const jittered = () => config.retryPeriodMs * (1 + Math.random() * 1.2);

  function acquire() {
    if (stopped) return;
    void attempt().then((ok) => {
      if (stopped) return;
      if (!ok) {
        timer = setTimeout(acquire, jittered());
        return;
      }
      leading = true;
      log.info('successfully acquired lease', { lock: lockName });
      config.events?.event(leaseRef(), 'Normal', 'LeaderElection', `${config.identity} became leader`);
      void Promise.resolve(config.callback.onStartedLeading()).catch((e: unknown) => log.error('starting as leader failed', { error: errorMessage(e) }));
      renewLoop(Date.now());
    });
  }

  /** Renews every retryPeriod; gives up once renewDeadline has passed without a renewal. */
  function renewLoop(lastRenew: number) {
    timer = setTimeout(async () => {
      if (stopped) return;
      const ok = await raceDeadline(attempt(), lastRenew + config.renewDeadlineMs - Date.now());
      if (stopped) return;
      if (ok) return renewLoop(Date.now());
      if (Date.now() - lastRenew < config.renewDeadlineMs) return renewLoop(lastRenew);
      log.info('failed to renew lease', { lock: lockName, error: 'timed out waiting for the condition' });
      leading = false;
      stopped = true;
      void Promise.resolve(config.callback.onStoppedLeading()).finally(finish);
    }, config.retryPeriodMs);
  }

  const leaseRef = (): KubeObject => lastLease ?? { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: config.name, namespace: config.namespace } };

  log.info('attempting to acquire leader lease', { lock: lockName });
  acquire();
  return {
    isLeader: () => leading,
    leader: () => observed?.holder,
    async stop(release = true) {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      if (release && leading && lastLease) {
        leading = false;
        const now = microTime();
        const released: LeaseObject = { ...lastLease, spec: { leaseTransitions: lastLease.spec?.leaseTransitions ?? 0, leaseDurationSeconds: 1, renewTime: now, acquireTime: now } };
        await leases.update(released).catch((e: unknown) => log.error('failed to release lock', { lock: lockName, error: errorMessage(e) }));
      }
      leading = false;
      finish();
    },
    done,
  };
}

/** The attempt's answer, or false once `ms` have passed (the renew deadline's context). */
function raceDeadline(p: Promise<boolean>, ms: number): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    void p.then((v) => (clearTimeout(t), resolve(v)));
  });
}
