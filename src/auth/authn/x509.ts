// The x509 client-certificate authenticator: a certificate the TLS handshake
// verified against the cluster CA names the user (subject CN) and its groups
// (subject O values), as upstream's request/x509 authenticator reads them.
// A certificate that did not verify (another CA, expired, wrong usage) is an
// error: the request gets 401, as upstream's does.
import type { TLSSocket } from 'node:tls';
import type { UserInfo } from '../user.js';

export type CertificateResult = { user: UserInfo } | { error: string } | undefined;

const seen = new WeakMap<TLSSocket, CertificateResult>();

/** The user of a TLS connection's client certificate (undefined: none presented); read once per connection. */
export function certificateUser(socket: TLSSocket): CertificateResult {
  if (seen.has(socket)) return seen.get(socket);
  const result = read(socket);
  seen.set(socket, result);
  return result;
}

function read(socket: TLSSocket): CertificateResult {
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || !Object.keys(cert).length) return undefined;
  if (!socket.authorized) return { error: `verifying certificate ${describe(cert.subject)} failed: ${String(socket.authorizationError ?? 'unknown error')}` };
  const name = first(cert.subject?.CN);
  if (!name) return { error: 'x509: certificate has no common name' };
  return { user: { name, groups: all(cert.subject?.O) } };
}

const all = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const first = (v: string | string[] | undefined): string | undefined => all(v)[0];

function describe(subject: { CN?: string | string[]; O?: string | string[] } | undefined): string {
  return `SN=…, CN=${first(subject?.CN) ?? ''}, O=${all(subject?.O).join('+')}`;
}
