// client-go's work queue: keys, not events. A key added while queued is
// queued once; a key added while being processed is processed again after;
// failures come back with per-key exponential backoff.

export interface WorkQueue {
  add(key: string): void;
  addAfter(key: string, delayMs: number): void;
  /** Resolves when nothing is queued or being processed (delayed keys are not waited for). */
  idle(): Promise<void>;
  shutdown(): void;
  readonly length: number;
}

export interface WorkQueueOptions {
  concurrency?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  onError?: (key: string, err: unknown) => void;
}

export function createWorkQueue(reconcile: (key: string) => Promise<void>, opts: WorkQueueOptions = {}): WorkQueue {
  const concurrency = opts.concurrency ?? 1;
  const base = opts.baseDelayMs ?? 5;
  const max = opts.maxDelayMs ?? 60_000;
  const queue: string[] = [];
  const dirty = new Set<string>();
  const processing = new Set<string>();
  const failures = new Map<string, number>();
  const timers = new Map<string, NodeJS.Timeout>();
  let running = 0;
  let stopped = false;
  let idleWaiters: (() => void)[] = [];

  const checkIdle = () => {
    if (queue.length === 0 && running === 0) {
      const w = idleWaiters;
      idleWaiters = [];
      w.forEach((r) => r());
    }
  };

  function pump() {
    while (!stopped && running < concurrency && queue.length) {
      const key = queue.shift()!;
      dirty.delete(key);
      processing.add(key);
      running++;
      reconcile(key).then(
        () => {
          failures.delete(key);
          done(key);
        },
        (err) => {
          opts.onError?.(key, err);
          const n = (failures.get(key) ?? 0) + 1;
          failures.set(key, n);
          done(key);
          q.addAfter(key, Math.min(max, base * 2 ** (n - 1)));
        },
      );
    }
    checkIdle();
  }

  function done(key: string) {
    processing.delete(key);
    running--;
    // Added again while we worked on it: it is dirty but was not queued.
    if (dirty.has(key) && !queue.includes(key)) queue.push(key);
    pump();
  }

  const q: WorkQueue = {
    add(key) {
      if (stopped || dirty.has(key)) return;
      dirty.add(key);
      if (!processing.has(key)) queue.push(key);
      pump();
    },
    addAfter(key, delayMs) {
      if (stopped) return;
      if (delayMs <= 0) return q.add(key);
      if (timers.has(key)) return;
      const t = setTimeout(() => {
        timers.delete(key);
        q.add(key);
        checkIdle();
      }, delayMs);
      timers.set(key, t);
    },
    idle() {
      return new Promise((resolve) => {
        idleWaiters.push(resolve);
        checkIdle();
      });
    },
    shutdown() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      queue.length = 0;
      checkIdle();
    },
    get length() {
      return queue.length;
    },
  };
  return q;
}
