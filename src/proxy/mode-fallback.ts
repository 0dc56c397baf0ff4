// Which mode runs for the one configured: ipvs falls back to iptables, as
// kube-proxy does where the kernel lacks IPVS. Kept apart from the proxiers so
// choosing a mode (kubesvc up) does not load them.
import { existsSync } from 'node:fs';
import type { ProxyMode } from './config.js';

/** Why this kernel cannot run the ipvs mode, or undefined when it can. */
export function ipvsUnavailableReason(procNetIpVs = '/proc/net/ip_vs'): string | undefined {
  if (!existsSync(procNetIpVs)) return `the kernel has no IPVS (${procNetIpVs} is missing: module ip_vs not loaded or not built)`;
  return undefined;
}

/**
 * The mode that will run for the configured one. ipvs falls back to iptables:
 * without kernel support, as kube-proxy does; with it too, because kubesvc
 * generates the ipvs mode's state (`kubesvc proxy rules --mode ipvs`) but does
 * not program IPVS into the kernel yet — said plainly in the reason.
 */
export function effectiveMode(configured: ProxyMode, procNetIpVs?: string): { mode: ProxyMode; fallbackReason?: string } {
  if (configured !== 'ipvs') return { mode: configured };
  const why = ipvsUnavailableReason(procNetIpVs) ?? 'kubesvc does not program IPVS virtual servers into the kernel yet (see them with kubesvc proxy rules --mode ipvs)';
  return { mode: 'iptables', fallbackReason: why };
}
