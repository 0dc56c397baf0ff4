// Exact-length reads over a stream of chunks: what a tar reader needs to take
// 512-byte headers and then a body of known size without copying it whole.

export class ByteSource {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer | Uint8Array | string>;
  private ended = false;

  constructor(source: AsyncIterable<Buffer | Uint8Array | string>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Buffers at least `n` bytes unless the stream ends first; false when it did. */
  private async fill(n: number): Promise<boolean> {
    const parts = [this.buffer];
    let have = this.buffer.length;
    while (have < n && !this.ended) {
      const { value, done } = await this.it.next();
      if (done) this.ended = true;
      else {
        const chunk = typeof value === 'string' ? Buffer.from(value) : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
        parts.push(chunk);
        have += chunk.length;
      }
    }
    if (parts.length > 1) this.buffer = Buffer.concat(parts);
    return this.buffer.length >= n;
  }

  /** Exactly `n` bytes, or undefined when the stream ends before the first; throws when it ends in the middle. */
  async read(n: number): Promise<Buffer | undefined> {
    if (!(await this.fill(n))) {
      if (this.buffer.length === 0) return undefined;
      throw new Error('unexpected EOF');
    }
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  /** The next `n` bytes as they arrive; throws "unexpected EOF" when the stream ends before them. */
  async *take(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buffer.length === 0 && !(await this.fill(1))) throw new Error('unexpected EOF');
      const part = this.buffer.subarray(0, Math.min(left, this.buffer.length));
      this.buffer = this.buffer.subarray(part.length);
      left -= part.length;
      yield part;
    }
  }

  /** Drops the next `n` bytes. */
  async skip(n: number): Promise<void> {
    for await (const _ of this.take(n));
  }

  /** Reads and drops whatever is left (a compressed stream's trailer, tar's trailing zero blocks). */
  async drain(): Promise<void> {
    this.buffer = Buffer.alloc(0);
    while (!this.ended) if ((await this.it.next()).done) this.ended = true;
  }
}
