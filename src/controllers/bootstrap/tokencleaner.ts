// kube-controller-manager's tokencleaner controller (pkg/controller/
// bootstrap/tokencleaner.go): a bootstrap token Secret in kube-system whose
// expiration has passed is deleted (with its uid as precondition); one that
// will expire is looked at again when it does.
import { resourceTypes } from '../../client/client.js';
import type { Informer } from '../../client/informer.js';
import type { KubeObject } from '../../api/object.js';
import { hasExpired, keys, parseRFC3339, secretData, secretTypeBootstrapToken, tokenNamespace, type TokenSecret } from '../../auth/bootstrap-token/token.js';
import { queueFor, type Controller, type ControllerContext } from '../controller.js';

type Secret = TokenSecret & KubeObject;

export function createTokenCleanerController(ctx: ControllerContext): Controller {
  const client = ctx.client.resource<Secret>(resourceTypes.secrets);
  let secrets: Informer<Secret>;
  const { queue, log } = queueFor('tokencleaner', async (key) => {
    const secret = secrets.get(key);
    if (!secret || secret.type !== secretTypeBootstrapToken || secret.metadata.namespace !== tokenNamespace) return;
    if (hasExpired(secret)) {
      log.v(3).info(`Deleting expired secret ${key}`);
      await client.delete(tokenNamespace, secret.metadata.name!, { preconditions: { uid: secret.metadata.uid } }).catch((e: { code?: number }) => {
        if (e.code !== 404 && e.code !== 409) throw e;
      });
      return;
    }
    const expiration = parseRFC3339(secretData(secret, keys.expiration));
    if (expiration !== undefined) queue.addAfter(key, Math.max(0, expiration - Date.now()) + 1);
  });
  const enqueue = (s: Secret) => {
    if (s.metadata.namespace === tokenNamespace && s.type === secretTypeBootstrapToken) queue.add(`${s.metadata.namespace}/${s.metadata.name}`);
  };
  return {
    name: 'tokencleaner',
    setup() {
      secrets = ctx.factory.informer<Secret>(resourceTypes.secrets);
      secrets.on({ add: enqueue, update: (_o, s) => enqueue(s) });
    },
    run() {
      for (const s of secrets.list()) enqueue(s);
    },
    stop: () => queue.shutdown(),
    idle: () => queue.idle(),
  };
}
