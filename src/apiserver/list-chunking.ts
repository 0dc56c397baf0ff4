// Chunked lists at the API: limit, continue and resourceVersion read from the
// query as kube-apiserver reads ListOptions, the list's ListMeta (continue,
// remainingItemCount), and the storage's refusals answered with upstream's
// Status: 400 for a token or resourceVersion it cannot use, 410 Expired for a
// token whose revision compaction removed (carrying a token that goes on at
// the latest revision), 504 for a revision the store has not reached.
import type { KubeObject } from '../api/object.js';
import { errors, StatusError } from '../api/status.js';
import type { ListOptions, Registry } from '../registry/registry.js';
import type { ResourceDef } from '../registry/resource.js';
import { ContinueExpiredError, ListRequestError, type ChunkRequest } from '../storage/list-chunk.js';
import { CompactedError, FutureRevisionError } from '../storage/store.js';
import { queryInt64 } from './query-params.js';

export interface ListMeta {
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

const expiredList = 'The resourceVersion for the provided list is too old.';
const inconsistentContinue =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, ' +
  'or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an ' +
  'inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

/** The paging part of a list request's query. */
export function chunkRequest(q: URLSearchParams): ChunkRequest {
  const limit = queryInt64(q, 'limit');
  const resourceVersion = q.get('resourceVersion') ?? undefined;
  const next = q.get('continue') || undefined;
  // resourceVersion=0 without a token is served whole from the watch cache,
  // which does not page (kube-apiserver 1.32): the limit goes unused.
  if (resourceVersion === '0' && !next) return { resourceVersion };
  return { limit, continue: next, resourceVersion };
}

/** registry.list for an API request: the items and the ListMeta, or a Status error. */
export async function listChunk(registry: Registry, def: ResourceDef, namespace: string | undefined, opts: ListOptions): Promise<{ items: KubeObject[]; metadata: ListMeta }> {
  try {
    const list = await registry.list(def, namespace, opts);
    const metadata: ListMeta = { resourceVersion: list.resourceVersion };
    if (list.continue) metadata.continue = list.continue;
    if (list.remainingItemCount !== undefined) metadata.remainingItemCount = list.remainingItemCount;
    return { items: list.items, metadata };
  } catch (e) {
    throw chunkError(e);
  }
}

function chunkError(e: unknown): unknown {
  if (e instanceof ListRequestError) return errors.badRequest(e.message);
  if (e instanceof ContinueExpiredError) {
    const expired = errors.expired(inconsistentContinue);
    expired.status.metadata.continue = e.restart;
    return expired;
  }
  if (e instanceof CompactedError) return errors.expired(expiredList);
  if (e instanceof FutureRevisionError) {
    // Upstream's TooLargeResourceVersionError: a Timeout the client may retry.
    return new StatusError({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `Timeout: Too large resource version: ${e.requested}, current: ${e.current}`,
      reason: 'Timeout',
      details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 },
      code: 504,
    });
  }
  return e;
}
