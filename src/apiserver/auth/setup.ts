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
import { createBootstrapTokenAuthenticator } from '../../auth/bootstrap-token/authenticator.js';
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
  jwks,
  openIdConfiguration,
  type BoundObjectLookup,
  type LiveObject,
  type ServiceAccountKeys,
} from '../../auth/serviceaccount/index.js';
import { followResource } from '../../registry/follow.js';
import type { RbacResourceDefs } from '../../registry/rbac/resource.js';
import type { ObjectEvent, Registry } from '../../registry/registry.js';
import type { ResourceDef } from '../../registry/resource.js';
import type { Extensions } from '../extensions.js';
import type { RequestAuth } from './filter.js';

export interface AuthConfig {
  registry: Registry;
  def(resource: string): ResourceDef;
  rbac: RbacResourceDefs;
  /** The service account signing keys (ensureServiceAccountKeys). */
  keys: ServiceAccountKeys;
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
  const { registry, def, keys } = config;
  const issuerURL = clusterIssuer(config.clusterDomain);
  const apiAudiences = [issuerURL];
  const issuer = createTokenIssuer({ privateKey: keys.privateKey, keyId: keys.keyId, issuer: issuerURL });
  const live = liveObjects(registry, def);
  const validator = createTokenValidator({ publicKeys: [keys.publicKey], issuers: [issuerURL], audiences: apiAudiences, lookup: live.lookup });
  // --enable-bootstrap-token-auth: bootstrap tokens first; a token that is not one goes on to the service account validator.
  const bootstrapTokens = createBootstrapTokenAuthenticator((ns, name) => live.secretObject(ns, name));
  const tokens: TokenAuthenticator = {
    authenticate(token) {
      const bootstrap = bootstrapTokens.authenticate(token);
      if (bootstrap && 'user' in bootstrap) return Promise.resolve({ user: bootstrap.user, audiences: apiAudiences });
      return validator.validate(token);
    },
  };

  const policy = createPolicyCache(registry, config.rbac);
  const rbac = createRbacAuthorizer(policy);
  const graph = createNodeGraph();
  const pods = followResource(registry, def('pods'), {
    replace(items) {
      graph.clear();
      for (const p of items) graph.putPod(p as Pod);
      live.pods.replace(items);
    },
    apply(e) {
      if (e.type === 'DELETED') graph.removePod(e.object as Pod);
      else graph.putPod(e.object as Pod);
      live.pods.apply(e);
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
    ready: Promise.all([policy.ready, pods.ready, live.ready]).then(() => undefined),
    stop() {
      policy.stop();
      pods.stop();
      live.stop();
    },
  };
}

/**
 * The live objects tokens name, as upstream's authenticator reads them from
 * informers: service accounts, secrets and nodes followed here, pods fed by
 * the caller's pod follower. The registry publishes a write's event before
 * the write returns, so a deleted account or pod refuses its token on the
 * very next request.
 */
function liveObjects(registry: Registry, def: (resource: string) => ResourceDef) {
  const table = () => {
    const byKey = new Map<string, KubeObject>();
    const key = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
    return {
      get: (namespace: string, name: string) => byKey.get(`${namespace}/${name}`),
      replace(items: KubeObject[]) {
        byKey.clear();
        for (const o of items) byKey.set(key(o), o);
      },
      apply(e: ObjectEvent) {
        if (e.type === 'DELETED') byKey.delete(key(e.object));
        else byKey.set(key(e.object), e.object);
      },
    };
  };
  const accounts = table();
  const secrets = table();
  const nodes = table();
  const pods = table();
  const followers = [followResource(registry, def('serviceaccounts'), accounts), followResource(registry, def('secrets'), secrets), followResource(registry, def('nodes'), nodes)];
  const liveOf = (o: KubeObject | undefined): LiveObject | undefined =>
    o && { uid: o.metadata.uid ?? '', ...(o.metadata.deletionTimestamp ? { deletionTimestamp: o.metadata.deletionTimestamp } : {}) };
  const lookup: BoundObjectLookup = {
    serviceAccount: (ns, name) => liveOf(accounts.get(ns, name)),
    pod: (ns, name) => liveOf(pods.get(ns, name)),
    node: (name) => liveOf(nodes.get('', name)),
    secret(ns, name) {
      const s = secrets.get(ns, name);
      if (!s) return undefined;
      const token = (s as { data?: Record<string, string> }).data?.token;
      return { ...liveOf(s)!, ...(token ? { token: Buffer.from(token, 'base64').toString('utf8') } : {}) };
    },
  };
  return {
    lookup,
    /** A followed Secret as it is stored (bootstrap token Secrets). */
    secretObject: (namespace: string, name: string) => secrets.get(namespace, name) as { type?: string; data?: Record<string, string> } | undefined,
    pods,
    ready: Promise.all(followers.map((f) => f.ready)).then(() => undefined),
    stop() {
      for (const f of followers) f.stop();
    },
  };
}
