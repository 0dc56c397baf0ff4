// `kubesvc status`: the cluster at a glance — nodes, system pods, and every
// Service with its addresses and how many endpoints are ready — read through
// the API like any client.
import { labelServiceName } from '../api/labels.js';
import type { EndpointSlice, Node, Pod, Service, Stored } from '../api/types.js';
import { resourceTypes } from '../client/client.js';
import { clientFor } from './client-flags.js';
import { componentUsers } from '../auth/user.js';
import { parseFlags, UsageError } from './args.js';

export const statusUsage = `Usage: kubesvc status [--data-dir .kubesvc | --kubeconfig FILE]

Shows the nodes, the kube-system pods and every Service with its cluster IP,
ports and ready endpoints.`;


/** Fixed-width columns, as kubectl prints them. */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join('').trimEnd()).join('\n');
}

function servicePorts(s: Service): string {
  return (s.spec?.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',') || '<none>';
}

export async function statusCommand(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, { 'data-dir': { type: 'string' }, kubeconfig: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log(statusUsage);
    return;
  }
  const dataDir = values['data-dir'] ?? '.kubesvc';
  const client = clientFor(values.kubeconfig ? values : { 'data-dir': dataDir }, componentUsers.admin, 'kubesvc-status');
  try {
    const [nodes, services, slices, pods] = await Promise.all([
      client.resource<Stored<Node>>(resourceTypes.nodes).list(undefined),
      client.resource<Stored<Service>>(resourceTypes.services).list(undefined),
      client.resource<Stored<EndpointSlice>>(resourceTypes.endpointslices).list(undefined),
      client.resource<Stored<Pod>>(resourceTypes.pods).list('kube-system'),
    ]).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') {
        throw new UsageError(values.kubeconfig ? `the API server of ${values.kubeconfig} does not answer (${e.code})` : `no cluster is running in ${dataDir} (start one with: kubesvc up --data-dir ${dataDir})`);
      }
      throw e;
    });
    const ready = new Map<string, Set<string>>();
    for (const sl of slices.items) {
      const key = `${sl.metadata.namespace}/${sl.metadata.labels?.[labelServiceName] ?? ''}`;
      const set = ready.get(key) ?? new Set<string>();
      for (const e of sl.endpoints ?? []) if (e.conditions?.ready !== false) for (const a of e.addresses) set.add(a);
      ready.set(key, set);
    }
    const out: string[] = [];
    out.push('NODES', table([['NAME', 'STATUS', 'INTERNAL-IP', 'POD-CIDR'], ...nodes.items.map((n) => [
      n.metadata.name!,
      n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? 'Ready' : 'NotReady',
      n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '<none>',
      n.spec?.podCIDR ?? '<none>',
    ])]));
    out.push('', 'SYSTEM PODS (kube-system)', table([['NAME', 'PHASE', 'IP', 'NODE'], ...pods.items.map((p) => [p.metadata.name!, p.status?.phase ?? 'Pending', p.status?.podIP ?? '<none>', p.spec?.nodeName ?? '<none>'])]));
    out.push('', 'SERVICES', table([['NAMESPACE', 'NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL', 'PORTS', 'READY-ENDPOINTS'], ...services.items.map((s) => {
      const key = `${s.metadata.namespace}/${s.metadata.name}`;
      const external = [...(s.spec?.externalIPs ?? []), ...(s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? ''), s.spec?.externalName ?? ''].filter(Boolean).join(',') || '<none>';
      const hasSelector = Object.keys(s.spec?.selector ?? {}).length > 0 || ready.has(key);
      return [s.metadata.namespace!, s.metadata.name!, s.spec?.type ?? 'ClusterIP', s.spec?.clusterIP ?? '<none>', external, servicePorts(s), s.spec?.type === 'ExternalName' ? '-' : hasSelector ? String(ready.get(key)?.size ?? 0) : '<none>'];
    })]));
    console.log(out.join('\n'));
  } finally {
    client.close();
  }
}
