// When to sync: upstream's BoundedFrequencyRunner (pkg/util/async). Requests
// coalesce; runs are at least minInterval apart except for a burst of `burst`
// runs accumulated at one per minInterval (a token bucket that starts full);
// a run happens at least every maxInterval; retryAfter() shortens the wait.
//
// One change after idle is applied at once: the bucket is full after
// burst × minInterval without runs, so run() takes a token and calls fn on the
// next microtask — no timer in between, well under a millisecond. With
// kube-proxy's minSyncPeriod 1 s and burstSyncs 2, two changes in quick
// succession both run immediately; a third within the same second waits for
// the next token (≤ 1 s), and every request made meanwhile shares that run.
// (kube-proxy's ipvs mode uses maxInterval = syncPeriod, 30 s by default; the
// iptables mode passes an hour and resyncs from its canary monitor instead.)
import { logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';

const log = logger('proxy-runner');

/** kube-proxy defaults: --iptables-min-sync-period 1s, --iptables-sync-period 30s, burstSyncs 2. */
export const defaultMinSyncPeriodMs = 1000;
export const defaultSyncPeriodMs = 30_000;
export const defaultBurstSyncs = 2;

/** Time and timers, injectable for tests (upstream's `timer` interface). */
export interface RunnerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: RunnerClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface RunnerOptions {
  clock?: RunnerClock;
  /** When fn throws (or rejects): called with the error; the runner then retries after retryOnErrorMs. */
  onError?: (err: unknown) => void;
  /** Retry delay after a failed run; default maxInterval (kube-proxy retries a failed restore after syncPeriod). */
  retryOnErrorMs?: number;
}

export interface BoundedFrequencyRunner {
  readonly name: string;
  /** Asks for a run as soon as allowed. Never blocks; requests made while one is pending or running coalesce. */
  run(): void;
  /** Ensures a run no later than ms from now (the earliest of several requests wins). */
  retryAfter(ms: number): void;
  /** Stops timers; resolves once a run in progress has finished. */
  stop(): Promise<void>;
  /** Completed runs so far, and when the last one finished (clock time), for tests and status. */
  stats(): { runs: number; lastRunAt: number | undefined; running: boolean };
}

export function createBoundedFrequencyRunner(
  name: string,
  fn: () => void | Promise<void>,
  minIntervalMs = defaultMinSyncPeriodMs,
  maxIntervalMs = defaultSyncPeriodMs,
  burst = defaultBurstSyncs,
  opts: RunnerOptions = {},
): BoundedFrequencyRunner {
  if (maxIntervalMs < minIntervalMs) throw new Error(`${name}: maxInterval (${maxIntervalMs}ms) must be >= minInterval (${minIntervalMs}ms)`);
  if (burst < 1) throw new Error(`${name}: burst must be at least 1`);
  const clock = opts.clock ?? realClock;
  const retryOnErrorMs = opts.retryOnErrorMs ?? maxIntervalMs;

  let tokens = burst;
  let tokensAt = clock.now();
  let timer: unknown;
  let timerAt = Infinity;
  /** True from the moment fn is called until its run is finished (set before fn runs, so calls from inside fn see it). */
  let busy = false;
  let running: Promise<void> | undefined;
  let runRequested = false;
  let queued = false;
  let retryAt: number | undefined;
  let stopped = false;
  let runs = 0;
  let lastRunAt: number | undefined;

  function setTimer(ms: number) {
    if (timer !== undefined) clock.clearTimeout(timer);
    const delay = Math.max(0, ms);
    timerAt = clock.now() + delay;
    timer = clock.setTimeout(() => {
      timer = undefined;
      timerAt = Infinity;
      tryRun();
    }, delay);
  }

  /** flowcontrol's token bucket: qps = 1/minInterval, capacity = burst. */
  function tryAccept(): boolean {
    if (minIntervalMs === 0) return true;
    const now = clock.now();
    tokens = Math.min(burst, tokens + (now - tokensAt) / minIntervalMs);
    tokensAt = now;
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }

  function tryRun() {
    if (stopped) return;
    if (busy) {
      runRequested = true;
      return;
    }
    if (tryAccept()) {
      running = execute();
      return;
    }
    // Not yet: wake up when the next token is there, unless a run is due sooner anyway.
    const nextPossible = Math.ceil((1 - tokens) * minIntervalMs);
    if (nextPossible < timerAt - clock.now()) setTimer(nextPossible);
  }

  function applyRetry() {
    if (retryAt === undefined) return;
    const interval = retryAt - clock.now();
    retryAt = undefined;
    if (interval < timerAt - clock.now()) {
      log.info('retrying', { runner: name, inMs: Math.max(0, Math.round(interval)) });
      setTimer(interval);
    }
  }

  async function execute(): Promise<void> {
    busy = true;
    let failed = false;
    try {
      await fn();
    } catch (e) {
      failed = true;
      if (opts.onError) opts.onError(e);
      else log.error('run failed', { runner: name, error: errorMessage(e) });
    }
    runs++;
    lastRunAt = clock.now();
    busy = false;
    running = undefined;
    if (stopped) return;
    setTimer(maxIntervalMs);
    if (failed) requestRetry(retryOnErrorMs);
    applyRetry();
    if (runRequested) {
      runRequested = false;
      tryRun();
    }
  }

  function requestRetry(ms: number) {
    const at = clock.now() + ms;
    if (retryAt !== undefined && retryAt < at) return;
    retryAt = at;
  }

  setTimer(maxIntervalMs);

  return {
    name,
    run() {
      if (stopped) return;
      if (busy) {
        runRequested = true;
        return;
      }
      if (queued) return;
      queued = true;
      // A microtask, not a timer: every request made in this turn of the event loop shares one run.
      queueMicrotask(() => {
        queued = false;
        tryRun();
      });
    },
    retryAfter(ms) {
      if (stopped) return;
      requestRetry(ms);
      // During a run the retry is applied after it, once the periodic timer has been reset (as upstream's loop does).
      if (!busy) applyRetry();
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      timerAt = Infinity;
      await running;
    },
    stats: () => ({ runs, lastRunAt, running: busy }),
  };
}
