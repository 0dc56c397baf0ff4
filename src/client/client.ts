// A typed client for the resources kubesvc works with, usable against our API
// server (TCP or unix socket) or any kube-apiserver (transport from a kubeconfig).
//
// Answers are read in whatever encoding the server chose (the response's
// Content-Type): JSON, or protobuf when the client's content type asked for
// it, as client-go does with rest.Config.ContentType. Request bodies are JSON.
import { StringDecoder } from 'node:string_decoder';
import type { KubeObject } from '../api/object.js';
import type { Status } from '../api/status.js';
import { lineSplitter } from '../util/line-splitter.js';
import type { Response, Transport } from './transport.js';

type ProtobufReader = typeof import('../apiserver/protobuf/read.js');

export interface ResourceType {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
}

const core = (resource: string, kind: string, namespaced = true): ResourceType => ({ group: '', version: 'v1', resource, kind, namespaced });
const apps = (resource: string, kind: string): ResourceType => ({ group: 'apps', version: 'v1', resource, kind, namespaced: true });

export const resourceTypes = {
  services: core('services', 'Service'),
  endpoints: core('endpoints', 'Endpoints'),
  pods: core('pods', 'Pod'),
  nodes: core('nodes', 'Node', false),
  namespaces: core('namespaces', 'Namespace', false),
  events: core('events', 'Event'),
  configmaps: core('configmaps', 'ConfigMap'),
  secrets: core('secrets', 'Secret'),
  serviceaccounts: core('serviceaccounts', 'ServiceAccount'),
  endpointslices: { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', kind: 'EndpointSlice', namespaced: true } as ResourceType,
  deployments: apps('deployments', 'Deployment'),
  replicasets: apps('replicasets', 'ReplicaSet'),
  daemonsets: apps('daemonsets', 'DaemonSet'),
  statefulsets: apps('statefulsets', 'StatefulSet'),
  controllerrevisions: apps('controllerrevisions', 'ControllerRevision'),
  jobs: { group: 'batch', version: 'v1', resource: 'jobs', kind: 'Job', namespaced: true } as ResourceType,
  cronjobs: { group: 'batch', version: 'v1', resource: 'cronjobs', kind: 'CronJob', namespaced: true } as ResourceType,
  poddisruptionbudgets: { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true } as ResourceType,
  leases: { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', kind: 'Lease', namespaced: true } as ResourceType,
};

/** A failed API call, carrying the server's Status. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: Partial<Status>,
  ) {
    super(status.message ?? `HTTP ${code}`);
  }
  get reason(): string | undefined {
    return this.status.reason;
  }
}

export const isNotFound = (e: unknown) => e instanceof ApiError && e.code === 404;
export const isConflict = (e: unknown) => e instanceof ApiError && e.code === 409;
export const isAlreadyExists = (e: unknown) => e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists';

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
}

export interface WatchEventOf<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

const patchContentTypes: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface ResourceClient<T extends KubeObject> {
  readonly type: ResourceType;
  get(namespace: string | undefined, name: string): Promise<T>;
  /** With a limit, one page: `continue` (when set) asks for the next. */
  list(namespace?: string, query?: ListQuery & { limit?: number; continue?: string }): Promise<{ items: T[]; resourceVersion: string; continue?: string }>;
  create(namespace: string | undefined, obj: T): Promise<T>;
  /** POST to a subresource that creates something else (serviceaccounts/token → TokenRequest). */
  createSubresource<R>(namespace: string | undefined, name: string, subresource: string, body: unknown): Promise<R>;
  update(obj: T): Promise<T>;
  updateStatus(obj: T): Promise<T>;
  patch(namespace: string | undefined, name: string, patch: unknown, type?: PatchType, opts?: { fieldManager?: string; force?: boolean; subresource?: string }): Promise<T>;
  delete(
    namespace: string | undefined,
    name: string,
    opts?: { gracePeriodSeconds?: number; propagationPolicy?: string; preconditions?: { uid?: string; resourceVersion?: string } },
  ): Promise<void>;
  watch(
    namespace: string | undefined,
    query: ListQuery & { allowWatchBookmarks?: boolean; timeoutSeconds?: number },
    onEvent: (e: WatchEventOf<T>) => void,
    onEnd: (err?: ApiError | Error) => void,
  ): { close(): void };
}

function query(params: Record<string, string | boolean | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** What Accept header to send (client-go's rest.Config). */
export interface ClientOptions {
  /**
   * clientConnection.contentType (rest.Config.ContentType): without
   * acceptContentTypes, every request accepts `<contentType>, *\/*`, so with
   * application/vnd.kubernetes.protobuf lists, gets and watches are answered
   * in protobuf by a server that can, in JSON by one that cannot.
   */
  contentType?: string;
  /** clientConnection.acceptContentTypes (rest.Config.AcceptContentTypes): the Accept header as given. */
  acceptContentTypes?: string;
}

/** rest.Request's setAcceptHeader: AcceptContentTypes, else ContentType and anything, else JSON (our default). */
export function acceptHeader(options: ClientOptions): string {
  if (options.acceptContentTypes) return options.acceptContentTypes;
  if (options.contentType) return `${options.contentType}, */*`;
  return 'application/json';
}

export interface Client {
  transport: Transport;
  resource<T extends KubeObject = KubeObject>(type: ResourceType): ResourceClient<T>;
  close(): void;
}

export function createClient(transport: Transport, fieldManager = 'kubesvc', options: ClientOptions = {}): Client {
  const accept = acceptHeader(options);
  // The protobuf reader is loaded only by a client that asks for protobuf, before its first request.
  const asksProtobuf = accept.toLowerCase().includes('application/vnd.kubernetes.protobuf');
  let protobuf: ProtobufReader | undefined;
  let loading: Promise<ProtobufReader> | undefined;
  const loadProtobuf = () => (loading ??= import('../apiserver/protobuf/read.js').then((m) => (protobuf = m)));

  /** An answer in the encoding its Content-Type names. */
  function decode(res: Pick<Response, 'headers' | 'bytes'>): unknown {
    if (protobuf?.isProtobufContentType(res.headers['content-type'])) return protobuf.decodeObject(res.bytes, { zeroIsUnset: true });
    return JSON.parse(res.bytes.toString('utf8'));
  }

  function parseError(res: Omit<Response, 'body'>): ApiError {
    try {
      const s = decode(res) as Partial<Status>;
      if (s && s.kind === 'Status') return new ApiError(res.status, s);
    } catch {
      /* not a Status */
    }
    const text = res.bytes.toString('utf8');
    return new ApiError(res.status, { message: text.trim() || `HTTP ${res.status}`, code: res.status });
  }

  function basePath(type: ResourceType, namespace?: string): string {
    const root = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
    return type.namespaced && namespace ? `${root}/namespaces/${encodeURIComponent(namespace)}/${type.resource}` : `${root}/${type.resource}`;
  }

  async function call<R>(method: string, path: string, body?: unknown, contentType?: string): Promise<R> {
    if (asksProtobuf) await loadProtobuf();
    const res = await transport.request(method, path, { body, contentType, accept });
    if (res.status < 200 || res.status >= 300) throw parseError(res);
    return decode(res) as R;
  }

  /** The watch stream's events, read as newline-delimited JSON or protobuf frames per its Content-Type. */
  function watchStream<T>(path: string, onEvent: (e: WatchEventOf<T>) => void, onEnd: (err?: ApiError | Error) => void): { close(): void } {
    let handle: { close(): void } | undefined;
    let closed = false;
    let push: (chunk: Buffer) => void = () => {};
    let flush = () => {};
    const fail = (e: unknown) => {
      handle?.close();
      onEnd(e instanceof Error ? e : new Error(String(e)));
    };
    const begin = () => {
      if (closed) return;
      handle = transport.stream(path, accept, {
        onStart(contentType) {
          if (protobuf?.isProtobufContentType(contentType)) {
            const frames = protobuf.watchFrameReader((e) => onEvent(e as unknown as WatchEventOf<T>), { zeroIsUnset: true });
            push = (chunk) => frames.push(chunk);
            return;
          }
          const text = new StringDecoder('utf8');
          const deliver = (line: string) => {
            if (!line.trim()) return;
            let e: WatchEventOf<T>;
            try {
              e = JSON.parse(line) as WatchEventOf<T>;
            } catch {
              return;
            }
            onEvent(e);
          };
          const lines = lineSplitter(deliver);
          push = (chunk) => lines.push(text.write(chunk));
          flush = () => deliver(lines.rest() + text.end());
        },
        onData(chunk) {
          try {
            push(chunk);
          } catch (e) {
            // Bytes that are no watch stream end it (the informer lists again); a handler's own error is not ours to swallow.
            if (e instanceof Error && e.name === 'ProtobufDecodeError') fail(e);
            else throw e;
          }
        },
        onEnd(err, refused) {
          flush();
          onEnd(err ?? (refused ? parseError(refused) : undefined));
        },
      });
    };
    if (asksProtobuf && !protobuf) loadProtobuf().then(begin, (e: unknown) => !closed && fail(e));
    else begin();
    return {
      close() {
        closed = true;
        handle?.close();
      },
    };
  }

  function resource<T extends KubeObject>(type: ResourceType): ResourceClient<T> {
    const item = (ns: string | undefined, name: string) => `${basePath(type, ns)}/${encodeURIComponent(name)}`;
    return {
      type,
      get: (ns, name) => call<T>('GET', item(ns, name)),
      async list(ns, q = {}) {
        const list = await call<{ items?: T[]; metadata?: { resourceVersion?: string; continue?: string } }>('GET', basePath(type, ns) + query({ ...q }));
        // Protobuf carries no empty list (nor an empty ListMeta): none is no items.
        const items = list.items ?? [];
        for (const i of items) {
          // A protobuf list's items carry no apiVersion/kind: the list's type implies them.
          i.apiVersion ??= type.group ? `${type.group}/${type.version}` : type.version;
          i.kind ??= type.kind;
        }
        return { items, resourceVersion: list.metadata?.resourceVersion ?? '', continue: list.metadata?.continue || undefined };
      },
      create: (ns, obj) => call<T>('POST', basePath(type, ns) + query({ fieldManager }), obj),
      createSubresource: <R>(ns: string | undefined, name: string, subresource: string, body: unknown) => call<R>('POST', `${item(ns, name)}/${subresource}`, body),
      update: (obj) => call<T>('PUT', item(obj.metadata.namespace, obj.metadata.name!) + query({ fieldManager }), obj),
      updateStatus: (obj) => call<T>('PUT', `${item(obj.metadata.namespace, obj.metadata.name!)}/status` + query({ fieldManager }), obj),
      patch: (ns, name, patch, patchType = 'merge', opts = {}) =>
        call<T>(
          'PATCH',
          item(ns, name) + (opts.subresource ? `/${opts.subresource}` : '') + query({ fieldManager: opts.fieldManager ?? fieldManager, force: opts.force }),
          patch,
          patchContentTypes[patchType],
        ),
      async delete(ns, name, opts = {}) {
        await call('DELETE', item(ns, name), { kind: 'DeleteOptions', apiVersion: 'v1', ...opts });
      },
      watch(ns, q, onEvent, onEnd) {
        const path =
          basePath(type, ns) +
          query({
            watch: true,
            resourceVersion: q.resourceVersion,
            labelSelector: q.labelSelector,
            fieldSelector: q.fieldSelector,
            allowWatchBookmarks: q.allowWatchBookmarks,
            timeoutSeconds: q.timeoutSeconds,
          });
        return watchStream(path, onEvent, onEnd);
      },
    };
  }

  return { transport, resource, close: () => transport.close() };
}
