// Who may see the dashboard: whoever has the one-time token `up` printed.
// Its first use trades it for a session cookie (HttpOnly, SameSite=Strict,
// Path=/) and burns it; from then on only that cookie lets a request in.
// Requests must name this server as their Host (no DNS rebinding), and a
// request that changes something (POST) must come from this origin
// (Origin header, Sec-Fetch-Site when sent). There is no other way in.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const cookieName = 'kubesvc-dashboard';

const digest = (s: string) => createHash('sha256').update(s).digest();

export interface DashboardAuth {
  /** The token for the URL on the ready screen (until used). */
  readonly token: string;
  /** Trades the token for a new session id, once; undefined when the token is wrong or used. */
  exchange(token: string): string | undefined;
  /** Whether the request carries a session cookie this server gave. */
  hasSession(req: IncomingMessage): boolean;
  /** Whether the Host header names this server (127.0.0.1 or localhost on its port). */
  hostAllowed(req: IncomingMessage, port: number): boolean;
  /** Whether a state-changing request comes from this server's own pages. */
  sameOrigin(req: IncomingMessage, port: number): boolean;
  setCookie(session: string): string;
}

export function createDashboardAuth(): DashboardAuth {
  const token = randomBytes(24).toString('base64url');
  let tokenDigest: Buffer | undefined = digest(token);
  /** Session ids by their digest (what the cookie says is hashed before the look-up). */
  const sessions = new Set<string>();
  const cookieOf = (req: IncomingMessage) => {
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === cookieName) return v.join('=');
    }
    return undefined;
  };
  const hosts = (port: number) => [`127.0.0.1:${port}`, `localhost:${port}`];
  return {
    token,
    exchange(given) {
      if (!tokenDigest || !timingSafeEqual(digest(given), tokenDigest)) return undefined;
      tokenDigest = undefined;
      const session = randomBytes(32).toString('base64url');
      sessions.add(digest(session).toString('hex'));
      return session;
    },
    hasSession(req) {
      const c = cookieOf(req);
      return c !== undefined && sessions.has(digest(c).toString('hex'));
    },
    hostAllowed: (req, port) => hosts(port).includes(req.headers.host ?? ''),
    sameOrigin(req, port) {
      const site = req.headers['sec-fetch-site'];
      if (site !== undefined && site !== 'same-origin') return false;
      return hosts(port).some((h) => req.headers.origin === `http://${h}`);
    },
    setCookie: (session) => `${cookieName}=${session}; HttpOnly; SameSite=Strict; Path=/`,
  };
}
