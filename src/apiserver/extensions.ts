// What the create-only resources need from the server beyond the registry:
// the rules a user has (SelfSubjectRulesReview), token authentication
// (TokenReview) and token issuing (serviceaccounts/token).
import type { TokenAuthenticator } from '../auth/authn/authenticator.js';
import type { UserInfo } from '../auth/user.js';
import type { SubjectRules } from '../auth/rbac/authorizer.js';
import type { BoundTokenRequest } from '../auth/serviceaccount/token-request.js';

/** A TokenRequest with its bound object resolved; the server adds its audiences and limits. */
export type TokenIssueRequest = Omit<BoundTokenRequest, 'apiAudiences'>;

export interface Extensions {
  rulesFor(user: UserInfo, namespace: string): SubjectRules;
  tokens: TokenAuthenticator;
  /** The audiences a token gets when the request names none: the API's own (the issuer). */
  apiAudiences: string[];
  /** Throws the 422 of an out-of-range expiration; warnings go to the response. */
  issueToken(req: TokenIssueRequest): { token: string; expirationTimestamp: string; audiences: string[]; expirationSeconds: number; warnings: string[] };
}
