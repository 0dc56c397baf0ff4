// The node ports in the store, as upstream's storage-backed portallocator
// keeps them: one core/v1 RangeAllocation at /registry/ranges/servicenodeports
// whose `range` is the port range ("30000-32767") and whose `data` is the
// allocation bitmap (big.Int bytes, see Bitmap.snapshot). Every change is a
// compare-and-swap on the object's revision, so API servers sharing a store
// cannot hand out one port twice.
import { nowTimestamp } from '../api/object.js';

export const serviceNodePortsKey = '/registry/ranges/servicenodeports';

export interface RangeAllocationData {
  range: string;
  data: Buffer;
}

/** The stored object (JSON; `data` base64 as Go's encoding/json writes []byte). */
export function encodeRangeAllocation(range: string, data: Buffer): string {
  return JSON.stringify({ kind: 'RangeAllocation', apiVersion: 'v1', metadata: { creationTimestamp: nowTimestamp() }, range, data: data.toString('base64') });
}

export function decodeRangeAllocation(value: string): RangeAllocationData {
  const o = JSON.parse(value) as { range?: unknown; data?: unknown };
  if (typeof o.range !== 'string') throw new Error('RangeAllocation without a range');
  return { range: o.range, data: Buffer.from(typeof o.data === 'string' ? o.data : '', 'base64') };
}
