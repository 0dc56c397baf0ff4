// ip_vs_sed.c — shortest expected delay: the smallest (activeconns + 1)/weight,
// i.e. the delay the new job would see; inactive connections do not count.
// Same comparison scheme as wlc: cross-multiplied, strict, first wins ties,
// overloaded skipped, weight 0 never chosen.
import { isUnavailable, weightOf } from './common.js';
import type { Backend, Scheduler } from './types.js';

export function sedOverhead(b: Backend): number {
  return b.activeConns + 1;
}

export function pickShortestExpectedDelay(backends: readonly Backend[]): Backend | undefined {
  let i = backends.findIndex((b) => !isUnavailable(b));
  if (i < 0) return undefined;
  let least = backends[i]!;
  let loh = sedOverhead(least);
  for (i++; i < backends.length; i++) {
    const dest = backends[i]!;
    if (dest.overloaded) continue;
    const doh = sedOverhead(dest);
    if (loh * weightOf(dest) > doh * weightOf(least)) {
      least = dest;
      loh = doh;
    }
  }
  return least;
}

export function createSed(): Scheduler {
  return { name: 'sed', pick: (backends) => pickShortestExpectedDelay(backends) };
}
