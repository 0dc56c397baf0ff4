// The authorizer chain of a kubeadm cluster (--authorization-mode=Node,RBAC)
// behind upstream's privileged-group short cut: members of system:masters
// may do anything; otherwise the first authorizer with an opinion decides,
// and no opinion at all is a denial.
import type { Attributes, Authorizer, AuthorizerResult } from '../attributes.js';
import { groups } from '../user.js';

export function unionAuthorizer(chain: Authorizer[]): Authorizer {
  return {
    authorize(attrs: Attributes): AuthorizerResult {
      if (attrs.user.groups.includes(groups.masters)) return { decision: 'allow', reason: '' };
      const reasons: string[] = [];
      for (const a of chain) {
        const r = a.authorize(attrs);
        if (r.decision !== 'no-opinion') return r;
        if (r.reason) reasons.push(r.reason);
      }
      return { decision: 'no-opinion', reason: reasons.join('\n') };
    },
  };
}

/** Upstream's AlwaysAllow mode: only for measuring what authorization costs (bench), never a cluster's default. */
export const alwaysAllow: Authorizer = { authorize: () => ({ decision: 'allow', reason: '' }) };
