// Service defaulting as upstream does it in three places: SetDefaults_Service
// (decode time), the strategy (create/update resets and type-dependent field
// dropping) and the registry's initIPFamilyFields/normalize/patch steps.
import type { Service, ServicePort, ServiceSpec } from '../../api/types.js';
import { deepEqual } from '../../api/object.js';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import type { IPFamily } from '../../net/addr.js';

export const defaultClientIPTimeoutSeconds = 10800;

export interface ServiceClusterConfig {
  /** Families the service CIDRs cover, primary first (single-stack IPv4 by default). */
  ipFamilies: IPFamily[];
}

export function isHeadless(svc: Service): boolean {
  return svc.spec?.clusterIP === 'None';
}

export function needsClusterIP(svc: Service): boolean {
  return svc.spec?.type !== 'ExternalName' && !isHeadless(svc);
}

/** The type has node ports at all (strategy.go needsNodePort). */
export function needsNodePorts(svc: Service): boolean {
  const t = svc.spec?.type;
  return t === 'NodePort' || t === 'LoadBalancer';
}

/** Ports without a nodePort get one allocated (LoadBalancer may opt out). */
export function allocatesNodePorts(svc: Service): boolean {
  return svc.spec?.type === 'NodePort' || (svc.spec?.type === 'LoadBalancer' && svc.spec.allocateLoadBalancerNodePorts !== false);
}

export function needsHealthCheckNodePort(svc: Service): boolean {
  return svc.spec?.type === 'LoadBalancer' && svc.spec?.externalTrafficPolicy === 'Local';
}

/** pkg/api/service/util.go ExternallyAccessible. */
export function externallyAccessible(svc: Service): boolean {
  const t = svc.spec?.type;
  return t === 'LoadBalancer' || t === 'NodePort' || (t === 'ClusterIP' && (svc.spec?.externalIPs?.length ?? 0) > 0);
}

/** SetDefaults_Service: applied to every decoded Service, on create and update alike. */
export function setServiceDefaults(svc: Service): void {
  const spec: ServiceSpec = (svc.spec ??= {});
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds == null) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: defaultClientIPTimeoutSeconds } };
  }
  if (!spec.type) spec.type = 'ClusterIP';
  for (const p of spec.ports ?? []) {
    if (!p.protocol) p.protocol = 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (externallyAccessible(svc) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if (spec.internalTrafficPolicy == null && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(spec.type)) {
    spec.internalTrafficPolicy = 'Cluster';
  }
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts == null) spec.allocateLoadBalancerNodePorts = true;
  if (spec.type === 'LoadBalancer') {
    for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
      if (ing.ip && !ing.ipMode) ing.ipMode = 'VIP';
    }
  }
}

/** Strategy PrepareForCreate: status starts empty. */
export function prepareServiceForCreate(svc: Service): void {
  svc.status = { loadBalancer: {} };
}

/** Strategy PrepareForUpdate: status is kept from the stored object; type-dependent fields dropped. */
export function prepareServiceForUpdate(svc: Service, old: Service): void {
  svc.status = structuredClone(old.status ?? { loadBalancer: {} });
  dropTypeDependentFields(svc, old);
}

function sameNodePorts(a: ServicePort[] | undefined, b: ServicePort[] | undefined): boolean {
  return deepEqual(
    (a ?? []).map((p) => p.nodePort ?? 0),
    (b ?? []).map((p) => p.nodePort ?? 0),
  );
}

/**
 * strategy.go dropTypeDependentFields: when the type change makes a field
 * meaningless, clear it — unless the user changed it in this same update
 * (then validation tells them it is not allowed).
 */
export function dropTypeDependentFields(svc: Service, old: Service): void {
  const spec = svc.spec!;
  const oldSpec = old.spec ?? {};
  if (needsClusterIP(old) && !needsClusterIP(svc) && spec.type === 'ExternalName') {
    if (spec.clusterIP === oldSpec.clusterIP && deepEqual(spec.clusterIPs, oldSpec.clusterIPs)) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (deepEqual(spec.ipFamilies, oldSpec.ipFamilies)) delete spec.ipFamilies;
    if (spec.ipFamilyPolicy === oldSpec.ipFamilyPolicy) delete spec.ipFamilyPolicy;
  }
  if (needsNodePorts(old) && !needsNodePorts(svc) && sameNodePorts(spec.ports, oldSpec.ports)) {
    for (const p of spec.ports ?? []) delete p.nodePort;
  }
  if (needsHealthCheckNodePort(old) && !needsHealthCheckNodePort(svc) && spec.healthCheckNodePort === oldSpec.healthCheckNodePort) {
    delete spec.healthCheckNodePort;
  }
  if (oldSpec.type === 'LoadBalancer' && spec.type !== 'LoadBalancer') {
    if (spec.allocateLoadBalancerNodePorts === oldSpec.allocateLoadBalancerNodePorts) delete spec.allocateLoadBalancerNodePorts;
    if (spec.loadBalancerClass === oldSpec.loadBalancerClass) delete spec.loadBalancerClass;
    if (svc.status?.loadBalancer) svc.status.loadBalancer = {};
  }
  if (externallyAccessible(old) && !externallyAccessible(svc) && spec.externalTrafficPolicy === oldSpec.externalTrafficPolicy) {
    delete spec.externalTrafficPolicy;
  }
  if (spec.type === 'ExternalName') delete spec.internalTrafficPolicy;
}

/**
 * alloc.go normalizeClusterIPs + patchAllocatedValues: fill what an update
 * omitted (clusterIP, nodePorts by port name, healthCheckNodePort) from the
 * stored object, and mirror clusterIP into clusterIPs on create.
 */
export function normalizeServiceIPsAndPorts(svc: Service, old: Service | undefined): void {
  const spec = svc.spec!;
  if (old) {
    const oldSpec = old.spec ?? {};
    if (needsClusterIP(old) && needsClusterIP(svc)) {
      if (!spec.clusterIP && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
      if (!spec.clusterIPs?.length && spec.clusterIP === oldSpec.clusterIP) spec.clusterIPs = structuredClone(oldSpec.clusterIPs);
    }
    if (needsNodePorts(old) && needsNodePorts(svc)) {
      const used = new Set((oldSpec.ports ?? []).map((p) => p.nodePort).filter((n) => n && (spec.ports ?? []).some((q) => q.nodePort === n)));
      const byName = new Map((oldSpec.ports ?? []).map((p) => [p.name ?? '', p.nodePort ?? 0]));
      for (const p of spec.ports ?? []) {
        if (!p.nodePort) {
          const prev = byName.get(p.name ?? '');
          if (prev && !used.has(prev)) p.nodePort = prev;
        }
      }
    }
    if (needsHealthCheckNodePort(old) && needsHealthCheckNodePort(svc) && !spec.healthCheckNodePort && oldSpec.healthCheckNodePort) {
      spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
    }
  }
  if (spec.clusterIP && !spec.clusterIPs?.length) spec.clusterIPs = [spec.clusterIP];
}

function familyOf(ip: string): IPFamily | undefined {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return 'IPv4';
  if (ip.includes(':')) return 'IPv6';
  return undefined;
}

/**
 * alloc.go initIPFamilyFields for the cluster's families. Returns the errors
 * upstream returns as 422 (dual-stack asked of a single-stack cluster, ...).
 */
export function initIPFamilyFields(svc: Service, old: Service | undefined, cluster: ServiceClusterConfig): FieldError[] {
  const spec = svc.spec!;
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const dualStackCluster = cluster.ipFamilies.length > 1;
  const headlessSelectorless = isHeadless(svc) && Object.keys(spec.selector ?? {}).length === 0;

  if (!spec.ipFamilyPolicy) {
    if ((spec.ipFamilies?.length ?? 0) === 2 || (spec.clusterIPs?.length ?? 0) === 2) spec.ipFamilyPolicy = 'RequireDualStack';
    else if (old?.spec?.ipFamilyPolicy && old.spec.type !== 'ExternalName') spec.ipFamilyPolicy = old.spec.ipFamilyPolicy;
    else spec.ipFamilyPolicy = headlessSelectorless ? 'RequireDualStack' : 'SingleStack';
  }

  if (headlessSelectorless) {
    // Upstream lets headless selector-less services carry both families even on
    // a single-stack cluster: nothing is allocated for them.
    if (!spec.ipFamilies?.length) spec.ipFamilies = [cluster.ipFamilies[0]];
    if (spec.ipFamilyPolicy !== 'SingleStack' && spec.ipFamilies.length === 1) {
      spec.ipFamilies.push(spec.ipFamilies[0] === 'IPv4' ? 'IPv6' : 'IPv4');
    }
    return errs;
  }

  if (!dualStackCluster && spec.ipFamilyPolicy === 'RequireDualStack') {
    errs.push(fieldErrors.invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy, 'this cluster is not configured for dual-stack services'));
  }
  (spec.ipFamilies ?? []).forEach((f, i) => {
    if (!cluster.ipFamilies.includes(f as IPFamily)) errs.push(fieldErrors.invalid(`spec.ipFamilies[${i}]`, f, 'not configured on this cluster'));
  });
  (spec.clusterIPs ?? []).forEach((ip, i) => {
    const f = familyOf(ip);
    if (ip !== 'None' && f && !cluster.ipFamilies.includes(f)) {
      errs.push(fieldErrors.invalid(`spec.clusterIPs[${i}]`, ip, `${f} is not configured on this cluster`));
    }
  });
  if (errs.length) return errs;

  if (!spec.ipFamilies?.length) {
    const fromIPs = (spec.clusterIPs ?? []).map(familyOf).filter((f): f is IPFamily => !!f);
    spec.ipFamilies = fromIPs.length ? fromIPs : [cluster.ipFamilies[0]];
  }
  if (dualStackCluster && spec.ipFamilyPolicy !== 'SingleStack' && spec.ipFamilies.length === 1) {
    spec.ipFamilies.push(cluster.ipFamilies.find((f) => f !== spec.ipFamilies![0])!);
  }
  return errs;
}
