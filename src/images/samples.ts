// Sample servers from the Kubernetes docs and tutorials:
//   gcr.io/google-samples/node-hello            "Hello Kubernetes!" on 8080
//   gcr.io/google-samples/hello-app             "Hello, world!\nVersion: 1.0.0\nHostname: ..." on 8080
//   gcr.io/google-samples/kubernetes-bootcamp   "Hello Kubernetes bootcamp! | Running on: ... | v=1" on 8080
//   registry.k8s.io/echoserver                  request echo (client_address=...) on 8080
//   hashicorp/http-echo                         -text on 5678
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { bindAddress, closeHttpServer, goLog, onTerminate, parseFlags, podHostname } from './common.js';

function start(server: Server, port: number, host = bindAddress()): Promise<void> {
  onTerminate(() => closeHttpServer(server));
  return new Promise((resolve) => {
    server.once('error', (err) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    });
    server.listen(port, host, () => resolve());
  });
}

function envPort(def: number): number {
  const p = Number(process.env.PORT);
  return Number.isInteger(p) && p > 0 ? p : def;
}

/** google-samples/node-hello: server.js. */
export function runNodeHello(_args: string[]): Promise<void> {
  const server = createServer((_req, res) => {
    res.writeHead(200);
    res.end('Hello Kubernetes!');
  });
  return start(server, envPort(8080));
}

/** google-samples/hello-app (Go). */
export function runHelloApp(args: string[]): Promise<void> {
  const { values } = parseFlags(args, { version: { type: 'string', def: '1.0.0' } });
  const port = String(envPort(8080));
  const server = createServer((req, res) => {
    goLog(`Serving request: ${(req.url ?? '/').split('?')[0]}`);
    const body = `Hello, world!\nVersion: ${values.version}\nHostname: ${podHostname()}\n`;
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  goLog(`Server listening on port ${port}`);
  return start(server, Number(port));
}

/** google-samples/kubernetes-bootcamp: server.js. */
export async function runBootcamp(args: string[]): Promise<void> {
  const { values } = parseFlags(args, { version: { type: 'string', def: '1' } });
  let requests = 0;
  const startTime = new Date();
  const host = process.env.HOSTNAME;
  const server = createServer((_req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.writeHead(200);
    res.write('Hello Kubernetes bootcamp! | Running on: ');
    res.write(String(host));
    res.end(` | v=${values.version}\n`);
    console.log('Running On:', host, '| Total Requests:', ++requests, '| App Uptime:', (Date.now() - startTime.getTime()) / 1000, 'seconds', '| Log Time:', new Date());
  });
  await start(server, 8080);
  console.log('Kubernetes Bootcamp App Started At:', startTime, '| Running On: ', host, '\n');
}

/** registry.k8s.io/echoserver:1.10 (nginx + lua), the source-IP tutorial's server. */
export function runEchoserver(args: string[]): Promise<void> {
  // --port is kubesvc's (for tests); the image always listens on 8080.
  const { values } = parseFlags(args, { port: { type: 'int', def: 8080 } });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => echo(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  return start(server, values.port as number);
}

function echo(req: IncomingMessage, res: ServerResponse, body: string): void {
  const env = process.env;
  const podInfo = env.NODE_NAME || env.POD_NAME || env.POD_NAMESPACE || env.POD_IP
    ? `\tnode name:\t${env.NODE_NAME ?? ''}\n\tpod name:\t${env.POD_NAME ?? ''}\n\tpod namespace:\t${env.POD_NAMESPACE ?? ''}\n\tpod IP:\t${env.POD_IP ?? ''}\n`
    : '\t-no pod information available-\n';
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const path = q >= 0 ? target.slice(0, q) : target;
  const query = q >= 0 ? target.slice(q + 1) : '';
  const hostHeader = req.headers.host ?? '';
  const host = hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.split(':')[0];
  const client = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  const headers = Object.keys(req.headers).sort().map((k) => `\t${k}=${String(req.headers[k])}\n`).join('');
  const text =
    `\n\nHostname: ${podHostname()}\n\n` +
    `Pod Information:\n${podInfo}\n` +
    'Server values:\n\tserver_version=nginx: 1.13.3 - lua: 10008\n\n' +
    'Request Information:\n' +
    `\tclient_address=${client}\n\tmethod=${req.method}\n\treal path=${path}\n\tquery=${query}\n` +
    `\trequest_version=${req.httpVersion}\n\trequest_scheme=http\n\trequest_uri=http://${host}:${req.socket.localPort}${target}\n\n` +
    `Request Headers:\n${headers}\n` +
    `Request Body:\n${body ? body + '\n' : '\t-no body in request-\n'}\n`;
  res.sendDate = true;
  res.writeHead(200, { Server: 'echoserver', 'Content-Type': 'text/plain' });
  res.end(text);
  const ua = req.headers['user-agent'] ?? '-';
  process.stdout.write(`${client} - - [${new Date().toUTCString()}] "${req.method} ${target} HTTP/${req.httpVersion}" 200 ${Buffer.byteLength(text)} "-" "${ua}"\n`);
}

/** hashicorp/http-echo: -listen=:5678 -text=... [-status-code=200]. */
export function runHttpEcho(args: string[]): Promise<void> {
  const { values, error } = parseFlags(args, {
    listen: { type: 'string', def: ':5678' },
    text: { type: 'string', def: '' },
    'status-code': { type: 'int', def: 200 },
    version: { type: 'bool', def: false },
  });
  if (error) {
    process.stderr.write(`flag provided but not defined: ${error}\n`);
    process.exit(2);
  }
  if (values.version) {
    process.stdout.write('http-echo v0.2.3\n');
    process.exit(0);
  }
  if (values.text === '') {
    process.stderr.write('Missing -text option!\n');
    process.exit(127);
  }
  const listen = values.listen as string;
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[|\]$/g, '') || bindAddress();
  const port = Number(listen.slice(colon + 1));
  const server = createServer((req, res) => {
    const startNs = process.hrtime.bigint();
    const headers = { 'X-App-Name': 'http-echo', 'X-App-Version': '0.2.3' };
    if (req.url === '/health') {
      res.writeHead(200, { ...headers, 'Content-Type': 'application/json' });
      res.end('{"status":"ok"}\n');
      return;
    }
    const body = `${values.text}\n`;
    res.writeHead(values['status-code'] as number, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(body);
    const us = Number(process.hrtime.bigint() - startNs) / 1000;
    goLog(`${req.headers.host ?? ''} ${req.socket.remoteAddress?.replace(/^::ffff:/, '')}:${req.socket.remotePort} "${req.method} ${req.url} HTTP/${req.httpVersion}" ${res.statusCode} ${Buffer.byteLength(body)} "${req.headers['user-agent'] ?? ''}" ${us.toFixed(1)}µs`);
  });
  process.stderr.write(`${new Date().toISOString().replace('T', ' ').slice(0, 19).replace(/-/g, '/')} [INFO] server is listening on ${listen}\n`);
  return start(server, port, host);
}
