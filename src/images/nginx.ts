// The nginx image with its stock configuration (/etc/nginx/conf.d/default.conf):
// static files from /usr/share/nginx/html, index.html, error_page 50x,
// access log in the image's "main" format on stdout, error log on stderr.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createReadStream, stat, type Stats } from 'node:fs';
import { posix } from 'node:path';
import type { Socket } from 'node:net';
import { bindAddress, closeHttpServer, parseFlags } from './common.js';
import { DEFAULT_NGINX_VERSION } from '../agent/nginx-pages.js';

const MIME: Record<string, string> = {};
for (const [type, exts] of Object.entries({
  'text/html': 'html htm shtml', 'text/css': 'css', 'text/xml': 'xml', 'image/gif': 'gif', 'image/jpeg': 'jpeg jpg',
  'application/javascript': 'js', 'application/atom+xml': 'atom', 'application/rss+xml': 'rss', 'text/mathml': 'mml',
  'text/plain': 'txt', 'text/vnd.sun.j2me.app-descriptor': 'jad', 'text/vnd.wap.wml': 'wml', 'text/x-component': 'htc',
  'image/avif': 'avif', 'image/png': 'png', 'image/svg+xml': 'svg svgz', 'image/tiff': 'tif tiff', 'image/vnd.wap.wbmp': 'wbmp',
  'image/webp': 'webp', 'image/x-icon': 'ico', 'image/x-jng': 'jng', 'image/x-ms-bmp': 'bmp', 'font/woff': 'woff', 'font/woff2': 'woff2',
  'application/java-archive': 'jar war ear', 'application/json': 'json', 'application/mac-binhex40': 'hqx', 'application/msword': 'doc',
  'application/pdf': 'pdf', 'application/postscript': 'ps eps ai', 'application/rtf': 'rtf', 'application/vnd.apple.mpegurl': 'm3u8',
  'application/vnd.ms-excel': 'xls', 'application/vnd.ms-fontobject': 'eot', 'application/vnd.ms-powerpoint': 'ppt', 'application/wasm': 'wasm',
  'application/x-7z-compressed': '7z', 'application/x-java-archive-diff': 'jardiff', 'application/x-java-jnlp-file': 'jnlp',
  'application/x-perl': 'pl pm', 'application/x-rar-compressed': 'rar', 'application/x-shockwave-flash': 'swf', 'application/x-x509-ca-cert': 'der pem crt',
  'application/xhtml+xml': 'xhtml', 'application/zip': 'zip', 'application/octet-stream': 'bin exe dll deb dmg iso img msi msp msm',
  'audio/midi': 'mid midi kar', 'audio/mpeg': 'mp3', 'audio/ogg': 'ogg', 'audio/x-m4a': 'm4a', 'video/3gpp': '3gpp 3gp', 'video/mp2t': 'ts',
  'video/mp4': 'mp4', 'video/mpeg': 'mpeg mpg', 'video/quicktime': 'mov', 'video/webm': 'webm', 'video/x-flv': 'flv', 'video/x-m4v': 'm4v',
  'video/x-msvideo': 'avi', 'video/x-ms-wmv': 'wmv',
})) for (const ext of exts.split(' ')) MIME[ext] = type;

const REASONS: Record<number, string> = {
  200: 'OK', 206: 'Partial Content', 301: 'Moved Permanently', 304: 'Not Modified', 400: 'Bad Request', 403: 'Forbidden',
  404: 'Not Found', 405: 'Not Allowed', 416: 'Requested Range Not Satisfiable', 500: 'Internal Server Error',
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');

function timeLocal(d = new Date()): string {
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

function errorLogTime(d = new Date()): string {
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

function versionBefore(version: string, major: number, minor: number, patch: number): boolean {
  const [a = 0, b = 0, c = 0] = version.split('.').map(Number);
  return a !== major ? a < major : b !== minor ? b < minor : c < patch;
}

export interface NginxOptions {
  port: number;
  root: string;
  version: string;
  host?: string;
}

export function parseNginxArgs(args: string[]): NginxOptions {
  const { values, error } = parseFlags(args, {
    port: { type: 'int', def: 80 },
    root: { type: 'string', def: process.env.KUBESVC_NGINX_ROOT || '/usr/share/nginx/html' },
    version: { type: 'string', def: DEFAULT_NGINX_VERSION },
  });
  if (error) {
    process.stderr.write(`nginx: ${error}\n`);
    process.exit(1);
  }
  return { port: values.port as number, root: values.root as string, version: values.version as string };
}

export async function runNginx(args: string[]): Promise<void> {
  const opts = parseNginxArgs(args);
  const { version, port } = opts;
  const root = opts.root.replace(/\/+$/, '') || '/';
  const server = `nginx/${version}`;
  const pid = `${process.pid}#${process.pid}`;
  const notice = (msg: string): void => {
    process.stderr.write(`${errorLogTime()} [notice] ${pid}: ${msg}\n`);
  };
  const errorLog = (level: string, conn: number, msg: string, req: IncomingMessage): void => {
    const host = req.headers.host;
    process.stderr.write(
      `${errorLogTime()} [${level}] ${pid}: *${conn} ${msg}, client: ${clientAddr(req.socket)}, server: localhost, request: "${requestLine(req)}"${host ? `, host: "${host}"` : ''}\n`,
    );
  };

  const connections = new WeakMap<Socket, number>();
  let connectionCount = 0;

  const errorPage = (status: number): string => {
    const reason = REASONS[status] ?? '';
    const body = versionBefore(version, 1, 17, 9) ? '<body bgcolor="white">' : '<body>';
    return `<html>\r\n<head><title>${status} ${reason}</title></head>\r\n${body}\r\n<center><h1>${status} ${reason}</h1></center>\r\n<hr><center>${server}</center>\r\n</body>\r\n</html>\r\n`;
  };

  const send = (req: IncomingMessage, res: ServerResponse, status: number, headers: [string, string | number][], body: string | { file: string; start: number; end: number } | undefined): void => {
    const bytes = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.end - body.start + 1;
    res.statusCode = status;
    res.statusMessage = REASONS[status] ?? '';
    res.setHeader('Server', server);
    res.setHeader('Date', new Date().toUTCString());
    for (const [k, v] of headers) res.setHeader(k, v);
    const head = req.method === 'HEAD' || status === 304;
    const sent = head ? 0 : bytes;
    res.on('finish', () => {
      const ua = req.headers['user-agent'];
      const referer = req.headers.referer;
      const xff = req.headers['x-forwarded-for'];
      process.stdout.write(
        `${clientAddr(req.socket)} - - [${timeLocal()}] "${requestLine(req)}" ${status} ${sent} "${referer ?? '-'}" "${ua ?? '-'}" "${xff ?? '-'}"\n`,
      );
    });
    if (head || body === undefined) {
      res.end();
    } else if (typeof body === 'string') {
      res.end(body);
    } else if (bytes === 0) {
      res.end();
    } else {
      const stream = createReadStream(body.file, { start: body.start, end: body.end });
      stream.on('error', () => res.destroy());
      stream.pipe(res);
    }
  };

  const sendError = (req: IncomingMessage, res: ServerResponse, status: number, extra: [string, string][] = []): void => {
    if (status >= 500) {
      // error_page 500 502 503 504 /50x.html
      stat(posix.join(root, '50x.html'), (err, st) => {
        if (err || !st.isFile()) {
          const page = errorPage(status);
          send(req, res, status, [['Content-Type', 'text/html'], ['Content-Length', Buffer.byteLength(page)], ['Connection', 'keep-alive']], page);
        } else {
          send(req, res, status, [['Content-Type', 'text/html'], ['Content-Length', st.size], ['Connection', 'keep-alive'], ['ETag', etag(st)]], { file: posix.join(root, '50x.html'), start: 0, end: st.size - 1 });
        }
      });
      return;
    }
    const page = errorPage(status);
    const close = status === 400;
    send(req, res, status, [['Content-Type', 'text/html'], ['Content-Length', Buffer.byteLength(page)], ['Connection', close ? 'close' : 'keep-alive'], ...extra], page);
    if (close) res.shouldKeepAlive = false;
  };

  const serveFile = (req: IncomingMessage, res: ServerResponse, file: string, st: Stats): void => {
    if (req.method === 'POST') return sendError(req, res, 405);
    const ext = posix.extname(file).slice(1).toLowerCase();
    const type = MIME[ext] ?? 'application/octet-stream';
    const lastModified = new Date(Math.floor(st.mtimeMs / 1000) * 1000).toUTCString();
    const tag = etag(st);
    const ims = req.headers['if-modified-since'];
    const inm = req.headers['if-none-match'];
    if ((inm !== undefined && inm.split(',').some((t) => t.trim() === tag || t.trim() === '*' || t.trim() === `W/${tag}`)) || (inm === undefined && ims === lastModified)) {
      send(req, res, 304, [['Last-Modified', lastModified], ['Connection', 'keep-alive'], ['ETag', tag]], undefined);
      return;
    }
    const range = parseRange(req.headers.range, st.size);
    if (range === 'unsatisfiable') {
      sendError(req, res, 416, [['Content-Range', `bytes */${st.size}`]]);
      return;
    }
    if (range) {
      send(req, res, 206, [
        ['Content-Type', type], ['Content-Length', range.end - range.start + 1], ['Last-Modified', lastModified], ['Connection', 'keep-alive'],
        ['ETag', tag], ['Content-Range', `bytes ${range.start}-${range.end}/${st.size}`],
      ], { file, start: range.start, end: range.end });
      return;
    }
    send(req, res, 200, [
      ['Content-Type', type], ['Content-Length', st.size], ['Last-Modified', lastModified], ['Connection', 'keep-alive'], ['ETag', tag], ['Accept-Ranges', 'bytes'],
    ], { file, start: 0, end: st.size - 1 });
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    res.sendDate = false;
    const conn = connections.get(req.socket) ?? 0;
    const method = req.method ?? 'GET';
    if (!['GET', 'HEAD', 'POST'].includes(method)) return sendError(req, res, 405);
    let target = req.url ?? '/';
    const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/]*/.exec(target);
    if (abs) target = target.slice(abs[0].length) || '/';
    const q = target.indexOf('?');
    const args = q >= 0 ? target.slice(q + 1) : '';
    let uri: string;
    try {
      uri = decodeURIComponent(q >= 0 ? target.slice(0, q) : target);
    } catch {
      return sendError(req, res, 400);
    }
    if (!uri.startsWith('/') || uri.includes('\0')) return sendError(req, res, 400);
    // merge_slashes, then "." and ".." segments; climbing above the root is a bad request.
    const segments: string[] = [];
    const parts = uri.split('/').filter((s, i, all) => s !== '' || i === all.length - 1);
    for (const s of parts) {
      if (s === '.') continue;
      if (s === '..') {
        if (segments.length === 0) return sendError(req, res, 400);
        segments.pop();
        continue;
      }
      segments.push(s);
    }
    uri = '/' + segments.join('/');
    if ((parts.at(-1) === '.' || parts.at(-1) === '..') && !uri.endsWith('/')) uri += '/';
    const path = root + uri;

    if (uri.endsWith('/')) {
      // index index.html index.htm;
      const tryIndex = (names: string[]): void => {
        const [name, ...rest] = names;
        if (!name) {
          stat(path, (err, st) => {
            if (!err && st.isDirectory()) {
              errorLog('error', conn, `directory index of "${path}" is forbidden`, req);
              sendError(req, res, 403);
            } else {
              errorLog('error', conn, `"${path}index.html" is not found (2: No such file or directory)`, req);
              sendError(req, res, 404);
            }
          });
          return;
        }
        stat(path + name, (err, st) => {
          if (err || !st.isFile()) return tryIndex(rest);
          serveFile(req, res, path + name, st);
        });
      };
      tryIndex(['index.html', 'index.htm']);
      return;
    }

    stat(path, (err, st) => {
      if (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'EACCES') {
          errorLog('error', conn, `open() "${path}" failed (13: Permission denied)`, req);
          return sendError(req, res, 403);
        }
        if (e.code === 'ENOENT' || e.code === 'ENOTDIR') {
          errorLog('error', conn, `open() "${path}" failed (${e.code === 'ENOENT' ? '2: No such file or directory' : '20: Not a directory'})`, req);
          return sendError(req, res, 404);
        }
        errorLog('crit', conn, `stat() "${path}" failed (${e.message})`, req);
        return sendError(req, res, 500);
      }
      if (st.isDirectory()) {
        const hostHeader = req.headers.host ?? 'localhost';
        const host = hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.split(':')[0];
        const localPort = req.socket.localPort ?? port;
        const location = `http://${host}${localPort === 80 ? '' : ':' + localPort}${encodeURI(uri)}/${args ? '?' + args : ''}`;
        return sendError(req, res, 301, [['Location', location]]);
      }
      serveFile(req, res, path, st);
    });
  };

  const srv = createServer({ requireHostHeader: true }, handle);
  srv.keepAliveTimeout = 65_000;
  srv.on('connection', (socket: Socket) => connections.set(socket, ++connectionCount));

  if (!versionBefore(version, 1, 19, 0)) {
    const out = (s: string): boolean => process.stdout.write(s + '\n');
    out('/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration');
    out('/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/');
    out('/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh');
    out('10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf');
    out('10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf');
    out('/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh');
    out('/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh');
    out('/docker-entrypoint.sh: Configuration complete; ready for start up');
  }

  await new Promise<void>((resolve) => {
    srv.once('error', (err: NodeJS.ErrnoException) => {
      process.stderr.write(`${errorLogTime()} [emerg] ${pid}: bind() to 0.0.0.0:${port} failed (${err.code === 'EADDRINUSE' ? '98: Address already in use' : err.message})\n`);
      process.stderr.write(`nginx: [emerg] bind() to 0.0.0.0:${port} failed\n`);
      process.exit(1);
    });
    srv.listen(port, opts.host ?? bindAddress(), () => resolve());
  });
  notice('using the "epoll" event method');
  notice(server);
  notice('start worker processes');

  // SIGTERM/SIGINT: fast shutdown; SIGQUIT: graceful (the image's STOPSIGNAL).
  let stopping = false;
  const stop = (signo: number, name: string, graceful: boolean) => (): void => {
    if (stopping) return;
    stopping = true;
    notice(`signal ${signo} (${name}) received, ${graceful ? 'shutting down' : 'exiting'}`);
    const done = (): never => {
      notice('exit');
      process.exit(0);
    };
    if (!graceful) srv.closeAllConnections();
    void closeHttpServer(srv).then(done);
    setTimeout(done, graceful ? 30_000 : 1000).unref();
  };
  process.on('SIGTERM', stop(15, 'SIGTERM', false));
  process.on('SIGINT', stop(2, 'SIGINT', false));
  process.on('SIGQUIT', stop(3, 'SIGQUIT', true));
}

function clientAddr(socket: Socket): string {
  const a = socket.remoteAddress ?? '-';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

function requestLine(req: IncomingMessage): string {
  return `${req.method} ${req.url} HTTP/${req.httpVersion}`;
}

function etag(st: Stats): string {
  return `"${Math.floor(st.mtimeMs / 1000).toString(16)}-${st.size.toString(16)}"`;
}

function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (start >= size || start > end) return 'unsatisfiable';
  }
  return { start, end };
}
