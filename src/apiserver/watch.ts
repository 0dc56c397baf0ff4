// Watch responses: a chunked stream of {"type","object"} JSON lines that stays
// open until the client goes, timeoutSeconds passes or the server stops.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../api/object.js';
import type { ListOptions, Registry } from '../registry/registry.js';
import type { ResourceDef } from '../registry/resource.js';
import { sendStatusError } from './http-io.js';
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
  let headerSent = false;
  let columnsSent = false;
  let lastRV = w.resourceVersion ?? '0';
  const pending: string[] = [];

  const render = (obj: KubeObject): unknown => {
    if (w.rendering === 'table') {
      const t = toTable(w.def, [obj], { resourceVersion: obj.metadata.resourceVersion, includeObject: w.includeObject, withColumns: !columnsSent });
      columnsSent = true;
      return t;
    }
    if (w.rendering === 'partial') return partialObject(obj);
    return obj;
  };
  const write = (line: string) => {
    if (!headerSent) pending.push(line);
    else res.write(line);
  };

  let handle: { stop(): void } | undefined;
  try {
    const started = await registry.watch(w.def, w.namespace, w.resourceVersion, w.list, (e) => {
      lastRV = e.object.metadata.resourceVersion ?? lastRV;
      write(JSON.stringify({ type: e.type, object: render(e.object) }) + '\n');
    });
    handle = started.watch;
    if (lastRV === '0' || !lastRV) lastRV = started.resourceVersion;
  } catch (e) {
    sendStatusError(req, res, e);
    return;
  }

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  headerSent = true;
  for (const line of pending) res.write(line);
  settings.active.add(res);

  const bookmarkTimer = w.allowBookmarks
    ? setInterval(() => {
        const object = { kind: w.def.kind, apiVersion: w.def.group ? `${w.def.group}/${w.def.version}` : w.def.version, metadata: { resourceVersion: lastRV } };
        res.write(JSON.stringify({ type: 'BOOKMARK', object }) + '\n');
      }, settings.bookmarkIntervalMs)
    : undefined;
  const timeout = w.timeoutSeconds ? setTimeout(() => res.end(), w.timeoutSeconds * 1000) : undefined;

  // 'close' on the response, not the request: in Node 20 the request emits
  // 'close' as soon as its body has been read.
  res.on('close', () => {
    handle?.stop();
    if (bookmarkTimer) clearInterval(bookmarkTimer);
    if (timeout) clearTimeout(timeout);
    settings.active.delete(res);
  });
}
