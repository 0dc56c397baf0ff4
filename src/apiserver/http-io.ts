// Reading request bodies and writing responses: JSON (or YAML when asked),
// Status errors, Warning headers, the 3 MiB body limit.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { stringify as yamlStringify } from 'yaml';
import { errors, toStatusError, type StatusError } from '../api/status.js';

/** kube-apiserver's default maximum request body size. */
export const maxRequestBytes = 3 * 1024 * 1024;

// What a request's handler read and what it answered, kept with the request for its audit event.
const bodiesRead = new WeakMap<IncomingMessage, Buffer>();
const objectsSent = new WeakMap<ServerResponse, unknown>();

/** The request's body, once a handler read it. */
export const bodyRead = (req: IncomingMessage): Buffer | undefined => bodiesRead.get(req);
/** The object sent as the response (before encoding). */
export const objectSent = (res: ServerResponse): unknown => objectsSent.get(res);

export async function readBody(req: IncomingMessage, limit = maxRequestBytes): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    req.resume();
    throw errors.tooLarge(`limit is ${limit}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw errors.tooLarge(`limit is ${limit}`);
    }
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  bodiesRead.set(req, body);
  return body;
}

export function wantsYaml(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return /application\/yaml/.test(accept) && !/application\/json/.test(accept);
}

/** kube-apiserver's warning budget: 4,096 runes in all; past it every warning is cut to 256 and later ones are dropped. */
const warningTotalRunes = 4 * 1024;
const warningItemRunes = 256;

/**
 * The Warning header values for a response's warnings, as kube-apiserver's
 * recorder writes them: deduplicated, `299 - "text"`, within its budget.
 * Values are UTF-8 bytes carried as latin1, as Node sends header strings.
 */
export function warningHeaderValues(warnings: readonly string[]): string[] {
  const texts = [...new Set(warnings.filter(Boolean))];
  const runes = (t: string) => [...t].length;
  const total = texts.reduce((n, t) => n + runes(t), 0);
  let kept = texts;
  if (total > warningTotalRunes) {
    kept = [];
    let written = 0;
    for (const t of texts) {
      if (written >= warningTotalRunes && kept.length) break;
      const cut = [...t].slice(0, warningItemRunes).join('');
      kept.push(cut);
      written += runes(cut);
    }
  }
  return kept.map((t) => Buffer.from(`299 - ${JSON.stringify(t)}`, 'utf8').toString('latin1'));
}

export function addWarnings(res: ServerResponse, warnings: string[]): void {
  if (warnings.length) res.setHeader('Warning', warningHeaderValues(warnings));
}

export function sendObject(req: IncomingMessage, res: ServerResponse, code: number, body: unknown, contentType?: string): void {
  if (res.headersSent) return;
  objectsSent.set(res, body);
  let text: string;
  if (!contentType && wantsYaml(req)) {
    contentType = 'application/yaml';
    text = yamlStringify(body);
  } else {
    text = JSON.stringify(body);
  }
  // A known length lets Node send headers and body in one write instead of chunks.
  res.writeHead(code, {
    'Content-Type': contentType ?? 'application/json',
    'Cache-Control': 'no-cache, private',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(req.method === 'HEAD' ? undefined : text);
}

export function sendStatusError(req: IncomingMessage, res: ServerResponse, err: unknown): StatusError {
  const e = toStatusError(err);
  sendObject(req, res, e.status.code, e.status);
  return e;
}

export function sendText(res: ServerResponse, code: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(code, { 'Content-Type': contentType, 'X-Content-Type-Options': 'nosniff' });
  res.end(text);
}
