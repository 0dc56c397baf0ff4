// Cluster IP and node port allocation for Services, kept in the store and
// written in the same store transaction as the Service (upstream's alloc.go
// transactions, with the allocations where upstream keeps them):
//
//   ClusterIPs  one IPAddress per address at /registry/ipaddresses/<ip>
//               (../../allocator/ip-address.ts): taking one is creating its
//               key, releasing it deleting the key;
//   NodePorts   the RangeAllocation at /registry/ranges/servicenodeports
//               (../../allocator/range-allocation.ts), compare-and-swapped
//               on its revision.
//
// A create is one transaction "the Service key is absent, each new address
// key is absent, the range is at the revision read → put the Service, the
// IPAddresses and the new range"; an update or delete compares the Service's
// revision instead and deletes what it frees. So API servers sharing one
// store (etcd) never hand out one address or port twice: the loser of a race
// is told which compare failed, takes another dynamic value (or, for a value
// the request named, answers upstream's "already allocated") and tries again.
//
// The bitmaps in this process are hints for choosing values, never the
// truth: values taken by other servers are learned when a compare fails
// (and all of them again when a hint says the range is full), and a value
// the hint holds is confirmed in the store before a request is refused.
// Within the process, writes that touch the node port range go one at a
// time, so only another server's write can make one retry.
import type { Service } from '../../api/types.js';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import { errors } from '../../api/status.js';
import { AllocationError, createIPAllocator, type IPAllocator } from '../../allocator/ip-allocator.js';
import { createPortAllocator, type PortAllocator } from '../../allocator/port-allocator.js';
import { ipAddressKey, ipAddressObject, ipAddressPrefix, ipOfKey } from '../../allocator/ip-address.js';
import { decodeRangeAllocation, encodeRangeAllocation, serviceNodePortsKey } from '../../allocator/range-allocation.js';
import { KeyExistsError, KeyNotFoundError, RevisionConflictError, type Store, type TxnCompare, type TxnOp } from '../../storage/store.js';
import { logger } from '../../util/log.js';
import type { ObjectWrite, WriteTransaction } from '../resource.js';
import { allocatesNodePorts, needsClusterIP, needsHealthCheckNodePort, needsNodePorts } from './defaults.js';

const log = logger('allocation');

export interface ServiceAllocationConfig {
  store: Store;
  /** --service-cluster-ip-range, e.g. 10.96.0.0/12. */
  serviceClusterIPRange: string;
  /** --service-node-port-range, e.g. 30000-32767. */
  serviceNodePortRange: string;
  random?: () => number;
}

interface Held {
  ips: string[];
  ports: number[];
}

/** One value a write takes. A requested one fails the request when taken elsewhere; a dynamic one is chosen again. */
interface Take {
  kind: 'ip' | 'port';
  value: string | number;
  /** The request's error when the value it asked for is allocated. */
  taken?: () => Error;
}

/** Conflicts in a row after which a write gives up (only a storm of other servers' writes gets there). */
const maxAttempts = 64;

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

/** A lock for one section at a time (the node port range's read-modify-write). */
function mutex() {
  let tail: Promise<void> = Promise.resolve();
  return async (): Promise<() => void> => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const before = tail;
    tail = before.then(() => held);
    await before;
    return release;
  };
}

export function createServiceAllocation(config: ServiceAllocationConfig) {
  const { store, random } = config;
  let ips: IPAllocator = createIPAllocator(config.serviceClusterIPRange, random);
  let ports: PortAllocator = createPortAllocator(config.serviceNodePortRange, random);
  /** Values chosen by requests in flight: kept in the hints when they are rebuilt. */
  const pendingIPs = new Set<string>();
  const pendingPorts = new Set<number>();
  /** The RangeAllocation as last read or written: the base of the next compare-and-swap. */
  let storedPorts = { ports: createPortAllocator(config.serviceNodePortRange), revision: 0 };
  const portLock = mutex();

  const markIP = (ip: string) => {
    if (ips.contains(ip) && !ips.isAllocated(ip)) ips.allocate(ip);
  };
  const markPort = (p: number) => {
    if (ports.contains(p) && !ports.isAllocated(p)) ports.allocate(p);
  };

  /** The hint rebuilt from the IPAddresses in the store and the requests in flight. */
  async function resyncIPs(): Promise<void> {
    const { items } = await store.list(ipAddressPrefix);
    const fresh = createIPAllocator(config.serviceClusterIPRange, random);
    for (const item of items) {
      const ip = ipOfKey(item.key);
      if (fresh.contains(ip) && !fresh.isAllocated(ip)) fresh.allocate(ip);
    }
    for (const ip of pendingIPs) if (fresh.contains(ip) && !fresh.isAllocated(ip)) fresh.allocate(ip);
    ips = fresh;
  }

  /** The RangeAllocation read again; the hint becomes it plus the requests in flight. */
  async function refreshPorts(): Promise<void> {
    const stored = await store.get(serviceNodePortsKey);
    const data = stored ? decodeRangeAllocation(stored.value).data : undefined;
    storedPorts = { ports: createPortAllocator(config.serviceNodePortRange, undefined, data), revision: stored?.modRevision ?? 0 };
    const fresh = createPortAllocator(config.serviceNodePortRange, random, data);
    for (const p of pendingPorts) if (!fresh.isAllocated(p)) fresh.allocate(p);
    ports = fresh;
  }

  async function nextIP(): Promise<string> {
    for (let round = 0; ; round++) {
      try {
        return ips.allocateNext();
      } catch (e) {
        if (!(e instanceof AllocationError)) throw e;
        // Full as far as this process knows: other servers may have released addresses since.
        if (round > 0) throw errors.internal(`failed to allocate a serviceIP: ${e.message}`);
        await resyncIPs();
      }
    }
  }

  async function nextPort(): Promise<number> {
    for (let round = 0; ; round++) {
      try {
        return ports.allocateNext();
      } catch (e) {
        if (!(e instanceof AllocationError)) throw e;
        if (round > 0) throw errors.internal(`failed to allocate a nodePort: ${e.message}`);
        await refreshPorts();
      }
    }
  }

  /** A value the request names, held by the hint: allocated indeed (in the store, or by a request in flight)? */
  async function ipTaken(ip: string): Promise<boolean> {
    if (!ips.isAllocated(ip)) return false;
    if (pendingIPs.has(ip) || (await store.get(ipAddressKey(ip)))) return true;
    ips.release(ip); // released by another server since
    return false;
  }

  async function portTaken(p: number): Promise<boolean> {
    if (!ports.isAllocated(p)) return false;
    if (pendingPorts.has(p)) return true;
    await refreshPorts();
    return ports.isAllocated(p);
  }

  function hold(t: Take) {
    if (t.kind === 'ip') {
      markIP(t.value as string);
      pendingIPs.add(t.value as string);
    } else {
      markPort(t.value as number);
      pendingPorts.add(t.value as number);
    }
  }

  /** A take no longer in flight; `free`: not allocated either (the write failed or was a dry run). */
  function settle(t: Take, free: boolean) {
    if (t.kind === 'ip') {
      pendingIPs.delete(t.value as string);
      if (free) ips.release(t.value as string);
    } else {
      pendingPorts.delete(t.value as number);
      // Not when the range as last read holds it: then another Service does.
      if (free && !storedPorts.ports.isAllocated(t.value as number)) ports.release(t.value as number);
    }
  }

  /** Takes what `svc` asks for beyond `held`; fills in dynamic values. Gives back its own takes on error. */
  async function take(svc: Service, held: Held): Promise<Take[]> {
    const taken: Take[] = [];
    const add = (t: Take) => {
      hold(t);
      taken.push(t);
    };
    try {
      const spec = svc.spec!;
      if (needsClusterIP(svc)) {
        const requested = spec.clusterIPs?.[0] || spec.clusterIP || '';
        const alreadyAllocated = () =>
          invalid(svc, [fieldErrors.invalid('spec.clusterIPs', spec.clusterIPs ?? [requested], `failed to allocate IP ${requested}: provided IP is already allocated`)]);
        if (requested && !held.ips.includes(requested)) {
          if (!ips.contains(requested)) {
            const message = `the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${ips.cidr}`;
            throw invalid(svc, [fieldErrors.invalid('spec.clusterIPs', spec.clusterIPs ?? [requested], `failed to allocate IP ${requested}: ${message}`)]);
          }
          if (await ipTaken(requested)) throw alreadyAllocated();
          add({ kind: 'ip', value: requested, taken: alreadyAllocated });
        } else if (!requested) {
          const ip = await nextIP();
          spec.clusterIP = ip;
          spec.clusterIPs = [ip];
          add({ kind: 'ip', value: ip });
        }
      }
      if (needsNodePorts(svc)) {
        const list = spec.ports ?? [];
        const inThisService = new Set<number>(held.ports);
        for (const [i, p] of list.entries()) {
          if (!p.nodePort || inThisService.has(p.nodePort)) continue;
          const port = p.nodePort;
          const alreadyAllocated = () => invalid(svc, [fieldErrors.invalid(`spec.ports[${i}].nodePort`, port, 'provided port is already allocated')]);
          if (!ports.contains(port)) {
            throw invalid(svc, [fieldErrors.invalid(`spec.ports[${i}].nodePort`, port, `provided port is not in the valid range. The range of valid ports is ${ports.range}`)]);
          }
          if (await portTaken(port)) throw alreadyAllocated();
          add({ kind: 'port', value: port, taken: alreadyAllocated });
          inThisService.add(port);
        }
        if (allocatesNodePorts(svc)) {
          for (const p of list) {
            if (p.nodePort) continue;
            // The same port number over two protocols shares one node port (findRequestedNodePort).
            const sibling = list.find((q) => q !== p && q.port === p.port && q.nodePort);
            if (sibling) {
              p.nodePort = sibling.nodePort;
              continue;
            }
            p.nodePort = await nextPort();
            add({ kind: 'port', value: p.nodePort });
            inThisService.add(p.nodePort);
          }
        }
      }
      if (needsHealthCheckNodePort(svc)) {
        const hc = spec.healthCheckNodePort;
        if (hc && !held.ports.includes(hc)) {
          const failed = (message: string) => errors.internal(`failed to allocate requested HealthCheck NodePort ${hc}: ${message}`);
          if (!ports.contains(hc)) throw failed(`provided port is not in the valid range. The range of valid ports is ${ports.range}`);
          if (await portTaken(hc)) throw failed('provided port is already allocated');
          add({ kind: 'port', value: hc, taken: () => failed('provided port is already allocated') });
        } else if (!hc) {
          spec.healthCheckNodePort = await nextPort();
          add({ kind: 'port', value: spec.healthCheckNodePort });
        }
      }
    } catch (e) {
      for (const t of taken) settle(t, true);
      throw e;
    }
    return taken;
  }

  /** A dynamic value someone else took: another one, written into the Service wherever the old one was. */
  async function chooseAgain(svc: Service, t: Take): Promise<void> {
    const old = t.value;
    settle(t, false); // allocated, just not by us: stays in the hint
    if (t.kind === 'ip') {
      const ip = await nextIP();
      svc.spec!.clusterIP = ip;
      svc.spec!.clusterIPs = (svc.spec!.clusterIPs ?? [ip]).map((v) => (v === old ? ip : v));
      t.value = ip;
    } else {
      const port = await nextPort();
      for (const p of svc.spec?.ports ?? []) if (p.nodePort === old) p.nodePort = port;
      if (svc.spec!.healthCheckNodePort === old) svc.spec!.healthCheckNodePort = port;
      t.value = port;
    }
    hold(t);
  }

  /**
   * The object's write with its takes and frees, as one store transaction,
   * retried on the allocations' conflicts. `svc` is the object the write
   * stores (undefined for a delete) and `frees` what it gives back.
   */
  async function write(object: ObjectWrite, svc: Service | undefined, takes: Take[], frees: () => Held): Promise<number> {
    const ref = svc && { namespace: svc.metadata?.namespace ?? '', name: svc.metadata?.name ?? '' };
    /** The range was read from the store since this write last found it stale: a clash in it is real. */
    let confirmed = false;
    for (let attempt = 1; ; attempt++) {
      const released = frees();
      const compares: TxnCompare[] = [{ key: object.key, modRevision: object.expectedRevision ?? 0 }];
      const ops: TxnOp[] = [object.value ? { type: 'put', key: object.key, value: object.value() } : { type: 'delete', key: object.key }];
      for (const t of takes.filter((t) => t.kind === 'ip')) {
        compares.push({ key: ipAddressKey(t.value as string), modRevision: 0 });
        ops.push({ type: 'put', key: ipAddressKey(t.value as string), value: ipAddressObject(t.value as string, ref!) });
      }
      for (const ip of released.ips) ops.push({ type: 'delete', key: ipAddressKey(ip) });
      const portTakes = takes.filter((t) => t.kind === 'port');
      const rangeChange = portTakes.length > 0 || released.ports.some((p) => storedPorts.ports.contains(p));
      const unlock = rangeChange ? await portLock() : undefined;
      try {
        let next: PortAllocator | undefined;
        if (rangeChange) {
          next = createPortAllocator(config.serviceNodePortRange, undefined, storedPorts.ports.snapshot());
          for (const p of released.ports) next.release(p);
          const clash = portTakes.find((t) => next!.isAllocated(t.value as number));
          if (clash) {
            // Taken in the range as last read: confirmed in the store first, then someone else's since this request chose it.
            if (!confirmed) await refreshPorts();
            else if (clash.taken) throw clash.taken();
            else await chooseAgain(svc!, clash);
            confirmed = true;
            continue;
          }
          for (const t of portTakes) next.allocate(t.value as number);
          compares.push({ key: serviceNodePortsKey, modRevision: storedPorts.revision });
          ops.push({ type: 'put', key: serviceNodePortsKey, value: encodeRangeAllocation(next.range, next.snapshot()) });
        }
        const result = await store.txn(compares, ops);
        if (result.succeeded) {
          if (next) storedPorts = { ports: next, revision: result.results[result.results.length - 1]!.modRevision };
          return result.results[0]!.modRevision;
        }
        const [own, ...others] = result.current;
        if (own!.modRevision !== (object.expectedRevision ?? 0)) {
          if (object.expectedRevision === undefined) throw new KeyExistsError(object.key);
          if (own!.modRevision === 0) throw new KeyNotFoundError(object.key);
          throw new RevisionConflictError(object.key, own!.modRevision);
        }
        if (attempt >= maxAttempts) throw errors.internal(`the allocations of Service ${ref?.namespace ?? ''}/${ref?.name ?? ''} kept conflicting with other writes; try again`);
        for (const c of others) {
          if (c.key === serviceNodePortsKey) {
            if (c.modRevision !== storedPorts.revision) await refreshPorts();
            confirmed = true;
            continue;
          }
          if (c.modRevision === 0) continue;
          const t = takes.find((t) => t.kind === 'ip' && ipAddressKey(t.value as string) === c.key)!;
          if (t.taken) throw t.taken();
          await chooseAgain(svc!, t);
        }
      } finally {
        unlock?.();
      }
    }
  }

  /** The transaction of one write: the takes settle on commit, are given back on rollback. */
  function transaction(takes: Take[], dryRun: boolean, frees: () => Held, svc: Service | undefined): WriteTransaction {
    let done = false;
    const finish = (stored: boolean) => {
      if (done) return;
      done = true;
      for (const t of takes) settle(t, !stored);
      if (stored) {
        const f = frees();
        for (const ip of f.ips) if (ips.contains(ip)) ips.release(ip);
        for (const p of f.ports) if (ports.contains(p)) ports.release(p);
      }
    };
    return {
      commit: () => finish(!dryRun),
      rollback: () => finish(false),
      write: (object) => write(object, svc, takes, frees),
    };
  }

  return {
    async beginCreate(svc: Service, dryRun: boolean): Promise<WriteTransaction> {
      const takes = await take(svc, { ips: [], ports: [] });
      return transaction(takes, dryRun, () => ({ ips: [], ports: [] }), svc);
    },
    async beginUpdate(svc: Service, old: Service, dryRun: boolean): Promise<WriteTransaction> {
      const held: Held = { ips: clusterIPsOf(old), ports: nodePortsOf(old) };
      const takes = await take(svc, held);
      // What the updated Service no longer holds, as it stands when written.
      const frees = (): Held => {
        const keepIPs = new Set(clusterIPsOf(svc));
        const keepPorts = new Set(nodePortsOf(svc));
        return { ips: held.ips.filter((ip) => !keepIPs.has(ip)), ports: held.ports.filter((p) => !keepPorts.has(p)) };
      };
      return transaction(takes, dryRun, frees, svc);
    },
    beginDelete(svc: Service): WriteTransaction {
      const all = { ips: clusterIPsOf(svc), ports: nodePortsOf(svc) };
      return transaction([], false, () => all, undefined);
    },
    /**
     * At start: the hints from the store, and what Services hold but the
     * store does not record (data written before allocations were stored,
     * upstream's repair loop) recorded.
     */
    async restore(services: Service[]): Promise<void> {
      await resyncIPs();
      for (const svc of services) {
        for (const ip of clusterIPsOf(svc)) {
          if (!ips.contains(ip) || ips.isAllocated(ip)) continue;
          const ref = { namespace: svc.metadata?.namespace ?? '', name: svc.metadata?.name ?? '' };
          const r = await store.txn([{ key: ipAddressKey(ip), modRevision: 0 }], [{ type: 'put', key: ipAddressKey(ip), value: ipAddressObject(ip, ref) }]);
          if (r.succeeded) log.info('Cluster IP is not allocated; repairing', { ip, service: `${ref.namespace}/${ref.name}` });
          markIP(ip);
        }
      }
      const held = services.flatMap(nodePortsOf).filter((p) => ports.contains(p));
      for (let attempt = 1; ; attempt++) {
        await refreshPorts();
        const stored = await store.get(serviceNodePortsKey);
        const sameRange = stored && decodeRangeAllocation(stored.value).range === storedPorts.ports.range;
        const missing = held.filter((p) => !storedPorts.ports.isAllocated(p));
        if (stored && sameRange && !missing.length) return;
        // No range yet (a new store, or one from before), or one for another range: rebuilt from the Services.
        const next = sameRange ? createPortAllocator(config.serviceNodePortRange, undefined, storedPorts.ports.snapshot()) : createPortAllocator(config.serviceNodePortRange);
        for (const p of held) if (!next.isAllocated(p)) next.allocate(p);
        const r = await store.txn(
          [{ key: serviceNodePortsKey, modRevision: stored?.modRevision ?? 0 }],
          [{ type: 'put', key: serviceNodePortsKey, value: encodeRangeAllocation(next.range, next.snapshot()) }],
        );
        if (r.succeeded) {
          if (stored) log.info('node port allocations repaired from the Services', { ports: missing.length, range: next.range });
          await refreshPorts();
          return;
        }
        if (attempt >= maxAttempts) throw new Error('the node port range kept changing while it was repaired');
      }
    },
    /** The first address of the range: the `kubernetes` Service's. */
    firstAddress: () => ips.addressAt(0),
  };
}

export type ServiceAllocation = ReturnType<typeof createServiceAllocation>;
