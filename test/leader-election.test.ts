// client-go's leader election on a Lease (src/controllers/leader-election.ts),
// against a real API server with short timings: one candidate leads, a
// standby takes over once the leader stops renewing, a leader that cannot
// renew within its deadline stops leading, a released lease is taken at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, waitFor, type TestApiServer } from './helpers/apiserver.js';
import { createClient, resourceTypes, type Client } from '../src/client/client.js';
import { createTransport } from '../src/client/transport.js';
import { startLeaderElection, validateLeaderElection, type LeaderElector } from '../src/controllers/leader-election.js';
import type { KubeObject } from '../src/api/object.js';

let api: TestApiServer;
let client: Client;
const timing = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200 };

before(async () => {
  api = await startTestApiServer();
  client = createClient(createTransport(api.admin));
});
after(async () => {
  client.close();
  await api.stop();
});

type LeaseSpec = { holderIdentity?: string; leaseDurationSeconds?: number; leaseTransitions?: number; acquireTime?: string; renewTime?: string };
const lease = async (name: string) => ((await client.resource(resourceTypes.leases).get('kube-system', name)) as KubeObject & { spec: LeaseSpec }).spec;

function candidate(name: string, identity: string) {
  const state = { started: 0, stopped: 0 };
  const elector: LeaderElector = startLeaderElection(client, {
    namespace: 'kube-system',
    name,
    identity,
    ...timing,
    callback: { onStartedLeading: () => void state.started++, onStoppedLeading: () => void state.stopped++ },
  });
  return { elector, state };
}

test("NewLeaderElector's checks, word for word", () => {
  assert.equal(validateLeaderElection({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 }), 'leaseDuration must be greater than renewDeadline');
  assert.equal(validateLeaderElection({ leaseDurationMs: 15_000, renewDeadlineMs: 2000, retryPeriodMs: 2000 }), 'renewDeadline must be greater than retryPeriod*JitterFactor');
  assert.equal(validateLeaderElection({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 }), undefined);
});

test('one candidate leads; the standby takes over only once the leader stops renewing for the lease duration', async () => {
  const a = candidate('lock-1', 'host_a');
  await waitFor('a to lead', () => a.elector.isLeader());
  const b = candidate('lock-1', 'host_b');
  const first = await lease('lock-1');
  assert.deepEqual([first.holderIdentity, first.leaseDurationSeconds, first.leaseTransitions], ['host_a', 2, 0]);
  // A renews; b stays standby past several lease durations' worth of retries.
  await waitFor('a to renew', async () => (await lease('lock-1')).renewTime !== first.renewTime);
  assert.equal(b.elector.isLeader(), false);
  assert.equal(b.elector.leader(), 'host_a');
  // A dies without releasing: b takes over after the lease duration.
  const stoppedAt = Date.now();
  await a.elector.stop(false);
  await waitFor('b to take over', () => b.elector.isLeader(), 10_000);
  assert.ok(Date.now() - stoppedAt >= timing.leaseDurationMs - 300, 'not before the lease ran out');
  const second = await lease('lock-1');
  assert.deepEqual([second.holderIdentity, second.leaseTransitions], ['host_b', 1]);
  assert.equal(b.state.started, 1);
  // Released on a clean stop: a new candidate takes it at its first try.
  await b.elector.stop();
  assert.equal((await lease('lock-1')).holderIdentity, undefined);
  const c = candidate('lock-1', 'host_c');
  await waitFor('c to lead at once', () => c.elector.isLeader(), 2000);
  await c.elector.stop();
});

test('a leader that cannot renew within the renew deadline stops leading', async () => {
  const a = candidate('lock-2', 'host_a');
  await waitFor('a to lead', () => a.elector.isLeader());
  // Someone else holds the lease now (as after a partition): a's renewals fail.
  const leases = client.resource(resourceTypes.leases);
  const stolen = async () => {
    const l = (await leases.get('kube-system', 'lock-2')) as KubeObject & { spec: LeaseSpec };
    l.spec = { ...l.spec, holderIdentity: 'intruder', renewTime: new Date().toISOString().replace(/Z$/, '000Z') };
    await leases.update(l).catch(() => undefined);
  };
  const keepStealing = setInterval(() => void stolen(), 100);
  try {
    await a.elector.done;
    assert.equal(a.elector.isLeader(), false);
    assert.deepEqual(a.state, { started: 1, stopped: 1 });
  } finally {
    clearInterval(keepStealing);
  }
});
