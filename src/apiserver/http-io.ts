// Reading request bodies and writing responses: JSON, YAML or protobuf as the
// Accept header negotiates, Status errors, Warning headers, the 3 MiB body limit.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { stringify as yamlStringify } from 'yaml';
import { errors, toStatusError, type StatusError } from '../api/status.js';
import { ProtobufEncodeError } from './protobuf/codec.js';
import { negotiate, notAcceptableMessage } from './protobuf/negotiate.js';
import { canEncode, encodeObject, PROTOBUF } from './protobuf/wire.js';

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
  const accept = req.headers.accept;
  // Only a client that names protobuf goes through the full negotiation; JSON and YAML clients keep the short path.
  if (!contentType && accept?.includes(PROTOBUF) && isApiObject(body)) return sendNegotiated(req, res, code, body, accept);
  let text: string;
  if (!contentType && wantsYaml(req)) {
    contentType = 'application/yaml';
    text = yamlStringify(body);
  } else {
    text = JSON.stringify(body);
  }
  writeBody(req, res, code, contentType ?? 'application/json', text);
}

function writeBody(req: IncomingMessage, res: ServerResponse, code: number, contentType: string, payload: string | Buffer): void {
  // A known length lets Node send headers and body in one write instead of chunks.
  res.writeHead(code, {
    'Content-Type': contentType,
    'Cache-Control': 'no-cache, private',
    'Content-Length': Buffer.byteLength(payload),
  });
  res.end(req.method === 'HEAD' ? undefined : payload);
}

const isApiObject = (body: unknown): body is Record<string, unknown> & { apiVersion: string; kind: string } =>
  typeof body === 'object' && body !== null && typeof (body as { kind?: unknown }).kind === 'string' && typeof (body as { apiVersion?: unknown }).apiVersion === 'string';

/** The kind a conversion (`as=` in Accept) made the body into, if it is one. */
export function convertedKind(body: { apiVersion: string; kind: string }): string | undefined {
  return body.apiVersion === 'meta.k8s.io/v1' || body.apiVersion === 'meta.k8s.io/v1beta1' ? body.kind : undefined;
}

/**
 * kube-apiserver's WriteObjectNegotiated: protobuf when the Accept header
 * prefers it and the kind can be carried whole, else JSON or YAML as the
 * header allows; 406 when it allows none (an error keeps its own code, in
 * JSON).
 */
function sendNegotiated(req: IncomingMessage, res: ServerResponse, code: number, body: Record<string, unknown> & { apiVersion: string; kind: string }, accept: string): void {
  const converted = convertedKind(body);
  let media = negotiate(accept, { protobuf: canEncode(body), converted });
  if (media === PROTOBUF) {
    try {
      return writeBody(req, res, code, PROTOBUF, encodeObject(body));
    } catch (e) {
      if (!(e instanceof ProtobufEncodeError)) throw e;
      // The object holds what its declaration cannot carry: JSON if the client takes it, never a lossy protobuf.
      media = negotiate(accept, { protobuf: false, converted });
      if (!media) {
        sendStatusError(req, res, errors.internal(`unable to encode ${body.kind} as protobuf: ${e.message}`));
        return;
      }
    }
  }
  if (media === undefined) {
    if (code < 200 || code >= 400) return writeBody(req, res, code, 'application/json', JSON.stringify(body));
    sendStatusError(req, res, errors.notAcceptable(notAcceptableMessage(false)));
    return;
  }
  if (media === 'application/yaml') return writeBody(req, res, code, media, yamlStringify(body));
  writeBody(req, res, code, 'application/json', JSON.stringify(body));
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
