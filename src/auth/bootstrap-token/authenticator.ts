// The bootstrap token authenticator (kube-apiserver
// --enable-bootstrap-token-auth, on in every kubeadm cluster): a bearer token
// of the form <id>.<secret> whose Secret kube-system/bootstrap-token-<id>
// exists, is of the bootstrap type, holds that secret and id, has not expired
// and is marked for authentication is the user system:bootstrap:<id> in
// system:bootstrappers and its extra groups. Any other token is not this
// authenticator's: it says nothing (upstream logs why at V(3)) and the next
// authenticator decides, so a refused bootstrap token is a plain 401.
import { timingSafeEqual } from 'node:crypto';
import type { UserInfo } from '../user.js';
import { logger } from '../../util/log.js';
import {
  bootstrapUserPrefix,
  hasExpired,
  keys,
  parseToken,
  secretData,
  secretName,
  secretTypeBootstrapToken,
  tokenGroups,
  tokenNamespace,
  type TokenSecret,
} from './token.js';

const log = logger('bootstrap-token-authenticator');

/** The user of a bootstrap token, or why it is not one (undefined: not ours at all). */
export type BootstrapTokenResult = { user: UserInfo } | { rejected: string } | undefined;

export function createBootstrapTokenAuthenticator(getSecret: (namespace: string, name: string) => TokenSecret | undefined) {
  return {
    authenticate(token: string, now = new Date()): BootstrapTokenResult {
      let parsed: { id: string; secret: string };
      try {
        parsed = parseToken(token);
      } catch {
        return undefined;
      }
      const name = secretName(parsed.id);
      const secret = getSecret(tokenNamespace, name);
      if (!secret) {
        log.v(3).info(`No secret of name ${name} to match bootstrap bearer token`);
        return { rejected: 'no secret' };
      }
      const refuse = (why: string) => {
        const text = `Bootstrap secret ${tokenNamespace}/${name} matching bearer token ${bootstrapUserPrefix}${parsed.id} ${why}`;
        log.v(3).info(text);
        return { rejected: text };
      };
      if (secret.metadata?.deletionTimestamp) return refuse('is deleted and awaiting removal');
      if (secret.type !== secretTypeBootstrapToken || !secret.data) return refuse(`has invalid type, expected ${secretTypeBootstrapToken}.`);
      const stored = Buffer.from(secretData(secret, keys.tokenSecret));
      const given = Buffer.from(parsed.secret);
      if (stored.length !== given.length || !timingSafeEqual(stored, given)) return refuse(`has invalid value for key ${keys.tokenSecret}.`);
      const id = secretData(secret, keys.tokenID);
      if (id !== parsed.id) return refuse(`has invalid value for key ${keys.tokenID}.`);
      if (hasExpired(secret, now)) return refuse('has expired.');
      if (secretData(secret, keys.usageAuthentication) !== 'true') return refuse(`not marked ${keys.usageAuthentication}=true.`);
      let groups: string[];
      try {
        groups = tokenGroups(secret);
      } catch (e) {
        return refuse(`has invalid value for key ${keys.extraGroups}: ${(e as Error).message}.`);
      }
      return { user: { name: bootstrapUserPrefix + id, groups } };
    },
  };
}
