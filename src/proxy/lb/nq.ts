// ip_vs_nq.c — never queue: the first idle (no active connections) available
// backend in list order, whatever its weight; when none is idle, shortest
// expected delay ((activeconns + 1)/weight, cross-multiplied, first wins ties).
import { isUnavailable, weightOf } from './common.js';
import { sedOverhead } from './sed.js';
import type { Backend, Scheduler } from './types.js';

export function pickNeverQueue(backends: readonly Backend[]): Backend | undefined {
  let least: Backend | undefined;
  let loh = 0;
  for (const dest of backends) {
    if (isUnavailable(dest)) continue;
    const doh = sedOverhead(dest);
    if (dest.activeConns === 0) return dest;
    if (!least || loh * weightOf(dest) > doh * weightOf(least)) {
      least = dest;
      loh = doh;
    }
  }
  return least;
}

export function createNq(): Scheduler {
  return { name: 'nq', pick: (backends) => pickNeverQueue(backends) };
}
