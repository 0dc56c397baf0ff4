// This node's addresses as the proxy needs them: its host IP, and which
// addresses accept NodePort traffic (kube-proxy's nodePortAddresses: empty
// means every local address, "primary" the node's InternalIPs, CIDRs select
// the local addresses inside them). Pure, given the addresses.
import { BlockList, isIP, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Node } from './snapshot.js';

/** Every address on this network namespace's interfaces (loopback included, as upstream). */
export function localAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined)
    .map((a) => a.address.replace(/%.*$/, ''));
}

/** The node's primary IPs: its InternalIP addresses, as the API reports them. */
export function nodePrimaryIPs(node: Node | undefined): string[] {
  return (node?.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' && isIP(a.address)).map((a) => a.address);
}

/** The address the node is reached at: its first primary IP of the family, else the first non-loopback local one. */
export function hostIP(local: readonly string[], primary: readonly string[], family: 'IPv4' | 'IPv6' = 'IPv4'): string | undefined {
  const ofFamily = (ip: string) => isIPv6(ip) === (family === 'IPv6');
  return primary.find(ofFamily) ?? local.find((ip) => ofFamily(ip) && !/^127\.|^::1$|^fe80:/i.test(ip));
}

/**
 * The addresses node ports listen on, or undefined for "every local address"
 * (rules then match `--dst-type LOCAL`). Only addresses of the given family.
 */
export function nodePortIPs(nodePortAddresses: readonly string[], local: readonly string[], primary: readonly string[], family: 'IPv4' | 'IPv6' = 'IPv4'): string[] | undefined {
  if (nodePortAddresses.length === 0) return undefined;
  const ofFamily = (ip: string) => isIPv6(ip) === (family === 'IPv6');
  if (nodePortAddresses.includes('primary')) return primary.filter(ofFamily);
  const list = new BlockList();
  for (const cidr of nodePortAddresses) {
    const [addr, bits] = cidr.split('/');
    list.addSubnet(addr, Number(bits), isIPv6(addr) ? 'ipv6' : 'ipv4');
  }
  const seen = new Set<string>();
  for (const ip of local) if (ofFamily(ip) && list.check(ip, isIPv6(ip) ? 'ipv6' : 'ipv4')) seen.add(ip);
  return [...seen].sort();
}
