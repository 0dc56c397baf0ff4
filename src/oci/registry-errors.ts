// The errors of a registry conversation, worded as containerd's resolver and
// fetcher word them (they reach users through the kubelet's events).
import { STATUS_CODES } from 'node:http';

/** A status line as Go prints resp.Status: "401 Unauthorized". */
export function statusLine(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? ''}`.trimEnd();
}

/** containerd's ErrUnexpectedStatus. */
export class UnexpectedStatusError extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
  ) {
    super(`unexpected status from ${method} request to ${url}: ${statusLine(status)}`);
  }
}

/** containerd's ErrInvalidAuthorization ("authorization failed"), with what came before it. */
export class AuthorizationError extends Error {}

/** errdefs.ErrNotFound: the message ends in ": not found". */
export class NotFoundError extends Error {}

/** errdefs.ErrFailedPrecondition: content that is not what its descriptor says. */
export class PreconditionError extends Error {}

/** The words Go's net/http uses for a request that got no response. */
export function requestFailure(method: string, url: string, err: unknown): Error {
  const goMethod = method.charAt(0) + method.slice(1).toLowerCase();
  const cause = ((err as { cause?: unknown }).cause ?? err) as NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string };
  let why: string;
  if (cause.code === 'ECONNREFUSED') why = `dial tcp ${cause.address ?? ''}:${cause.port ?? ''}: connect: connection refused`;
  else if (cause.code === 'ENOTFOUND' || cause.code === 'EAI_AGAIN') why = `dial tcp: lookup ${cause.hostname ?? new URL(url).hostname}: no such host`;
  else if (cause.code === 'ECONNRESET') why = 'read: connection reset by peer';
  else if (isPlainHttpAnswer(err)) why = 'http: server gave HTTP response to HTTPS client';
  else why = cause.message ?? String(cause);
  return new Error(`failed to do request: ${goMethod} ${JSON.stringify(url)}: ${why}`);
}

/** Whether a TLS handshake failed because the server answered in plain HTTP. */
export function isPlainHttpAnswer(err: unknown): boolean {
  const cause = ((err as { cause?: unknown }).cause ?? err) as { code?: string; message?: string };
  return /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST/.test(cause.code ?? '') || /wrong version number|packet length too long|http request/i.test(cause.message ?? '');
}
