// `kubectl get endpointslices` columns and cells (printers.go printEndpointSlice).
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { column, nameColumn } from '../table.js';
import { age, ageColumn, convertor, listWithMore } from '../table-format.js';

/** listWithMoreString: like listWithMore, but an empty list reads `<unset>`. */
function listOrUnset(items: string[]): string {
  return listWithMore(items) || '<unset>';
}

/** formatDiscoveryPorts: the port number, else its name, else `*` (a nil port means "all ports"). */
export function formatPorts(ports: EndpointPort[] | undefined): string {
  return listOrUnset((ports ?? []).map((p) => (p.port != null ? String(p.port) : (p.name ?? '*'))));
}

/** formatDiscoveryEndpoints: every address of every endpoint, ready or not. */
export function formatEndpoints(endpoints: Endpoint[] | undefined): string {
  return listOrUnset((endpoints ?? []).flatMap((e) => e.addresses ?? []));
}

// Upstream describes these columns from discovery/v1beta1, whose texts match v1.
export const table = convertor<EndpointSlice>(
  [
    nameColumn,
    column('AddressType', 'string', 0, 'addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name.'),
    column('Ports', 'string', 0, 'ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates "all ports". Each slice may include a maximum of 100 ports.'),
    column('Endpoints', 'string', 0, 'endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.'),
    ageColumn,
  ],
  (slice, now) => [slice.metadata?.name ?? '', slice.addressType ?? '', formatPorts(slice.ports), formatEndpoints(slice.endpoints), age(slice, now)],
);
