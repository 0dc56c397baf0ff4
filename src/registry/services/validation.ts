// Service validation as upstream's ValidateService / ValidateServiceUpdate /
// ValidateServiceStatusUpdate (pkg/apis/core/validation), plus the IP-family
// checks alloc.go's initIPFamilyFields makes against the cluster's
// configuration. ObjectMeta (including the DNS-1035 name rule) is validated
// by the registry, as for every kind. Defaults are expected to have been
// applied, as upstream always defaults before validating.
import type { LoadBalancerStatus, Service, ServicePort, ServiceSpec } from 'kubernetes-types/core/v1.js';
import { fieldErrors, GoLiteral, key, type FieldError } from '../../api/field-errors.js';
import { annotationTopologyAwareHints, annotationTopologyMode } from '../../api/labels.js';
import { isDualStackIPs, isIPv6String, isValidIPString, ipFamilyOf, type IPFamily } from '../../net/addr.js';
import { validateCIDR, validateIP, validateNonSpecialIP } from '../validation/ip.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidPortName, isValidPortNum } from '../validation/names.js';
import { goString, validateLabels } from '../validation/object-meta.js';

/** The service IP families the cluster's CIDRs cover, primary first. */
export interface ClusterConfig {
  ipFamilies: IPFamily[];
}

/** kubesvc's default cluster: one IPv4 service CIDR. */
export const singleStackIPv4: ClusterConfig = { ipFamilies: ['IPv4'] };

const supportedSessionAffinity = ['ClientIP', 'None'];
const supportedServiceTypes = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const supportedInternalTrafficPolicies = ['Cluster', 'Local'];
const supportedExternalTrafficPolicies = ['Cluster', 'Local'];
const supportedIPFamilies = ['IPv4', 'IPv6'];
const supportedIPFamilyPolicies = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
export const supportedPortProtocols = ['SCTP', 'TCP', 'UDP'];
/** PreferClose (1.30+) plus PreferSameZone/PreferSameNode (PreferSameTrafficDistribution, on by default since 1.34). */
const supportedTrafficDistributions = ['PreferClose', 'PreferSameNode', 'PreferSameZone'];
const supportedLoadBalancerIPModes = ['Proxy', 'VIP'];
/** core.MaxClientIPServiceAffinitySeconds: one day. */
export const maxClientIPServiceAffinitySeconds = 86400;

const annotationLoadBalancerSourceRanges = 'service.beta.kubernetes.io/load-balancer-source-ranges';

/** isHeadlessService: upstream looks at clusterIPs, not clusterIP. */
function isHeadless(spec: ServiceSpec): boolean {
  return spec.clusterIPs?.length === 1 && spec.clusterIPs[0] === 'None';
}

/** apiservice.ExternallyAccessible: reachable from outside the cluster network. */
function externallyAccessible(spec: ServiceSpec): boolean {
  return spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && (spec.externalIPs?.length ?? 0) > 0);
}

/** apiservice.NeedsHealthCheck: an LB that keeps traffic node-local needs the LB to probe nodes. */
function needsHealthCheck(spec: ServiceSpec): boolean {
  return spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
}

/** ValidateDNS1123Label as field errors. */
function validateDNS1123Label(value: string, path: string): FieldError[] {
  return isDNS1123Label(value).map((msg) => fieldErrors.invalid(path, value, msg));
}

/** ValidateQualifiedName as field errors. */
function validateQualifiedName(value: string, path: string): FieldError[] {
  return isQualifiedName(value).map((msg) => fieldErrors.invalid(path, value, msg));
}

/** ValidatePortNumOrName: an int is a port number, a string an IANA service name. */
export function validatePortNumOrName(port: number | string | undefined, path: string): FieldError[] {
  if (typeof port === 'string') return isValidPortName(port).map((msg) => fieldErrors.invalid(path, port, msg));
  const n = port ?? 0;
  return isValidPortNum(n).map((msg) => fieldErrors.invalid(path, n, msg));
}

/** Go %#v of the (protocol, port) key upstream reports duplicate ports with. */
function servicePortKeyLiteral(p: ServicePort): GoLiteral {
  return new GoLiteral(
    `core.ServicePort{Name:"", Protocol:${goString(p.protocol ?? '')}, AppProtocol:(*string)(nil), Port:${p.port ?? 0}, ` +
      'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
  );
}

function ipFamiliesLiteral(fams: string[] | undefined): GoLiteral {
  return new GoLiteral(fams == null ? '[]core.IPFamily(nil)' : `[]core.IPFamily{${fams.map(goString).join(', ')}}`);
}

function clusterIPsValue(ips: string[] | undefined): string[] | GoLiteral {
  return ips ?? new GoLiteral('[]string(nil)');
}

/** validateServicePort: name rules, port and targetPort ranges, protocol, appProtocol. */
function validateServicePort(sp: ServicePort, requireName: boolean, allNames: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = sp.name ?? '';
  if (requireName && name.length === 0) {
    errs.push(fieldErrors.required(`${path}.name`));
  } else if (name.length !== 0) {
    errs.push(...validateDNS1123Label(name, `${path}.name`));
    if (allNames.has(name)) errs.push(fieldErrors.duplicate(`${path}.name`, name));
    else allNames.add(name);
  }
  errs.push(...isValidPortNum(sp.port ?? 0).map((msg) => fieldErrors.invalid(`${path}.port`, sp.port ?? 0, msg)));
  if (!sp.protocol) errs.push(fieldErrors.required(`${path}.protocol`));
  else if (!supportedPortProtocols.includes(sp.protocol)) errs.push(fieldErrors.notSupported(`${path}.protocol`, sp.protocol, supportedPortProtocols));
  errs.push(...validatePortNumOrName(sp.targetPort, `${path}.targetPort`));
  if (sp.appProtocol != null) errs.push(...validateQualifiedName(sp.appProtocol, `${path}.appProtocol`));
  return errs;
}

/** validateClientIPAffinityConfig: the timeout must be in (0, 86400]. */
function validateClientIPAffinityConfig(spec: ServiceSpec, path: string): FieldError[] {
  const detail = 'when session affinity type is ClientIP';
  const cfg = spec.sessionAffinityConfig;
  if (!cfg) return [fieldErrors.required(path, detail)];
  if (!cfg.clientIP) return [fieldErrors.required(`${path}.clientIP`, detail)];
  const t = cfg.clientIP.timeoutSeconds;
  if (t == null) return [fieldErrors.required(`${path}.clientIP.timeoutSeconds`, detail)];
  if (t <= 0 || t > maxClientIPServiceAffinitySeconds) {
    return [fieldErrors.invalid(`${path}.clientIP.timeoutSeconds`, t, `must be greater than 0 and less than ${maxClientIPServiceAffinitySeconds}`)];
  }
  return [];
}

/**
 * ValidateServiceClusterIPsRelatedFields: clusterIP/clusterIPs agree,
 * families and policy are known values, IPs are IPs, at most one per family.
 */
export function validateServiceClusterIPsRelatedFields(svc: Service): FieldError[] {
  const spec = svc.spec ?? {};
  // ExternalName was checked before: all of these must be unset there.
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const clusterIPs = spec.clusterIPs ?? [];
  let hasInvalidIPs = false;

  if (spec.clusterIP) {
    if (clusterIPs.length === 0) errs.push(fieldErrors.required('spec.clusterIPs'));
    else if (clusterIPs[0] !== spec.clusterIP) errs.push(fieldErrors.invalid('spec.clusterIPs', clusterIPs, 'first value must match `clusterIP`'));
  } else if (clusterIPs.length !== 0) {
    errs.push(fieldErrors.invalid('spec.clusterIPs', clusterIPs, 'must be empty when `clusterIP` is not specified'));
  }

  const seen = new Set<string>();
  (spec.ipFamilies ?? []).forEach((fam, i) => {
    const p = `spec.ipFamilies[${i}]`;
    if (!supportedIPFamilies.includes(fam)) errs.push(fieldErrors.notSupported(p, fam, supportedIPFamilies));
    if (seen.has(fam)) errs.push(fieldErrors.duplicate(p, fam));
    seen.add(fam);
  });

  if (spec.ipFamilyPolicy != null && !supportedIPFamilyPolicies.includes(spec.ipFamilyPolicy)) {
    errs.push(fieldErrors.notSupported('spec.ipFamilyPolicy', spec.ipFamilyPolicy, supportedIPFamilyPolicies));
  }

  clusterIPs.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (clusterIPs.length > 1) {
        hasInvalidIPs = true;
        errs.push(fieldErrors.invalid('spec.clusterIPs', clusterIPs, "'None' must be the first and only value"));
      }
      return;
    }
    const ipErrs = validateIP(ip, `spec.clusterIPs[${i}]`);
    if (ipErrs.length) hasInvalidIPs = true;
    errs.push(...ipErrs);
  });

  if (clusterIPs.length > 2) errs.push(fieldErrors.invalid('spec.clusterIPs', clusterIPs, 'may only hold up to 2 values'));

  // Bad IPs would skew the family checks below; upstream stops here too.
  if (hasInvalidIPs) return errs;

  if (clusterIPs.length > 1 && !isDualStackIPs(clusterIPs)) {
    errs.push(fieldErrors.invalid('spec.clusterIPs', clusterIPs, 'may specify no more than one IP for each IP family'));
  }

  const fams = spec.ipFamilies ?? [];
  if (!isHeadless(spec) && clusterIPs.length > 0 && fams.length > 0) {
    for (let i = 0; i < clusterIPs.length && i < fams.length; i++) {
      const ip = clusterIPs[i];
      if (fams[i] === 'IPv4' && isIPv6String(ip)) {
        errs.push(fieldErrors.invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      }
      if (fams[i] === 'IPv6' && !isIPv6String(ip)) {
        errs.push(fieldErrors.invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
      }
    }
  }
  return errs;
}

/** validateLoadBalancerClassField; on update the class is fixed while the type stays LoadBalancer. */
function validateLoadBalancerClassField(old: ServiceSpec | undefined, spec: ServiceSpec): FieldError[] {
  const errs: FieldError[] = [];
  if (old && old.type === 'LoadBalancer' && spec.type === 'LoadBalancer' && (old.loadBalancerClass ?? null) !== (spec.loadBalancerClass ?? null)) {
    errs.push(fieldErrors.invalid('spec.loadBalancerClass', spec.loadBalancerClass ?? null, 'may not change once set'));
  }
  if (old) return errs;
  if (spec.type === 'LoadBalancer') {
    if (spec.loadBalancerClass != null) errs.push(...validateQualifiedName(spec.loadBalancerClass, 'spec.loadBalancerClass'));
  } else if (spec.loadBalancerClass != null) {
    errs.push(fieldErrors.forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
  }
  return errs;
}

/** validateServiceExternalTrafficPolicy: etp only where traffic comes from outside; HC port only for LB+Local. */
function validateServiceExternalTrafficPolicy(spec: ServiceSpec): FieldError[] {
  const errs: FieldError[] = [];
  const etp = spec.externalTrafficPolicy ?? '';
  if (!externallyAccessible(spec)) {
    if (etp !== '') errs.push(fieldErrors.invalid('spec.externalTrafficPolicy', etp, 'may only be set for externally-accessible services'));
  } else if (etp === '') {
    errs.push(fieldErrors.required('spec.externalTrafficPolicy'));
  } else if (!supportedExternalTrafficPolicies.includes(etp)) {
    errs.push(fieldErrors.notSupported('spec.externalTrafficPolicy', etp, supportedExternalTrafficPolicies));
  }
  const hc = spec.healthCheckNodePort ?? 0;
  if (!needsHealthCheck(spec)) {
    if (hc !== 0) {
      errs.push(
        fieldErrors.invalid('spec.healthCheckNodePort', hc, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"),
      );
    }
  } else if (hc === 0) {
    errs.push(fieldErrors.required('spec.healthCheckNodePort'));
  } else {
    errs.push(...isValidPortNum(hc).map((msg) => fieldErrors.invalid('spec.healthCheckNodePort', hc, msg)));
  }
  return errs;
}

/** validateServiceInternalTrafficFieldsValue: required for every type but ExternalName (not forbidden there, for history's sake). */
function validateServiceInternalTrafficPolicy(spec: ServiceSpec): FieldError[] {
  const itp = spec.internalTrafficPolicy;
  if (itp == null) {
    return spec.type === 'NodePort' || spec.type === 'LoadBalancer' || spec.type === 'ClusterIP'
      ? [fieldErrors.required('spec.internalTrafficPolicy')]
      : [];
  }
  return supportedInternalTrafficPolicies.includes(itp) ? [] : [fieldErrors.notSupported('spec.internalTrafficPolicy', itp, supportedInternalTrafficPolicies)];
}

function validateServiceTrafficDistribution(spec: ServiceSpec): FieldError[] {
  const td = spec.trafficDistribution;
  if (td == null || supportedTrafficDistributions.includes(td)) return [];
  return [fieldErrors.notSupported('spec.trafficDistribution', td, supportedTrafficDistributions)];
}

/** Load balancer source ranges, from the field or (legacy) the annotation; upstream's path really has a capital L. */
function validateSourceRanges(svc: Service): FieldError[] {
  const spec = svc.spec ?? {};
  const errs: FieldError[] = [];
  const ranges = spec.loadBalancerSourceRanges ?? [];
  const annotations = svc.metadata?.annotations ?? {};
  if (ranges.length > 0) {
    const fieldPath = 'spec.LoadBalancerSourceRanges';
    if (spec.type !== 'LoadBalancer') errs.push(fieldErrors.forbidden(fieldPath, "may only be used when `type` is 'LoadBalancer'"));
    // Values may be space-padded: a leftover from the annotation days.
    ranges.forEach((r, i) => errs.push(...validateCIDR(r.trim(), `${fieldPath}[${i}]`)));
  } else if (annotationLoadBalancerSourceRanges in annotations) {
    const fieldPath = key('metadata.annotations', annotationLoadBalancerSourceRanges);
    if (spec.type !== 'LoadBalancer') errs.push(fieldErrors.forbidden(fieldPath, "may only be used when `type` is 'LoadBalancer'"));
    const val = annotations[annotationLoadBalancerSourceRanges].trim();
    if (val !== '') for (const r of val.split(',')) errs.push(...validateCIDR(r.trim(), fieldPath));
  }
  return errs;
}

/** ValidateService minus ObjectMeta: every rule that needs neither the old object nor an allocator. */
function validateServiceSpec(svc: Service): FieldError[] {
  const spec = svc.spec ?? {};
  const errs: FieldError[] = [];
  const annotations = svc.metadata?.annotations ?? {};

  if (
    annotationTopologyMode in annotations &&
    annotationTopologyAwareHints in annotations &&
    annotations[annotationTopologyMode] !== annotations[annotationTopologyAwareHints]
  ) {
    errs.push(
      fieldErrors.invalid(
        key('metadata.annotations', annotationTopologyMode),
        annotations[annotationTopologyMode],
        `must match annotations[${annotationTopologyAwareHints}] when both are specified`,
      ),
    );
  }

  const ports = spec.ports ?? [];
  if (ports.length === 0 && !isHeadless(spec) && spec.type !== 'ExternalName') errs.push(fieldErrors.required('spec.ports'));

  switch (spec.type) {
    case 'LoadBalancer':
      if (isHeadless(spec)) errs.push(fieldErrors.invalid('spec.clusterIPs[0]', 'None', "may not be set to 'None' for LoadBalancer services"));
      break;
    case 'NodePort':
      if (isHeadless(spec)) errs.push(fieldErrors.invalid('spec.clusterIPs[0]', 'None', "may not be set to 'None' for NodePort services"));
      break;
    case 'ExternalName': {
      if ((spec.clusterIPs?.length ?? 0) > 0) errs.push(fieldErrors.forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
      if ((spec.ipFamilies?.length ?? 0) > 0) errs.push(fieldErrors.forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
      if (spec.ipFamilyPolicy != null) errs.push(fieldErrors.forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
      // A CNAME target may carry the trailing dot of a fully qualified name.
      const cname = (spec.externalName ?? '').replace(/\.$/, '');
      if (cname.length > 0) errs.push(...isDNS1123Subdomain(cname).map((msg) => fieldErrors.invalid('spec.externalName', cname, msg)));
      else errs.push(fieldErrors.required('spec.externalName'));
      break;
    }
  }

  const allNames = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, allNames, `spec.ports[${i}]`)));

  if (spec.selector != null) errs.push(...validateLabels(spec.selector, 'spec.selector'));

  if (!spec.sessionAffinity) errs.push(fieldErrors.required('spec.sessionAffinity'));
  else if (!supportedSessionAffinity.includes(spec.sessionAffinity)) {
    errs.push(fieldErrors.notSupported('spec.sessionAffinity', spec.sessionAffinity, supportedSessionAffinity));
  }
  if (spec.sessionAffinity === 'ClientIP') {
    errs.push(...validateClientIPAffinityConfig(spec, 'spec.sessionAffinityConfig'));
  } else if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig != null) {
    errs.push(fieldErrors.forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }

  errs.push(...validateServiceClusterIPsRelatedFields(svc));

  (spec.externalIPs ?? []).forEach((ip, i) => {
    const p = `spec.externalIPs[${i}]`;
    const ipErrs = validateIP(ip, p);
    errs.push(...(ipErrs.length ? ipErrs : validateNonSpecialIP(ip, p)));
  });

  if (!spec.type) errs.push(fieldErrors.required('spec.type'));
  else if (!supportedServiceTypes.includes(spec.type)) errs.push(fieldErrors.notSupported('spec.type', spec.type, supportedServiceTypes));

  if (spec.type === 'ClusterIP') {
    ports.forEach((p, i) => {
      if (p.nodePort) errs.push(fieldErrors.forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
    });
  }

  // The same nodePort may serve two protocols, but not twice the same one.
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (!p.nodePort) return;
    const k = `${p.protocol ?? ''}/${p.nodePort}`;
    if (nodePorts.has(k)) errs.push(fieldErrors.duplicate(`spec.ports[${i}].nodePort`, p.nodePort));
    nodePorts.add(k);
  });

  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const k = `${p.protocol ?? ''}/${p.port ?? 0}`;
    if (portKeys.has(k)) errs.push(fieldErrors.duplicate(`spec.ports[${i}]`, servicePortKeyLiteral(p)));
    portKeys.add(k);
  });

  errs.push(...validateSourceRanges(svc));

  if (spec.allocateLoadBalancerNodePorts != null && spec.type !== 'LoadBalancer') {
    errs.push(fieldErrors.forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  }
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts == null) {
    // Upstream builds this path without the "spec." prefix.
    errs.push(fieldErrors.required('allocateLoadBalancerNodePorts'));
  }

  errs.push(...validateLoadBalancerClassField(undefined, spec));
  errs.push(...validateServiceExternalTrafficPolicy(spec));
  errs.push(...validateServiceInternalTrafficPolicy(spec));
  errs.push(...validateServiceTrafficDistribution(spec));
  return errs;
}

function sameStrings(a: string[] | undefined, b: string[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/**
 * alloc.go initIPFamilyFields' error checks (the defaulting itself lives in
 * defaults.ts): what the cluster can serve, and policy consistency. Runs
 * only once ValidateService passed, as upstream allocates after validating.
 */
export function validateServiceIPFamiliesForCluster(svc: Service, old: Service | undefined, cluster: ClusterConfig): FieldError[] {
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const policy = spec.ipFamilyPolicy;
  const policyValue = policy ?? null;
  const clusterIPs = spec.clusterIPs ?? [];
  const families = [...(spec.ipFamilies ?? [])];

  if (old && old.spec?.type !== 'ExternalName') {
    const oldSpec = old.spec ?? {};
    if (policy !== 'SingleStack') {
      // Shrinking either list is only allowed with an explicit SingleStack policy.
      if (clusterIPs.length > 0 && clusterIPs.length < (oldSpec.clusterIPs?.length ?? 0)) {
        errs.push(fieldErrors.invalid('spec.ipFamilyPolicy', policyValue, "must be 'SingleStack' to release the secondary cluster IP"));
      }
      if (families.length > 0 && families.length < (oldSpec.ipFamilies?.length ?? 0)) {
        errs.push(fieldErrors.invalid('spec.ipFamilyPolicy', policyValue, "must be 'SingleStack' to release the secondary IP family"));
      }
    }
  }

  // On update, SingleStack with unchanged lists means "drop the secondary", not an error.
  const trimmedIPs =
    policy === 'SingleStack' && old && sameStrings(old.spec?.clusterIPs, spec.clusterIPs) ? clusterIPs.slice(0, 1) : clusterIPs;
  const trimmedFamilies =
    policy === 'SingleStack' && old && sameStrings(old.spec?.ipFamilies, spec.ipFamilies) ? families.slice(0, 1) : families;
  if (policy === 'SingleStack') {
    if (trimmedIPs.length === 2) {
      errs.push(fieldErrors.invalid('spec.ipFamilyPolicy', policyValue, "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"));
    }
    if (trimmedFamilies.length === 2) {
      errs.push(fieldErrors.invalid('spec.ipFamilyPolicy', policyValue, "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"));
    }
  }

  const inferred = [...trimmedFamilies];
  for (let i = 0; i < trimmedIPs.length; i++) {
    const ip = trimmedIPs[i];
    if (ip === 'None') break;
    const fam = ipFamilyOf(ip);
    if (!fam || i < inferred.length) continue;
    if (!cluster.ipFamilies.includes(fam)) {
      errs.push(fieldErrors.invalid(`spec.clusterIPs[${i}]`, clusterIPsValue(spec.clusterIPs), `${fam} is not configured on this cluster`));
    } else {
      inferred.push(fam);
    }
  }
  if (errs.length) return errs;

  // Headless and selectorless: nothing is allocated, so any families go, even on a single-stack cluster.
  if (spec.clusterIP === 'None' && Object.keys(spec.selector ?? {}).length === 0) return errs;

  if (policy === 'RequireDualStack' && cluster.ipFamilies.length < 2) {
    errs.push(fieldErrors.invalid('spec.ipFamilyPolicy', policyValue, 'this cluster is not configured for dual-stack services'));
  }
  inferred.forEach((fam, i) => {
    if (!cluster.ipFamilies.includes(fam as IPFamily)) errs.push(fieldErrors.invalid(`spec.ipFamilies[${i}]`, fam, 'not configured on this cluster'));
  });
  return errs;
}

/** Create: ValidateService, then (if it passed) the cluster's IP-family constraints. */
export function validateService(svc: Service, cluster: ClusterConfig = singleStackIPv4): FieldError[] {
  const errs = validateServiceSpec(svc);
  return errs.length ? errs : validateServiceIPFamiliesForCluster(svc, undefined, cluster);
}

/** validateUpgradeDowngradeClusterIPs: the primary IP is fixed; the secondary may go only with SingleStack. */
function validateUpgradeDowngradeClusterIPs(old: ServiceSpec, spec: ServiceSpec): FieldError[] {
  if (spec.type === 'ExternalName' || old.type === 'ExternalName') return [];
  if (isHeadless(old) && isHeadless(spec)) return [];
  const errs: FieldError[] = [];
  const oldIPs = old.clusterIPs ?? [];
  const newIPs = spec.clusterIPs ?? [];
  const value = clusterIPsValue(spec.clusterIPs);
  if (oldIPs.length === newIPs.length) {
    oldIPs.forEach((ip, i) => {
      if (ip !== newIPs[i]) errs.push(fieldErrors.invalid(`spec.clusterIPs[${i}]`, value, 'may not change once set'));
    });
  } else if (oldIPs.length > newIPs.length) {
    if (newIPs.length === 0) errs.push(fieldErrors.invalid('spec.clusterIPs[0]', value, 'primary clusterIP can not be unset'));
    if (oldIPs.length > 0 && newIPs.length > 0 && newIPs[0] !== oldIPs[0]) {
      errs.push(fieldErrors.invalid('spec.clusterIPs[0]', value, 'may not change once set'));
    }
    if (newIPs.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
      errs.push(fieldErrors.invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
    }
  } else if (oldIPs.length > 0 && newIPs[0] !== oldIPs[0]) {
    errs.push(fieldErrors.invalid('spec.clusterIPs[0]', value, 'may not change once set'));
  }
  return errs;
}

/**
 * validateUpgradeDowngradeIPFamilies: the primary family is fixed (headless
 * services excepted). Upstream reports every change at ipFamilies[0] and, for
 * a changed primary on release/upgrade, shows the clusterIPs as the value.
 */
function validateUpgradeDowngradeIPFamilies(old: ServiceSpec, spec: ServiceSpec): FieldError[] {
  if (spec.type === 'ExternalName' || old.type === 'ExternalName') return [];
  if (isHeadless(old) !== isHeadless(spec) || isHeadless(spec)) return [];
  const errs: FieldError[] = [];
  const oldF = old.ipFamilies ?? [];
  const newF = spec.ipFamilies ?? [];
  if (oldF.length === newF.length) {
    oldF.forEach((f, i) => {
      if (f !== newF[i]) errs.push(fieldErrors.invalid('spec.ipFamilies[0]', ipFamiliesLiteral(spec.ipFamilies), 'may not change once set'));
    });
  } else if (oldF.length > newF.length) {
    if ((spec.clusterIPs?.length ?? 0) === 0) {
      errs.push(fieldErrors.invalid('spec.ipFamilies[0]', ipFamiliesLiteral(spec.ipFamilies), 'primary ipFamily can not be unset'));
    }
    if (newF.length > 0 && newF[0] !== oldF[0]) {
      errs.push(fieldErrors.invalid('spec.ipFamilies[0]', clusterIPsValue(spec.clusterIPs), 'may not change once set'));
    }
    if (newF.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
      errs.push(fieldErrors.invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary ipFamily"));
    }
  } else if (oldF.length > 0 && newF.length > 0 && newF[0] !== oldF[0]) {
    errs.push(fieldErrors.invalid('spec.ipFamilies[0]', clusterIPsValue(spec.clusterIPs), 'may not change once set'));
  }
  return errs;
}

/** validateServiceExternalTrafficFieldsUpdate: a needed health-check port stays put. */
function validateHealthCheckNodePortUpdate(old: ServiceSpec, spec: ServiceSpec): FieldError[] {
  if (needsHealthCheck(old) && needsHealthCheck(spec) && (spec.healthCheckNodePort ?? 0) !== (old.healthCheckNodePort ?? 0)) {
    return [fieldErrors.forbidden('spec.healthCheckNodePort', 'field is immutable')];
  }
  return [];
}

/** Update: the update-only rules, then everything ValidateService checks, then the cluster's IP-family constraints. */
export function validateServiceUpdate(svc: Service, old: Service, cluster: ClusterConfig = singleStackIPv4): FieldError[] {
  const spec = svc.spec ?? {};
  const oldSpec = old.spec ?? {};
  const errs = [
    ...validateUpgradeDowngradeClusterIPs(oldSpec, spec),
    ...validateUpgradeDowngradeIPFamilies(oldSpec, spec),
    ...validateLoadBalancerClassField(oldSpec, spec),
    ...validateHealthCheckNodePortUpdate(oldSpec, spec),
    ...validateServiceSpec(svc),
  ];
  return errs.length ? errs : validateServiceIPFamiliesForCluster(svc, old, cluster);
}

/** ValidateLoadBalancerStatus (gate AllowServiceLBStatusOnNonLB off, LoadBalancerIPMode on). */
export function validateLoadBalancerStatus(status: LoadBalancerStatus | undefined, path: string, spec: ServiceSpec): FieldError[] {
  const ingress = status?.ingress ?? [];
  const ingPath = `${path}.ingress`;
  if (spec.type !== 'LoadBalancer' && ingress.length !== 0) {
    return [fieldErrors.forbidden(ingPath, "may only be used when `spec.type` is 'LoadBalancer'")];
  }
  const errs: FieldError[] = [];
  ingress.forEach((ing, i) => {
    const p = `${ingPath}[${i}]`;
    if (ing.ip) errs.push(...validateIP(ing.ip, `${p}.ip`));
    if (ing.ipMode == null) {
      if (ing.ip) errs.push(fieldErrors.required(`${p}.ipMode`, 'must be specified when `ip` is set'));
    } else if (!ing.ip) {
      errs.push(fieldErrors.forbidden(`${p}.ipMode`, 'may not be specified when `ip` is not set'));
    } else if (!supportedLoadBalancerIPModes.includes(ing.ipMode)) {
      errs.push(fieldErrors.notSupported(`${p}.ipMode`, ing.ipMode, supportedLoadBalancerIPModes));
    }
    if (ing.hostname) {
      errs.push(...isDNS1123Subdomain(ing.hostname).map((msg) => fieldErrors.invalid(`${p}.hostname`, ing.hostname, msg)));
      if (isValidIPString(ing.hostname)) errs.push(fieldErrors.invalid(`${p}.hostname`, ing.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

/** ValidateServiceStatusUpdate: only status.loadBalancer is checked (metadata by the registry). */
export function validateServiceStatusUpdate(svc: Service, _old: Service): FieldError[] {
  return validateLoadBalancerStatus(svc.status?.loadBalancer, 'status.loadBalancer', svc.spec ?? {});
}
