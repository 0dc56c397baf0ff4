// Audit events (audit.k8s.io/v1 Event) of every request, as kube-apiserver's
// audit filter records them under the policy: an Audit-Id response header,
// then the stages the policy keeps — RequestReceived once the request is
// authenticated and authorized, ResponseStarted for a watch, ResponseComplete
// when the response ends — at the level the first matching rule gives:
// Metadata (who, what, the outcome), Request (+ the request's object),
// RequestResponse (+ the response's). The authorization decision and reason
// are the event's annotations. Requests refused by authentication or
// authorization are recorded too, with their 401/403 status.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { Attributes } from '../../auth/attributes.js';
import type { UserInfo } from '../../auth/user.js';
import type { Status } from '../../api/status.js';
import { auditDecision, type AuditDecision, type AuditPolicy, type AuditStage } from './policy.js';
import type { AuditBackend } from './log-backend.js';

/** What authentication and authorization found (filled by the admission filter). */
export interface AdmissionRecord {
  /** The authenticated user (before impersonation). */
  authenticated?: UserInfo;
  /** The user the request acts as, when impersonating. */
  impersonated?: UserInfo;
  attributes?: Attributes;
  decision?: 'allow' | 'forbid';
  reason?: string;
}

/** The audit of one request. */
export interface RequestAudit {
  readonly admission: AdmissionRecord;
  /** Authorized: RequestReceived (and ResponseStarted for a long-running request). */
  admitted(longRunning: boolean): void;
  /** The response ended with `code` (and the Status sent, for a failure). */
  finish(code: number, status?: Status): void;
}

export interface Auditor {
  begin(req: IncomingMessage, res: ServerResponse): RequestAudit;
}

/** RFC 3339 with microseconds, as upstream's MicroTime. */
const microTime = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

const userOf = (u: UserInfo | undefined) =>
  u ? { username: u.name, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...(u.extra && Object.keys(u.extra).length ? { extra: u.extra } : {}) } : {};

function withoutManagedFields(obj: unknown): unknown {
  const o = obj as { metadata?: { managedFields?: unknown } } | undefined;
  if (!o?.metadata?.managedFields) return obj;
  const { managedFields: _m, ...metadata } = o.metadata;
  return { ...o, metadata };
}

/** The request's body as the object it stands for (JSON or YAML); undefined when it is none (protobuf). */
function bodyObject(body: Buffer | undefined, contentType: string | undefined): unknown {
  if (!body?.length) return undefined;
  if (/protobuf/.test(contentType ?? '')) return undefined;
  try {
    return /yaml/.test(contentType ?? '') ? parseYaml(body.toString('utf8')) : JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

export interface AuditorOptions {
  policy: AuditPolicy;
  backend: AuditBackend;
  /** The request's body, once a handler read it. */
  requestBody(req: IncomingMessage): Buffer | undefined;
  /** The object a handler sent as the response. */
  responseObject(res: ServerResponse): unknown;
}

export function createAuditor(o: AuditorOptions): Auditor {
  return {
    begin(req, res) {
      const auditID = randomUUID();
      res.setHeader('Audit-Id', auditID);
      const received = new Date();
      const admission: AdmissionRecord = {};
      let decision: AuditDecision | undefined;
      let started = false;

      const decide = (): AuditDecision => {
        if (decision) return decision;
        const a = admission.attributes;
        const user = admission.authenticated;
        decision = auditDecision(o.policy, {
          user: { username: user?.name ?? '', groups: user?.groups ?? [] },
          verb: a?.verb ?? (req.method ?? 'get').toLowerCase(),
          resourceRequest: a?.resourceRequest ?? false,
          path: a?.path ?? new URL(req.url ?? '/', 'http://localhost').pathname,
          apiGroup: a?.apiGroup,
          resource: a?.resource,
          subresource: a?.subresource,
          namespace: a?.namespace,
          name: a?.name,
        });
        return decision;
      };

      const emit = (stage: AuditStage, extra: Record<string, unknown> = {}) => {
        const d = decide();
        if (d.level === 'None' || d.omitStages.includes(stage)) return;
        const a = admission.attributes;
        const annotations: Record<string, string> = {};
        if (admission.decision) annotations['authorization.k8s.io/decision'] = admission.decision;
        if (admission.decision && admission.reason !== undefined) annotations['authorization.k8s.io/reason'] = admission.reason;
        const event: Record<string, unknown> = {
          kind: 'Event',
          apiVersion: 'audit.k8s.io/v1',
          level: d.level,
          auditID,
          stage,
          requestURI: req.url ?? '/',
          verb: a?.verb ?? (req.method ?? 'get').toLowerCase(),
          user: userOf(admission.authenticated),
          ...(admission.impersonated ? { impersonatedUser: userOf(admission.impersonated) } : {}),
          sourceIPs: [req.socket.remoteAddress ?? '127.0.0.1'],
          ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
          ...(a?.resourceRequest
            ? {
                objectRef: {
                  resource: a.resource,
                  ...(a.namespace ? { namespace: a.namespace } : {}),
                  ...(a.name ? { name: a.name } : {}),
                  ...(a.apiGroup ? { apiGroup: a.apiGroup } : {}),
                  apiVersion: a.apiVersion,
                  ...(a.subresource ? { subresource: a.subresource } : {}),
                },
              }
            : {}),
          ...extra,
          requestReceivedTimestamp: microTime(received),
          stageTimestamp: microTime(new Date()),
          ...(Object.keys(annotations).length ? { annotations } : {}),
        };
        o.backend.write(event);
      };

      return {
        admission,
        admitted(longRunning) {
          emit('RequestReceived');
          if (longRunning) {
            started = true;
            emit('ResponseStarted', { responseStatus: { metadata: {}, code: 200 } });
          }
        },
        finish(code, status) {
          const d = decide();
          if (d.level === 'None') return;
          const strip = (x: unknown) => (d.omitManagedFields ? withoutManagedFields(x) : x);
          const extra: Record<string, unknown> = {
            responseStatus: status ? { metadata: {}, ...(status.status ? { status: status.status } : {}), ...(status.message ? { message: status.message } : {}), ...(status.reason ? { reason: status.reason } : {}), ...(status.details ? { details: status.details } : {}), code } : { metadata: {}, code },
          };
          if (d.level === 'Request' || d.level === 'RequestResponse') {
            const body = bodyObject(o.requestBody(req), req.headers['content-type']);
            if (body !== undefined) extra.requestObject = strip(body);
          }
          if (d.level === 'RequestResponse') {
            const sent = o.responseObject(res);
            if (sent !== undefined) extra.responseObject = strip(sent);
          }
          // A request refused before it was admitted has its received stage now.
          if (!started && admission.decision !== 'allow') emit('RequestReceived');
          emit('ResponseComplete', extra);
        },
      };
    },
  };
}
