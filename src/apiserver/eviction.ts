// pods/{name}/eviction: a policy/v1 (or v1beta1) Eviction asks to delete a
// pod only if its PodDisruptionBudget allows it, as upstream's EvictionREST.
// Pods that cause no disruption (terminal, pending, already deleting) are
// deleted directly; otherwise the pod's one budget spends a disruption
// (status written before the delete, so a racing eviction sees it spent) or
// the answer is 429 TooManyRequests, which `kubectl drain` retries.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { deepEqual, isPlainObject, nowTimestamp, type KubeObject } from '../api/object.js';
import { errors, StatusError, type Status } from '../api/status.js';
import type { UserInfo } from '../auth/user.js';
import type { DeleteOptions } from '../registry/registry.js';
import type { ResourceDef } from '../registry/resource.js';
import {
  budgetsForPod,
  canIgnoreBudgets,
  multipleBudgetsMessage,
  shouldEnforceResourceVersion,
  spendDisruption,
  tooManyRequests,
  unhealthyPodMayGo,
} from '../registry/poddisruptionbudgets/eviction-decision.js';
import { checkObject, parseStructured } from './decode.js';
import type { HandlerContext } from './handler-context.js';
import { readBody, sendObject } from './http-io.js';
import type { RequestInfo } from './request-info.js';

/** EvictionsRetry: how often a lost race (a conflict) is tried again before giving up. */
const conflictRetries = 20;

const isConflict = (e: unknown) => e instanceof StatusError && e.code === 409;

interface EvictionBody {
  metadata?: { name?: string };
  deleteOptions?: {
    gracePeriodSeconds?: number;
    propagationPolicy?: string;
    preconditions?: { uid?: string; resourceVersion?: string };
    dryRun?: string[];
  };
}

/** The Eviction as sent: policy/v1 or policy/v1beta1 (AcceptsGroupVersion), checked against its schema. */
function decodeEviction(body: Buffer, contentType: string | undefined): EvictionBody {
  const value = parseStructured(body, contentType);
  const version = isPlainObject(value) && value.apiVersion === 'policy/v1beta1' ? 'v1beta1' : 'v1';
  return checkObject(value, { group: 'policy', version, kind: 'Eviction' }, 'Ignore').object as EvictionBody;
}

/** propagateDryRun: the request's dryRun and the Eviction's deleteOptions.dryRun must agree when both are given. */
function deleteOptionsOf(eviction: EvictionBody, requestDryRun: string[]): DeleteOptions {
  const d = eviction.deleteOptions ?? {};
  const bodyDryRun = d.dryRun ?? [];
  if (bodyDryRun.length && requestDryRun.length && !deepEqual(bodyDryRun, requestDryRun)) {
    throw errors.badRequest(`Non-matching dry-run options in request and content: [${requestDryRun.join(' ')}] and [${bodyDryRun.join(' ')}]`);
  }
  const dryRun = (bodyDryRun.length ? bodyDryRun : requestDryRun).includes('All');
  const opts: DeleteOptions = { dryRun };
  if (typeof d.gracePeriodSeconds === 'number') opts.gracePeriodSeconds = d.gracePeriodSeconds;
  if (typeof d.propagationPolicy === 'string') opts.propagationPolicy = d.propagationPolicy;
  if (d.preconditions) opts.preconditions = { ...d.preconditions };
  return opts;
}

const successStatus = (): Status => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });

export async function evictionHandler(req: IncomingMessage, res: ServerResponse, info: RequestInfo, podsDef: ResourceDef, ctx: HandlerContext, q: URLSearchParams, user: UserInfo) {
  if (info.verb !== 'create') throw errors.methodNotSupported({ group: '', resource: 'pods/eviction' }, info.verb);
  const eviction = decodeEviction(await readBody(req), req.headers['content-type']);
  if (eviction.metadata?.name !== info.name) throw errors.badRequest('name in URL does not match name in Eviction object');
  const requestDryRun = q.getAll('dryRun').filter(Boolean);
  if (requestDryRun.some((v) => v !== 'All')) throw errors.badRequest(`Invalid dry run value: ${requestDryRun.join(',')}`);
  const options = deleteOptionsOf(eviction, requestDryRun);
  try {
    const answer = await evict(ctx, podsDef, info.namespace!, info.name!, options, user);
    sendObject(req, res, answer.code, answer);
  } catch (e) {
    // A suggested wait travels as a Retry-After header too, as upstream's error writer sends it.
    const wait = e instanceof StatusError ? e.status.details?.retryAfterSeconds : undefined;
    if (wait) res.setHeader('Retry-After', String(wait));
    throw e;
  }
}

async function evict(ctx: HandlerContext, podsDef: ResourceDef, namespace: string, name: string, options: DeleteOptions, user: UserInfo): Promise<Status> {
  const budgetsDef = ctx.defs.find((d) => d.group === 'policy' && d.resource === 'poddisruptionbudgets');
  const pinned = !!options.preconditions?.resourceVersion;
  let pod: Pod | undefined;
  // Pods that can disrupt nothing go at once; a conflict (the pod changed under us) is retried unless the caller pinned a version.
  for (let attempt = 0; ; attempt++) {
    pod = (await ctx.registry.get(podsDef, namespace, name)) as unknown as Pod;
    if (!canIgnoreBudgets(pod)) break;
    const opts = shouldEnforceResourceVersion(pod) && !pinned ? withResourceVersion(options, pod.metadata!.resourceVersion!) : options;
    try {
      await markAndDelete(ctx, podsDef, namespace, name, opts, user);
      return successStatus();
    } catch (e) {
      if (!isConflict(e) || pinned || attempt >= conflictRetries) throw e;
    }
  }

  const { items } = budgetsDef ? await ctx.registry.list(budgetsDef, namespace) : { items: [] as KubeObject[] };
  const budgets = budgetsForPod(items as unknown as PodDisruptionBudget[], pod);
  if (budgets.length > 1) {
    // Upstream answers this with a Failure Status of code 500 (a Status returned, not an error raised).
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: multipleBudgetsMessage, code: 500 };
  }
  let pinToRead = false;
  const budget = budgets[0];
  if (budget && unhealthyPodMayGo(pod, budget)) {
    // An unready pod counts toward no budget: it goes without spending, provided it did not become ready since it was read.
    pinToRead = true;
  } else if (budget) {
    await spendBudget(ctx, budgetsDef!, budget, name, !!options.dryRun, user);
  }
  const opts = pinToRead && !pinned ? withResourceVersion(options, pod.metadata!.resourceVersion!) : options;
  try {
    await markAndDelete(ctx, podsDef, namespace, name, opts, user);
  } catch (e) {
    // The pod changed since the decision: ask the client to try again rather than fail.
    if (isConflict(e) && pinToRead && !pinned) throw tooManyRequests(10, `The disruption budget ${budget!.metadata!.name} is still being processed by the server.`);
    throw e;
  }
  return successStatus();
}

function withResourceVersion(options: DeleteOptions, resourceVersion: string): DeleteOptions {
  return { ...options, preconditions: { ...options.preconditions, resourceVersion } };
}

/** Verify-and-decrement on the budget's status; the status write is compare-and-swap, retried on conflict by the registry against a fresh read. */
async function spendBudget(ctx: HandlerContext, def: ResourceDef, budget: PodDisruptionBudget, podName: string, dryRun: boolean, user: UserInfo) {
  const pdbName = budget.metadata!.name!;
  if (dryRun) {
    spendDisruption(budget, podName, true, new Date());
    return;
  }
  try {
    await ctx.registry.update(
      def,
      budget.metadata!.namespace,
      pdbName,
      (live) => {
        live.status = spendDisruption(live as unknown as PodDisruptionBudget, podName, false, new Date());
        return live;
      },
      { subresource: 'status', user },
    );
  } catch (e) {
    if (isConflict(e)) throw errors.timeout(`couldn't update PodDisruptionBudget "${pdbName}" due to conflicts`);
    throw e;
  }
}

/**
 * addConditionAndDeletePod: the pod is marked DisruptionTarget (reason
 * EvictionByEvictionAPI) in its status, then deleted with the caller's
 * options — a pinned resourceVersion moves to the one the mark made.
 */
async function markAndDelete(ctx: HandlerContext, podsDef: ResourceDef, namespace: string, name: string, options: DeleteOptions, user: UserInfo) {
  let opts = options;
  if (!options.dryRun) {
    const marked = await ctx.registry.update(
      podsDef,
      namespace,
      name,
      (live) => {
        const pre = options.preconditions;
        const gr = { group: '', resource: 'pods' };
        if (pre?.uid && pre.uid !== live.metadata.uid) {
          throw errors.conflict(gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${live.metadata.uid}`);
        }
        if (pre?.resourceVersion && pre.resourceVersion !== live.metadata.resourceVersion) {
          throw errors.conflict(gr, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${live.metadata.resourceVersion}`);
        }
        addDisruptionTarget(live as unknown as Pod);
        return live;
      },
      { subresource: 'status', user },
    );
    if (options.preconditions?.resourceVersion) opts = withResourceVersion(options, marked.object.metadata.resourceVersion!);
  }
  await ctx.registry.delete(podsDef, namespace, name, { ...opts, user });
}

/** podutil.UpdatePodCondition with DisruptionTarget=True; the transition time moves only when the status does. */
function addDisruptionTarget(pod: Pod) {
  type Condition = { type: string; status: string; reason?: string; message?: string; lastProbeTime?: string | null; lastTransitionTime?: string };
  const p = pod as { status?: { conditions?: Condition[] } };
  const status = (p.status ??= {});
  const conditions = (status.conditions ??= []);
  const wanted = { type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' };
  const existing = conditions.find((c) => c.type === wanted.type);
  if (!existing) {
    conditions.push({ ...wanted, lastProbeTime: null, lastTransitionTime: nowTimestamp() });
    return;
  }
  if (existing.status !== wanted.status) existing.lastTransitionTime = nowTimestamp();
  Object.assign(existing, wanted);
}
