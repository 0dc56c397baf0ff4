// The bounded-frequency runner, upstream semantics: bursts, coalescing,
// minInterval spacing, the periodic run, retries, stop. A fake clock drives
// time exactly; one test uses real timers for the "applied within
// milliseconds after idle" promise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBoundedFrequencyRunner, defaultBurstSyncs, defaultMinSyncPeriodMs, defaultSyncPeriodMs, type RunnerClock } from '../../src/proxy/runner.js';
import { setQuiet } from '../../src/util/log.js';

setQuiet(true);

const flush = () => new Promise<void>((r) => setImmediate(r));

interface FakeClock extends RunnerClock {
  advance(ms: number): Promise<void>;
  pending(): number[];
}

function fakeClock(): FakeClock {
  let t = 0;
  let id = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => t,
    setTimeout(fn, ms) {
      timers.set(++id, { at: t + ms, fn });
      return id;
    },
    clearTimeout(h) {
      timers.delete(h as number);
    },
    async advance(ms) {
      const end = t + ms;
      for (;;) {
        await flush();
        const due = [...timers].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        t = due[1].at;
        due[1].fn();
      }
      t = end;
      await flush();
    },
    pending: () => [...timers.values()].map((x) => x.at - t).sort((a, b) => a - b),
  };
}

function recorder(clock: RunnerClock, body?: () => void | Promise<void>) {
  const at: number[] = [];
  return {
    at,
    fn: async () => {
      at.push(clock.now());
      await body?.();
    },
  };
}

test('kube-proxy defaults: minSyncPeriod 1s, syncPeriod 30s, burst 2', () => {
  assert.deepEqual([defaultMinSyncPeriodMs, defaultSyncPeriodMs, defaultBurstSyncs], [1000, 30_000, 2]);
  assert.throws(() => createBoundedFrequencyRunner('bad', () => {}, 2000, 1000, 1), /maxInterval \(1000ms\) must be >= minInterval \(2000ms\)/);
});

test('burst: two immediate runs after idle, then one per minInterval; requests coalesce', async () => {
  const clock = fakeClock();
  const r = recorder(clock);
  const runner = createBoundedFrequencyRunner('sync', r.fn, 1000, 30_000, 2, { clock });
  runner.run();
  runner.run();
  runner.run(); // same turn: one run
  await clock.advance(0);
  assert.deepEqual(r.at, [0]);
  runner.run(); // the second burst token
  await clock.advance(0);
  assert.deepEqual(r.at, [0, 0]);
  // The bucket is empty: three more requests wait together for the next token, one second later.
  runner.run();
  await clock.advance(300);
  runner.run();
  runner.run();
  await clock.advance(699);
  assert.deepEqual(r.at, [0, 0]);
  await clock.advance(1);
  assert.deepEqual(r.at, [0, 0, 1000]);
  // After being idle for burst × minInterval the bucket is full again: a change runs at once.
  await clock.advance(5000);
  runner.run();
  await clock.advance(0);
  assert.deepEqual(r.at, [0, 0, 1000, 6000]);
  await runner.stop();
});

test('periodic run every maxInterval without requests; a run resets the period', async () => {
  const clock = fakeClock();
  const r = recorder(clock);
  const runner = createBoundedFrequencyRunner('sync', r.fn, 1000, 30_000, 2, { clock });
  await clock.advance(29_999);
  assert.deepEqual(r.at, []);
  await clock.advance(1);
  assert.deepEqual(r.at, [30_000]);
  await clock.advance(10_000);
  runner.run();
  await clock.advance(0);
  assert.deepEqual(r.at, [30_000, 40_000]);
  await clock.advance(29_999);
  assert.equal(r.at.length, 2);
  await clock.advance(1);
  assert.deepEqual(r.at, [30_000, 40_000, 70_000]);
  await runner.stop();
});

test('minInterval 0 runs every request at once (no limiter)', async () => {
  const clock = fakeClock();
  const r = recorder(clock);
  const runner = createBoundedFrequencyRunner('sync', r.fn, 0, 10_000, 1, { clock });
  for (let i = 0; i < 5; i++) {
    runner.run();
    await clock.advance(1);
  }
  assert.equal(r.at.length, 5);
  await runner.stop();
});

test('a request during a run is served after it, subject to the limiter', async () => {
  const clock = fakeClock();
  let release!: () => void;
  let calls = 0;
  const runner = createBoundedFrequencyRunner(
    'sync',
    () => {
      calls++;
      if (calls === 1) return new Promise<void>((res) => (release = res));
    },
    1000,
    30_000,
    1,
    { clock },
  );
  runner.run();
  await clock.advance(0);
  assert.equal(calls, 1);
  assert.equal(runner.stats().running, true);
  runner.run();
  runner.run();
  await clock.advance(200);
  assert.equal(calls, 1, 'no overlapping runs');
  release();
  await clock.advance(0);
  // burst 1: the token used at t=0 is back at t=1000.
  assert.equal(calls, 1);
  await clock.advance(800);
  assert.equal(calls, 2);
  assert.equal(runner.stats().runs, 2);
  await runner.stop();
});

test('retry: a failing run is retried after retryOnErrorMs; retryAfter() shortens the wait, the earliest wins', async () => {
  const clock = fakeClock();
  const errors: unknown[] = [];
  let fail = true;
  const r = recorder(clock, () => {
    if (fail) throw new Error('iptables-restore failed');
  });
  const runner = createBoundedFrequencyRunner('sync', r.fn, 1000, 30_000, 2, { clock, retryOnErrorMs: 5000, onError: (e) => errors.push(e) });
  runner.run();
  await clock.advance(0);
  assert.equal(errors.length, 1);
  assert.deepEqual(clock.pending(), [5000]);
  fail = false;
  await clock.advance(5000);
  assert.deepEqual(r.at, [0, 5000]);
  assert.deepEqual(clock.pending(), [30_000], 'after success: back to the periodic timer');

  runner.retryAfter(8000);
  runner.retryAfter(3000);
  runner.retryAfter(9000); // later than the pending retry: ignored
  await clock.advance(2999);
  assert.equal(r.at.length, 2);
  await clock.advance(1);
  assert.deepEqual(r.at, [0, 5000, 8000]);

  // retryAfter called from inside the run takes effect after the run (not undone by the periodic reset).
  let first = true;
  const clock2 = fakeClock();
  const r2 = recorder(clock2, () => {
    if (first) {
      first = false;
      runner2.retryAfter(2000);
    }
  });
  const runner2 = createBoundedFrequencyRunner('sync2', r2.fn, 1000, 30_000, 2, { clock: clock2 });
  runner2.run();
  await clock2.advance(2000);
  assert.deepEqual(r2.at, [0, 2000]);
  await runner.stop();
  await runner2.stop();
});

test('stop: no more runs, and it waits for the run in progress', async () => {
  const clock = fakeClock();
  let release!: () => void;
  let finished = false;
  const runner = createBoundedFrequencyRunner(
    'sync',
    async () => {
      await new Promise<void>((res) => (release = res));
      finished = true;
    },
    0,
    1000,
    1,
    { clock },
  );
  runner.run();
  await clock.advance(0);
  const stopped = runner.stop();
  let done = false;
  void stopped.then(() => (done = true));
  await flush();
  assert.equal(done, false);
  release();
  await stopped;
  assert.equal(finished, true);
  runner.run();
  await clock.advance(5000);
  assert.equal(runner.stats().runs, 1);
  assert.deepEqual(clock.pending(), []);
});

test('real timers: one change after idle is applied within milliseconds; a burst beyond 2 waits for minSyncPeriod', async (t) => {
  const runs: number[] = [];
  let notify: (() => void) | undefined;
  const nextRun = () => new Promise<void>((res) => (notify = res));
  const runner = createBoundedFrequencyRunner(
    'sync',
    () => {
      runs.push(performance.now());
      notify?.();
    },
    200,
    60_000,
    2,
  );
  // A ref'd timer: the runner's own timers are unref'd (they must not keep a process alive).
  const deadline = async <T>(p: Promise<T>, ms: number, what: string) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([p, new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`timed out waiting for ${what}`)), ms)))]);
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    let wait = nextRun();
    const requested = performance.now();
    runner.run();
    await deadline(wait, 2000, 'first run');
    const latency = runs[0] - requested;
    wait = nextRun();
    runner.run();
    await deadline(wait, 2000, 'second (burst) run');
    wait = nextRun();
    const third = performance.now();
    runner.run();
    await deadline(wait, 2000, 'third run');
    t.diagnostic(`one change after idle: fn ran ${latency.toFixed(3)} ms after run(); third request waited ${(runs[2] - third).toFixed(0)} ms`);
    assert.ok(latency < 50, `one change after idle ran after ${latency.toFixed(2)} ms`);
    assert.ok(runs[2] - third >= 150, `the third run waited for a token (${(runs[2] - third).toFixed(0)} ms)`);
  } finally {
    await runner.stop();
  }
});
