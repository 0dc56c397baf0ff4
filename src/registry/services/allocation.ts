// Cluster IP and node port allocation for Services, transactional with the
// store write as upstream's alloc.go: everything a request takes is given
// back if the write fails (or is a dry run); what an update frees is freed
// only after the write commits.
import type { Service } from '../../api/types.js';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import { errors } from '../../api/status.js';
import { AllocationError, type IPAllocator } from '../../allocator/ip-allocator.js';
import type { PortAllocator } from '../../allocator/port-allocator.js';
import type { WriteTransaction } from '../resource.js';
import { allocatesNodePorts, needsClusterIP, needsHealthCheckNodePort, needsNodePorts } from './defaults.js';

export interface ServiceAllocators {
  ips: IPAllocator;
  nodePorts: PortAllocator;
}

interface Held {
  ips: string[];
  ports: number[];
}

function clusterIPsOf(svc: Service): string[] {
  if (!needsClusterIP(svc)) return [];
  return (svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : [])).filter((ip) => ip && ip !== 'None');
}

function nodePortsOf(svc: Service): number[] {
  const ports = needsNodePorts(svc) ? (svc.spec?.ports ?? []).map((p) => p.nodePort ?? 0).filter((n) => n > 0) : [];
  if (needsHealthCheckNodePort(svc) && svc.spec?.healthCheckNodePort) ports.push(svc.spec.healthCheckNodePort);
  return [...new Set(ports)];
}

function invalid(svc: Service, errs: FieldError[]) {
  return errors.invalid('Service', '', svc.metadata?.name ?? '', errs);
}

export function createServiceAllocation(alloc: ServiceAllocators) {
  /** Takes what `svc` asks for beyond `held`; fills in dynamic values. Rolls back its own takes on error. */
  function take(svc: Service, held: Held): Held {
    const taken: Held = { ips: [], ports: [] };
    const undo = () => {
      taken.ips.forEach((ip) => alloc.ips.release(ip));
      taken.ports.forEach((p) => alloc.nodePorts.release(p));
    };
    try {
      const spec = svc.spec!;
      if (needsClusterIP(svc)) {
        const requested = spec.clusterIPs?.[0] || spec.clusterIP || '';
        if (requested && !held.ips.includes(requested)) {
          try {
            alloc.ips.allocate(requested);
          } catch (e) {
            if (!(e instanceof AllocationError)) throw e;
            throw invalid(svc, [fieldErrors.invalid('spec.clusterIPs', spec.clusterIPs ?? [requested], `failed to allocate IP ${requested}: ${e.message}`)]);
          }
          taken.ips.push(requested);
        } else if (!requested) {
          let ip: string;
          try {
            ip = alloc.ips.allocateNext();
          } catch (e) {
            if (!(e instanceof AllocationError)) throw e;
            throw errors.internal(`failed to allocate a serviceIP: ${e.message}`);
          }
          taken.ips.push(ip);
          spec.clusterIP = ip;
          spec.clusterIPs = [ip];
        }
      }
      if (needsNodePorts(svc)) {
        const ports = spec.ports ?? [];
        const inThisService = new Set<number>(held.ports);
        ports.forEach((p, i) => {
          if (!p.nodePort) return;
          if (inThisService.has(p.nodePort)) return;
          try {
            alloc.nodePorts.allocate(p.nodePort);
          } catch (e) {
            if (!(e instanceof AllocationError)) throw e;
            throw invalid(svc, [fieldErrors.invalid(`spec.ports[${i}].nodePort`, p.nodePort, e.message)]);
          }
          taken.ports.push(p.nodePort);
          inThisService.add(p.nodePort);
        });
        if (allocatesNodePorts(svc)) {
          ports.forEach((p) => {
            if (p.nodePort) return;
            // The same port number over two protocols shares one node port (findRequestedNodePort).
            const sibling = ports.find((q) => q !== p && q.port === p.port && q.nodePort);
            if (sibling) {
              p.nodePort = sibling.nodePort;
              return;
            }
            try {
              p.nodePort = alloc.nodePorts.allocateNext();
            } catch (e) {
              if (!(e instanceof AllocationError)) throw e;
              throw errors.internal(`failed to allocate a nodePort: ${e.message}`);
            }
            taken.ports.push(p.nodePort);
            inThisService.add(p.nodePort);
          });
        }
      }
      if (needsHealthCheckNodePort(svc)) {
        const hc = spec.healthCheckNodePort;
        if (hc && !held.ports.includes(hc)) {
          try {
            alloc.nodePorts.allocate(hc);
          } catch (e) {
            if (!(e instanceof AllocationError)) throw e;
            throw errors.internal(`failed to allocate requested HealthCheck NodePort ${hc}: ${e.message}`);
          }
          taken.ports.push(hc);
        } else if (!hc) {
          try {
            spec.healthCheckNodePort = alloc.nodePorts.allocateNext();
          } catch (e) {
            if (!(e instanceof AllocationError)) throw e;
            throw errors.internal(`failed to allocate a nodePort: ${e.message}`);
          }
          taken.ports.push(spec.healthCheckNodePort);
        }
      }
    } catch (e) {
      undo();
      throw e;
    }
    return taken;
  }

  function release(h: Held) {
    h.ips.forEach((ip) => alloc.ips.release(ip));
    h.ports.forEach((p) => alloc.nodePorts.release(p));
  }

  return {
    beginCreate(svc: Service, dryRun: boolean): WriteTransaction {
      const taken = take(svc, { ips: [], ports: [] });
      return {
        commit: () => {
          if (dryRun) release(taken);
        },
        rollback: () => release(taken),
      };
    },
    beginUpdate(svc: Service, old: Service, dryRun: boolean): WriteTransaction {
      const held: Held = { ips: clusterIPsOf(old), ports: nodePortsOf(old) };
      const taken = take(svc, held);
      return {
        commit: () => {
          if (dryRun) {
            release(taken);
            return;
          }
          const keepIPs = new Set(clusterIPsOf(svc));
          const keepPorts = new Set(nodePortsOf(svc));
          release({ ips: held.ips.filter((ip) => !keepIPs.has(ip)), ports: held.ports.filter((p) => !keepPorts.has(p)) });
        },
        rollback: () => release(taken),
      };
    },
    releaseAll(svc: Service) {
      release({ ips: clusterIPsOf(svc), ports: nodePortsOf(svc) });
    },
    /** Rebuilds the bitmaps from stored Services at start (upstream's repair loop, done once). */
    restore(svc: Service) {
      for (const ip of clusterIPsOf(svc)) if (alloc.ips.contains(ip) && !alloc.ips.isAllocated(ip)) alloc.ips.allocate(ip);
      for (const p of nodePortsOf(svc)) if (alloc.nodePorts.contains(p) && !alloc.nodePorts.isAllocated(p)) alloc.nodePorts.allocate(p);
    },
  };
}

export type ServiceAllocation = ReturnType<typeof createServiceAllocation>;
