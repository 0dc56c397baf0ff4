// The one place that builds metav1.Status errors, worded as apimachinery's
// pkg/api/errors does so kubectl prints what users know.
import { errorBody, errorString, type FieldError } from './field-errors.js';
import { errorMessage } from '../util/errors.js';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

export class StatusError extends Error {
  constructor(readonly status: Status) {
    super(status.message ?? status.reason ?? 'error');
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): string | undefined {
    return this.status.reason;
  }
}

/** group resource as "services" or "deployments.apps". */
export interface GroupResource {
  group: string;
  resource: string;
}

export function qualifiedResource(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

function failure(code: number, reason: string, message: string, details?: Status['details']): StatusError {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) status.details = omitEmpty(details);
  return new StatusError(status);
}

/** StatusDetails as Go writes it: name, group and kind are omitempty (a core group is left out, not ""). */
function omitEmpty(details: NonNullable<Status['details']>): NonNullable<Status['details']> {
  const out: NonNullable<Status['details']> = {};
  for (const [k, v] of Object.entries(details) as [keyof typeof details, never][]) if (v !== '' && v !== undefined) out[k] = v;
  return out;
}

export const errors = {
  notFound(gr: GroupResource, name: string): StatusError {
    return failure(404, 'NotFound', `${qualifiedResource(gr)} "${name}" not found`, { name, group: gr.group, kind: gr.resource });
  },
  /** The bare 404 for paths the server does not serve at all. */
  pathNotFound(): StatusError {
    return failure(404, 'NotFound', 'the server could not find the requested resource', {});
  },
  alreadyExists(gr: GroupResource, name: string): StatusError {
    return failure(409, 'AlreadyExists', `${qualifiedResource(gr)} "${name}" already exists`, { name, group: gr.group, kind: gr.resource });
  },
  conflict(gr: GroupResource, name: string, why: string): StatusError {
    return failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${why}`, {
      name,
      group: gr.group,
      kind: gr.resource,
    });
  },
  staleObject(gr: GroupResource, name: string): StatusError {
    return errors.conflict(gr, name, 'the object has been modified; please apply your changes to the latest version and try again');
  },
  /** 422: `Kind "name" is invalid: err` or `... is invalid: [e1, e2]`; kind is qualified for grouped kinds (Deployment.apps). */
  invalid(kind: string, group: string, name: string, errs: FieldError[]): StatusError {
    const qualifiedKind = group ? `${kind}.${group}` : kind;
    const strings = [...new Set(errs.map(errorString))];
    const aggregate = strings.length === 1 ? strings[0] : `[${strings.join(', ')}]`;
    return failure(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${aggregate}`, {
      name,
      group,
      kind,
      causes: errs.map((e) => ({ reason: e.type, message: errorBody(e), field: e.field })),
    });
  },
  forbidden(gr: GroupResource, name: string, why: string): StatusError {
    const subject = name ? `${qualifiedResource(gr)} "${name}"` : qualifiedResource(gr);
    return failure(403, 'Forbidden', `${subject} is forbidden: ${why}`, { name, group: gr.group, kind: gr.resource });
  },
  /** A denied request for a path rather than a resource: `forbidden: User "u" cannot get path "/api"`. */
  forbiddenPath(why: string): StatusError {
    return failure(403, 'Forbidden', `forbidden: ${why}`, {});
  },
  /** 401 with upstream's fixed body: no hint of why the credentials failed. */
  unauthorized(): StatusError {
    return failure(401, 'Unauthorized', 'Unauthorized');
  },
  badRequest(message: string): StatusError {
    return failure(400, 'BadRequest', message);
  },
  internal(message: string): StatusError {
    return failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
  },
  methodNotSupported(gr: GroupResource, action: string): StatusError {
    return failure(405, 'MethodNotAllowed', `${action} is not supported on resources of kind "${qualifiedResource(gr)}"`, {
      group: gr.group,
      kind: gr.resource,
    });
  },
  expired(message: string): StatusError {
    return failure(410, 'Expired', message);
  },
  tooLarge(message: string): StatusError {
    return failure(413, 'RequestEntityTooLarge', `Request entity too large: ${message}`);
  },
  unsupportedMediaType(message: string): StatusError {
    return failure(415, 'UnsupportedMediaType', message);
  },
  notAcceptable(message: string): StatusError {
    return failure(406, 'NotAcceptable', message);
  },
  serviceUnavailable(message: string): StatusError {
    return failure(503, 'ServiceUnavailable', message);
  },
  timeout(message: string): StatusError {
    return failure(504, 'Timeout', message);
  },
};

export function successStatus(details?: Status['details']): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 };
  if (details) s.details = details;
  return s;
}

/** Turns anything thrown into a Status, so a bug still answers as Kubernetes would (500), never with a stack. */
export function toStatusError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  const message = errorMessage(err);
  return errors.internal(message);
}
