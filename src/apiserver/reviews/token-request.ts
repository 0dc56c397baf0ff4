// serviceaccounts/{name}/token (TokenRequest, `kubectl create token`): a
// signed token for the account, bound to a pod, secret or node that must
// exist with the given uid, as upstream's token REST storage checks; the
// kubelet asks for its pods' projected tokens the same way.
import { isPlainObject, type KubeObject } from '../../api/object.js';
import { errors } from '../../api/status.js';
import type { Registry } from '../../registry/registry.js';
import type { ResourceDef } from '../../registry/resource.js';
import type { Extensions, TokenIssueRequest } from '../extensions.js';

const group = 'authentication.k8s.io';

interface TokenRequestSpec {
  audiences?: string[];
  expirationSeconds?: number;
  boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string };
}

export interface TokenRequestDeps {
  registry: Registry;
  def(resource: string): ResourceDef;
  extensions: Extensions;
}

const notFoundOr = <T>(p: Promise<T>): Promise<T | undefined> =>
  p.catch((e: { code?: number }) => {
    if (e.code === 404) return undefined;
    throw e;
  });

/** The TokenRequest answered: the request with status.token and status.expirationTimestamp, and any warnings. */
export async function requestToken(deps: TokenRequestDeps, namespace: string, accountName: string, body: KubeObject): Promise<{ answer: KubeObject; warnings: string[] }> {
  const spec = (isPlainObject(body.spec) ? body.spec : {}) as TokenRequestSpec;
  const account = await deps.registry.get(deps.def('serviceaccounts'), namespace, accountName);
  const request: TokenIssueRequest = {
    namespace,
    serviceAccount: { name: accountName, uid: account.metadata.uid ?? '' },
    audiences: spec.audiences,
    expirationSeconds: spec.expirationSeconds,
  };
  const ref = spec.boundObjectRef;
  if (ref) await bind(deps, request, accountName, ref);
  const issued = deps.extensions.issueToken(request);
  return {
    warnings: issued.warnings,
    answer: {
      kind: 'TokenRequest',
      apiVersion: `${group}/v1`,
      metadata: { name: accountName, namespace, creationTimestamp: null } as unknown as KubeObject['metadata'],
      spec: { ...spec, audiences: issued.audiences, expirationSeconds: issued.expirationSeconds, boundObjectRef: ref ?? null },
      status: { token: issued.token, expirationTimestamp: issued.expirationTimestamp },
    },
  };
}

/** Resolves spec.boundObjectRef onto the request, refusing what upstream refuses. */
async function bind(deps: TokenRequestDeps, request: TokenIssueRequest, accountName: string, ref: NonNullable<TokenRequestSpec['boundObjectRef']>): Promise<void> {
  const kind = ref.kind ?? '';
  const resource = kind === 'Pod' ? 'pods' : kind === 'Secret' ? 'secrets' : kind === 'Node' ? 'nodes' : '';
  const apiVersion = ref.apiVersion ?? '';
  if (!resource || apiVersion !== 'v1') {
    // As Go prints a GroupVersionKind: "/v1, Kind=Pod" for the core group.
    throw errors.badRequest(`cannot bind token to object of type ${apiVersion.includes('/') ? apiVersion : `/${apiVersion}`}, Kind=${kind}`);
  }
  const name = ref.name ?? '';
  const obj = await deps.registry.get(deps.def(resource), kind === 'Node' ? undefined : request.namespace, name);
  const uid = obj.metadata.uid ?? '';
  if (ref.uid && ref.uid !== uid) {
    throw errors.conflict({ group: '', resource: kind }, name, `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
  }
  if (kind === 'Secret') request.secret = { name, uid };
  if (kind === 'Node') request.node = { name, uid };
  if (kind === 'Pod') {
    const spec = (obj.spec ?? {}) as { serviceAccountName?: string; nodeName?: string };
    if ((spec.serviceAccountName || 'default') !== accountName) {
      throw errors.badRequest(`cannot bind token for serviceaccount "${accountName}" to pod running with different serviceaccount name.`);
    }
    request.pod = { name, uid };
    if (spec.nodeName) {
      const node = await notFoundOr(deps.registry.get(deps.def('nodes'), undefined, spec.nodeName));
      request.node = { name: spec.nodeName, ...(node?.metadata.uid ? { uid: node.metadata.uid } : {}) };
    }
  }
}
