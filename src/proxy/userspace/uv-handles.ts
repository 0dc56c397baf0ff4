// Node's libuv TCP handles, without the net.Socket around them: what
// net.Socket itself is made of (tcp_wrap's TCP and TCPConnectWrap,
// stream_wrap's WriteWrap and ShutdownWrap, and the shared state a read or a
// write reports through). A relay that only moves bytes between two handles
// needs none of a stream's machinery (a Socket, its two stream states, event
// emitters, nextTicks): per connection that was most of the proxy's CPU.
// process.binding() reaches them in Node 20 without flags; it is deprecated
// (DEP0111, documentation only: it warns only under --pending-deprecation,
// which this load keeps quiet, the warning being about this module, not the
// user's code). Undefined when this Node has them no more or in another shape:
// the proxy then relays with net.Socket.
import { getSystemErrorMap } from 'node:util';

/** A connected (or listening) TCP handle: the methods net.Socket calls on its _handle. */
export interface TcpHandle {
  /** Called (this = the handle) after each read; the outcome is in streamBaseState. Its return value, a Buffer, is the next read's buffer. */
  onread: ((this: TcpHandle) => Buffer | undefined) | null;
  /** Listening handle: a new connection (this = the listening handle). */
  onconnection: ((this: TcpHandle, err: number, client: TcpHandle | undefined) => void) | null;
  readStart(): number;
  readStop(): number;
  /** Every read from now on goes into `buf` (at offset 0). */
  useUserBuffer(buf: Buffer): void;
  writeBuffer(req: object, buf: Buffer): number;
  shutdown(req: object): number;
  close(cb?: (this: TcpHandle) => void): void;
  /** Close with a reset (RST) instead of a FIN. */
  reset(cb?: (this: TcpHandle) => void): number;
  setNoDelay(on: boolean): number;
  getpeername(out: Record<string, unknown>): number;
  getsockname(out: Record<string, unknown>): number;
  connect(req: object, ip: string, port: number): number;
  connect6(req: object, ip: string, port: number): number;
  bind(ip: string, port: number): number;
  bind6(ip: string, port: number, flags: number): number;
  listen(backlog: number): number;
}

/** A request object the handle methods take; `oncomplete` is called on it (this = the request). */
export type Req = Record<string, unknown> & { oncomplete: (...args: never[]) => void };

export interface UvHandles {
  /** A new handle: connecting (socket) or listening (server). */
  socket(): TcpHandle;
  server(): TcpHandle;
  ConnectWrap: new () => Req;
  WriteWrap: new () => Req;
  ShutdownWrap: new () => Req;
  /** The last read's byte count or error (negative), and whether the last write was queued (not all written at once). */
  state: { readonly [i: number]: number };
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
  /** libuv's end-of-stream read result. */
  UV_EOF: number;
}

type Binding = (name: string) => Record<string, unknown>;

function load(): UvHandles | undefined {
  const binding = (process as unknown as { binding?: Binding }).binding;
  if (typeof binding !== 'function') return undefined;
  const quiet = process.noDeprecation;
  process.noDeprecation = true;
  try {
    const tcp = binding('tcp_wrap') as { TCP?: new (type: number) => TcpHandle; TCPConnectWrap?: new () => Req; constants?: { SOCKET?: number; SERVER?: number } };
    const stream = binding('stream_wrap') as { WriteWrap?: new () => Req; ShutdownWrap?: new () => Req; streamBaseState?: Int32Array; kReadBytesOrError?: number; kLastWriteWasAsync?: number };
    const UV_EOF = [...getSystemErrorMap()].find(([, [name]]) => name === 'EOF')?.[0];
    const { TCP, TCPConnectWrap, constants } = tcp;
    const { WriteWrap, ShutdownWrap, streamBaseState, kReadBytesOrError, kLastWriteWasAsync } = stream;
    if (!TCP || !TCPConnectWrap || !WriteWrap || !ShutdownWrap || !streamBaseState || typeof kReadBytesOrError !== 'number' || typeof kLastWriteWasAsync !== 'number' || UV_EOF === undefined) return undefined;
    if (typeof constants?.SOCKET !== 'number' || typeof constants.SERVER !== 'number') return undefined;
    const probe = new TCP(constants.SOCKET);
    const shaped = ['readStart', 'readStop', 'useUserBuffer', 'writeBuffer', 'shutdown', 'close', 'reset', 'setNoDelay', 'getpeername', 'getsockname', 'connect', 'connect6', 'bind', 'bind6', 'listen'].every((m) => typeof (probe as unknown as Record<string, unknown>)[m] === 'function');
    probe.close();
    if (!shaped) return undefined;
    const { SOCKET, SERVER } = constants;
    return { socket: () => new TCP(SOCKET), server: () => new TCP(SERVER), ConnectWrap: TCPConnectWrap, WriteWrap, ShutdownWrap, state: streamBaseState, kReadBytesOrError, kLastWriteWasAsync, UV_EOF };
  } catch {
    // Not reachable in this Node (removed, or refused by a policy): net.Socket it is.
    return undefined;
  } finally {
    process.noDeprecation = quiet;
  }
}

/** The handles, looked up once; undefined when this Node does not offer them as expected. */
export const uvHandles: UvHandles | undefined = load();
