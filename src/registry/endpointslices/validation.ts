// EndpointSlice validation as upstream's pkg/apis/discovery/validation.
// ObjectMeta (DNS-1123 subdomain name) is validated by the registry.
import type { Endpoint, EndpointHints, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { fieldErrors, key, type FieldError } from '../../api/field-errors.js';
import { labelTopologyZone } from '../../api/labels.js';
import { validateIPv4Address, validateIPv6Address, validateNonSpecialIP } from '../validation/ip.js';
import { isDNS1123Label, isFullyQualifiedDomainName, isQualifiedName, isValidLabelValue } from '../validation/names.js';
import { fieldImmutableErrorMsg, validateLabels, validateNodeName } from '../validation/object-meta.js';

export const supportedAddressTypes = ['FQDN', 'IPv4', 'IPv6'];
const supportedPortProtocols = ['SCTP', 'TCP', 'UDP'];
export const maxTopologyLabels = 16;
export const maxAddresses = 100;
export const maxPorts = 20000;
export const maxEndpoints = 1000;
export const maxZoneHints = 8;
/** forNodes hints (PreferSameNode traffic distribution) carry the same cap as forZones. */
export const maxNodeHints = 8;

/** kubernetes-types 1.30 predates forNodes (1.33). */
type Hints = EndpointHints & { forNodes?: { name: string }[] };

function validateAddressType(addressType: string | undefined): FieldError[] {
  if (!addressType) return [fieldErrors.required('addressType')];
  if (!supportedAddressTypes.includes(addressType)) return [fieldErrors.notSupported('addressType', addressType, supportedAddressTypes)];
  return [];
}

function validateHints(hints: Hints, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const fz = hints.forZones ?? [];
  if (fz.length > maxZoneHints) return [fieldErrors.tooMany(`${path}.forZones`, fz.length, maxZoneHints)];
  const zones = new Set<string>();
  fz.forEach((z, i) => {
    const p = `${path}.forZones[${i}].name`;
    if (zones.has(z.name)) errs.push(fieldErrors.duplicate(p, z.name));
    else zones.add(z.name);
    errs.push(...isValidLabelValue(z.name).map((msg) => fieldErrors.invalid(p, z.name, msg)));
  });
  const fn = hints.forNodes ?? [];
  if (fn.length > maxNodeHints) return [...errs, fieldErrors.tooMany(`${path}.forNodes`, fn.length, maxNodeHints)];
  const nodes = new Set<string>();
  fn.forEach((n, i) => {
    const p = `${path}.forNodes[${i}].name`;
    if (nodes.has(n.name)) errs.push(fieldErrors.duplicate(p, n.name));
    else nodes.add(n.name);
    errs.push(...validateNodeName(n.name, false).map((msg) => fieldErrors.invalid(p, n.name, msg)));
  });
  return errs;
}

function validateAddress(address: string, addressType: string, path: string): FieldError[] {
  // Unknown address types fall through unvalidated (already reported on addressType).
  switch (addressType) {
    case 'IPv4':
      return [...validateIPv4Address(address, path), ...validateNonSpecialIP(address, path)];
    case 'IPv6':
      return [...validateIPv6Address(address, path), ...validateNonSpecialIP(address, path)];
    case 'FQDN':
      return isFullyQualifiedDomainName(path, address);
    default:
      return [];
  }
}

function validateEndpoint(ep: Endpoint, addressType: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const addrPath = `${path}.addresses`;
  const addresses = ep.addresses ?? [];
  if (addresses.length === 0) errs.push(fieldErrors.required(addrPath, 'must contain at least 1 address'));
  else if (addresses.length > maxAddresses) errs.push(fieldErrors.tooMany(addrPath, addresses.length, maxAddresses));
  addresses.forEach((a, i) => errs.push(...validateAddress(a, addressType, `${addrPath}[${i}]`)));

  if (ep.nodeName != null) {
    errs.push(...validateNodeName(ep.nodeName, false).map((msg) => fieldErrors.invalid(`${path}.nodeName`, ep.nodeName, msg)));
  }

  const topoPath = `${path}.deprecatedTopology`;
  const topology = ep.deprecatedTopology ?? {};
  if (Object.keys(topology).length > maxTopologyLabels) errs.push(fieldErrors.tooMany(topoPath, Object.keys(topology).length, maxTopologyLabels));
  errs.push(...validateLabels(ep.deprecatedTopology, topoPath));
  // v1 moves the zone label into endpoint.zone during conversion; seeing it here means conversion was skipped.
  if (labelTopologyZone in topology) {
    errs.push(fieldErrors.internal(key(topoPath, labelTopologyZone), 'reserved key was not removed in conversion'));
  }

  if (ep.hostname != null) errs.push(...isDNS1123Label(ep.hostname).map((msg) => fieldErrors.invalid(`${path}.hostname`, ep.hostname, msg)));
  if (ep.hints != null) errs.push(...validateHints(ep.hints, `${path}.hints`));
  return errs;
}

/**
 * Ports: names are unique (the empty name included, so at most one unnamed
 * port). Absent name/protocol count as "" and TCP: v1 defaulting sets them
 * before upstream validates.
 */
function validatePorts(ports: EndpointPort[] | undefined): FieldError[] {
  const list = ports ?? [];
  if (list.length > maxPorts) return [fieldErrors.tooMany('ports', list.length, maxPorts)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  list.forEach((port, i) => {
    const p = `ports[${i}]`;
    const name = port.name ?? '';
    if (name.length > 0) errs.push(...isDNS1123Label(name).map((msg) => fieldErrors.invalid(`${p}.name`, name, msg)));
    if (names.has(name)) errs.push(fieldErrors.duplicate(`${p}.name`, name));
    else names.add(name);
    const protocol = port.protocol ?? 'TCP';
    if (!supportedPortProtocols.includes(protocol)) errs.push(fieldErrors.notSupported(`${p}.protocol`, protocol, supportedPortProtocols));
    if (port.appProtocol != null) {
      errs.push(...isQualifiedName(port.appProtocol).map((msg) => fieldErrors.invalid(`${p}.appProtocol`, port.appProtocol, msg)));
    }
  });
  return errs;
}

/** ValidateEndpointSlice (create). */
export function validateEndpointSlice(slice: EndpointSlice): FieldError[] {
  const errs = validateAddressType(slice.addressType);
  const endpoints = slice.endpoints ?? [];
  if (endpoints.length > maxEndpoints) {
    errs.push(fieldErrors.tooMany('endpoints', endpoints.length, maxEndpoints));
  } else {
    endpoints.forEach((ep, i) => errs.push(...validateEndpoint(ep, slice.addressType, `endpoints[${i}]`)));
  }
  errs.push(...validatePorts(slice.ports));
  return errs;
}

/** ValidateEndpointSliceUpdate: everything on create, and addressType never changes. */
export function validateEndpointSliceUpdate(slice: EndpointSlice, old: EndpointSlice): FieldError[] {
  const errs = validateEndpointSlice(slice);
  if ((slice.addressType ?? '') !== (old.addressType ?? '')) {
    errs.push(fieldErrors.invalid('addressType', slice.addressType ?? '', fieldImmutableErrorMsg));
  }
  return errs;
}
