// The ClusterIPs in the store, as upstream's IPAddress-based allocator
// (KEP-1880, networking.k8s.io/v1) keeps them: one IPAddress object per
// allocated address, named by it, at /registry/ipaddresses/<ip>, whose
// parentRef is the Service. Taking an address is creating its key (the
// store refuses a second create), so API servers sharing a store cannot
// hand out one address twice.
import { randomUUID } from 'node:crypto';
import { nowTimestamp } from '../api/object.js';

export const ipAddressPrefix = '/registry/ipaddresses/';
export const ipAddressKey = (ip: string): string => ipAddressPrefix + ip;
export const ipOfKey = (key: string): string => key.slice(ipAddressPrefix.length);

/** The IPAddress upstream's ipallocator writes for a Service's address. */
export function ipAddressObject(ip: string, service: { namespace: string; name: string }): string {
  return JSON.stringify({
    kind: 'IPAddress',
    apiVersion: 'networking.k8s.io/v1',
    metadata: {
      name: ip,
      uid: randomUUID(),
      creationTimestamp: nowTimestamp(),
      labels: { 'ipaddress.kubernetes.io/ip-family': 'IPv4', 'ipaddress.kubernetes.io/managed-by': 'ipallocator.k8s.io' },
    },
    spec: { parentRef: { group: '', resource: 'services', namespace: service.namespace, name: service.name } },
  });
}
