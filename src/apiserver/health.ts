// /healthz, /livez and /readyz as kube-apiserver answers them: each endpoint
// runs its named checks; `?verbose` lists them ("[+]etcd ok"), a failure
// lists them always, with the reason withheld ("[-]etcd failed: reason
// withheld") since the endpoints are public (the reasons go to the log), and
// `?exclude=name` skips one. /readyz/etcd (any check by name) runs one check
// and says why it failed.
import type { ServerResponse } from 'node:http';
import type { Store } from '../storage/store.js';
import { errorMessage } from '../util/errors.js';
import { logger } from '../util/log.js';
import { sendText } from './http-io.js';

const log = logger('apiserver');

export interface HealthCheck {
  name: string;
  /** Resolves when healthy; rejects (or throws) saying why not. */
  check(): Promise<void> | void;
}

export type HealthEndpoint = 'healthz' | 'livez' | 'readyz';

/** upstream's --etcd-healthcheck-timeout and --etcd-readycheck-timeout defaults. */
const etcdCheckTimeoutMs = 2000;

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000}s`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** The checks of each endpoint: the storage behind the API server, and start-up (readiness) done. */
export function apiServerHealthChecks(store: Store, startedUp: () => boolean): Record<HealthEndpoint, HealthCheck[]> {
  const ping: HealthCheck = { name: 'ping', check: () => undefined };
  const logCheck: HealthCheck = { name: 'log', check: () => undefined };
  const etcd: HealthCheck = { name: 'etcd', check: () => withTimeout(store.check(), etcdCheckTimeoutMs) };
  const etcdReadiness: HealthCheck = { name: 'etcd-readiness', check: () => withTimeout(store.check(), etcdCheckTimeoutMs) };
  const bootstrap: HealthCheck = {
    name: 'poststarthook/bootstrap-controller',
    check: () => {
      if (!startedUp()) throw new Error('not finished');
    },
  };
  return { healthz: [ping, logCheck, etcd, bootstrap], livez: [ping, logCheck, etcd, bootstrap], readyz: [ping, logCheck, etcd, etcdReadiness, bootstrap] };
}

async function failure(c: HealthCheck): Promise<string | undefined> {
  try {
    await c.check();
    return undefined;
  } catch (e) {
    return errorMessage(e);
  }
}

/** Answers `/endpoint` or `/endpoint/check`; false when `rest` names no check (the caller's 404). */
export async function serveHealth(res: ServerResponse, endpoint: HealthEndpoint, rest: string, query: URLSearchParams, checks: HealthCheck[]): Promise<boolean> {
  if (rest) {
    const one = checks.find((c) => c.name === rest);
    if (!one) return false;
    const why = await failure(one);
    if (why === undefined) sendText(res, 200, 'ok');
    else sendText(res, 500, `internal server error: ${why}\n`);
    return true;
  }
  const excluded = new Set(query.getAll('exclude').flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean));
  let lines = '';
  const failed: string[] = [];
  for (const c of checks) {
    if (excluded.has(c.name)) {
      lines += `[+]${c.name} excluded: ok\n`;
      continue;
    }
    const why = await failure(c);
    if (why === undefined) {
      lines += `[+]${c.name} ok\n`;
    } else {
      lines += `[-]${c.name} failed: reason withheld\n`;
      failed.push(`[-]${c.name} failed: ${why}`);
    }
  }
  if (failed.length) {
    log.warn(`${endpoint} check failed`, { checks: failed.join('\n') });
    sendText(res, 500, `${lines}${endpoint} check failed\n`);
  } else if (query.has('verbose')) {
    sendText(res, 200, `${lines}${endpoint} check passed\n`);
  } else {
    sendText(res, 200, 'ok');
  }
  return true;
}
