// ip_vs_wlc.c — weighted least connection: the smallest overhead/weight, where
// overhead = activeconns*256 + inactconns. Like the kernel, no division: the
// first available backend is the candidate and a later one replaces it when
// loh * weight(dest) > doh * weight(least) (strictly, so ties keep the earlier
// backend). Overloaded backends are skipped; weight-0 backends can never win.
import { connOverhead, isUnavailable, weightOf } from './common.js';
import type { Backend, Scheduler } from './types.js';

/** The selection shared by wlc and lblc (__ip_vs_lblc_schedule is the same loop). */
export function pickWeightedLeastConnection(backends: readonly Backend[]): Backend | undefined {
  let i = backends.findIndex((b) => !isUnavailable(b));
  if (i < 0) return undefined;
  let least = backends[i]!;
  let loh = connOverhead(least);
  for (i++; i < backends.length; i++) {
    const dest = backends[i]!;
    if (dest.overloaded) continue;
    const doh = connOverhead(dest);
    if (loh * weightOf(dest) > doh * weightOf(least)) {
      least = dest;
      loh = doh;
    }
  }
  return least;
}

export function createWlc(): Scheduler {
  return { name: 'wlc', pick: (backends) => pickWeightedLeastConnection(backends) };
}
