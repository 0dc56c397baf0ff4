// `kubectl get endpoints` columns and cells (printers.go printEndpoints).
import type { Endpoints } from 'kubernetes-types/core/v1.js';
import { column, nameColumn } from '../table.js';
import { age, ageColumn, convertor, listWithMore } from '../table-format.js';

/** net.JoinHostPort: IPv6 addresses need brackets to stay unambiguous. */
function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * formatEndpoints: every ready address paired with every port of its subset
 * (bare IPs for port-less headless subsets), first three shown. No subsets at
 * all prints `<none>`; subsets without ready addresses print an empty cell.
 */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (!subsets.length) return '<none>';
  const entries = subsets.flatMap((ss) => {
    const ips = (ss.addresses ?? []).map((a) => a.ip);
    const ports = ss.ports ?? [];
    if (!ports.length) return ips;
    return ports.flatMap((p) => ips.map((ip) => joinHostPort(ip, p.port)));
  });
  return listWithMore(entries);
}

export const table = convertor<Endpoints>(
  [
    nameColumn,
    column('Endpoints', 'string', 0, 'The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.'),
    ageColumn,
  ],
  (ep, now) => [ep.metadata?.name ?? '', formatEndpoints(ep), age(ep, now)],
);
