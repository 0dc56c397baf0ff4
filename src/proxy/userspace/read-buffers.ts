// The read buffers both relays (handle-relay.ts, socket-relay.ts) read into:
// a small first one per direction, pooled across connections (a short
// connection then allocates none: two fresh buffers per connection are
// external memory the garbage collector has to come back for), and a large
// one once a read fills the first (a bulk transfer).

/** A direction's first read buffer: enough for a short request or answer. */
export const firstReadBufferSize = 16 * 1024;
/** Its buffer once a read has filled the first one: a bulk transfer (at most this much per read). */
export const readBufferSize = 128 * 1024;

const pool: Buffer[] = [];
const kept = 256;

/** A first read buffer: a pooled one when there is one. */
export const firstReadBuffer = (): Buffer => pool.pop() ?? Buffer.allocUnsafeSlow(firstReadBufferSize);

/** A buffer no read or write uses any more: kept for the next connection when it is a first read buffer. */
export function releaseReadBuffer(buf: Buffer | undefined): void {
  if (buf?.length === firstReadBufferSize && pool.length < kept) pool.push(buf);
}
