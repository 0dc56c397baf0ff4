// Endpoints validation as upstream's ValidateEndpoints (pkg/apis/core/validation).
// ObjectMeta (DNS-1123 subdomain name) is validated by the registry.
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints } from 'kubernetes-types/core/v1.js';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import { validateIP, validateNonSpecialIP } from '../validation/ip.js';
import { isDNS1123Label, isQualifiedName, isValidPortNum } from '../validation/names.js';
import { validateNodeName } from '../validation/object-meta.js';

const supportedPortProtocols = ['SCTP', 'TCP', 'UDP'];

/**
 * validateEndpointAddress. Upstream runs the non-special check even when the
 * IP did not parse, so a garbage IP gets both messages; kept for fidelity.
 */
function validateEndpointAddress(addr: EndpointAddress, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const ip = addr.ip ?? '';
  errs.push(...validateIP(ip, `${path}.ip`));
  if (addr.hostname) errs.push(...isDNS1123Label(addr.hostname).map((msg) => fieldErrors.invalid(`${path}.hostname`, addr.hostname, msg)));
  if (addr.nodeName != null) {
    errs.push(...validateNodeName(addr.nodeName, false).map((msg) => fieldErrors.invalid(`${path}.nodeName`, addr.nodeName, msg)));
  }
  errs.push(...validateNonSpecialIP(ip, `${path}.ip`));
  return errs;
}

/**
 * validateEndpointPort. An absent protocol counts as TCP: upstream defaults
 * it (SetDefaults_EndpointPort) before validating, so "Required" is only
 * reachable for values that defaulting leaves alone.
 */
function validateEndpointPort(port: EndpointPort, requireName: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = port.name ?? '';
  if (requireName && name.length === 0) errs.push(fieldErrors.required(`${path}.name`));
  else if (name.length !== 0) errs.push(...isDNS1123Label(name).map((msg) => fieldErrors.invalid(`${path}.name`, name, msg)));
  errs.push(...isValidPortNum(port.port ?? 0).map((msg) => fieldErrors.invalid(`${path}.port`, port.port ?? 0, msg)));
  const protocol = port.protocol || 'TCP';
  if (!supportedPortProtocols.includes(protocol)) errs.push(fieldErrors.notSupported(`${path}.protocol`, protocol, supportedPortProtocols));
  if (port.appProtocol != null) {
    errs.push(...isQualifiedName(port.appProtocol).map((msg) => fieldErrors.invalid(`${path}.appProtocol`, port.appProtocol, msg)));
  }
  return errs;
}

/** validateEndpointSubsets: each subset needs an address; several ports need names (duplicates are not checked upstream). */
function validateEndpointSubsets(subsets: EndpointSubset[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (subsets ?? []).forEach((ss, i) => {
    const p = `${path}[${i}]`;
    const addresses = ss.addresses ?? [];
    const notReady = ss.notReadyAddresses ?? [];
    if (addresses.length === 0 && notReady.length === 0) {
      errs.push(fieldErrors.required(p, 'must specify `addresses` or `notReadyAddresses`'));
    }
    addresses.forEach((a, j) => errs.push(...validateEndpointAddress(a, `${p}.addresses[${j}]`)));
    notReady.forEach((a, j) => errs.push(...validateEndpointAddress(a, `${p}.notReadyAddresses[${j}]`)));
    const ports = ss.ports ?? [];
    ports.forEach((port, k) => errs.push(...validateEndpointPort(port, ports.length > 1, `${p}.ports[${k}]`)));
  });
  return errs;
}

/** ValidateEndpoints (create and update alike: upstream has no update-only rules beyond metadata). */
export function validateEndpoints(ep: Endpoints): FieldError[] {
  return validateEndpointSubsets(ep.subsets, 'subsets');
}

export function validateEndpointsUpdate(ep: Endpoints, _old: Endpoints): FieldError[] {
  return validateEndpoints(ep);
}
