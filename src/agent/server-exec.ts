// GET /exec/{namespace}/{pod}/{container}?command=..&stdin=&stdout=&stderr=&tty=
// upgraded to a websocket speaking Kubernetes' remote command protocols
// v5.channel.k8s.io and v4.channel.k8s.io:
//   every message is binary, its first byte the channel: 0 stdin (client →),
//   1 stdout, 2 stderr, 3 error (one JSON metav1.Status when the command
//   ends, then a normal close), 4 resize (client →, JSON {"Width","Height"});
//   v5 adds 255: "close channel", the second byte naming it (the client sends
//   [255, 0] when its stdin ends, and the command's stdin is closed then).
// The command runs as `nsenter --target PID --net --mount --uts -- argv...`,
// so it sees the container's network, filesystem and hostname; entering the
// mount namespace makes its working directory that namespace's "/". Its
// environment is the container process's own (/proc/PID/environ), with PATH
// taken from the host when the container has none. A container run by an
// OCI runtime (a pulled image) is entered with the runtime's own exec
// instead (ContainerRuntimeView.containerExecPrefix): its namespaces, user,
// capabilities, cgroup and environment.
// With tty=true the command gets a pseudo-terminal from util-linux
// `script -qefc CMD /dev/null` (the terminal echoes and translates "\n" to
// "\r\n" as a container runtime's would; stderr is merged into it, as the
// kubelet does). The command starts once kubectl's first resize arrives (or
// after 300 ms), with that size set by `stty` before the exec; later resizes
// run `stty -F /proc/CHILD/fd/0 rows H cols W`, which also signals SIGWINCH.
// When nsenter itself fails (no such command, the container gone) the error
// channel carries an InternalError worded as a runtime's exec failure rather
// than nsenter's message and exit code.
// Errors before the upgrade are plain text with the kubelet's codes: 404
// "pod does not exist", 500 `container not found ("c")` (not running), 400
// for options or a non-websocket (SPDY) upgrade, which is not served.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { constants as osConstants } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import type { WebSocket, WebSocketServer } from 'ws';
import type { ContainerRuntimeView } from './contracts.js';
import { shQuote } from '../util/shell-quote.js';

export const execProtocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

/** Answers an upgrade request with a plain HTTP error and closes the connection. */
export function rejectUpgrade(socket: Duplex, code: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  if (socket.destroyed) return;
  socket.end(
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\n` +
      `Content-Type: ${contentType}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\n\r\n` +
      body,
  );
}

function which(cmd: string): string {
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return cmd;
}

/** The container process's environment, PATH defaulted from the host. */
function containerEnv(pid: number, tty: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  try {
    for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const eq = entry.indexOf('=');
      if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
  } catch {
    // the process is gone or unreadable: the defaults below
  }
  env.PATH ||= process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  env.HOME ||= '/root';
  if (tty) env.TERM ||= 'xterm';
  return env;
}

interface Status {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes: { reason?: string; message: string }[] };
  code?: number;
}

const success = (): Status => ({ metadata: {}, status: 'Success' });

function exitStatus(argv: string[], code: number): Status {
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${argv.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

function internalStatus(message: string): Status {
  const err = `error executing command in container: ${message}`;
  return { metadata: {}, status: 'Failure', message: `Internal error occurred: ${err}`, reason: 'InternalError', details: { causes: [{ message: err }] }, code: 500 };
}

/** nsenter's own failure (it could not enter or exec), worded as a runtime's exec failure. */
function nsenterFailure(line: string): string {
  const m = /^nsenter: failed to execute (.*): (No such file or directory|Permission denied)$/.exec(line.trim());
  if (m) {
    const why = m[2] === 'Permission denied' ? 'permission denied' : 'executable file not found in $PATH';
    return `failed to exec in container: exec: ${JSON.stringify(m[1])}: ${why}`;
  }
  return `failed to exec in container: ${line.trim().replace(/^nsenter: /, '')}`;
}

const PREFIX = 'nsenter: ';
const osSignals = osConstants.signals as Record<string, number>;

interface TermSize {
  Width: number;
  Height: number;
}

/** A resize message's JSON; undefined when malformed (ignored, as the kubelet does). */
function parseSize(payload: Buffer): TermSize | undefined {
  try {
    const s = JSON.parse(payload.toString()) as { Width?: unknown; Height?: unknown };
    if (Number.isInteger(s.Width) && Number.isInteger(s.Height) && (s.Width as number) > 0 && (s.Height as number) > 0) {
      return { Width: s.Width as number, Height: s.Height as number };
    }
  } catch {
    // ignored
  }
  return undefined;
}

const toBuffer = (raw: Buffer | ArrayBuffer | Buffer[]) => (Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw));

interface ExecOptions {
  pid: number;
  /** The container runtime's exec command line (argv appended); none: nsenter into pid's namespaces. */
  prefix?: (tty: boolean) => string[] | undefined;
  argv: string[];
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

interface ExecServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, namespace: string, pod: string, container: string, q: URLSearchParams): void;
  close(): void;
}

export function createExecServer(runtime: ContainerRuntimeView): ExecServer {
  const nsenter = which('nsenter');
  const script = which('script');
  const stty = which('stty');
  const sessions = new Set<{ ws: WebSocket; child?: ChildProcess }>();
  // ws is loaded on the first exec (~40 ms of every start otherwise).
  let server: WebSocketServer | undefined;
  const wss = (): WebSocketServer => {
    if (!server) {
      const { WebSocketServer: Server } = createRequire(import.meta.url)('ws') as typeof import('ws');
      server = new Server({
        noServer: true,
        perMessageDeflate: false,
        handleProtocols: (offered) => [...offered].find((p) => (execProtocols as readonly string[]).includes(p)) ?? false,
      });
    }
    return server;
  };

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, namespace: string, pod: string, container: string, q: URLSearchParams) {
    // The kubelet's order: the pod, the container, the options, then the protocol.
    const names = runtime.containerNames(namespace, pod);
    if (!names) return rejectUpgrade(socket, 404, 'pod does not exist');
    const pid = names.includes(container) ? runtime.containerPid(namespace, pod, container) : undefined;
    if (pid === undefined) return rejectUpgrade(socket, 500, `container not found (${JSON.stringify(container)})`);
    const flag = (name: string) => /^(1|t|true)$/i.test(q.get(name) ?? '');
    const tty = flag('tty');
    const stdin = flag('stdin');
    const stdout = flag('stdout');
    // With a terminal, stderr is the terminal too.
    const stderr = flag('stderr') && !tty;
    if (!stdin && !stdout && !flag('stderr')) return rejectUpgrade(socket, 400, 'you must specify at least 1 of stdin, stdout, stderr');
    const argv = q.getAll('command');
    if (!argv.length) return rejectUpgrade(socket, 400, 'you must specify at least one command for the container');
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      return rejectUpgrade(
        socket,
        400,
        `unable to upgrade: this node agent serves exec over websocket only (${execProtocols.join(', ')}), not ${JSON.stringify(req.headers.upgrade ?? '')}`,
      );
    }
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (!offered.some((p) => (execProtocols as readonly string[]).includes(p))) {
      return rejectUpgrade(socket, 400, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [${execProtocols.join(' ')}]`);
    }
    const prefix = (t: boolean) => runtime.containerExecPrefix?.(namespace, pod, container, t);
    wss().handleUpgrade(req, socket, head, (ws) => run(ws, { pid, prefix, argv, tty, stdin, stdout, stderr }));
  }

  /**
   * With a terminal, kubectl sends the terminal's size right after the
   * handshake: wait briefly for it so the command starts with that size
   * (`stty size` as the first thing sees it), keeping anything else that
   * arrives meanwhile for the session.
   */
  function run(ws: WebSocket, o: ExecOptions) {
    if (!o.tty) return start(ws, o, undefined, []);
    const queued: Buffer[] = [];
    let begun = false;
    const begin = (size?: TermSize) => {
      if (begun) return;
      begun = true;
      clearTimeout(timer);
      ws.off('message', early);
      ws.off('close', gone);
      start(ws, o, size, queued);
    };
    const early = (raw: Buffer | ArrayBuffer | Buffer[]) => {
      const data = toBuffer(raw);
      const size = data[0] === RESIZE ? parseSize(data.subarray(1)) : undefined;
      if (size) return begin(size);
      queued.push(data);
    };
    const gone = () => {
      begun = true;
      clearTimeout(timer);
    };
    const timer = setTimeout(() => begin(), 300);
    ws.on('message', early);
    ws.on('close', gone);
  }

  function start(ws: WebSocket, o: ExecOptions, initial: TermSize | undefined, queued: Buffer[]) {
    if (ws.readyState !== ws.OPEN) return;
    const v5 = ws.protocol === 'v5.channel.k8s.io';
    // The runtime's own exec gives the command the container's environment; nsenter passes on the process's.
    const prefix = o.prefix?.(o.tty);
    const env = prefix ? { PATH: process.env.PATH || '/usr/sbin:/usr/bin:/sbin:/bin', ...(o.tty ? { TERM: 'xterm' } : {}) } : containerEnv(o.pid, o.tty);
    const command = prefix ? [...prefix, ...o.argv] : [nsenter, '--target', String(o.pid), '--net', '--mount', '--uts', '--', ...o.argv];
    const setSize = initial ? `stty rows ${initial.Height} cols ${initial.Width} 2>/dev/null; ` : '';
    let child: ChildProcess;
    try {
      child = o.tty
        ? spawn(script, ['-q', '-e', '-f', '-c', setSize + ['exec', ...command].map(shQuote).join(' '), '/dev/null'], {
            cwd: '/',
            env: { ...env, SHELL: '/bin/sh' },
            stdio: ['pipe', 'pipe', 'pipe'],
          })
        : spawn(command[0]!, command.slice(1), { cwd: '/', env, stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    } catch (e) {
      ws.send(Buffer.concat([Buffer.from([ERROR]), Buffer.from(JSON.stringify(internalStatus(String(e))))]));
      ws.close(1000);
      return;
    }
    const session = { ws, child };
    sessions.add(session);
    let finished = false;

    // Output, with backpressure from the websocket.
    const outputs = [child.stdout, child.stderr].filter((s) => s !== null);
    let paused = false;
    const send = (channel: number, data: Buffer) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(Buffer.concat([Buffer.from([channel]), data]), () => {
        if (paused && ws.bufferedAmount < 256 * 1024) {
          paused = false;
          for (const s of outputs) s.resume();
        }
      });
      if (!paused && ws.bufferedAmount > 1024 * 1024) {
        paused = true;
        for (const s of outputs) s.pause();
      }
    };
    // Tell the client the streams are open (the kubelet writes an empty message on the lowest writable channel).
    send(o.stdout ? STDOUT : o.stderr ? STDERR : ERROR, Buffer.alloc(0));

    // stderr is held while it may be nsenter's own complaint (before the command ran).
    let held: Buffer | undefined = o.tty || prefix ? undefined : Buffer.alloc(0);
    const releaseHeld = () => {
      if (held?.length && o.stderr) send(STDERR, held);
      held = undefined;
    };
    child.stdout?.on('data', (d: Buffer) => {
      if (held && held.toString().includes('\n')) releaseHeld();
      if (o.stdout) send(STDOUT, d);
    });
    child.stderr?.on('data', (d: Buffer) => {
      if (held) {
        held = Buffer.concat([held, d]);
        const text = held.toString();
        const firstLine = text.split('\n')[0];
        const couldBeNsenter = text.includes('\n') ? firstLine.startsWith(PREFIX) && text.indexOf('\n') === text.length - 1 : PREFIX.startsWith(text) || text.startsWith(PREFIX);
        if (!couldBeNsenter) releaseHeld();
        return;
      }
      if (o.stderr) send(STDERR, d);
    });

    // Terminal size: applied to the terminal of script's child once it exists.
    let size: TermSize | undefined = initial;
    let resizing = false;
    const applySize = (attempt = 0) => {
      if (!size || resizing || finished || child.pid === undefined) return;
      let target: string | undefined;
      try {
        target = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0] || undefined;
      } catch {
        target = undefined;
      }
      if (!target) {
        if (attempt < 40) setTimeout(() => applySize(attempt + 1), 25).unref();
        return;
      }
      const want = size;
      resizing = true;
      execFile(stty, ['-F', `/proc/${target}/fd/0`, 'rows', String(want.Height), 'cols', String(want.Width)], () => {
        resizing = false;
        if (size !== want) applySize();
      });
    };

    // Without stdin a terminal's input is left open (never written), so it sees no end of input.
    let stdinOpen = o.stdin;
    const endStdin = () => {
      if (!stdinOpen) return;
      stdinOpen = false;
      child.stdin?.end();
    };
    child.stdin?.on('error', () => undefined);

    const onMessage = (data: Buffer) => {
      if (!data.length) return;
      const channel = data[0];
      const payload = data.subarray(1);
      if (channel === STDIN) {
        if (stdinOpen && payload.length && child.stdin && !child.stdin.write(payload)) {
          ws.pause();
          child.stdin.once('drain', () => ws.resume());
        }
      } else if (channel === RESIZE && o.tty) {
        const s = parseSize(payload);
        if (s) {
          size = s;
          applySize();
        }
      } else if (channel === CLOSE && v5 && payload[0] === STDIN) {
        endStdin();
      }
    };
    for (const data of queued) onMessage(data);
    ws.on('message', (raw: Buffer | ArrayBuffer | Buffer[]) => onMessage(toBuffer(raw)));

    const stop = () => {
      if (finished) return;
      finished = true;
      sessions.delete(session);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    ws.on('close', stop);
    ws.on('error', stop);

    child.on('error', (e) => {
      if (finished) return;
      finished = true;
      sessions.delete(session);
      send(ERROR, Buffer.from(JSON.stringify(internalStatus(e.message))));
      ws.close(1000);
    });
    child.on('close', (code, signal) => {
      if (finished) return;
      finished = true;
      sessions.delete(session);
      const exit = code ?? 128 + (signal ? (osSignals[signal] ?? 0) : 0);
      let status: Status;
      const heldText = held?.toString() ?? '';
      if (exit !== 0 && heldText.startsWith(PREFIX)) {
        status = internalStatus(nsenterFailure(heldText.split('\n')[0]));
        held = undefined;
      } else {
        releaseHeld();
        status = exit === 0 ? success() : exitStatus(o.argv, exit);
      }
      send(ERROR, Buffer.from(JSON.stringify(status)));
      ws.close(1000);
    });
  }

  return {
    handleUpgrade,
    close() {
      for (const s of sessions) {
        s.child?.kill('SIGKILL');
        s.ws.terminate();
      }
      sessions.clear();
      if (server) {
        for (const client of server.clients) client.terminate();
        server.close();
      }
    },
  };
}
