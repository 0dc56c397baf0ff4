// The cluster DNS's recent questions and answers: every running coredns pod
// (kube-system, k8s-app=kube-dns) serves them as JSON on its metrics port
// (/recent, src/dns/http.ts). Pod addresses are reached only from inside the
// cluster, so the request is made from the pod's node's namespace (curl there).
import { execInNetns, netnsExists } from '../net/ip.js';
import type { RecentQuery } from '../dns/recent.js';
import type { ClusterState } from './cluster-state.js';

/** The coredns metrics port (system-components.ts: containerPort "metrics"). */
const metricsPort = 9153;

export interface RecentDns {
  queries: (RecentQuery & { server: string })[];
  /** Pods that could not be asked, with why. */
  errors: string[];
}

export async function readRecentDns(state: ClusterState, nodeNetns: (node: string) => string, keep = 200): Promise<RecentDns> {
  const pods = state.informers.pods.list().filter((p) => p.metadata.namespace === 'kube-system' && p.metadata.labels?.['k8s-app'] === 'kube-dns' && p.status?.podIP && p.spec?.nodeName);
  const errors: string[] = [];
  const lists = await Promise.all(
    pods.map(async (p) => {
      const netns = nodeNetns(p.spec!.nodeName!);
      if (!(await netnsExists(netns))) return [];
      try {
        const r = await execInNetns(netns, ['curl', '-sf', '-m', '1', `http://${p.status!.podIP}:${metricsPort}/recent`], { timeoutMs: 3000 });
        return (JSON.parse(r.stdout) as RecentQuery[]).map((q) => ({ ...q, server: p.metadata.name! }));
      } catch (e) {
        errors.push(`${p.metadata.name}: ${(e as Error).message.split('\n')[0]}`);
        return [];
      }
    }),
  );
  return { queries: lists.flat().sort((a, b) => a.time - b.time).slice(-keep), errors };
}
