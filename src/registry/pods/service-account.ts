// The ServiceAccount admission plugin's pod mutation
// (plugin/pkg/admission/serviceaccount): a pod runs as a service account
// ("default" unless named; it must exist) and, unless automountServiceAccountToken
// is false on the pod or else on the account,
// every container mounts the projected volume kube-api-access-<5 chars> at
// /var/run/secrets/kubernetes.io/serviceaccount: a token, the cluster CA
// (ConfigMap kube-root-ca.crt) and the namespace — what in-cluster clients
// (client-go's InClusterConfig, kubectl in a pod) read.
import type { Container, Pod, PodSpec } from '../../api/types.js';
import type { ServiceAccount } from 'kubernetes-types/core/v1.js';

type Volume = NonNullable<PodSpec['volumes']>[number];

export const serviceAccountMountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
const volumePrefix = 'kube-api-access-';
/** DefaultTokenExpirationSeconds: one hour plus 7 s, so a token's age tells it was requested by the admission default. */
const tokenExpirationSeconds = 3607;
/** k8s.io/apimachinery/pkg/util/rand: consonants and digits that spell no words. */
const alphanums = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(n = 5, random: () => number = Math.random): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphanums[Math.floor(random() * alphanums.length)];
  return s;
}

function tokenVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: tokenExpirationSeconds, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

/** The account a pod runs as: the one it names, else "default" (set on the pod). */
export function podServiceAccountName(pod: Pod): string {
  const spec = (pod.spec ??= { containers: [] });
  spec.serviceAccountName ||= 'default';
  spec.serviceAccount ||= spec.serviceAccountName;
  return spec.serviceAccountName;
}

/**
 * Mutates a pod being created as the admission plugin does, given its
 * account (found by the caller; upstream refuses a pod whose account is
 * missing). The pod's automountServiceAccountToken wins over the account's.
 * `suffix` names a new volume.
 */
export function admitServiceAccount(pod: Pod, account: ServiceAccount = {}, suffix: string = randomSuffix()): void {
  podServiceAccountName(pod);
  const spec = pod.spec!;
  if ((spec.automountServiceAccountToken ?? account.automountServiceAccountToken) === false) return;
  const existing = (spec.volumes ?? []).find((v) => v.name.startsWith(volumePrefix));
  const name = existing?.name ?? volumePrefix + suffix;
  let needsVolume = false;
  const mount = (c: Container) => {
    if ((c.volumeMounts ?? []).some((m) => m.mountPath === serviceAccountMountPath)) return;
    (c.volumeMounts ??= []).push({ name, readOnly: true, mountPath: serviceAccountMountPath });
    needsVolume = true;
  };
  for (const c of spec.initContainers ?? []) mount(c);
  for (const c of spec.containers ?? []) mount(c);
  if (!existing && needsVolume) (spec.volumes ??= []).push(tokenVolume(name));
}
