// What the Node authorizer knows about each node: the pods bound to it and,
// through them, the secrets, configmaps and service accounts a kubelet needs
// to run them (upstream's authorization graph, reduced to the edges the
// objects kubesvc serves have).
import type { Pod } from '../../api/types.js';

export interface NodeGraph {
  /** Whether a pod on `node` uses `kind` namespace/name. */
  related(node: string, kind: 'secrets' | 'configmaps' | 'serviceaccounts', namespace: string, name: string): boolean;
  /** The node a pod is bound to. */
  podNode(namespace: string, name: string): string | undefined;
  putPod(pod: Pod): void;
  removePod(pod: Pod): void;
  clear(): void;
}

interface PodEdges {
  node: string;
  secrets: string[];
  configmaps: string[];
  serviceAccount: string;
}

/** The secrets and configmaps a pod references: volumes (also projected), env, envFrom, image pull secrets. */
export function podReferences(pod: Pod): { secrets: string[]; configmaps: string[] } {
  const secrets = new Set<string>();
  const configmaps = new Set<string>();
  const spec = pod.spec;
  for (const s of spec?.imagePullSecrets ?? []) if (s.name) secrets.add(s.name);
  for (const v of spec?.volumes ?? []) {
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
    if (v.configMap?.name) configmaps.add(v.configMap.name);
    for (const p of v.projected?.sources ?? []) {
      if (p.secret?.name) secrets.add(p.secret.name);
      if (p.configMap?.name) configmaps.add(p.configMap.name);
    }
  }
  for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? []), ...(spec?.ephemeralContainers ?? [])]) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
      if (e.valueFrom?.configMapKeyRef?.name) configmaps.add(e.valueFrom.configMapKeyRef.name);
    }
    for (const f of c.envFrom ?? []) {
      if (f.secretRef?.name) secrets.add(f.secretRef.name);
      if (f.configMapRef?.name) configmaps.add(f.configMapRef.name);
    }
  }
  return { secrets: [...secrets], configmaps: [...configmaps] };
}

export function createNodeGraph(): NodeGraph {
  const pods = new Map<string, PodEdges>();
  /** node → "kind/namespace/name" → number of its pods using it. */
  const uses = new Map<string, Map<string, number>>();
  const key = (namespace: string, name: string) => `${namespace}/${name}`;
  const count = (node: string, ref: string, delta: number) => {
    let m = uses.get(node);
    if (!m) uses.set(node, (m = new Map()));
    const n = (m.get(ref) ?? 0) + delta;
    if (n > 0) m.set(ref, n);
    else m.delete(ref);
  };
  const refsOf = (namespace: string, e: PodEdges) => [
    ...e.secrets.map((s) => `secrets/${namespace}/${s}`),
    ...e.configmaps.map((c) => `configmaps/${namespace}/${c}`),
    `serviceaccounts/${namespace}/${e.serviceAccount}`,
  ];
  const removeKey = (k: string) => {
    const old = pods.get(k);
    if (!old) return;
    const namespace = k.slice(0, k.indexOf('/'));
    for (const r of refsOf(namespace, old)) count(old.node, r, -1);
    pods.delete(k);
  };
  return {
    related: (node, kind, namespace, name) => (uses.get(node)?.get(`${kind}/${namespace}/${name}`) ?? 0) > 0,
    podNode: (namespace, name) => pods.get(key(namespace, name))?.node,
    putPod(pod) {
      const namespace = pod.metadata?.namespace ?? '';
      const k = key(namespace, pod.metadata?.name ?? '');
      removeKey(k);
      const node = pod.spec?.nodeName;
      if (!node) return;
      const edges: PodEdges = { node, ...podReferences(pod), serviceAccount: pod.spec?.serviceAccountName || 'default' };
      pods.set(k, edges);
      for (const r of refsOf(namespace, edges)) count(node, r, 1);
    },
    removePod(pod) {
      removeKey(key(pod.metadata?.namespace ?? '', pod.metadata?.name ?? ''));
    },
    clear() {
      pods.clear();
      uses.clear();
    },
  };
}
