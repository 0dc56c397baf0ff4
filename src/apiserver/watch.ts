// Watch responses: a chunked stream of {"type","object"} JSON lines, or of
// length-delimited protobuf WatchEvent frames when the client asks for
// protobuf, that stays open until the client goes, timeoutSeconds passes or
// the server stops.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../api/object.js';
import type { ListOptions, Registry } from '../registry/registry.js';
import type { ResourceDef } from '../registry/resource.js';
import { errors } from '../api/status.js';
import { apiVersionOf } from '../registry/resource.js';
import { convertedKind, sendStatusError } from './http-io.js';
import { negotiate, notAcceptableMessage, type MediaType } from './protobuf/negotiate.js';
import { encodeWatchFrame, PROTOBUF, PROTOBUF_WATCH, protobufMessageOf } from './protobuf/wire.js';
import { partialObject, toTable, type IncludeObject, type Rendering } from './tables.js';

export interface WatchRequest {
  def: ResourceDef;
  namespace?: string;
  resourceVersion?: string;
  list: ListOptions;
  rendering: Rendering;
  includeObject: IncludeObject;
  allowBookmarks: boolean;
  timeoutSeconds?: number;
}

export interface WatchSettings {
  bookmarkIntervalMs: number;
  /** Active streams, closed when the server stops. */
  active: Set<ServerResponse>;
}

export async function serveWatch(req: IncomingMessage, res: ServerResponse, registry: Registry, w: WatchRequest, settings: WatchSettings) {
  const encoding = watchEncoding(req.headers.accept, w);
  if (!encoding) {
    sendStatusError(req, res, errors.notAcceptable(notAcceptableMessage(true)));
    return;
  }
  let headerSent = false;
  let columnsSent = false;
  let lastRV = w.resourceVersion ?? '0';
  const pending: (string | Buffer)[] = [];

  const render = (obj: KubeObject): unknown => {
    if (w.rendering === 'table') {
      const t = toTable(w.def, [obj], { resourceVersion: obj.metadata.resourceVersion, includeObject: w.includeObject, withColumns: !columnsSent });
      columnsSent = true;
      return t;
    }
    if (w.rendering === 'partial') return partialObject(obj);
    return obj;
  };
  const write = (chunk: string | Buffer) => {
    if (!headerSent) pending.push(chunk);
    else res.write(chunk);
  };
  const event = (type: string, object: unknown): string | Buffer => {
    if (encoding === 'application/json') return JSON.stringify({ type, object }) + '\n';
    try {
      return encodeWatchFrame(type, object as Record<string, unknown>);
    } catch (e) {
      // The object holds what its declaration cannot carry: the stream ends with an error event, as upstream's does on an encoding failure.
      const status = errors.internal(`unable to encode ${String((object as { kind?: unknown }).kind)} as protobuf: ${(e as Error).message}`).status;
      setImmediate(() => res.end());
      return encodeWatchFrame('ERROR', status as unknown as Record<string, unknown>);
    }
  };

  let handle: { stop(): void } | undefined;
  try {
    const started = await registry.watch(w.def, w.namespace, w.resourceVersion, w.list, (e) => {
      lastRV = e.object.metadata.resourceVersion ?? lastRV;
      write(event(e.type, render(e.object)));
    });
    handle = started.watch;
    if (lastRV === '0' || !lastRV) lastRV = started.resourceVersion;
  } catch (e) {
    sendStatusError(req, res, e);
    return;
  }

  const contentType = encoding === PROTOBUF ? PROTOBUF_WATCH : 'application/json';
  res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  headerSent = true;
  for (const line of pending) res.write(line);
  settings.active.add(res);

  const bookmarkTimer = w.allowBookmarks
    ? setInterval(() => {
        const object = { kind: w.def.kind, apiVersion: w.def.group ? `${w.def.group}/${w.def.version}` : w.def.version, metadata: { resourceVersion: lastRV } };
        res.write(event('BOOKMARK', object));
      }, settings.bookmarkIntervalMs)
    : undefined;
  const timeout = w.timeoutSeconds ? setTimeout(() => res.end(), w.timeoutSeconds * 1000) : undefined;
  // A custom resource whose CRD goes ends its watches (the clients' next list is a 404).
  const retired = () => res.end();
  w.def.servedUntil?.addEventListener('abort', retired, { once: true });

  // 'close' on the response, not the request: in Node 20 the request emits
  // 'close' as soon as its body has been read.
  res.on('close', () => {
    handle?.stop();
    if (bookmarkTimer) clearInterval(bookmarkTimer);
    if (timeout) clearTimeout(timeout);
    w.def.servedUntil?.removeEventListener('abort', retired);
    settings.active.delete(res);
  });
}

/**
 * The stream encoding the Accept header negotiates: protobuf frames when it
 * prefers protobuf and the events' kind can be carried whole (never for
 * Tables), JSON lines otherwise; undefined when it takes neither (406).
 */
function watchEncoding(accept: string | undefined, w: WatchRequest): MediaType | undefined {
  if (!accept?.includes(PROTOBUF)) return 'application/json';
  const kind = w.rendering === 'table' ? 'Table' : w.rendering === 'partial' ? 'PartialObjectMetadata' : w.def.kind;
  const apiVersion = w.rendering === 'object' ? apiVersionOf(w.def) : 'meta.k8s.io/v1';
  const protobuf = w.rendering !== 'table' && protobufMessageOf(apiVersion, kind) !== undefined;
  return negotiate(accept, { protobuf, stream: true, converted: convertedKind({ apiVersion, kind }) });
}
