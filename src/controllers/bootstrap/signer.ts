// kube-controller-manager's bootstrapsigner controller (pkg/controller/
// bootstrap/bootstrapsigner.go): kube-public/cluster-info carries, for every
// bootstrap token that may sign (usage-bootstrap-signing=true, valid, not
// expired), the detached JWS of its kubeconfig under jws-kubeconfig-<id>;
// signatures of tokens that are gone are removed. One key: any token Secret
// or cluster-info change re-signs.
import { resourceTypes } from '../../client/client.js';
import type { Informer } from '../../client/informer.js';
import type { ConfigMapObject as ConfigMap } from '../../api/types.js';
import type { KubeObject } from '../../api/object.js';
import { computeDetachedSignature } from '../../auth/bootstrap-token/jws.js';
import { clusterInfo, hasExpired, isValidTokenID, keys, secretData, secretTypeBootstrapToken, tokenIDOfSecretName, tokenNamespace, type TokenSecret } from '../../auth/bootstrap-token/token.js';
import { queueFor, type Controller, type ControllerContext } from '../controller.js';

/** getTokens: id → secret of each token that may sign now. */
export function signingTokens(secrets: TokenSecret[], now = new Date()): Map<string, string> {
  const tokens = new Map<string, string>();
  for (const s of secrets) {
    if (s.metadata?.namespace !== tokenNamespace || s.type !== secretTypeBootstrapToken) continue;
    const id = secretData(s, keys.tokenID);
    if (!isValidTokenID(id) || tokenIDOfSecretName(s.metadata.name ?? '') !== id) continue;
    const secret = secretData(s, keys.tokenSecret);
    if (!/^[a-z0-9]{16}$/.test(secret)) continue;
    if (hasExpired(s, now) || secretData(s, keys.usageSigning) !== 'true') continue;
    tokens.set(id, secret);
  }
  return tokens;
}

/** signConfigMap: the data cluster-info should hold, or undefined when it holds it already. */
export function signedData(data: Record<string, string>, tokens: Map<string, string>): Record<string, string> | undefined {
  const content = data[clusterInfo.kubeconfigKey];
  if (content === undefined) return undefined;
  const next: Record<string, string> = {};
  const old = new Map<string, string>();
  for (const [k, v] of Object.entries(data)) {
    if (k.startsWith(clusterInfo.jwsKeyPrefix)) old.set(k.slice(clusterInfo.jwsKeyPrefix.length), v);
    else next[k] = v;
  }
  let changed = false;
  for (const [id, secret] of tokens) {
    const sig = computeDetachedSignature(content, id, secret);
    if (old.get(id) !== sig) changed = true;
    old.delete(id);
    next[clusterInfo.jwsKeyPrefix + id] = sig;
  }
  if (old.size) changed = true;
  return changed ? next : undefined;
}

export function createBootstrapSignerController(ctx: ControllerContext): Controller {
  const configMaps = ctx.client.resource<ConfigMap>(resourceTypes.configmaps);
  let secrets: Informer<TokenSecret & KubeObject>;
  let cms: Informer<ConfigMap>;
  const key = `${clusterInfo.namespace}/${clusterInfo.name}`;
  const { queue } = queueFor('bootstrapsigner', async () => {
    const cm = cms.get(key);
    if (!cm) return;
    const data = signedData((cm.data ?? {}) as Record<string, string>, signingTokens(secrets.list()));
    if (!data) return;
    await configMaps.update({ ...cm, data });
  }, 1);
  const enqueue = () => queue.add(key);
  return {
    name: 'bootstrapsigner',
    setup() {
      secrets = ctx.factory.informer(resourceTypes.secrets);
      cms = ctx.factory.informer<ConfigMap>(resourceTypes.configmaps);
      secrets.on({
        add: (s) => s.type === secretTypeBootstrapToken && enqueue(),
        update: (o, s) => (o.type === secretTypeBootstrapToken || s.type === secretTypeBootstrapToken) && enqueue(),
        delete: (s) => s.type === secretTypeBootstrapToken && enqueue(),
      });
      cms.on({ add: (c) => keyOf(c) === key && enqueue(), update: (_o, c) => keyOf(c) === key && enqueue() });
    },
    run: enqueue,
    stop: () => queue.shutdown(),
    idle: () => queue.idle(),
  };
}

const keyOf = (o: { metadata: { namespace?: string; name?: string } }) => `${o.metadata.namespace}/${o.metadata.name}`;
