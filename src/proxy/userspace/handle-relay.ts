// The TCP proxy socket's relay on bare libuv handles (uv-handles.ts): accept,
// dial a backend (the next one on a refusal or a timeout), then move bytes
// both ways, each direction through one buffer the kernel reads into and the
// write goes out of, with half-close. No net.Socket, no stream state, no
// closures per connection: a connection is two handles, one Conn and its two
// Pipes, and the callbacks are shared functions finding them on the handle.
import { getSystemErrorMap } from 'node:util';
import { pickBackend, type DialContext, type Relay, type RelayOptions } from './dialing.js';
import { firstReadBuffer, readBufferSize, releaseReadBuffer } from './read-buffers.js';
import type { Backend, Client } from '../lb/types.js';
import type { Req, TcpHandle, UvHandles } from './uv-handles.js';

const systemErrors = getSystemErrorMap();
const errorName = (err: number) => systemErrors.get(err)?.[0] ?? `E${-err}`;
const UV_ENOTCONN = [...systemErrors].find(([, [name]]) => name === 'ENOTCONN')?.[0];

/** An Error as net's (code, errno, syscall; "listen EADDRINUSE: address already in use 0.0.0.0:80"). */
function uvError(err: number, syscall: string, where = ''): Error {
  const [code, message] = systemErrors.get(err) ?? [errorName(err), 'unknown error'];
  return Object.assign(new Error(`${syscall} ${code}: ${message}${where ? ` ${where}` : ''}`), { code, errno: err, syscall });
}

/** The Pipe a connected handle is read by; the relay state a listening handle serves. */
const kPipe = Symbol('kubesvc.pipe');
const kRelay = Symbol('kubesvc.relay');
type Tagged = TcpHandle & { [kPipe]?: Pipe; [kRelay]?: Listening };

/** One listening proxy socket: what its connections dial, and the ones open (closed with it). */
interface Listening {
  uv: UvHandles;
  proxy: DialContext;
  open: Set<Conn>;
  onError?: (err: Error) => void;
  /** A WriteWrap no write has queued on: reused while writes finish at once (a queued one keeps its own). */
  spareWrite: Req;
}

/** One direction of a connection: `from` is read into `buf`, each read written to `to` before the next. */
class Pipe {
  buf: Buffer = firstReadBuffer();
  /** A write still holds `buf` (queued, not all out at once): `from` is not read until it is done. */
  writing = false;
  /** `from`'s FIN was read: `to` is being shut down. */
  eof = false;
  /** `to`'s write side is shut down (the FIN relayed). */
  shut = false;

  constructor(
    readonly conn: Conn,
    readonly from: Tagged,
    readonly to: Tagged,
  ) {}

  /** `n` bytes read into buf: out to `to`. Returns a larger buffer for the next read once reads fill this one. */
  relay(n: number): Buffer | undefined {
    const l = this.conn.listening;
    const { uv } = l;
    const req = l.spareWrite;
    const err = this.to.writeBuffer(req, n === this.buf.length ? this.buf : this.buf.subarray(0, n));
    if (err) {
      this.conn.close(false);
      return undefined;
    }
    if (uv.state[uv.kLastWriteWasAsync]) {
      // The rest is queued and still reads buf: no reads until it is out (the backpressure).
      l.spareWrite = writeReq(uv);
      req.pipe = this;
      req.buffer = this.buf;
      this.writing = true;
      this.from.readStop();
      return undefined;
    }
    if (n === this.buf.length && n < readBufferSize) {
      this.release();
      this.buf = Buffer.allocUnsafeSlow(readBufferSize);
      return this.buf;
    }
    return undefined;
  }

  /** `from` sent its FIN: shut `to` down once its queued writes are out (libuv orders it after them). */
  end(): void {
    this.eof = true;
    if ((this === this.conn.up ? this.conn.down! : this.conn.up!).shut) {
      // The other way is done already and every byte of this one is out (reads wait for writes): both
      // sides are read to their FIN, so closing sends this FIN as a shutdown would, without another
      // round through the event loop (libuv shuts down once the socket polls writable).
      this.shut = true;
      return this.conn.close(false);
    }
    const req = new this.conn.listening.uv.ShutdownWrap();
    req.oncomplete = afterShutdown;
    req.pipe = this;
    const err = this.to.shutdown(req);
    if (err === 0) return;
    if (err === 1 || err === UV_ENOTCONN) this.shutDone();
    else this.conn.close(false);
  }

  shutDone(): void {
    this.shut = true;
    // Both FINs relayed: nothing more to move either way.
    if (this.conn.up!.shut && this.conn.down!.shut) this.conn.close(false);
  }

  /** The buffer back to the pool once the connection is closed and no write holds it. */
  release(): void {
    if (!this.writing) releaseReadBuffer(this.buf);
  }
}

function writeReq(uv: UvHandles): Req {
  const req = new uv.WriteWrap();
  req.oncomplete = afterWrite;
  req.pipe = undefined;
  req.buffer = undefined;
  return req;
}

/** A queued write is out (or failed, or was cancelled by a close). */
function afterWrite(this: Req, status: number): void {
  const p = this.pipe as Pipe;
  this.pipe = this.buffer = undefined;
  p.writing = false;
  if (p.conn.closed) return p.release();
  if (status < 0) return p.conn.close(false);
  if (p.from.readStart() < 0) p.conn.close(false);
}

function afterShutdown(this: Req, status: number): void {
  const p = this.pipe as Pipe;
  this.pipe = undefined;
  if (p.conn.closed) return;
  if (status < 0 && status !== UV_ENOTCONN) return p.conn.close(false);
  p.shutDone();
}

/** A connected handle's read (this = the handle): the result is in the shared stream state. */
function onRead(this: Tagged): Buffer | undefined {
  const p = this[kPipe]!;
  const { uv } = p.conn.listening;
  const n = uv.state[uv.kReadBytesOrError];
  if (p.conn.closed) return undefined;
  if (n > 0) return p.relay(n);
  if (n === uv.UV_EOF) p.end();
  else if (n < 0) p.conn.close(false);
  return undefined;
}

const address = (h: TcpHandle, peer: boolean): { address?: string; port?: number } => {
  const out: Record<string, unknown> = {};
  const err = peer ? h.getpeername(out) : h.getsockname(out);
  return err ? {} : (out as { address?: string; port?: number });
};

/**
 * One accepted client: its dials, then its relay. It is also the client as the
 * scheduler sees it (addresses read only when a scheduler asks: round robin asks for none).
 */
class Conn implements Client {
  upstream: Tagged | undefined;
  /** The handle being dialed, and its backend. */
  dialing: Tagged | undefined;
  backend: Backend | undefined;
  tries = 0;
  tried: Set<string> | undefined;
  timer: NodeJS.Timeout | undefined;
  up: Pipe | undefined;
  down: Pipe | undefined;
  /** The backend's activeConns counts this connection. */
  counted = false;
  closed = false;
  private peer: { address?: string; port?: number } | undefined;

  constructor(
    readonly listening: Listening,
    readonly client: Tagged,
  ) {}

  get ip(): string {
    return (this.peer ??= address(this.client, true)).address ?? '';
  }
  get port(): number | undefined {
    return (this.peer ??= address(this.client, true)).port;
  }
  get destIp(): string | undefined {
    return address(this.client, false).address;
  }

  /** Dialed: each side is read from now on (the client was not read until here), each read relayed to the other. */
  connected(h: Tagged): void {
    this.dialing = undefined;
    this.upstream = h;
    this.backend!.activeConns++;
    this.counted = true;
    // No Nagle delay on either side (as Go's sockets upstream).
    h.setNoDelay(true);
    this.client.setNoDelay(true);
    const up = (this.up = new Pipe(this, this.client, h));
    const down = (this.down = new Pipe(this, h, this.client));
    this.client[kPipe] = up;
    h[kPipe] = down;
    this.client.onread = onRead;
    h.onread = onRead;
    this.client.useUserBuffer(up.buf);
    h.useUserBuffer(down.buf);
    if (this.client.readStart() < 0 || h.readStart() < 0) this.close(false);
  }

  /** Closes both sides (reset: the client gets an RST, as when no backend could be dialed). */
  close(reset: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.listening.open.delete(this);
    if (this.timer) clearTimeout(this.timer);
    if (this.counted) this.backend!.activeConns = Math.max(0, this.backend!.activeConns - 1);
    if (reset) {
      if (this.client.reset() !== 0) this.client.close();
    } else {
      this.client.close();
    }
    this.upstream?.close();
    this.dialing?.close();
    // The handles are closed: no read comes any more; a queued write, cancelled, releases its pipe's buffer itself.
    this.up?.release();
    this.down?.release();
  }
}

/** The client's next dial: a backend (not one tried already if another is left) with this try's timeout; a reset once none is left. */
function dial(c: Conn): void {
  const { uv, proxy } = c.listening;
  if (c.closed) return;
  const b = c.tries < proxy.timeouts.length ? pickBackend(proxy, c, c.tried) : undefined;
  if (!b) return c.close(true);
  const h: Tagged = uv.socket();
  const req = new uv.ConnectWrap();
  req.oncomplete = afterConnect;
  req.conn = c;
  c.dialing = h;
  c.backend = b;
  const err = b.ip.includes(':') ? h.connect6(req, b.ip, b.port) : h.connect(req, b.ip, b.port);
  if (err) return retry(c);
  c.timer = setTimeout(dialTimedOut, proxy.timeouts[c.tries], c);
}

/** The dial failed: the next try, at another backend. */
function retry(c: Conn): void {
  c.dialing?.close();
  c.dialing = undefined;
  (c.tried ??= new Set()).add(c.backend!.id);
  c.backend = undefined;
  c.tries++;
  dial(c);
}

function dialTimedOut(c: Conn): void {
  c.timer = undefined;
  if (!c.closed) retry(c);
}

function afterConnect(this: Req, status: number, handle: TcpHandle): void {
  const c = this.conn as Conn;
  // A dial given up already (timed out, or the connection closed): its handle is closed.
  if (handle !== c.dialing || c.closed) return;
  clearTimeout(c.timer);
  c.timer = undefined;
  if (status < 0) return retry(c);
  c.connected(c.dialing);
}

/** A new client on the listening handle (this). */
function onConnection(this: Tagged, err: number, client: Tagged | undefined): void {
  const l = this[kRelay]!;
  if (err || !client) {
    if (err) l.onError?.(uvError(err, 'accept'));
    return;
  }
  if (l.proxy.list.length === 0) {
    // No endpoints: refuse at once rather than hang (the client sees a reset).
    if (client.reset() !== 0) client.close();
    return;
  }
  const c = new Conn(l, client);
  l.open.add(c);
  dial(c);
}

export function serveWithHandles(uv: UvHandles, opts: RelayOptions): Promise<Relay> {
  const server: Tagged = uv.server();
  const where = opts.bind.includes(':') ? `[${opts.bind}]:${opts.port}` : `${opts.bind}:${opts.port}`;
  let err = opts.bind.includes(':') ? server.bind6(opts.bind, opts.port, 0) : server.bind(opts.bind, opts.port);
  if (err === 0) err = server.listen(511);
  if (err !== 0) {
    server.close();
    return Promise.reject(uvError(err, 'listen', where));
  }
  const listening: Listening = { uv, proxy: opts.proxy, open: new Set(), onError: opts.onError, spareWrite: writeReq(uv) };
  server[kRelay] = listening;
  server.onconnection = onConnection;
  return Promise.resolve({
    port: address(server, false).port ?? opts.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of listening.open) c.close(false);
        server.close(() => resolve());
      }),
  });
}
