// ip_vs_lc.c — least connection: the backend with the smallest
// activeconns*256 + inactconns; quiesced (weight 0) and overloaded backends are
// skipped; ties go to the first in list order.
import { connOverhead, isUnavailable } from './common.js';
import type { Backend, Scheduler } from './types.js';

export function pickLeastConnection(backends: readonly Backend[]): Backend | undefined {
  let least: Backend | undefined;
  let loh = 0;
  for (const dest of backends) {
    if (isUnavailable(dest)) continue;
    const doh = connOverhead(dest);
    if (!least || doh < loh) {
      least = dest;
      loh = doh;
    }
  }
  return least;
}

export function createLc(): Scheduler {
  return { name: 'lc', pick: (backends) => pickLeastConnection(backends) };
}
