// Chain names back to what they stand for: the per-service chains of both
// kernel modes are hashes of the service port (and endpoint), so the reverse
// map is built from the current Services and EndpointSlices with the very
// builders the proxiers name their chains with.
import * as iptablesNames from '../proxy/iptables/chain-names.js';
import * as nftNames from '../proxy/nftables/chain-names.js';
import { isDispatchChainName } from '../proxy/nftables/dispatch.js';
import { slicesOf, type ClusterView } from './cluster-view.js';

export type ChainRole = 'cluster' | 'local' | 'external' | 'firewall' | 'endpoint';

export interface ChainMeaning {
  /** "namespace/name". */
  service: string;
  /** The port's name ("" for an unnamed port). */
  port: string;
  protocol: string;
  role: ChainRole;
  /** For an endpoint chain. */
  endpoint?: { ip: string; port: number };
}

export function buildChainMap(view: ClusterView): Map<string, ChainMeaning> {
  const map = new Map<string, ChainMeaning>();
  for (const service of view.services) {
    const namespace = service.metadata.namespace!;
    const name = service.metadata.name!;
    const key = `${namespace}/${name}`;
    const slices = slicesOf(view, namespace, name);
    for (const p of service.spec?.ports ?? []) {
      const portName = p.name ?? '';
      const protocol = (p.protocol ?? 'TCP').toLowerCase();
      const base = { service: key, port: portName, protocol: p.protocol ?? 'TCP' };
      const spn = `${key}${portName ? `:${portName}` : ''}`;
      const ipt = iptablesNames.servicePortChainNames(spn, protocol);
      const nft = nftNames.servicePortChainNames(namespace, name, protocol, portName);
      for (const names of [ipt, nft]) {
        map.set(names.cluster, { ...base, role: 'cluster' });
        map.set(names.local, { ...base, role: 'local' });
        map.set(names.external, { ...base, role: 'external' });
        map.set(names.firewall, { ...base, role: 'firewall' });
      }
      for (const slice of slices) {
        const sp = slice.ports?.find((x) => (x.name ?? '') === portName && (x.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
        if (!sp?.port) continue;
        for (const ep of slice.endpoints ?? []) {
          for (const ip of ep.addresses) {
            const endpoint = { ip, port: sp.port };
            map.set(iptablesNames.servicePortEndpointChainName(spn, protocol, `${ip}:${sp.port}`), { ...base, role: 'endpoint', endpoint });
            map.set(nftNames.servicePortEndpointChainName(namespace, name, protocol, portName, ip, sp.port), { ...base, role: 'endpoint', endpoint });
          }
        }
      }
    }
  }
  return map;
}

export { isDispatchChainName };
