// The TCP proxy socket's relay on net.Socket, for a Node whose libuv handles
// are out of reach (handle-relay.ts is the one used otherwise): a paused
// accepted socket, dials with net.connect, each side read into one reused
// buffer (net.Socket's onread, also for the accepted side when its slots are
// found) and written to the other with backpressure and half-close.
import { createServer, connect, Socket, type Server } from 'node:net';
import type { Backend, Client } from '../lb/types.js';
import { pickBackend, type DialContext, type Relay, type RelayOptions } from './dialing.js';
import { firstReadBuffer, firstReadBufferSize, readBufferSize, releaseReadBuffer } from './read-buffers.js';

/**
 * Bytes queued toward a slow side before the relay stops reading the other
 * side. Larger than a socket's default (16 KiB) so a burst rides on without
 * pausing and resuming the reader (a syscall each) per chunk, and the queued
 * chunks go out together in one writev.
 */
export const relayHighWaterMark = 1 << 20;

/** Both sides of a relay: half-close forwarded, no Nagle delay (as Go's sockets upstream), the larger queue (Duplex options net.Socket passes on). */
const socketOptions = { allowHalfOpen: true, noDelay: true, highWaterMark: relayHighWaterMark };

const ignore = () => {};

/**
 * A socket's read side relaying into `to` (its onread; `to` is set once that
 * socket exists, before the first read): the kernel copies into one buffer
 * that is reused for every read, instead of a fresh 64 KiB buffer per read
 * (fresh pages: faults and cold caches at bulk rates). When a write could not
 * go out at once it still holds the buffer, so the next read gets a new one.
 * A class with its two callbacks bound once: no closures made per connection.
 */
class ReadRelay {
  to: Socket | undefined;
  private buf: Buffer | undefined;
  private size = firstReadBufferSize;
  private held = true;
  /** onread.buffer (Node calls it unbound). */
  readonly buffer: () => Buffer;
  /** onread.callback (Node calls it on the reading socket). */
  readonly callback: (n: number, buf: Buffer) => boolean;

  constructor(to?: Socket) {
    this.to = to;
    this.buffer = this.next.bind(this);
    this.callback = this.relay.bind(this);
  }

  private next(): Buffer {
    if (this.held || this.buf!.length < this.size) this.buf = this.size === firstReadBufferSize ? firstReadBuffer() : Buffer.allocUnsafeSlow(this.size);
    this.held = false;
    return this.buf!;
  }

  private relay(n: number, b: Buffer): boolean {
    if (n === b.length) this.size = readBufferSize;
    // false pauses the socket; the relay's drain handler resumes it.
    const more = this.to!.write(b.subarray(0, n));
    this.held = this.to!.writableLength > 0;
    return more;
  }

  /** Once neither socket of the connection is open: its first read buffer goes back for the next connection. */
  release(): void {
    releaseReadBuffer(this.buf);
    this.buf = undefined;
  }
}

/** Releases both relays' buffers once `a` and `b` have both closed (no read or queued write uses them any more). */
function releaseAfterClose(a: Socket, b: Socket, ra: ReadRelay, rb: ReadRelay): void {
  let closed = 0;
  a.once('close', () => ++closed === 2 && (ra.release(), rb.release()));
  b.once('close', () => ++closed === 2 && (ra.release(), rb.release()));
}

/**
 * Where net.Socket keeps its onread (own symbol properties every socket has,
 * set from the constructor's onread option), found once by their names; net.Server
 * takes no onread for the sockets it accepts. Undefined if this Node has other ones.
 */
const onreadSlots = (() => {
  const probe = new Socket();
  const named = (name: string) => Object.getOwnPropertySymbols(probe).find((k) => k.description === name);
  const [buffer, generator, callback] = [named('kBuffer'), named('kBufferGen'), named('kBufferCb')];
  probe.destroy();
  return buffer && generator && callback ? { buffer, generator, callback } : undefined;
})();

type Slots = Record<symbol, unknown> & { _handle?: { useUserBuffer?: (buf: Buffer) => void } | null };

/**
 * The accepted client (paused, not read yet) read as a dialed socket is
 * (onread into one reused buffer, see ReadRelay): the slots the
 * constructor's onread fills, and the handle told its buffer. False (nothing
 * changed) when this Node keeps them elsewhere: the caller relays 'data' events.
 */
function readWith(accepted: Socket, onread: ReadRelay): boolean {
  const socket = accepted as unknown as Slots;
  const handle = socket._handle;
  if (!onreadSlots || typeof handle?.useUserBuffer !== 'function') return false;
  const buf = onread.buffer();
  socket[onreadSlots.buffer] = buf;
  socket[onreadSlots.generator] = onread.buffer;
  socket[onreadSlots.callback] = onread.callback;
  handle.useUserBuffer(buf);
  return true;
}

/** Moves `from`'s bytes to `to` with 'data' events (readWith's fallback), with backpressure. */
function relayData(from: Socket, to: Socket): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) from.pause();
  });
}

/**
 * The client's scheduling view, read only when a scheduler asks (the first
 * read of each is a getpeername/getsockname call; round robin asks for none).
 */
function clientOf(client: Socket): Client {
  return {
    get ip() {
      return client.remoteAddress ?? '';
    },
    get port() {
      return client.remotePort;
    },
    get destIp() {
      return client.localAddress;
    },
  };
}

/** One client's dialing: the backends tried so far; `done` gets the connected socket, or undefined once every try has failed. */
interface Dialing {
  proxy: DialContext;
  client: Socket;
  who: Client;
  tried: Set<string> | undefined;
  done: (socket: Socket | undefined, backend?: Backend, into?: ReadRelay) => void;
}

/**
 * Try `n` at dialing a backend for the client, the next try after a refusal or
 * a timeout going to a backend not tried yet, with a longer timeout.
 */
function dial(d: Dialing, n: number): void {
  const { proxy, client } = d;
  if (n >= proxy.timeouts.length || client.destroyed) return d.done(undefined);
  const b = pickBackend(proxy, d.who, d.tried);
  if (!b) return d.done(undefined);
  const into = new ReadRelay();
  const s = connect({ host: b.ip, port: b.port, ...socketOptions, onread: into });
  let connected = false;
  const timer = setTimeout(() => s.destroy(new Error(`dial ${b.id}: timeout after ${proxy.timeouts[n]} ms`)), proxy.timeouts[n]);
  s.once('error', () => {
    // After the connect, errors are the relay's.
    if (connected) return;
    clearTimeout(timer);
    s.destroy();
    (d.tried ??= new Set()).add(b.id);
    dial(d, n + 1);
  });
  s.once('connect', () => {
    connected = true;
    clearTimeout(timer);
    d.done(s, b, into);
  });
}

export async function serveWithSockets(opts: RelayOptions): Promise<Relay> {
  const { proxy } = opts;
  const open = new Set<Socket>();
  const server: Server = createServer({ ...socketOptions, pauseOnConnect: true }, (client) => {
    if (proxy.list.length === 0) {
      // No endpoints: refuse at once rather than hang (the client sees a reset).
      client.on('error', ignore);
      client.resetAndDestroy();
      return;
    }
    open.add(client);
    client.on('error', ignore);
    client.on('close', () => open.delete(client));
    const dialing: Dialing = { proxy, client, who: clientOf(client), tried: undefined, done: (socket, backend, into) => {
      if (!socket || !backend || !into) {
        if (!client.destroyed) client.resetAndDestroy();
        return;
      }
      if (client.destroyed) {
        socket.destroy();
        return;
      }
      into.to = client;
      // Until now the client was paused (not read): from here on it is read like the backend.
      const out = new ReadRelay(socket);
      if (!readWith(client, out)) relayData(client, socket);
      releaseAfterClose(client, socket, into, out);
      backend.activeConns++;
      open.add(socket);
      // A side torn down (a reset, an error: a close follows it) takes the other down at once. A side
      // closed cleanly has relayed both FINs: the other closes by itself once its queued bytes are out.
      socket.on('error', ignore);
      socket.on('close', (hadError) => {
        backend.activeConns = Math.max(0, backend.activeConns - 1);
        open.delete(socket);
        if (hadError) client.destroy();
      });
      client.on('close', (hadError) => hadError && socket.destroy());
      // Each side's reads go straight to the other (onread), its FIN after them (half-close); a full queue pauses the reader until it drains.
      socket.on('drain', () => client.resume());
      client.on('end', () => socket.end());
      client.on('drain', () => socket.resume());
      socket.on('end', () => client.end());
      client.resume();
    } };
    dial(dialing, 0);
  });
  server.on('error', (e) => opts.onError?.(e));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.bind, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : opts.port,
    close() {
      return new Promise((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      });
    },
  };
}
