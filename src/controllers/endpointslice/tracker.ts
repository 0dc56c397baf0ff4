// Stale-cache protection for controllers that write EndpointSlices (upstream
// EndpointSliceTracker). A controller's informer can lag behind its own
// writes; reconciling from such a cache would create duplicate slices or undo
// a write. The tracker remembers, per owner (Service or Endpoints key), the
// resourceVersion each of our writes produced and the slices we deleted, tells
// whether the cache has caught up, and tells informer events that echo our own
// writes from changes someone else made (which need a sync).
import type { EndpointSlice } from './pod-endpoints.js';

const DELETED = '\x00deleted';

export interface SliceTracker {
  /** A create or update of ours returned this slice. */
  written(owner: string, slice: EndpointSlice): void;
  /** We deleted this slice. */
  deleted(owner: string, slice: EndpointSlice): void;
  /** True while the cached slices of owner do not yet show all our writes. */
  stale(owner: string, cached: EndpointSlice[]): boolean;
  /** An informer event for one of owner's slices: true unless it is the echo of our own write. */
  observe(owner: string, slice: EndpointSlice, deleted: boolean): boolean;
  forget(owner: string): void;
}

/**
 * Orders two resourceVersions. They are opaque to clients, but both our
 * server and etcd use increasing integers; anything else compares as unknown.
 */
export function compareResourceVersions(a: string | undefined, b: string | undefined): number | undefined {
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return a !== undefined && a === b ? 0 : undefined;
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function createSliceTracker(): SliceTracker {
  const owners = new Map<string, Map<string, string>>();
  const expect = (owner: string) => {
    let m = owners.get(owner);
    if (!m) owners.set(owner, (m = new Map()));
    return m;
  };
  const drop = (owner: string, name: string) => {
    const m = owners.get(owner);
    if (!m) return;
    m.delete(name);
    if (!m.size) owners.delete(owner);
  };
  return {
    written(owner, slice) {
      expect(owner).set(slice.metadata.name!, slice.metadata.resourceVersion ?? '');
    },
    deleted(owner, slice) {
      expect(owner).set(slice.metadata.name!, DELETED);
    },
    stale(owner, cached) {
      const m = owners.get(owner);
      if (!m) return false;
      const byName = new Map(cached.map((s) => [s.metadata.name!, s]));
      let stale = false;
      for (const [name, rv] of m) {
        const c = byName.get(name);
        if (rv === DELETED) {
          if (c) stale = true;
          else drop(owner, name);
          continue;
        }
        if (!c) {
          // Our create (or update) is not in the cache yet; a later delete would have cleared this.
          stale = true;
          continue;
        }
        const cmp = compareResourceVersions(c.metadata.resourceVersion, rv);
        if (cmp !== undefined && cmp < 0) stale = true;
        else drop(owner, name);
      }
      return stale;
    },
    observe(owner, slice, deleted) {
      const name = slice.metadata.name!;
      const rv = owners.get(owner)?.get(name);
      if (deleted) {
        drop(owner, name);
        return rv !== DELETED;
      }
      if (rv === DELETED) return false;
      if (rv === undefined) return true;
      const cmp = compareResourceVersions(slice.metadata.resourceVersion, rv);
      if (cmp === 0) {
        drop(owner, name);
        return false;
      }
      // An older version of ours still arriving is no news; a newer one is someone else's.
      if (cmp !== undefined && cmp < 0) return false;
      drop(owner, name);
      return true;
    },
    forget(owner) {
      owners.delete(owner);
    },
  };
}
