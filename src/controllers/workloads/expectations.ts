// UIDTrackingControllerExpectations (pkg/controller/controller_utils.go): what
// a controller has asked for and not yet seen in its cache. While creations or
// deletions are outstanding the controller does not act again on its stale
// view, which is what keeps it from double-creating when the cache lags.
// Expectations expire after five minutes so a lost event cannot wedge it.

export const expectationsTimeoutMs = 5 * 60 * 1000;

interface Record {
  add: number;
  del: number;
  /** Keys of pods whose deletion is expected and not yet observed. */
  deleting: Set<string>;
  at: number;
}

export interface Expectations {
  /** No outstanding creations or deletions (or none recorded, or expired). */
  satisfied(key: string): boolean;
  /** Replaces the record: `adds` creations and the deletion of `deleting` pods to come. */
  expect(key: string, adds: number, deleting: string[]): void;
  creationObserved(key: string): void;
  /** Observing the same pod's deletion twice (deletionTimestamp, then removal) counts once. */
  deletionObserved(key: string, podKey: string): void;
  delete(key: string): void;
}

export function createExpectations(now: () => number = Date.now): Expectations {
  const records = new Map<string, Record>();
  const get = (key: string) => records.get(key);
  return {
    satisfied(key) {
      const r = get(key);
      if (!r) return true;
      if (r.add <= 0 && r.del <= 0) return true;
      return now() - r.at > expectationsTimeoutMs;
    },
    expect(key, adds, deleting) {
      records.set(key, { add: adds, del: deleting.length, deleting: new Set(deleting), at: now() });
    },
    creationObserved(key) {
      const r = get(key);
      if (r) r.add--;
    },
    deletionObserved(key, podKey) {
      const r = get(key);
      if (r && r.deleting.delete(podKey)) r.del--;
    },
    delete(key) {
      records.delete(key);
    },
  };
}
