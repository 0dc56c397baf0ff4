// agnhost (registry.k8s.io/e2e-test-images/agnhost), the Kubernetes e2e
// test image: netexec, serve-hostname, pause, liveness, porter, connect and
// the dns helpers, following test/images/agnhost in kubernetes/kubernetes.
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createTcpServer, connect as tcpConnect, isIP, type Server as NetServer } from 'node:net';
import { lookup } from 'node:dns';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { posix } from 'node:path';
import {
  bindAddress, closeHttpServer, cobraError, flagDuration, goFatal, goJSON, goLog, goSniff, goTimeNow,
  onTerminate, parseFlags, podHostname, type FlagSpec, type FlagValues,
} from './common.js';
import { AGNHOST_SUBCOMMANDS } from '../agent/image-resolve.js';
import { formatGoDuration } from '../util/go-duration.js';

export async function runAgnhost(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'netexec': return netexec(rest);
    case 'serve-hostname': return serveHostname(rest);
    case 'pause': return pause(rest);
    case 'liveness': return liveness(rest);
    case 'porter': return porter(rest);
    case 'connect': return connect(rest);
    case 'dns-suffix': return dnsList(rest, 'dns-suffix', 'search');
    case 'dns-server-list': return dnsList(rest, 'dns-server-list', 'nameserver');
    case 'etc-hosts': return etcHosts(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write('Usage:\n  app [command]\n\nAvailable Commands:\n' + AGNHOST_SUBCOMMANDS.map((c) => `  ${c}\n`).join('') + '\nFlags:\n  -h, --help   help for app\n');
      return;
    default:
      cobraError('app', `unknown command "${sub}" for "app"`);
  }
}

function flagsOrExit(command: string, args: string[], spec: Record<string, FlagSpec>, maxArgs = 0): { values: FlagValues; positional: string[] } {
  const parsed = parseFlags(args, spec);
  if (parsed.error) cobraError(`app ${command}`, parsed.error);
  if (parsed.positional.length > maxArgs) cobraError(`app ${command}`, `accepts at most ${maxArgs} arg(s), received ${parsed.positional.length}`);
  return parsed;
}

/** Go's net.JoinHostPort for an address a socket reports. */
function hostPort(address: string, port: number): string {
  const a = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  return a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`;
}

function remoteAddr(req: IncomingMessage): string {
  return hostPort(req.socket.remoteAddress ?? '', req.socket.remotePort ?? 0);
}

/** Go's fmt %q, near enough. */
function quote(s: string): string {
  return JSON.stringify(s);
}

/** Writes a Go-style response: sniffed Content-Type, Content-Length. */
function goWrite(res: ServerResponse, body: string, status = 200, headers: Record<string, string> = {}): void {
  if (body.length > 0 && !headers['Content-Type']) headers['Content-Type'] = goSniff(body);
  try {
    res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(body) });
  } catch {
    // Go panics on an invalid status code, and the server drops the connection.
    res.socket?.destroy();
    return;
  }
  res.end(body);
}

/** Go's http.Error. */
function goError(res: ServerResponse, msg: string, status: number): void {
  goWrite(res, msg + '\n', status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
}

/** Go's http.Redirect. */
function goRedirect(req: IncomingMessage, res: ServerResponse, location: string, code: number): void {
  let loc = location;
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(loc) && !loc.startsWith('/')) {
    const dir = (req.url ?? '/').split('?')[0]!.replace(/[^/]*$/, '');
    loc = posix.normalize(dir + loc) + (loc.endsWith('/') ? '/' : '');
    if (loc.endsWith('//')) loc = loc.slice(0, -1);
  }
  const headers: Record<string, string> = { Location: loc };
  let body = '';
  if (req.method === 'GET' || req.method === 'HEAD') {
    headers['Content-Type'] = 'text/html; charset=utf-8';
    const text = { 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 307: 'Temporary Redirect', 308: 'Permanent Redirect' }[code] ?? '';
    body = `<a href="${loc.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;')}">${text}</a>.\n\n`;
  }
  goWrite(res, body, code, headers);
}

/** Go's Request.FormValue: a urlencoded POST/PUT/PATCH body first, then the query. */
async function formValues(req: IncomingMessage, url: URL): Promise<(name: string) => string> {
  let body: URLSearchParams | undefined;
  const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (['POST', 'PUT', 'PATCH'].includes(req.method ?? '') && ct === 'application/x-www-form-urlencoded') {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    body = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  }
  return (name) => body?.get(name) ?? url.searchParams.get(name) ?? '';
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function listen(server: NetServer, port: number, host = bindAddress()): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

// ---------------------------------------------------------------- netexec

async function netexec(args: string[]): Promise<void> {
  const { values: f } = flagsOrExit('netexec', args, {
    'http-port': { type: 'int', def: 8080 },
    'udp-port': { type: 'int', def: 8081 },
    'sctp-port': { type: 'int', def: -1 },
    'tls-cert-file': { type: 'string', def: '' },
    'tls-private-key-file': { type: 'string', def: '' },
    'http-override': { type: 'string', def: '' },
    'udp-listen-addresses': { type: 'string', def: '' },
  });
  const httpPort = f['http-port'] as number;
  const udpPort = f['udp-port'] as number;
  const sctpPort = f['sctp-port'] as number;
  const override = f['http-override'] as string;
  let serverReady = false;
  const udpSockets: UdpSocket[] = [];

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const target = override || req.url || '/';
    if (override) req.method = 'GET';
    netexecRoute(req, res, target, { isReady: () => serverReady, shutdown }).catch((err: unknown) => {
      goLog(`handler error: ${String(err)}`);
      if (!res.headersSent) goError(res, String(err), 500);
      else res.destroy();
    });
  };

  let server: Server;
  const certFile = f['tls-cert-file'] as string;
  if (certFile) {
    const https = await import('node:https');
    const keyFile = f['tls-private-key-file'] as string;
    server = https.createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile || certFile) }, handler) as unknown as Server;
  } else {
    server = createHttpServer(handler);
  }

  async function shutdown(code: number, timeoutMs: number): Promise<never> {
    for (const s of udpSockets) s.close();
    const timer = setTimeout(() => process.exit(code), timeoutMs);
    timer.unref();
    const err = await closeHttpServer(server).then(() => '<nil>', (e: unknown) => String(e));
    goLog(`Graceful shutdown completed with: ${err}`);
    process.exit(code);
  }

  onTerminate(async () => {
    for (const s of udpSockets) s.close();
    await closeHttpServer(server);
  });

  if (udpPort !== -1) {
    const addresses = parseAddresses(f['udp-listen-addresses'] as string);
    for (const address of addresses) {
      const host = address || bindAddress();
      const sock = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4' });
      udpSockets.push(sock);
      sock.on('error', (err) => goFatal(`Error occurred: failed to create listener for UDP address ${hostPort(host, udpPort)}:${err.message}`));
      sock.on('listening', () => {
        goLog(`Started UDP server on port ${address} ${udpPort}`);
        serverReady = true;
      });
      sock.on('close', () => {
        goLog('UDP server exited');
        serverReady = false;
      });
      sock.on('message', (msg, rinfo) => {
        const client = hostPort(rinfo.address, rinfo.port);
        const text = msg.toString('utf8').trim().toLowerCase();
        let reply: string | undefined;
        if (text === 'hostname') {
          goLog('Sending udp hostName response');
          reply = podHostname();
        } else if (text.startsWith('echo ')) {
          reply = text.slice(5);
          goLog(`Echoing ${reply} to UDP client ${client}`);
        } else if (text === 'clientip') {
          goLog(`Sending clientip back to UDP client ${client}`);
          reply = client;
        } else if (text.length > 0) {
          goLog(`Unknown UDP command received from ${client}: ${text}`);
        }
        if (reply !== undefined) sock.send(reply, rinfo.port, rinfo.address);
      });
      sock.bind(udpPort, host);
    }
  }
  if (sctpPort !== -1) goLog(`SCTP is not available in kubesvc pods; not listening on SCTP port ${sctpPort}`);

  goLog(`Started HTTP server on port ${httpPort}`);
  try {
    await listen(server, httpPort);
  } catch (err) {
    goFatal(`listen tcp :${httpPort}: bind: ${(err as Error).message}`);
  }
}

function parseAddresses(addresses: string): string[] {
  if (addresses === '') return [''];
  const out = new Set<string>();
  for (const a of addresses.split(',')) {
    if (!isIP(a)) goFatal(`parseAddress: invalid address ${a}`);
    out.add(a);
  }
  return [...out].sort();
}

interface NetexecState {
  isReady(): boolean;
  shutdown(code: number, timeoutMs: number): Promise<never>;
}

async function netexecRoute(req: IncomingMessage, res: ServerResponse, target: string, state: NetexecState): Promise<void> {
  const url = target.startsWith('/') ? new URL('http://netexec' + target) : new URL(target, 'http://netexec/');
  // Go's ServeMux redirects unclean paths to their clean form.
  const clean = posix.normalize(url.pathname);
  if (clean !== url.pathname) {
    goRedirect(req, res, clean + url.search, 301);
    return;
  }
  const form = await formValues(req, url);
  switch (url.pathname) {
    case '/clientip':
      goLog('GET /clientip');
      goWrite(res, remoteAddr(req));
      return;
    case '/dial':
      return dialHandler(res, url);
    case '/echo': {
      const msg = form('msg');
      const code = form('code');
      goLog(`GET /echo?msg=${msg}&code=${code}`);
      if (code !== '') {
        if (!/^[-+]?\d+$/.test(code)) {
          goWrite(res, `argument 'code' must be an integer or empty, got ${quote(code)}\n`);
          return;
        }
        goWrite(res, msg, Number(code));
        return;
      }
      goWrite(res, msg);
      return;
    }
    case '/exit': {
      const waitS = form('wait');
      const timeoutS = form('timeout');
      const codeS = form('code');
      goLog(`GET /exit?code=${codeS}&timeout=${timeoutS}&wait=${waitS}`);
      const timeout = timeoutS === '' ? 0 : flagDuration(timeoutS);
      if (timeout === undefined) {
        goWrite(res, `argument 'timeout' must be a valid golang duration or empty, got ${quote(timeoutS)}\n`);
        return;
      }
      const wait = waitS === '' ? 0 : flagDuration(waitS);
      if (wait === undefined) {
        goWrite(res, `argument 'wait' must be a valid golang duration or empty, got ${quote(waitS)}\n`);
        return;
      }
      if (codeS !== '' && !/^[-+]?\d+$/.test(codeS)) {
        goWrite(res, `argument 'code' must be an integer [0-127] or empty, got ${quote(codeS)}\n`);
        return;
      }
      const code = codeS === '' ? 0 : Number(codeS);
      goLog(`Will begin shutdown in ${formatGoDuration(wait)}, allowing ${formatGoDuration(timeout)} for connections to close, then will exit with ${code}`);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (timeout <= 0) process.exit(code & 0xff);
      goWrite(res, '');
      void state.shutdown(code & 0xff, timeout);
      return;
    }
    case '/healthz':
      goLog('GET /healthz');
      goWrite(res, '', state.isReady() ? 200 : 412);
      return;
    case '/hostname':
      goLog('GET /hostname');
      goWrite(res, podHostname());
      return;
    case '/hostName':
      goLog('GET /hostName');
      goWrite(res, podHostname());
      return;
    case '/redirect': {
      const location = form('location');
      const codeS = form('code');
      goLog(`${req.method} /redirect?msg=${location}&code=${codeS}`);
      let code = 302;
      if (codeS !== '') {
        if (!/^[-+]?\d+$/.test(codeS)) {
          goWrite(res, `argument 'code' must be an integer or empty, got ${quote(codeS)}\n`);
          return;
        }
        code = Number(codeS);
      }
      goRedirect(req, res, location, code);
      return;
    }
    case '/shell': {
      let cmd = form('shellCommand');
      if (cmd === '') cmd = form('cmd');
      goLog(`GET /shell?cmd=${cmd}`);
      const { output, error } = await runShell(cmd);
      const out: Record<string, string> = {};
      if (output.length > 0) out.output = output;
      if (error) out.error = error;
      goLog(`Output: map[${Object.keys(out).sort().map((k) => `${k}:${out[k]}`).join(' ')}]`);
      goWrite(res, goJSON(out));
      return;
    }
    case '/upload':
      return uploadHandler(req, res);
    case '/shutdown':
      goLog('GET /shutdown');
      process.exit(0);
      return;
    default:
      goLog('GET /');
      goWrite(res, `NOW: ${goTimeNow()}`);
  }
}

/** exec.Command("/bin/sh", "-c", cmd).CombinedOutput(). */
function runShell(cmd: string): Promise<{ output: string; error?: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const child = spawn('/bin/sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', (err) => resolve({ output: Buffer.concat(chunks).toString('utf8'), error: `fork/exec /bin/sh: ${err.message}` }));
    child.on('close', (code, signal) => {
      const output = Buffer.concat(chunks).toString('utf8');
      if (signal) resolve({ output, error: `signal: ${signalName(signal)}` });
      else if (code !== 0) resolve({ output, error: `exit status ${code}` });
      else resolve({ output });
    });
  });
}

function signalName(signal: string): string {
  return ({ SIGKILL: 'killed', SIGTERM: 'terminated', SIGINT: 'interrupt', SIGSEGV: 'segmentation fault', SIGABRT: 'aborted', SIGHUP: 'hangup', SIGPIPE: 'broken pipe' } as Record<string, string>)[signal] ?? signal;
}

async function uploadHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
  goLog('GET /upload');
  const fail = (msg: string): void => {
    goLog(`${msg.replace(/\.$/, '')}`);
    goWrite(res, goJSON({ error: msg }));
  };
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(req.headers['content-type'] ?? '');
  const body = await readBody(req);
  if (!m) return fail('Unable to upload file.');
  const boundary = Buffer.from('--' + (m[1] ?? m[2]!).trim());
  let content: Buffer | undefined;
  for (let start = body.indexOf(boundary); start >= 0;) {
    const next = body.indexOf(boundary, start + boundary.length);
    if (next < 0) break;
    const part = body.subarray(start + boundary.length, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd >= 0 && /name="file"/i.test(part.subarray(0, headerEnd).toString('latin1'))) {
      content = part.subarray(headerEnd + 4, part.length - 2);
      break;
    }
    start = next;
  }
  if (!content) return fail('Unable to upload file.');
  let file: string;
  try {
    file = mkdtempSync('/uploads/upload');
    file += '/file';
    writeFileSync(file, content, { mode: 0o700 });
  } catch {
    return fail('Unable to open file for write');
  }
  goLog(`Wrote upload to ${file}`);
  goWrite(res, goJSON({ output: file }), 201);
}

async function dialHandler(res: ServerResponse, url: URL): Promise<void> {
  const q = url.searchParams;
  const host = q.get('host') ?? '';
  const port = q.get('port') ?? '';
  const request = q.get('request') ?? '';
  const protocol = q.get('protocol') ?? '';
  const tryParam = q.get('tries') ?? '';
  goLog(`GET /dial?host=${host}&protocol=${protocol}&port=${port}&request=${request}&tries=${tryParam}`);
  let tries = 1;
  if (tryParam.length > 0) {
    if (!/^[-+]?\d+$/.test(tryParam)) {
      goError(res, `tries parameter is invalid. strconv.Atoi: parsing ${quote(tryParam)}: invalid syntax`, 400);
      return;
    }
    tries = Number(tryParam);
  }
  if (request.length === 0) {
    goError(res, 'request parameter not specified. <nil>', 400);
    return;
  }
  let dialer: (request: string, host: string, port: number) => Promise<string>;
  const proto = protocol.toLowerCase();
  if (proto === '' || proto === 'http') dialer = dialHTTP;
  else if (proto === 'udp') dialer = dialUDP;
  else {
    goError(res, `unsupported protocol. ${protocol}`, 400);
    return;
  }
  const portNum = Number(port);
  if (!/^\d+$/.test(port) || portNum > 65535) {
    goError(res, `host and/or port param are invalid. address ${hostPort(host, 0).replace(/0$/, '')}${port}: ${port === '' ? 'missing port in address' : 'invalid port'}`, 400);
    return;
  }
  const errors: string[] = [];
  const responses: string[] = [];
  let response = '';
  for (let i = 0; i < tries; i++) {
    try {
      response = await dialer(request, host, portNum);
      responses.push(response);
    } catch (err) {
      response = '';
      errors.push((err as Error).message);
    }
  }
  const output: Record<string, string[]> = {};
  if (response.length > 0) output.responses = responses;
  if (errors.length > 0) output.errors = errors;
  goWrite(res, goJSON(output));
}

function dialHTTP(request: string, host: string, port: number): Promise<string> {
  const target = `http://${hostPort(host, port)}/${request}`;
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err?: Error, body?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(body ?? '');
    };
    const req = httpRequest({ host, port, path: '/' + request, method: 'GET', agent: false, headers: { 'User-Agent': 'Go-http-client/1.1', 'Accept-Encoding': 'gzip' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish(undefined, Buffer.concat(chunks).toString('utf8')));
      res.on('error', (e) => finish(new Error(`Get ${quote(target)}: ${e.message}`)));
    });
    const timer = setTimeout(() => {
      finish(new Error(`Get ${quote(target)}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`));
      req.destroy();
    }, 5000);
    req.on('error', (e: NodeJS.ErrnoException) => finish(new Error(`Get ${quote(target)}: ${goDialError('tcp', hostPort(host, port), e)}`)));
    req.end();
  });
}

function goDialError(net: string, dest: string, e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ECONNREFUSED': return `dial ${net} ${dest}: connect: connection refused`;
    case 'EHOSTUNREACH': return `dial ${net} ${dest}: connect: no route to host`;
    case 'ENETUNREACH': return `dial ${net} ${dest}: connect: network is unreachable`;
    case 'ECONNRESET': return 'read: connection reset by peer';
    case 'ETIMEDOUT': return `dial ${net} ${dest}: connect: connection timed out`;
    case 'ENOTFOUND': case 'EAI_AGAIN': return `dial ${net}: lookup ${dest.replace(/:\d+$/, '')}: no such host`;
    default: return `dial ${net} ${dest}: ${e.message}`;
  }
}

function dialUDP(request: string, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4' });
    let done = false;
    const finish = (err?: Error, data?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(data ?? '');
    };
    const describe = (): string => {
      try {
        const l = sock.address();
        const r = sock.remoteAddress();
        return `read udp ${hostPort(l.address, l.port)}->${hostPort(r.address, r.port)}`;
      } catch {
        return `read udp ${hostPort(host, port)}`;
      }
    };
    const timer = setTimeout(() => finish(new Error(`reading from udp connection failed. err:'${describe()}: i/o timeout'`)), 5000);
    sock.on('message', (msg) => {
      if (msg.length === 0) finish(new Error("reading from udp connection failed. err:'<nil>'"));
      else finish(undefined, msg.toString('utf8'));
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') finish(new Error(`reading from udp connection failed. err:'${describe()}: recvfrom: connection refused'`));
      else finish(new Error(`udp dial failed. err:${e.message}`));
    });
    sock.connect(port, host, () => {
      sock.send(request, (err) => {
        if (err) finish(new Error(`udp connection write failed. err:${err.message}`));
      });
    });
  });
}

// ---------------------------------------------------------------- serve-hostname

async function serveHostname(args: string[]): Promise<void> {
  const { values: f } = flagsOrExit('serve-hostname', args, {
    tcp: { type: 'bool', def: false },
    udp: { type: 'bool', def: false },
    http: { type: 'bool', def: true },
    close: { type: 'bool', def: false },
    port: { type: 'int', def: 9376 },
  });
  const doTCP = f.tcp as boolean;
  const doUDP = f.udp as boolean;
  const doHTTP = f.http as boolean;
  const port = f.port as number;
  if (doHTTP && (doTCP || doUDP)) goFatal("Can't server TCP/UDP mode and HTTP mode at the same time");
  const hostname = podHostname();

  if (doTCP) {
    const server = createTcpServer((conn) => {
      goLog(`TCP request from ${hostPort(conn.remoteAddress ?? '', conn.remotePort ?? 0)}`);
      conn.on('error', () => {});
      conn.end(hostname);
    });
    await listen(server, port).catch((err: Error) => goFatal(`Error from net.Listen(): ${err.message}`));
  }
  if (doUDP) {
    const sock = createSocket('udp4');
    sock.on('error', (err) => goFatal(`Error from ListenUDP(): ${err.message}`));
    sock.on('message', (_msg, rinfo) => {
      goLog(`UDP request from ${hostPort(rinfo.address, rinfo.port)}`);
      sock.send(hostname, rinfo.port, rinfo.address);
    });
    sock.bind(port, bindAddress());
  }
  if (doHTTP) {
    const server = createHttpServer((req, res) => {
      goLog(`HTTP request from ${remoteAddr(req)}`);
      const headers: Record<string, string> = {};
      if (f.close) headers.Connection = 'close';
      goWrite(res, hostname, 200, headers);
    });
    listen(server, port).catch((err: Error) => goFatal(`listen tcp :${port}: bind: ${err.message}`));
  }
  goLog(`Serving on port ${port}.`);
  // Upstream keeps serving for 60 s after SIGTERM ("awaiting pod deletion"),
  // so a terminating endpoint still answers until the kubelet kills it.
  const onSignal = (sig: string) => (): void => {
    goLog(`Shutting down after receiving signal: ${sig}.`);
    goLog('Awaiting pod deletion.');
    setTimeout(() => process.exit(0), 60_000);
  };
  process.once('SIGTERM', onSignal('terminated'));
  process.on('SIGINT', () => process.exit(130));
}

// ---------------------------------------------------------------- pause

function pause(args: string[]): void {
  flagsOrExit('pause', args, {});
  process.stdout.write('Paused\n');
  setInterval(() => {}, 1 << 30);
  process.on('SIGINT', () => process.exit(1));
  process.on('SIGTERM', () => process.exit(2));
}

// ---------------------------------------------------------------- liveness

async function liveness(args: string[]): Promise<void> {
  flagsOrExit('liveness', args, {});
  const started = performance.now();
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://liveness');
    const elapsed = performance.now() - started;
    switch (url.pathname) {
      case '/started':
        goWrite(res, formatGoDuration(elapsed));
        return;
      case '/healthz':
        if (elapsed > 10_000) goWrite(res, `error: ${elapsed / 1000}`, 500);
        else goWrite(res, 'ok', 200);
        return;
      case '/redirect': {
        const loc = url.searchParams.get('loc') ?? '';
        goRedirect(req, res, loc, 302);
        return;
      }
      default:
        goError(res, '404 page not found', 404);
    }
  });
  onTerminate(() => closeHttpServer(server));
  await listen(server, 8080).catch((err: Error) => goFatal(`listen tcp :8080: bind: ${err.message}`));
}

// ---------------------------------------------------------------- porter

async function porter(args: string[]): Promise<void> {
  const { values: f } = flagsOrExit('porter', args, { 'json-response': { type: 'bool', def: false } });
  const json = f['json-response'] as boolean;
  const servers: Server[] = [];
  const sockets: UdpSocket[] = [];
  const serveTCP = (port: string, value: string): void => {
    const server = createHttpServer((req, res) => {
      if (json) goWrite(res, JSON.stringify({ Method: req.method, Body: value }), 200, { 'Content-Type': 'application/json' });
      else goWrite(res, value);
    });
    servers.push(server);
    listen(server, Number(port)).catch((err: Error) => goLog(`server on port ${quote(port)} failed: listen tcp 0.0.0.0:${port}: bind: ${err.message}`));
  };
  for (const [key, value = ''] of Object.entries(process.env)) {
    let m: RegExpExecArray | null;
    if ((m = /^SERVE_(?:TCP_)?PORT_(\d+)$/.exec(key))) serveTCP(m[1]!, value);
    else if ((m = /^SERVE_UDP_PORT_(\d+)$/.exec(key))) {
      const port = m[1]!;
      const sock = createSocket('udp4');
      sockets.push(sock);
      sock.on('error', (err) => goFatal(`UDP: failed to listen on port ${port}: ${err.message}`));
      sock.on('listening', () => goLog(`Started UDP server on port ${port}`));
      sock.on('message', (_msg, rinfo) => sock.send(value, rinfo.port, rinfo.address));
      sock.bind(Number(port), bindAddress());
    } else if ((m = /^SERVE_(TLS|SCTP)_PORT_(\d+)$/.exec(key))) {
      goLog(`${m[1]} server on port ${quote(m[2]!)} is not available in kubesvc`);
    }
  }
  setInterval(() => {}, 1 << 30);
  onTerminate(async () => {
    for (const s of sockets) s.close();
    await Promise.all(servers.map(closeHttpServer));
  });
}

// ---------------------------------------------------------------- connect

async function connect(args: string[]): Promise<void> {
  const parsed = parseFlags(args, {
    timeout: { type: 'duration', def: '0' },
    protocol: { type: 'string', def: 'tcp' },
    'udp-data': { type: 'string', def: 'hostname' },
    'sctp-data': { type: 'string', def: 'hostname' },
  });
  if (parsed.error) cobraError('app connect', parsed.error);
  if (parsed.positional.length !== 1) cobraError('app connect', `accepts 1 arg(s), received ${parsed.positional.length}`);
  const dest = parsed.positional[0]!;
  const timeout = parsed.values.timeout as number;
  const fail = (msg: string): never => {
    process.stderr.write(msg + '\n');
    process.exit(1);
  };
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d*)$/.exec(dest);
  if (!m) fail(`UNKNOWN: address ${dest}: ${dest.includes(':') ? 'too many colons in address' : 'missing port in address'}`);
  const host = m![1] ?? m![2] ?? '';
  const port = Number(m![3] ?? '0');
  const resolved = await resolveHost(host).catch(() => fail(`DNS: lookup ${host}: no such host`));
  switch (parsed.values.protocol) {
    case '':
    case 'tcp': {
      const sock = tcpConnect({ host: resolved, port });
      if (timeout > 0) {
        setTimeout(() => fail('TIMEOUT'), timeout).unref();
      }
      sock.on('connect', () => {
        sock.destroy();
        process.exit(0);
      });
      sock.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ECONNREFUSED') fail('REFUSED');
        if (e.code === 'ETIMEDOUT') fail('TIMEOUT');
        fail(`OTHER: ${goDialError('tcp', hostPort(resolved, port), e)}`);
      });
      return;
    }
    case 'udp': {
      const sock = createSocket({ type: isIP(resolved) === 6 ? 'udp6' : 'udp4' });
      const desc = (): string => {
        try {
          const l = sock.address();
          return `read udp ${hostPort(l.address, l.port)}->${hostPort(resolved, port)}`;
        } catch {
          return `read udp ${hostPort(resolved, port)}`;
        }
      };
      if (timeout > 0) setTimeout(() => fail(`TIMEOUT: ${desc()}: i/o timeout`), timeout);
      sock.on('message', (msg) => {
        if (msg.length === 0) fail('OTHER: No data received from the server. Cannot guarantee the server received the request.');
        process.exit(0);
      });
      sock.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ECONNREFUSED') fail(`REFUSED: ${desc()}: recvfrom: connection refused`);
        fail(`UNKNOWN: ${desc()}: ${e.message}`);
      });
      sock.connect(port, resolved, () => sock.send(`${parsed.values['udp-data']}\n`));
      return;
    }
    case 'sctp':
      fail('OTHER: SCTP is not available in kubesvc pods');
      return;
    default:
      fail(`Unsupported protocol\n${parsed.values.protocol}`);
  }
}

function resolveHost(host: string): Promise<string> {
  if (host === '' || isIP(host)) return Promise.resolve(host || '127.0.0.1');
  return new Promise((resolve, reject) => lookup(host, (err, address) => (err ? reject(err) : resolve(address))));
}

// ---------------------------------------------------------------- dns helpers

function dnsList(args: string[], command: string, keyword: string): void {
  flagsOrExit(command, args, {});
  const lines = readFileSync('/etc/resolv.conf', 'utf8').split('\n');
  for (const line of lines) {
    if (line.startsWith(keyword)) {
      process.stdout.write(line.split(' ').slice(1).join(',') + '\n');
      return;
    }
  }
  process.stderr.write('panic: Could not find DNS search list!\n');
  process.exit(2);
}

function etcHosts(args: string[]): void {
  flagsOrExit('etc-hosts', args, {});
  process.stdout.write(readFileSync('/etc/hosts', 'utf8') + '\n');
}
