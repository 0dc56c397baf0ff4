// Container probes and lifecycle handlers as the kubelet runs them
// (pkg/probe/{http,tcp,grpc,exec}, pkg/kubelet/prober worker.go, prober.go,
// pkg/kubelet/lifecycle/handlers.go).
//
// The agent lives in the host's network namespace and must never open a
// connection to a pod address from there. Like the kubelet, which probes
// from the node, httpGet, tcpSocket and grpc checks run from the node's
// network namespace: one long-lived helper process per node
// (`ip netns exec <node netns> node -e <helper>`) answers check requests,
// one JSON line each way. Exec checks enter the container with nsenter, with
// the container's own environment.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Container, Probe } from '../api/types.js';
import { formatGoDuration } from '../util/go-duration.js';
import { errorMessage } from '../util/errors.js';

export type ProbeType = 'readiness' | 'liveness' | 'startup';

export interface ProbeOutcome {
  result: 'success' | 'failure' | 'warning';
  output: string;
  /** The probe could not be run at all (bad port, no process): the kubelet's "errored" case. */
  error?: string;
}

export interface HttpCheck {
  scheme: string;
  host: string;
  port: number;
  path: string;
  headers: { name: string; value: string }[];
  timeoutMs: number;
}

export interface ProbeRunner {
  http(req: HttpCheck): Promise<ProbeOutcome>;
  tcp(req: { host: string; port: number; timeoutMs: number }): Promise<ProbeOutcome>;
  grpc(req: { host: string; port: number; service: string; timeoutMs: number }): Promise<ProbeOutcome>;
  /** Runs argv in the container: nsenter into pid's namespaces, or the runtime's exec (`prefix`, argv appended). */
  exec(req: { pid: number; argv: string[]; timeoutMs: number; prefix?: string[] }): Promise<ProbeOutcome & { exitCode?: number }>;
  close(): void;
}

/** The kubelet's probe User-Agent (kube-probe/<major>.<minor>). */
export const probeUserAgent = 'kube-probe/1.32';
const maxBody = 10 * 1024;

// The helper, plain CommonJS for `node -e`: only node: modules, messages
// worded as Go's net/http, net and grpc-go word them.
const helperSource = String.raw`
// https and http2 load on first use: most probes are plain HTTP or TCP, and this process runs on every node.
const http = require('node:http'), net = require('node:net');
const rl = require('node:readline').createInterface({ input: process.stdin });
const reply = (id, r) => process.stdout.write(JSON.stringify(Object.assign({ id }, r)) + '\n');
rl.on('line', (line) => {
  let req;
  try { req = JSON.parse(line); } catch { return; }
  const run = req.kind === 'http' ? doHttp : req.kind === 'tcp' ? doTcp : doGrpc;
  run(req).then((r) => reply(req.id, r), (e) => reply(req.id, { result: 'failure', output: String((e && e.message) || e) }));
});
rl.on('close', () => process.exit(0));
const hostPort = (h, p) => (h.includes(':') ? '[' + h + ']:' + p : h + ':' + p);
const errnos = { ECONNREFUSED: 'connect: connection refused', EHOSTUNREACH: 'connect: no route to host', ENETUNREACH: 'connect: network is unreachable',
  ECONNRESET: 'read: connection reset by peer', EPIPE: 'write: broken pipe', ETIMEDOUT: 'i/o timeout', EADDRNOTAVAIL: 'connect: cannot assign requested address' };
const netError = (e, addr) => (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' ? 'dial tcp: lookup ' + addr.replace(/:\d+$/, '') + ': no such host' : 'dial tcp ' + addr + ': ' + (errnos[e.code] || e.message));
function doTcp(req) {
  return new Promise((resolve) => {
    const addr = hostPort(req.host, req.port);
    const s = net.connect({ host: req.host, port: req.port });
    const t = setTimeout(() => { s.destroy(); resolve({ result: 'failure', output: 'dial tcp ' + addr + ': i/o timeout' }); }, req.timeoutMs);
    s.on('connect', () => { clearTimeout(t); s.destroy(); resolve({ result: 'success', output: '' }); });
    s.on('error', (e) => { clearTimeout(t); resolve({ result: 'failure', output: netError(e, addr) }); });
  });
}
function doHttp(req) {
  return new Promise((resolve) => {
    let done = false, current;
    const firstHost = req.host;
    const show = (u) => u.scheme + '://' + hostPort(u.host, u.port) + u.path;
    let shown = show(req);
    const finish = (r) => { if (done) return; done = true; clearTimeout(timer); if (current) current.destroy(); resolve(r); };
    const timer = setTimeout(() => finish({ result: 'failure', output: 'Get "' + shown + '": context deadline exceeded (Client.Timeout exceeded while awaiting headers)' }), req.timeoutMs);
    const go = (u, hops) => {
      shown = show(u);
      const headers = {};
      let hostHeader;
      for (const h of req.headers) {
        if (h.name.toLowerCase() === 'host') { hostHeader = h.value; continue; }
        const k = h.name;
        headers[k] = headers[k] === undefined ? h.value : [].concat(headers[k], h.value);
      }
      const has = (n) => Object.keys(headers).some((k) => k.toLowerCase() === n);
      if (!has('user-agent')) headers['User-Agent'] = req.userAgent;
      if (!has('accept')) headers['Accept'] = '*/*';
      else for (const k of Object.keys(headers)) if (k.toLowerCase() === 'accept' && headers[k] === '') delete headers[k];
      headers['Connection'] = 'close';
      if (hostHeader) headers['Host'] = hostHeader;
      const mod = u.scheme === 'https' ? require('node:https') : http;
      current = mod.request({ host: u.host, port: u.port, path: u.path, method: 'GET', headers, agent: false, rejectUnauthorized: false, servername: net.isIP(u.host) ? undefined : u.host }, (res) => {
        const code = res.statusCode;
        const loc = res.headers.location;
        if ([301, 302, 303, 307, 308].includes(code) && loc) {
          let next;
          try { next = new URL(loc, u.scheme + '://' + hostPort(u.host, u.port) + u.path); } catch { next = undefined; }
          if (next && next.hostname.replace(/^\[|\]$/g, '') === firstHost) {
            res.resume();
            const nu = { scheme: next.protocol.replace(':', ''), host: firstHost, port: Number(next.port) || (next.protocol === 'https:' ? 443 : 80), path: next.pathname + next.search };
            if (hops + 1 >= 10) return finish({ result: 'failure', output: 'Get "' + show(nu) + '": stopped after 10 redirects' });
            return go(nu, hops + 1);
          }
        }
        const chunks = [];
        let size = 0;
        const end = () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (code >= 200 && code < 400) {
            if (code >= 300) return finish({ result: 'warning', output: 'Probe terminated redirects, Response body: ' + body });
            return finish({ result: 'success', output: '' });
          }
          finish({ result: 'failure', output: 'HTTP probe failed with statuscode: ' + code });
        };
        res.on('data', (d) => { if (size < ${maxBody}) { chunks.push(d.subarray(0, ${maxBody} - size)); size += d.length; } if (size >= ${maxBody}) { res.destroy(); end(); } });
        res.on('end', end);
        res.on('error', () => end());
      });
      current.on('error', (e) => finish({ result: 'failure', output: 'Get "' + shown + '": ' + netError(e, hostPort(u.host, u.port)) }));
      current.end();
    };
    go({ scheme: req.scheme, host: req.host, port: req.port, path: req.path }, 0);
  });
}
const grpcCodes = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied', 'ResourceExhausted',
  'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated'];
const servingStatus = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];
function doGrpc(req) {
  return new Promise((resolve) => {
    const addr = hostPort(req.host, req.port);
    let done = false, session, connected = false, retry;
    const finish = (r) => { if (done) return; done = true; clearTimeout(timer); clearTimeout(retry); try { if (session) session.destroy(); } catch { /* already torn down: the result stands */ } resolve(r); };
    const timer = setTimeout(() => finish({ result: 'failure', output: connected ? 'timeout: health rpc did not complete within ' + req.timeout
      : 'timeout: failed to connect service "' + addr + '" within ' + req.timeout + ': context deadline exceeded' }), req.timeoutMs);
    const connect = () => {
      if (done) return;
      session = require('node:http2').connect('http://' + addr);
      session.on('error', () => { if (!connected) retry = setTimeout(connect, 200); else finish({ result: 'failure', output: 'error: health rpc probe failed: rpc error: code = Unavailable desc = connection closed' }); });
      session.on('connect', () => {
        connected = true;
        const svc = Buffer.from(req.service || '');
        const msg = svc.length ? Buffer.concat([Buffer.from([0x0a, svc.length]), svc]) : Buffer.alloc(0);
        const frame = Buffer.alloc(5);
        frame.writeUInt32BE(msg.length, 1);
        const st = session.request({ ':method': 'POST', ':path': '/grpc.health.v1.Health/Check', 'content-type': 'application/grpc', te: 'trailers', 'user-agent': req.userAgent });
        let head = {}, trailers = {};
        const chunks = [];
        st.on('response', (h) => { head = h; });
        st.on('trailers', (t) => { trailers = t; });
        st.on('data', (d) => chunks.push(d));
        st.on('error', (e) => finish({ result: 'failure', output: 'error: health rpc probe failed: ' + e.message }));
        st.on('end', () => {
          const all = Object.assign({}, head, trailers);
          const code = all['grpc-status'] !== undefined ? Number(all['grpc-status']) : 2;
          let message = all['grpc-message'] || '';
          try { message = decodeURIComponent(message); } catch { /* not percent-encoded: shown as sent */ }
          if (all['grpc-status'] === undefined && head[':status'] && head[':status'] !== 200) message = 'unexpected HTTP status code received from server: ' + head[':status'];
          if (code === 12) return finish({ result: 'failure', output: 'error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ' + message });
          if (code !== 0) return finish({ result: 'failure', output: 'error: health rpc probe failed: rpc error: code = ' + (grpcCodes[code] || 'Code(' + code + ')') + ' desc = ' + message });
          const body = Buffer.concat(chunks).subarray(5);
          let status = 0;
          for (let i = 0; i + 1 < body.length; ) {
            const tag = body[i++];
            if (tag === 0x08) { status = body[i]; break; }
            break;
          }
          if (status === 1) return finish({ result: 'success', output: 'service is healthy' });
          finish({ result: 'failure', output: 'service unhealthy (responded with "' + (servingStatus[status] || String(status)) + '")' });
        });
        st.end(Buffer.concat([frame, msg]));
      });
    };
    connect();
  });
}
`;

/** The absolute path of a command on PATH, or the bare name when none is found. */
export function which(cmd: string): string {
  for (const dir of (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    try {
      accessSync(`${dir}/${cmd}`, constants.X_OK);
      return `${dir}/${cmd}`;
    } catch {
      // not here
    }
  }
  return cmd;
}

/** A container process's environment (/proc/PID/environ), with the host's PATH when it has none. */
export function processEnv(pid: number): Record<string, string> {
  const env: Record<string, string> = {};
  try {
    for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const i = kv.indexOf('=');
      if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
    }
  } catch {
    // the process is gone; the caller's nsenter will say so
  }
  env.PATH ??= '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  return env;
}

/**
 * Runs argv inside the container whose process is `pid` (its network, mount
 * and UTS namespaces, its environment), as CRI ExecSync: combined output up
 * to 10 KiB, killed at the timeout.
 */
export function execInContainer(
  pid: number,
  argv: string[],
  timeoutMs: number,
  prefix?: string[],
): Promise<{ exitCode?: number; output: string; timedOut: boolean; error?: string }> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    // The runtime's exec gives the command the container's environment itself.
    const [file, ...args] = prefix?.length ? [...prefix, ...argv] : [which('nsenter'), '--target', String(pid), '--net', '--mount', '--uts', '--', ...argv];
    try {
      child = spawn(file!, args, {
        cwd: '/',
        env: prefix?.length ? { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' } : processEnv(pid),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (e) {
      resolve({ output: '', timedOut: false, error: errorMessage(e) });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const take = (d: Buffer) => {
      if (size < maxBody) chunks.push(d.subarray(0, maxBody - size));
      size += d.length;
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ output: '', timedOut: false, error: e.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? (signal ? 128 + (signalNumbers[signal] ?? 9) : undefined), output: Buffer.concat(chunks).toString('utf8'), timedOut });
    });
  });
}

const signalNumbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15, SIGABRT: 6 };

export interface ProbeRunnerOptions {
  /** The node's network namespace, where the checks run. */
  netns: string;
  /** Where the helper's pid is kept, so a later agent can end it after a crash. */
  pidFile?: string;
}

/** The checks, run from the node's network namespace by a helper process started on first use. */
export function createProbeRunner(opts: ProbeRunnerOptions): ProbeRunner {
  let helper: ChildProcess | undefined;
  let nextId = 1;
  let closed = false;
  const pending = new Map<number, (o: ProbeOutcome) => void>();

  function failAll(why: string) {
    for (const [id, done] of pending) {
      pending.delete(id);
      done({ result: 'failure', output: '', error: why });
    }
  }

  function ensureHelper(): ChildProcess {
    if (helper && helper.exitCode === null && !helper.killed) return helper;
    const setpriv = which('setpriv');
    const argv = [which('ip'), 'netns', 'exec', opts.netns, process.execPath, '--max-semi-space-size=1', '-e', helperSource];
    // The helper dies with the agent (parent-death signal), crash or not.
    const child = spawn(setpriv.startsWith('/') ? setpriv : argv[0], setpriv.startsWith('/') ? ['--pdeathsig', 'KILL', '--', ...argv] : argv.slice(1), {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    helper = child;
    if (opts.pidFile && child.pid) {
      try {
        writeFileSync(opts.pidFile, `${child.pid}\n`);
      } catch {
        // best effort
      }
    }
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let msg: ProbeOutcome & { id: number };
      try {
        msg = JSON.parse(line) as ProbeOutcome & { id: number };
      } catch {
        return;
      }
      const done = pending.get(msg.id);
      pending.delete(msg.id);
      done?.({ result: msg.result, output: msg.output });
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    child.on('error', () => undefined);
    child.stdin!.on('error', () => undefined);
    child.on('exit', () => {
      if (helper === child) helper = undefined;
      failAll(`probe helper in network namespace ${opts.netns} exited${stderr ? `: ${stderr.trim()}` : ''}`);
    });
    return child;
  }

  function ask(req: Record<string, unknown>, timeoutMs: number): Promise<ProbeOutcome> {
    if (closed) return Promise.resolve({ result: 'failure', output: '', error: 'prober stopped' });
    return new Promise((resolve) => {
      const id = nextId++;
      // A backstop for a helper that stops answering.
      const timer = setTimeout(() => {
        if (pending.delete(id)) resolve({ result: 'failure', output: '', error: 'probe helper did not answer' });
      }, timeoutMs + 5000);
      pending.set(id, (o) => {
        clearTimeout(timer);
        resolve(o);
      });
      ensureHelper().stdin!.write(JSON.stringify({ id, userAgent: probeUserAgent, ...req }) + '\n');
    });
  }

  return {
    http: (req) => ask({ kind: 'http', ...req }, req.timeoutMs),
    tcp: (req) => ask({ kind: 'tcp', ...req }, req.timeoutMs),
    grpc: (req) => ask({ kind: 'grpc', ...req, timeout: formatGoDuration(req.timeoutMs) }, req.timeoutMs),
    async exec(req) {
      const r = await execInContainer(req.pid, req.argv, req.timeoutMs, req.prefix);
      if (r.error) return { result: 'failure', output: '', error: r.error };
      if (r.timedOut) return { result: 'failure', output: `command ${JSON.stringify(req.argv.join(' '))} timed out` };
      return { result: r.exitCode === 0 ? 'success' : 'failure', output: r.output, exitCode: r.exitCode };
    },
    close() {
      closed = true;
      const h = helper;
      helper = undefined;
      if (h && h.exitCode === null) {
        h.stdin?.end();
        h.kill('SIGKILL');
      }
      failAll('prober stopped');
      if (opts.pidFile) rmSync(opts.pidFile, { force: true });
    },
  };
}

type IntOrString = number | string;

/** extractPort: a number, a named container port, or a number written as a string. */
export function resolvePort(port: IntOrString | undefined, container: Pick<Container, 'ports'>): number {
  let n: number;
  if (typeof port === 'number') n = port;
  else {
    const named = (container.ports ?? []).find((p) => p.name === port);
    if (named) n = named.containerPort;
    else if (/^\d+$/.test(port ?? '')) n = Number(port);
    else throw new Error(`port ${port ?? ''} not found`);
  }
  if (!(n > 0 && n < 65536)) throw new Error(`invalid port number: ${n}`);
  return n;
}

/** The part of a Probe or LifecycleHandler that says what to check. */
export interface ProbeAction {
  exec?: { command?: string[] };
  httpGet?: { host?: string; port: IntOrString; path?: string; scheme?: string; httpHeaders?: { name: string; value: string }[] };
  tcpSocket?: { host?: string; port: IntOrString };
  grpc?: { port: number; service?: string };
}

export interface ProbeContext {
  runner: ProbeRunner;
  container: Pick<Container, 'ports'>;
  podIP: string;
  /** A process of the running container (for exec). */
  pid: number | undefined;
  /** The runtime's exec command line for the container (argv appended); none: nsenter into pid's namespaces. */
  execPrefix?: string[];
  timeoutMs: number;
}

/** runProbe: one check of the action, its outcome as the kubelet words it. */
export async function runProbeAction(action: ProbeAction, ctx: ProbeContext): Promise<ProbeOutcome> {
  try {
    if (action.exec) {
      if (ctx.pid === undefined) return { result: 'failure', output: '', error: 'container is not running' };
      return await ctx.runner.exec({ pid: ctx.pid, argv: action.exec.command ?? [], timeoutMs: ctx.timeoutMs, prefix: ctx.execPrefix });
    }
    if (action.httpGet) {
      const g = action.httpGet;
      const port = resolvePort(g.port, ctx.container);
      let path = g.path ?? '';
      if (!path.startsWith('/')) path = `/${path}`;
      return await ctx.runner.http({
        scheme: (g.scheme ?? 'HTTP').toLowerCase(),
        host: g.host || ctx.podIP,
        port,
        path,
        headers: g.httpHeaders ?? [],
        timeoutMs: ctx.timeoutMs,
      });
    }
    if (action.tcpSocket) {
      const port = resolvePort(action.tcpSocket.port, ctx.container);
      return await ctx.runner.tcp({ host: action.tcpSocket.host || ctx.podIP, port, timeoutMs: ctx.timeoutMs });
    }
    if (action.grpc) {
      return await ctx.runner.grpc({ host: ctx.podIP, port: action.grpc.port, service: action.grpc.service ?? '', timeoutMs: ctx.timeoutMs });
    }
    return { result: 'failure', output: '', error: 'missing probe handler' };
  } catch (e) {
    return { result: 'failure', output: '', error: errorMessage(e) };
  }
}

const typeName: Record<ProbeType, string> = { readiness: 'Readiness', liveness: 'Liveness', startup: 'Startup' };

export interface ProbeWorkerOptions {
  type: ProbeType;
  probe: Probe;
  container: Pick<Container, 'ports' | 'name'>;
  podIP: string;
  /** When the container's current run started (ms since the epoch). */
  startedAt: number;
  pid(): number | undefined;
  /** The runtime's exec command line for the container (argv appended); none: nsenter into pid's namespaces. */
  execPrefix?(): string[] | undefined;
  runner: ProbeRunner;
  /** Readiness and liveness probes wait for the startup probe to succeed. */
  started(): boolean;
  /** The pod is being deleted: liveness and startup probes stop (as success). */
  terminating(): boolean;
  /** The thresholded result changed (readiness: ready; liveness/startup: healthy/started). */
  onResult(ok: boolean): void;
  event(type: 'Normal' | 'Warning', reason: string, message: string): void;
  now?: () => number;
}

export interface ProbeWorker {
  /** The current thresholded result; undefined for a startup probe that has not decided. */
  readonly result: boolean | undefined;
  /** Probe now (when allowed) instead of at the next period. */
  trigger(): void;
  stop(): void;
}

/**
 * The kubelet's probe worker for one run of one container: a result kept
 * until successThreshold successes or failureThreshold failures in a row
 * change it; readiness starts failed, liveness healthy, startup unknown; a
 * failed liveness or startup probe holds until the container is restarted
 * (the runtime starts a new worker for the new run).
 */
export function startProbeWorker(o: ProbeWorkerOptions): ProbeWorker {
  const now = o.now ?? Date.now;
  const p = o.probe;
  const periodMs = Math.max(1, p.periodSeconds ?? 10) * 1000;
  const timeoutMs = Math.max(1, p.timeoutSeconds ?? 1) * 1000;
  const initialDelayMs = (p.initialDelaySeconds ?? 0) * 1000;
  const successThreshold = p.successThreshold ?? 1;
  const failureThreshold = p.failureThreshold ?? 3;
  let result: boolean | undefined = o.type === 'readiness' ? false : o.type === 'liveness' ? true : undefined;
  let lastRaw: boolean | undefined;
  let resultRun = 0;
  let onHold = false;
  let stopped = false;
  let inFlight = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  function schedule(delay: number) {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void tick(), Math.max(0, delay));
    timer.unref?.();
  }

  async function tick() {
    if (stopped) return;
    if (inFlight) {
      again = true;
      return;
    }
    const next = now() + periodMs;
    inFlight = true;
    try {
      await doProbe();
    } finally {
      inFlight = false;
    }
    if (stopped) return;
    if (again) {
      again = false;
      schedule(0);
    } else if (!(o.type === 'startup' && result === true)) {
      schedule(next - now());
    }
  }

  function set(ok: boolean) {
    if (result === ok) return;
    result = ok;
    o.onResult(ok);
  }

  async function doProbe() {
    if (onHold) return;
    if (o.type !== 'readiness' && o.terminating()) {
      // Set a last result to ensure a quiet shutdown, and stop probing.
      set(true);
      stopped = true;
      return;
    }
    if (o.type !== 'startup' && !o.started()) return;
    if (o.type === 'startup' && result === true) return;
    if (now() - o.startedAt < initialDelayMs) return;
    const outcome = await runProbeAction(p as ProbeAction, { runner: o.runner, container: o.container, podIP: o.podIP, pid: o.pid(), execPrefix: o.execPrefix?.(), timeoutMs });
    if (stopped) return;
    const label = typeName[o.type];
    let ok: boolean;
    if (outcome.error !== undefined) {
      o.event('Warning', 'Unhealthy', `${label} probe errored and resulted in unknown state: ${outcome.error}`);
      ok = false;
    } else if (outcome.result === 'failure') {
      o.event('Warning', 'Unhealthy', `${label} probe failed: ${outcome.output}`);
      ok = false;
    } else {
      if (outcome.result === 'warning') o.event('Warning', 'ProbeWarning', `${label} probe warning: ${outcome.output}`);
      ok = true;
    }
    if (lastRaw === ok) resultRun++;
    else {
      lastRaw = ok;
      resultRun = 1;
    }
    if ((!ok && resultRun < failureThreshold) || (ok && resultRun < successThreshold)) return;
    set(ok);
    if (!ok && o.type !== 'readiness') {
      // The container will be restarted; results stay as they are until then.
      onHold = true;
      resultRun = 0;
    }
  }

  // The first check comes once the initial delay has passed, and not before
  // a second after the start (when the kubelet's first status sync after
  // the start would trigger it); then one every period.
  schedule(o.startedAt + Math.max(initialDelayMs, 1000) - now());

  return {
    get result() {
      return result;
    },
    trigger() {
      if (stopped) return;
      const due = o.startedAt + initialDelayMs - now();
      schedule(Math.max(0, due));
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/** What a lifecycle handler (postStart/preStop) does; sleep is the kubelet's own. */
export interface LifecycleHandler extends ProbeAction {
  sleep?: { seconds: number };
}

/**
 * Runs a postStart or preStop handler; resolves to an error message (as
 * handlers.go words it) or undefined on success.
 */
export async function runLifecycleHandler(
  h: LifecycleHandler,
  ctx: Omit<ProbeContext, 'timeoutMs'> & { containerName: string; podDesc: string; timeoutMs: number; signal?: AbortSignal },
): Promise<string | undefined> {
  if (h.sleep) {
    const ms = Math.max(0, h.sleep.seconds) * 1000;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, Math.min(ms, ctx.timeoutMs));
      ctx.signal?.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });
    return undefined;
  }
  if (h.exec) {
    const cmd = h.exec.command ?? [];
    if (ctx.pid === undefined) return `Exec lifecycle hook ([${cmd.join(' ')}]) for Container "${ctx.containerName}" in Pod "${ctx.podDesc}" failed - error: container is not running, message: ""`;
    const r = await ctx.runner.exec({ pid: ctx.pid, argv: cmd, timeoutMs: ctx.timeoutMs, prefix: ctx.execPrefix });
    if (r.error || r.result === 'failure') {
      const err = r.error ?? `command '${cmd.join(' ')}' exited with ${r.exitCode ?? 'an error'}: ${r.output}`;
      return `Exec lifecycle hook ([${cmd.join(' ')}]) for Container "${ctx.containerName}" in Pod "${ctx.podDesc}" failed - error: ${err}, message: ${JSON.stringify(r.output)}`;
    }
    return undefined;
  }
  if (h.httpGet) {
    const r = await runProbeAction({ httpGet: h.httpGet }, ctx);
    if (r.error || r.result === 'failure') {
      return `HTTP lifecycle hook (${h.httpGet.path ?? ''}) for Container "${ctx.containerName}" in Pod "${ctx.podDesc}" failed - error: ${r.error ?? r.output}`;
    }
    return undefined;
  }
  if (h.tcpSocket) return 'TCPSocket is deprecated and not supported as a LifecycleHandler';
  return 'invalid lifecycle handler';
}
