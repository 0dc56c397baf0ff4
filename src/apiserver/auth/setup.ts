// The API server's authentication and authorization, assembled as a kubeadm
// cluster's kube-apiserver runs them: x509 client certificates against the
// cluster CA, ServiceAccount tokens signed with pki/sa.key
// (--service-account-issuer https://kubernetes.default.svc.<domain>, the
// issuer as API audience), anonymous requests as system:anonymous; then
// --authorization-mode=Node,RBAC behind the system:masters short cut. Also
// what the review resources and TokenRequest need from them.
import type { KubeObject } from '../../api/object.js';
import type { Pod } from '../../api/types.js';
import type { Authorizer } from '../../auth/attributes.js';
import { createRequestAuthenticator, type TokenAuthenticator } from '../../auth/authn/authenticator.js';
import { createNodeAuthorizer } from '../../auth/authz/node.js';
import { createNodeGraph } from '../../auth/authz/node-graph.js';
import { alwaysAllow, unionAuthorizer } from '../../auth/authz/union.js';
import { createRbacAuthorizer, type RbacRuleResolver } from '../../auth/rbac/authorizer.js';
import { bootstrapPolicy } from '../../auth/rbac/bootstrap-policy.js';
import { createPolicyCache } from '../../auth/rbac/policy-cache.js';
import {
  boundTokenClaims,
  clusterIssuer,
  createTokenIssuer,
  createTokenValidator,
  defaultJwksUri,
  ensureServiceAccountKeys,
  jwks,
  openIdConfiguration,
  type BoundObjectLookup,
  type LiveObject,
} from '../../auth/serviceaccount/index.js';
import { followResource } from '../../registry/follow.js';
import type { RbacResourceDefs } from '../../registry/rbac/resource.js';
import type { Registry } from '../../registry/registry.js';
import type { ResourceDef } from '../../registry/resource.js';
import type { Extensions } from '../extensions.js';
import type { RequestAuth } from './filter.js';

export interface AuthConfig {
  registry: Registry;
  def(resource: string): ResourceDef;
  rbac: RbacResourceDefs;
  pkiDir: string;
  clusterDomain: string;
  /** host:port clients reach the server at (the JWKS URI names it). */
  externalAddress: () => string;
  /** 'RBAC' (Node,RBAC: every cluster's) or 'AlwaysAllow' (only to measure what authorization costs). */
  authorization: 'RBAC' | 'AlwaysAllow';
}

export interface ServerAuth {
  auth: RequestAuth;
  /** RBAC's rule resolver, for the escalation checks of RBAC writes. */
  rbac: RbacRuleResolver;
  extensions: Extensions;
  issuerDiscovery: { openIdConfiguration(): unknown; jwks(): unknown };
  /** Resolves when the policy and node graph caches are filled. */
  ready: Promise<void>;
  stop(): void;
}

export function setupAuth(config: AuthConfig): ServerAuth {
  const { registry, def } = config;
  const keys = ensureServiceAccountKeys(config.pkiDir);
  const issuerURL = clusterIssuer(config.clusterDomain);
  const apiAudiences = [issuerURL];
  const issuer = createTokenIssuer({ privateKey: keys.privateKey, keyId: keys.keyId, issuer: issuerURL });
  const validator = createTokenValidator({ publicKeys: [keys.publicKey], issuers: [issuerURL], audiences: apiAudiences, lookup: registryLookup(registry, def) });
  const tokens: TokenAuthenticator = { authenticate: (token) => validator.validate(token) };

  const policy = createPolicyCache(registry, config.rbac);
  const rbac = createRbacAuthorizer(policy);
  const graph = createNodeGraph();
  const pods = followResource(registry, def('pods'), {
    replace(items) {
      graph.clear();
      for (const p of items) graph.putPod(p as Pod);
    },
    apply(e) {
      if (e.type === 'DELETED') graph.removePod(e.object as Pod);
      else graph.putPod(e.object as Pod);
    },
  });
  const nodeRules = bootstrapPolicy.clusterRoles.find((r) => r.metadata.name === 'system:node')?.rules ?? [];
  const authorizer: Authorizer = config.authorization === 'AlwaysAllow' ? alwaysAllow : unionAuthorizer([createNodeAuthorizer(graph, nodeRules), rbac]);

  const extensions: Extensions = {
    rulesFor: (user, namespace) => rbac.rulesFor(user, namespace),
    tokens,
    apiAudiences,
    issueToken(req) {
      const plan = boundTokenClaims({ ...req, apiAudiences });
      const issued = issuer.issue(plan.claims);
      return {
        token: issued.token,
        expirationTimestamp: issued.expirationTimestamp,
        audiences: plan.claims.audiences,
        expirationSeconds: plan.claims.warnAfterSeconds ?? plan.claims.expirationSeconds,
        warnings: plan.warnings,
      };
    },
  };
  return {
    auth: { authenticator: createRequestAuthenticator(tokens), authorizer },
    rbac,
    extensions,
    issuerDiscovery: {
      openIdConfiguration: () => openIdConfiguration(issuerURL, defaultJwksUri(config.externalAddress())),
      jwks: () => jwks([{ publicKey: keys.publicKey, keyId: keys.keyId }]),
    },
    ready: Promise.all([policy.ready, pods.ready]).then(() => undefined),
    stop() {
      policy.stop();
      pods.stop();
    },
  };
}

/** The live objects a token names, read from the registry on every request (a missing one is undefined). */
function registryLookup(registry: Registry, def: (resource: string) => ResourceDef): BoundObjectLookup {
  const find = async (resource: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> => {
    try {
      return await registry.get(def(resource), namespace, name);
    } catch (e) {
      if ((e as { code?: number }).code === 404) return undefined;
      throw e;
    }
  };
  const live = (o: KubeObject | undefined): LiveObject | undefined =>
    o && { uid: o.metadata.uid ?? '', ...(o.metadata.deletionTimestamp ? { deletionTimestamp: o.metadata.deletionTimestamp } : {}) };
  return {
    serviceAccount: async (ns, name) => live(await find('serviceaccounts', ns, name)),
    pod: async (ns, name) => live(await find('pods', ns, name)),
    node: async (name) => live(await find('nodes', undefined, name)),
    async secret(ns, name) {
      const s = await find('secrets', ns, name);
      if (!s) return undefined;
      const token = (s as { data?: Record<string, string> }).data?.token;
      return { ...live(s)!, ...(token ? { token: Buffer.from(token, 'base64').toString('utf8') } : {}) };
    },
  };
}
