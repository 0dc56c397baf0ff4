// Built-in images: resolveImage for many image strings, and each server run
// as a child process on loopback only (KUBESVC_BIND_ADDRESS=127.0.0.1), in
// the host's network namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect as tcpConnect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinArgv, imageEntry, parseImageRef, resolveImage } from '../../src/agent/image-resolve.js';
import type { ImagePlan } from '../../src/agent/contracts.js';
import { freePort } from '../helpers/ports.js';

const HOST = '127.0.0.1';
const POD = 'web-7d9f8c6b5-x2x9z';

// ---------------------------------------------------------------- helpers

function runArgv(plan: ImagePlan): string[] {
  assert.equal(plan.kind, 'run', JSON.stringify(plan));
  return (plan as Extract<ImagePlan, { kind: 'run' }>).argv;
}

/** The built-in kind and args of a plan, or undefined when it runs a host command. */
function builtin(plan: ImagePlan): string[] | undefined {
  const argv = runArgv(plan);
  const prefix = [process.execPath, ...imageEntry()];
  if (argv.length < prefix.length || prefix.some((a, i) => argv[i] !== a)) return undefined;
  return argv.slice(prefix.length);
}


async function freeUdpPort(): Promise<number> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, HOST, r));
  const port = sock.address().port;
  await new Promise<void>((r) => sock.close(r));
  return port;
}

interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then the exit and how long it took. */
  terminate(): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function run(argv: string[], env: Record<string, string> = {}): Running {
  const child = spawn(argv[0]!, argv.slice(1), {
    env: { ...process.env, HOSTNAME: POD, KUBESVC_BIND_ADDRESS: HOST, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async terminate() {
      const start = Date.now();
      child.kill('SIGTERM');
      const r = await exited;
      return { ...r, ms: Date.now() - start };
    },
  };
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

async function waitTcp(port: number, proc: Running, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = tcpConnect(port, HOST);
      s.on('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (proc.child.exitCode !== null) throw new Error(`image exited ${proc.child.exitCode}: ${proc.stderr()}`);
    if (Date.now() > deadline) throw new Error(`port ${port} not listening: ${proc.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Resp { status: number; headers: Record<string, string | string[] | undefined>; body: string; localPort: number }

function get(port: number, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Resp> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: HOST, port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, localPort: req.socket!.localPort! }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends one datagram (retrying until the server is up) and returns the reply and our local port. */
async function udp(port: number, msg: string, timeoutMs = 8000): Promise<{ reply: string; localPort: number }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, HOST, r));
  try {
    return await new Promise((resolve, reject) => {
      const timer = setInterval(() => sock.send(msg, port, HOST), 200);
      const giveUp = setTimeout(() => {
        clearInterval(timer);
        reject(new Error(`no UDP reply from ${port} to ${JSON.stringify(msg)}`));
      }, timeoutMs);
      sock.on('message', (m) => {
        clearInterval(timer);
        clearTimeout(giveUp);
        resolve({ reply: m.toString(), localPort: sock.address().port });
      });
      sock.send(msg, port, HOST);
    });
  } finally {
    sock.close();
  }
}

// ---------------------------------------------------------------- resolveImage

test('parseImageRef splits registry, repository, tag and digest', () => {
  assert.deepEqual(parseImageRef('nginx'), { registry: 'docker.io', repository: 'library/nginx', name: 'nginx', namespace: 'library', tag: undefined, digest: undefined });
  assert.deepEqual(parseImageRef('localhost:5000/team/app:1.2@sha256:abc'), {
    registry: 'localhost:5000', repository: 'team/app', name: 'app', namespace: 'team', tag: '1.2', digest: 'sha256:abc',
  });
  const r = parseImageRef('registry.k8s.io/e2e-test-images/agnhost:2.39');
  assert.equal(r.registry, 'registry.k8s.io');
  assert.equal(r.repository, 'e2e-test-images/agnhost');
  assert.equal(r.tag, '2.39');
  assert.equal(parseImageRef('docker.io/library/nginx:1.23.1').repository, 'library/nginx');
  assert.equal(parseImageRef('nginxinc/nginx-unprivileged').repository, 'nginxinc/nginx-unprivileged');
});

test('imageEntry runs main.ts through tsx when running from sources', () => {
  const entry = imageEntry();
  assert.ok(entry.at(-1)!.endsWith('/src/images/main.ts'), entry.join(' '));
  assert.ok(entry.includes('--import'));
  assert.equal(builtinArgv('pause')[0], process.execPath);
});

test('agnhost images: subcommands from args or command, any registry and tag', () => {
  for (const image of [
    'registry.k8s.io/e2e-test-images/agnhost:2.39',
    'k8s.gcr.io/e2e-test-images/agnhost:2.32',
    'gcr.io/kubernetes-e2e-test-images/agnhost:2.8',
    'registry.k8s.io/e2e-test-images/agnhost@sha256:7e8bdd271312fd25fc5ff5a8f04727be84044eb3d7d8d03611972a6752e2e11e',
  ]) {
    assert.deepEqual(builtin(resolveImage({ image, args: ['netexec', '--http-port=8080', '--udp-port=8081'] })), ['agnhost', 'netexec', '--http-port=8080', '--udp-port=8081']);
  }
  const image = 'registry.k8s.io/e2e-test-images/agnhost:2.39';
  // CMD ["pause"]
  assert.deepEqual(builtin(resolveImage({ image })), ['agnhost', 'pause']);
  assert.deepEqual(builtin(resolveImage({ image, command: ['/agnhost', 'serve-hostname'], args: ['--port', '80'] })), ['agnhost', 'serve-hostname', '--port', '80']);
  assert.deepEqual(builtin(resolveImage({ image, command: ['/agnhost'], args: ['liveness'] })), ['agnhost', 'liveness']);
  assert.deepEqual(builtin(resolveImage({ image, command: ['agnhost', 'connect', 'svc:80', '--timeout=1s'] })), ['agnhost', 'connect', 'svc:80', '--timeout=1s']);
  // A shell command runs with the host's tools.
  assert.deepEqual(runArgv(resolveImage({ image, command: ['sh', '-c', 'sleep 1'] })), ['sh', '-c', 'sleep 1']);
  const plan = resolveImage({ image, args: ['webhook', '--port=8443'] });
  assert.equal(plan.kind, 'waiting');
  assert.equal(plan.kind === 'waiting' && plan.reason, 'CreateContainerError');
  assert.match(plan.kind === 'waiting' ? plan.message : '', /"webhook".*netexec/);
  // kubectl exec pod -- /agnhost connect ...: the image has /agnhost, a script running the built-in, whatever the container runs.
  for (const p of [resolveImage({ image }), resolveImage({ image, command: ['sh', '-c', 'sleep 1'] })]) {
    const file = p.kind === 'run' ? p.files?.find((f) => f.path === '/agnhost') : undefined;
    assert.equal(file?.mode, 0o755);
    assert.match(file?.content ?? '', /^#!\/bin\/sh\nexec .*agnhost "\$@"\n$/);
  }
  // The legacy serve_hostname image.
  assert.deepEqual(builtin(resolveImage({ image: 'registry.k8s.io/serve_hostname:v1.4' })), ['agnhost', 'serve-hostname']);
});

test('pause images', () => {
  for (const image of ['registry.k8s.io/pause:3.9', 'k8s.gcr.io/pause', 'gcr.io/google_containers/pause-amd64:3.1', 'rancher/mirrored-pause:3.6']) {
    assert.deepEqual(builtin(resolveImage({ image })), ['pause'], image);
  }
});

test('nginx images: port, version from the tag, pages as files', () => {
  const plan = resolveImage({ image: 'nginx:1.23.1' });
  assert.deepEqual(builtin(plan), ['nginx', '--port=80', '--root=/usr/share/nginx/html', '--version=1.23.1']);
  const files = plan.kind === 'run' ? plan.files ?? [] : [];
  assert.deepEqual(files.map((f) => f.path), ['/usr/share/nginx/html/index.html', '/usr/share/nginx/html/50x.html']);
  assert.match(files[0]!.content, /<h1>Welcome to nginx!<\/h1>/);
  assert.equal(Buffer.byteLength(files[0]!.content), 615);
  assert.equal(Buffer.byteLength(files[1]!.content), 497);
  // The docs' nginx:1.14.2 has the older pages.
  const old = resolveImage({ image: 'docker.io/library/nginx:1.14.2' });
  assert.equal(Buffer.byteLength(old.kind === 'run' ? old.files![0]!.content : ''), 612);
  for (const image of ['nginx', 'nginx:latest', 'nginx:stable-alpine', 'mirror.gcr.io/library/nginx', 'nginx@sha256:0123']) {
    const args = builtin(resolveImage({ image }))!;
    assert.equal(args[0], 'nginx', image);
    assert.match(args[3]!, /^--version=\d+\.\d+\.\d+$/);
  }
  assert.equal(builtin(resolveImage({ image: 'nginx:1.25.3-alpine' }))![3], '--version=1.25.3');
  assert.equal(builtin(resolveImage({ image: 'nginxinc/nginx-unprivileged:1.25' }))![1], '--port=8080');
  assert.equal(builtin(resolveImage({ image: 'nginx', command: ['nginx', '-g', 'daemon off;'] }))![0], 'nginx');
  assert.equal(builtin(resolveImage({ image: 'nginx', args: ['nginx-debug', '-g', 'daemon off;'] }))![0], 'nginx');
  assert.deepEqual(runArgv(resolveImage({ image: 'nginx', command: ['sh', '-c', 'echo hi'] })), ['sh', '-c', 'echo hi']);
});

test('sample app images', () => {
  assert.deepEqual(builtin(resolveImage({ image: 'gcr.io/google-samples/node-hello:1.0' })), ['node-hello']);
  assert.deepEqual(builtin(resolveImage({ image: 'gcr.io/google-samples/hello-app:2.0' })), ['hello-app', '--version=2.0.0']);
  assert.deepEqual(builtin(resolveImage({ image: 'us-docker.pkg.dev/google-samples/containers/gke/hello-app:1.0' })), ['hello-app', '--version=1.0.0']);
  assert.deepEqual(builtin(resolveImage({ image: 'gcr.io/google-samples/kubernetes-bootcamp:v1' })), ['kubernetes-bootcamp', '--version=1']);
  assert.deepEqual(builtin(resolveImage({ image: 'registry.k8s.io/echoserver:1.10' })), ['echoserver']);
  assert.deepEqual(builtin(resolveImage({ image: 'hashicorp/http-echo', args: ['-text=foo'] })), ['http-echo', '-text=foo']);
});

test('general-purpose images run the command with host tools; the default is the image CMD', () => {
  assert.deepEqual(runArgv(resolveImage({ image: 'busybox' })), ['sh']);
  assert.deepEqual(runArgv(resolveImage({ image: 'busybox:1.28', command: ['sleep', '3600'] })), ['sleep', '3600']);
  assert.deepEqual(runArgv(resolveImage({ image: 'registry.k8s.io/e2e-test-images/busybox:1.29-4', command: ['sh', '-c'], args: ['echo ok'] })), ['sh', '-c', 'echo ok']);
  assert.deepEqual(runArgv(resolveImage({ image: 'alpine:3.19', args: ['echo', 'x'] })), ['echo', 'x']);
  assert.deepEqual(runArgv(resolveImage({ image: 'alpine' })), ['/bin/sh']);
  assert.deepEqual(runArgv(resolveImage({ image: 'ubuntu:22.04' })), ['bash']);
  assert.deepEqual(runArgv(resolveImage({ image: 'debian:bookworm-slim', command: [] })), ['bash']);
  assert.deepEqual(runArgv(resolveImage({ image: 'curlimages/curl', args: ['-s', 'http://web'] })), ['curl', '-s', 'http://web']);
  assert.deepEqual(runArgv(resolveImage({ image: 'curlimages/curl:8.5.0', args: ['sleep', '10'] })), ['sleep', '10']);
});

test('other images need a command; without one they cannot be pulled', () => {
  assert.deepEqual(runArgv(resolveImage({ image: 'python:3.12', command: ['python3', '-m', 'http.server'], args: ['8000'] })), ['python3', '-m', 'http.server', '8000']);
  const plan = resolveImage({ image: 'quay.io/acme/app:v1', args: ['--serve'] });
  assert.equal(plan.kind, 'waiting');
  if (plan.kind !== 'waiting') return;
  assert.equal(plan.reason, 'ErrImagePull');
  assert.match(plan.message, /no built-in image "quay\.io\/acme\/app:v1"; give the container a command, or use one of: agnhost, pause, nginx, node-hello/);
  assert.equal(resolveImage({ image: 'bitnami/nginx' }).kind, 'waiting');
});

// ---------------------------------------------------------------- servers

test('agnhost netexec: HTTP endpoints, UDP commands, SIGTERM', async () => {
  const [httpPort, udpPort] = [await freePort(HOST), await freeUdpPort()];
  const p = run(builtinArgv('agnhost', ['netexec', `--http-port=${httpPort}`, '--udp-port', String(udpPort)]));
  try {
    await waitTcp(httpPort, p);
    const hn = await get(httpPort, '/hostname');
    assert.equal(hn.status, 200);
    assert.equal(hn.body, POD);
    assert.equal(hn.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal((await get(httpPort, '/hostName')).body, POD);
    assert.equal((await get(httpPort, '/echo?msg=hello%20world')).body, 'hello world');
    const coded = await get(httpPort, '/echo?msg=gone&code=410');
    assert.equal(coded.status, 410);
    assert.equal(coded.body, 'gone');
    const ip = await get(httpPort, '/clientip');
    assert.equal(ip.body, `127.0.0.1:${ip.localPort}`);
    assert.deepEqual(JSON.parse((await get(httpPort, '/shell?cmd=' + encodeURIComponent('echo hi; echo err >&2'))).body), { output: 'hi\nerr\n' });
    assert.deepEqual(JSON.parse((await get(httpPort, '/shell?shellCommand=exit%203')).body), { error: 'exit status 3' });
    assert.match((await get(httpPort, '/')).body, /^NOW: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    assert.match((await get(httpPort, '/anything/else')).body, /^NOW: /);
    const redirect = await get(httpPort, '/redirect?location=/echo%3Fmsg%3Dx&code=307');
    assert.equal(redirect.status, 307);
    assert.equal(redirect.headers.location, '/echo?msg=x');

    // UDP: hostname, echo (lower-cased, as upstream), clientip.
    assert.equal((await udp(udpPort, 'hostname')).reply, POD);
    assert.equal((await udp(udpPort, 'echo Hello There\n')).reply, 'hello there');
    const cip = await udp(udpPort, 'clientip');
    assert.equal(cip.reply, `127.0.0.1:${cip.localPort}`);
    assert.equal((await get(httpPort, '/healthz')).status, 200);

    // /dial from the pod to itself over HTTP and UDP, and to a closed port.
    const viaHttp = JSON.parse((await get(httpPort, `/dial?request=hostname&protocol=http&host=127.0.0.1&port=${httpPort}&tries=2`)).body);
    assert.deepEqual(viaHttp, { responses: [POD, POD] });
    const viaUdp = JSON.parse((await get(httpPort, `/dial?request=hostname&protocol=udp&host=127.0.0.1&port=${udpPort}&tries=1`)).body);
    assert.deepEqual(viaUdp, { responses: [POD] });
    const closed = await freePort(HOST);
    const refused = JSON.parse((await get(httpPort, `/dial?request=hostname&host=127.0.0.1&port=${closed}`)).body);
    assert.match(refused.errors[0], /connection refused/);
    assert.equal((await get(httpPort, '/dial?host=127.0.0.1&port=1')).status, 400);

    await until(() => p.stderr().includes('Started HTTP'));
    assert.match(p.stderr(), /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d Started HTTP server on port \d+$/m);
    const exit = await p.terminate();
    assert.equal(exit.code, 0);
    assert.ok(exit.ms < 2000, `exit took ${exit.ms} ms`);
  } finally {
    p.child.kill('SIGKILL');
  }
});

test('agnhost netexec: /exit?code= exits with that code; --udp-port=-1 disables UDP', async () => {
  const httpPort = await freePort(HOST);
  const p = run(builtinArgv('agnhost', ['netexec', `--http-port=${httpPort}`, '--udp-port=-1']));
  try {
    await waitTcp(httpPort, p);
    // healthz reports the UDP server's readiness, so without one it is 412 (as upstream).
    assert.equal((await get(httpPort, '/healthz')).status, 412);
    const r = await get(httpPort, '/exit?code=7&timeout=1s');
    assert.equal(r.status, 200);
    assert.equal((await p.exited).code, 7);
  } finally {
    p.child.kill('SIGKILL');
  }
});

test('agnhost serve-hostname: HTTP, UDP and TCP; keeps serving after SIGTERM like upstream', async () => {
  const [httpPort, udpPort, tcpPort] = [await freePort(HOST), await freeUdpPort(), await freePort(HOST)];
  const h = run(builtinArgv('agnhost', ['serve-hostname', `--port=${httpPort}`, '--close']));
  const u = run(builtinArgv('agnhost', ['serve-hostname', '--udp', '--http=false', `--port=${udpPort}`]));
  const t = run(builtinArgv('agnhost', ['serve-hostname', '--tcp', '--http=false', `--port=${tcpPort}`]));
  try {
    await waitTcp(httpPort, h);
    const r = await get(httpPort, '/whatever');
    assert.equal(r.body, POD);
    assert.equal(r.headers.connection, 'close');
    assert.equal((await udp(udpPort, 'x')).reply, POD);
    await waitTcp(tcpPort, t);
    const got = await new Promise<string>((resolve, reject) => {
      let data = '';
      const s = tcpConnect(tcpPort, HOST);
      s.on('data', (c) => (data += c.toString()));
      s.on('end', () => resolve(data));
      s.on('error', reject);
    });
    assert.equal(got, POD);
    // Upstream sleeps 60 s after SIGTERM, still answering, until the kubelet kills it.
    h.child.kill('SIGTERM');
    await new Promise((res) => setTimeout(res, 200));
    assert.equal((await get(httpPort, '/')).body, POD);
    await until(() => h.stderr().includes('Awaiting'));
    assert.match(h.stderr(), /Shutting down after receiving signal: terminated\.\n.*Awaiting pod deletion\./);
    // --http with --udp is refused, as upstream.
    const bad = run(builtinArgv('agnhost', ['serve-hostname', '--udp', `--port=${udpPort}`]));
    assert.equal((await bad.exited).code, 1);
    assert.match(bad.stderr(), /Can't server TCP\/UDP mode and HTTP mode at the same time/);
  } finally {
    for (const p of [h, u, t]) p.child.kill('SIGKILL');
  }
});

test('agnhost connect, porter and pause', async () => {
  const [port, closed, udpPort] = [await freePort(HOST), await freePort(HOST), await freeUdpPort()];
  const porter = run(builtinArgv('agnhost', ['porter']), { [`SERVE_PORT_${port}`]: 'foo', [`SERVE_UDP_PORT_${udpPort}`]: 'bar' });
  const pause = run(builtinArgv('agnhost', ['pause']));
  try {
    await waitTcp(port, porter);
    assert.equal((await get(port, '/')).body, 'foo');
    assert.equal((await udp(udpPort, 'x')).reply, 'bar');
    const ok = run(builtinArgv('agnhost', ['connect', `127.0.0.1:${port}`, '--timeout=2s']));
    const refused = run(builtinArgv('agnhost', ['connect', `127.0.0.1:${closed}`, '--timeout=2s']));
    const udpOk = run(builtinArgv('agnhost', ['connect', `127.0.0.1:${udpPort}`, '--protocol=udp', '--timeout=2s']));
    assert.equal((await ok.exited).code, 0, ok.stderr());
    assert.equal((await refused.exited).code, 1);
    assert.equal(refused.stderr(), 'REFUSED\n');
    assert.equal((await udpOk.exited).code, 0, udpOk.stderr());
    // agnhost pause prints "Paused" and exits 2 on SIGTERM, as upstream.
    await until(() => pause.stdout().includes('Paused'), 8000);
    assert.equal(pause.stdout(), 'Paused\n');
    assert.equal((await pause.terminate()).code, 2);
    assert.equal((await porter.terminate()).code, 0);
  } finally {
    porter.child.kill('SIGKILL');
    pause.child.kill('SIGKILL');
  }
});

test('pause: sleeps until SIGTERM, exits 0', async () => {
  const p = run(runArgv(resolveImage({ image: 'registry.k8s.io/pause:3.9' })));
  // pause.c prints nothing until a signal; give the process time to start
  // (Node itself catches SIGTERM from the outset, so /proc cannot tell).
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(p.child.exitCode, null);
  const exit = await p.terminate();
  assert.equal(exit.code, 0);
  assert.equal(p.stdout(), 'Shutting down, got signal: Terminated\n');
});

test('nginx: welcome page, files, 404, redirects, HEAD, access log, SIGTERM', async () => {
  const root = mkdtempSync(join(tmpdir(), 'kubesvc-nginx-'));
  const port = await freePort(HOST);
  try {
    const plan = resolveImage({ image: 'nginx:1.23.1' });
    assert.equal(plan.kind, 'run');
    if (plan.kind !== 'run') return;
    for (const f of plan.files ?? []) writeFileSync(join(root, f.path.replace('/usr/share/nginx/html/', '')), f.content);
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, 'docs', 'hello.txt'), 'hello from a volume\n');
    writeFileSync(join(root, 'docs', 'index.html'), '<p>docs</p>\n');
    mkdirSync(join(root, 'empty'));
    const args = builtin(plan)!.slice(1).map((a) => (a.startsWith('--port=') ? `--port=${port}` : a.startsWith('--root=') ? `--root=${root}` : a));
    const p = run(builtinArgv('nginx', args));
    try {
      await waitTcp(port, p);
      const index = await get(port, '/', { headers: { 'User-Agent': 'curl/8.0.1' } });
      assert.equal(index.status, 200);
      assert.equal(index.body, plan.files![0]!.content);
      assert.equal(index.headers.server, 'nginx/1.23.1');
      assert.equal(index.headers['content-type'], 'text/html');
      assert.equal(index.headers['content-length'], '615');
      assert.match(String(index.headers.etag), /^"[0-9a-f]+-267"$/);

      const head = await get(port, '/', { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
      assert.equal(head.headers['content-length'], '615');

      const file = await get(port, '/docs/hello.txt');
      assert.equal(file.body, 'hello from a volume\n');
      assert.equal(file.headers['content-type'], 'text/plain');
      assert.equal((await get(port, '/docs/')).body, '<p>docs</p>\n');
      const dir = await get(port, '/docs?x=1', { headers: { Host: 'web.example' } });
      assert.equal(dir.status, 301);
      assert.equal(dir.headers.location, `http://web.example:${port}/docs/?x=1`);
      assert.equal((await get(port, '/empty/')).status, 403);
      assert.equal((await get(port, '/docs/../../etc/passwd')).status, 400);
      assert.equal((await get(port, '/docs/hello.txt', { method: 'POST' })).status, 405);
      assert.equal((await get(port, '/docs/hello.txt', { headers: { 'If-None-Match': String(file.headers.etag) } })).status, 304);
      const range = await get(port, '/docs/hello.txt', { headers: { Range: 'bytes=0-4' } });
      assert.equal(range.status, 206);
      assert.equal(range.body, 'hello');

      const missing = await get(port, '/nope.html');
      assert.equal(missing.status, 404);
      assert.equal(missing.body, '<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.23.1</center>\r\n</body>\r\n</html>\r\n');

      await until(() => p.stdout().includes('/nope.html') && p.stderr().includes('/nope.html'));
      assert.match(p.stdout(), /^127\.0\.0\.1 - - \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/ HTTP\/1\.1" 200 615 "-" "curl\/8\.0\.1" "-"$/m);
      assert.match(p.stdout(), /"GET \/nope\.html HTTP\/1\.1" 404 153 /);
      assert.match(p.stderr(), /\[error\] \d+#\d+: \*\d+ open\(\) ".*\/nope\.html" failed \(2: No such file or directory\), client: 127\.0\.0\.1, server: localhost/);
      const exit = await p.terminate();
      assert.equal(exit.code, 0);
      assert.ok(exit.ms < 2000, `exit took ${exit.ms} ms`);
    } finally {
      p.child.kill('SIGKILL');
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('node-hello, hello-app, echoserver and http-echo answer like the samples', async () => {
  const [a, b, c, d] = [await freePort(HOST), await freePort(HOST), await freePort(HOST), await freePort(HOST)];
  const nodeHello = run(runArgv(resolveImage({ image: 'gcr.io/google-samples/node-hello:1.0' })), { PORT: String(a) });
  const helloApp = run(runArgv(resolveImage({ image: 'gcr.io/google-samples/hello-app:2.0' })), { PORT: String(b) });
  const echo = run(builtinArgv('echoserver', [`--port=${c}`]));
  const httpEcho = run(builtinArgv('http-echo', [`-listen=127.0.0.1:${d}`, '-text=foo']));
  try {
    await Promise.all([waitTcp(a, nodeHello), waitTcp(b, helloApp), waitTcp(c, echo), waitTcp(d, httpEcho)]);
    assert.equal((await get(a, '/')).body, 'Hello Kubernetes!');
    assert.equal((await get(b, '/')).body, `Hello, world!\nVersion: 2.0.0\nHostname: ${POD}\n`);
    const e = await get(c, '/path?q=1', { headers: { 'User-Agent': 'curl/8.0.1' } });
    assert.match(e.body, new RegExp(`^\\n\\nHostname: ${POD}\\n`));
    assert.match(e.body, /\tclient_address=127\.0\.0\.1\n\tmethod=GET\n\treal path=\/path\n\tquery=q=1\n/);
    assert.match(e.body, /\tuser-agent=curl\/8\.0\.1\n/);
    assert.equal((await get(d, '/')).body, 'foo\n');
    for (const p of [nodeHello, helloApp, echo, httpEcho]) assert.equal((await p.terminate()).code, 0);
  } finally {
    for (const p of [nodeHello, helloApp, echo, httpEcho]) p.child.kill('SIGKILL');
  }
});
