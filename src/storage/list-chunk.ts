// One chunk of a list, as kube-apiserver's etcd3 storage serves `limit` and
// `continue`: keys in order from where the previous chunk stopped, every
// chunk read at the first one's revision so the pieces make one consistent
// list. Items the caller's selection drops do not count toward the limit:
// the read goes on, fetching twice as many each time (at most 10,000), until
// the chunk is full or the keys run out.
import { CompactedError, type Store, type StoredValue } from './store.js';
import { ContinueTokenError, decodeContinue, encodeContinue } from './continue-token.js';

/** What the request asked for: ListOptions' limit, continue and resourceVersion. */
export interface ChunkRequest {
  /** At most this many items; 0 or absent: all of them. */
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface Chunk<T> {
  items: T[];
  revision: number;
  /** Where the next chunk starts, when there is one. */
  continue?: string;
  /** Items after this chunk; only when nothing is filtered out, so the count is exact. */
  remainingItemCount?: number;
}

/** A request whose paging parameters cannot be served; the message is upstream's 400. */
export class ListRequestError extends Error {}

/**
 * A continue token whose revision compaction removed: the list cannot go on
 * consistently. `restart` goes on from the same key at the latest revision,
 * for a client that accepts an inconsistent list.
 */
export class ContinueExpiredError extends Error {
  constructor(readonly restart: string) {
    super('continue token expired');
  }
}

/** The most keys one read fetches while a selective chunk fills up (upstream's maxLimit). */
const maxFetch = 10_000;

/**
 * Reads one chunk under `prefix`. `keep` turns a stored value into an item
 * or drops it (undefined); `selective` says whether it may drop any.
 * Throws ListRequestError, ContinueExpiredError, or the store's
 * CompactedError (a limit at a resourceVersion compacted away) and
 * FutureRevisionError.
 */
export async function readChunk<T>(
  store: Store,
  prefix: string,
  request: ChunkRequest,
  selective: boolean,
  keep: (value: StoredValue) => T | undefined,
): Promise<Chunk<T>> {
  const limit = request.limit && request.limit > 0 ? request.limit : undefined;
  // A paged read parses the resourceVersion before anything else, as etcd3's GetList does.
  const atVersion = limit || request.continue ? parseResourceVersion(request.resourceVersion) : 0;
  let fromKey: string | undefined;
  let revision: number | undefined;
  if (request.continue) {
    let decoded;
    try {
      decoded = decodeContinue(request.continue, prefix);
    } catch (e) {
      if (e instanceof ContinueTokenError) throw new ListRequestError(`invalid continue token: ${e.message}`);
      throw e;
    }
    if (request.resourceVersion && request.resourceVersion !== '0') throw new ListRequestError('specifying resource version is not allowed when using continue');
    fromKey = decoded.fromKey;
    // A negative revision is the latest (a token handed out with an expiry).
    if (decoded.revision > 0) revision = decoded.revision;
  } else if (atVersion > 0) {
    // A limited list at a resourceVersion is read at exactly that revision.
    revision = atVersion;
  }

  const items: T[] = [];
  const startKey = fromKey;
  let fetch = limit;
  let lastKey: string | undefined;
  let hasMore: boolean;
  let count: number;
  for (;;) {
    let page;
    try {
      page = await store.list(prefix, { revision, fromKey, limit: fetch });
    } catch (e) {
      if (e instanceof CompactedError && startKey !== undefined) throw new ContinueExpiredError(encodeContinue(startKey, prefix, -1));
      throw e;
    }
    // Later reads are pinned to the revision of the first.
    revision = page.revision;
    hasMore = page.more;
    count = page.count;
    for (const value of page.items) {
      if (limit && items.length >= limit) {
        hasMore = true;
        break;
      }
      lastKey = value.key;
      const item = keep(value);
      if (item !== undefined) items.push(item);
    }
    if (!hasMore || !limit || items.length >= limit) break;
    if (fetch! < maxFetch) fetch = Math.min(fetch! * 2, maxFetch);
    fromKey = lastKey + '\x00';
  }

  const chunk: Chunk<T> = { items, revision };
  if (hasMore && lastKey !== undefined) {
    // The next chunk starts just after the last key read.
    chunk.continue = encodeContinue(lastKey + '\x00', prefix, revision);
    if (!selective) chunk.remainingItemCount = count - limit!;
  }
  return chunk;
}

const uint64Max = 2n ** 64n - 1n;

/** A resourceVersion as the storage versioner parses it: "" and "0" are 0, anything else a uint64 or a 400. */
function parseResourceVersion(rv: string | undefined): number {
  if (!rv || rv === '0') return 0;
  const why = !/^\d+$/.test(rv) ? 'invalid syntax' : BigInt(rv) > uint64Max ? 'value out of range' : undefined;
  if (why) {
    const quoted = JSON.stringify(rv);
    throw new ListRequestError(`invalid resource version: resourceVersion: Invalid value: ${quoted}: strconv.ParseUint: parsing ${quoted}: ${why}`);
  }
  return Number(rv);
}
