// Reads a kubeconfig into transport options: the current context's cluster
// (server, CA, insecure-skip-tls-verify) and user (client certificate, bearer
// token, basic auth). Exec and auth-provider plugins are refused with a clear
// message rather than half-supported. (@kubernetes/client-node would parse
// this too, but pulls ~15 packages and a slow import into every component's
// start for a few fields.)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import type { TransportOptions } from './transport.js';
import { errorMessage } from '../util/errors.js';

interface Named<T> {
  name: string;
  [k: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

export class KubeconfigError extends Error {}

export function loadKubeconfig(path: string, contextName?: string): TransportOptions {
  let doc: Record<string, unknown>;
  try {
    // yaml loads here, not with the module: components given a unix socket never need it.
    const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    doc = parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new KubeconfigError(`cannot read kubeconfig ${path}: ${errorMessage(e)}`);
  }
  const base = dirname(path);
  const file = (p: unknown) => (typeof p === 'string' ? readFileSync(isAbsolute(p) ? p : join(base, p)) : undefined);
  const data = (d: unknown) => (typeof d === 'string' ? Buffer.from(d, 'base64') : undefined);
  const find = <T>(list: unknown, name: string | undefined, kind: string): T => {
    const found = ((list as Named<T>[]) ?? []).find((x) => x.name === name);
    if (!found) throw new KubeconfigError(`kubeconfig ${path}: ${kind} "${name}" not found`);
    return (found.cluster ?? found.user ?? found.context ?? {}) as T;
  };
  const ctxName = contextName ?? (doc['current-context'] as string | undefined);
  const ctx = find<{ cluster?: string; user?: string }>(doc.contexts, ctxName, 'context');
  const cluster = find<Record<string, unknown>>(doc.clusters, ctx.cluster, 'cluster');
  const user = ctx.user ? find<Record<string, unknown>>(doc.users, ctx.user, 'user') : {};
  if (user.exec || user['auth-provider']) {
    throw new KubeconfigError(`kubeconfig ${path}: user "${ctx.user}" uses an exec or auth-provider plugin, which kubesvc does not run; use a token or client certificate`);
  }
  const headers: Record<string, string> = {};
  const token = user.token as string | undefined;
  const tokenFile = !token && typeof user.tokenFile === 'string' ? (isAbsolute(user.tokenFile) ? user.tokenFile : join(base, user.tokenFile)) : undefined;
  if (token) headers.Authorization = `Bearer ${token}`;
  else if (user.username && !tokenFile) headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
  if (typeof cluster.server !== 'string') throw new KubeconfigError(`kubeconfig ${path}: cluster "${ctx.cluster}" has no server`);
  return {
    server: cluster.server,
    ca: data(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']),
    cert: data(user['client-certificate-data']) ?? file(user['client-certificate']),
    key: data(user['client-key-data']) ?? file(user['client-key']),
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
    headers,
    tokenFile,
  };
}
