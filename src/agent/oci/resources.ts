// A container's requests and limits as the kubelet hands them to the runtime
// (kuberuntime's generateLinuxContainerResources and helpers_linux.go) and the
// runtime writes them into the spec: CPU shares from the request (the limit
// when there is no request), CFS quota over a 100 ms period from the limit,
// the memory limit in bytes (swap held to it, so the container cannot swap),
// and the OOM score adjustment of the pod's QoS class (pkg/kubelet/qos).
import type { Container, Pod } from '../../api/types.js';
import { parseQuantity } from '../../api/quantity.js';
import { podQOSClass } from '../pod-status.js';
import type { OciResources } from './types.js';

const MIN_SHARES = 2;
const MAX_SHARES = 262144;
const SHARES_PER_CPU = 1024;
export const CFS_PERIOD_US = 100000;
const MIN_QUOTA_US = 1000;

/** Quantity.MilliValue: the value in thousandths, rounded up. */
function milli(q: string | number | undefined): number {
  const v = parseQuantity(q);
  if (v === undefined || v <= 0) return 0;
  // Through nano units first, so that 0.1 * 1000 does not round up to 101.
  return Math.ceil(Math.round(v * 1e9) / 1e6);
}

/** Quantity.Value: the value in base units, rounded up. */
function whole(q: string | number | undefined): number {
  const v = parseQuantity(q);
  return v === undefined || v <= 0 ? 0 : Math.ceil(Math.round(v * 1e3) / 1e3);
}

export function milliCPUToShares(milliCPU: number): number {
  if (milliCPU === 0) return MIN_SHARES;
  const shares = Math.floor((milliCPU * SHARES_PER_CPU) / 1000);
  return Math.min(Math.max(shares, MIN_SHARES), MAX_SHARES);
}

export function milliCPUToQuota(milliCPU: number, period = CFS_PERIOD_US): number {
  if (milliCPU === 0) return 0;
  return Math.max(Math.floor((milliCPU * period) / 1000), MIN_QUOTA_US);
}

type ResourceList = Record<string, string | number> | undefined;

export interface ResourceOptions {
  /** The kubelet's --cpu-cfs-quota (default true): CPU limits become a CFS quota. */
  cfsQuota?: boolean;
  /** Whether the memory controller can limit swap (memory.memsw / memory.swap.max); swap is then held to the limit. */
  swapLimit?: boolean;
}

/** The spec's linux.resources (without device rules) for a container's resources. */
export function containerResources(resources: Container['resources'], o: ResourceOptions = {}): Omit<OciResources, 'devices'> {
  const requests = resources?.requests as ResourceList;
  const limits = resources?.limits as ResourceList;
  const cpuRequest = milli(requests?.cpu);
  const cpuLimit = milli(limits?.cpu);
  const memoryLimit = whole(limits?.memory);
  const out: Omit<OciResources, 'devices'> = {
    cpu: { shares: milliCPUToShares(cpuRequest === 0 && cpuLimit !== 0 ? cpuLimit : cpuRequest) },
  };
  if (o.cfsQuota !== false) {
    out.cpu!.period = CFS_PERIOD_US;
    const quota = milliCPUToQuota(cpuLimit);
    if (quota) out.cpu!.quota = quota;
  }
  if (memoryLimit) out.memory = o.swapLimit ? { limit: memoryLimit, swap: memoryLimit } : { limit: memoryLimit };
  return out;
}

const GUARANTEED_OOM_SCORE_ADJ = -997;
const BEST_EFFORT_OOM_SCORE_ADJ = 1000;

/**
 * GetContainerOOMScoreAdjust: -997 for Guaranteed pods and node-critical
 * ones, 1000 for BestEffort, and between 3 and 999 for Burstable, lower the
 * more of the node's memory the container requests.
 */
export function oomScoreAdj(pod: Pod, container: Container, memoryCapacity: number): number {
  if (pod.spec?.priorityClassName === 'system-node-critical') return GUARANTEED_OOM_SCORE_ADJ;
  const qos = podQOSClass(pod);
  if (qos === 'Guaranteed') return GUARANTEED_OOM_SCORE_ADJ;
  if (qos === 'BestEffort') return BEST_EFFORT_OOM_SCORE_ADJ;
  // The API defaults a missing request to the limit.
  const request = whole((container.resources?.requests as ResourceList)?.memory ?? (container.resources?.limits as ResourceList)?.memory);
  const adj = memoryCapacity > 0 ? 1000 - Math.trunc((1000 * request) / memoryCapacity) : 1000;
  if (adj < 1000 + GUARANTEED_OOM_SCORE_ADJ) return 1000 + GUARANTEED_OOM_SCORE_ADJ;
  if (adj === BEST_EFFORT_OOM_SCORE_ADJ) return adj - 1;
  return adj;
}
