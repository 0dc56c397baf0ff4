// ip_vs_wrr.c — interleaved weighted round robin, the kernel's exact sequence.
//
// di is the gcd of the positive weights and mw the largest weight less (di - 1).
// Passes over the list run with a current weight cw = mw, mw - di, ... down to
// the last pass with cw <= di; each pick continues the walk from the last
// chosen backend and takes the next one with weight >= cw that is not
// overloaded. Weights 4:3:2 give a a b a b c a b c, then again.
// A change of the list (ids, order or weights: add/del/upd_dest) restarts the
// walk at the head and keeps cw where the kernel does.
import { gcd, listKey, weightOf } from './common.js';
import type { Backend, Scheduler } from './types.js';

/** The kernel's struct ip_vs_wrr_mark; cl is an index, HEAD (-1) the list head. */
interface WrrMark {
  cl: number;
  cw: number;
  mw: number;
  di: number;
}

const HEAD = -1;

function gcdWeight(backends: readonly Backend[]): number {
  let g = 0;
  for (const b of backends) {
    const w = weightOf(b);
    if (w > 0) g = g > 0 ? gcd(w, g) : w;
  }
  return g || 1;
}

function maxWeight(backends: readonly Backend[]): number {
  return backends.reduce((m, b) => Math.max(m, weightOf(b)), 0);
}

export function createWrr(): Scheduler {
  const mark: WrrMark = { cl: HEAD, cw: 0, mw: 0, di: 1 };
  let key: string | undefined;

  function update(backends: readonly Backend[]): void {
    const first = key === undefined;
    key = listKey(backends);
    mark.cl = HEAD;
    mark.di = gcdWeight(backends);
    mark.mw = maxWeight(backends) - (mark.di - 1);
    if (first) mark.cw = mark.mw; // ip_vs_wrr_init_svc
    else if (mark.cw > mark.mw || !mark.cw) mark.cw = mark.mw;
    else if (mark.di > 1) mark.cw = Math.floor(mark.cw / mark.di) * mark.di + 1;
  }

  function pick(backends: readonly Backend[]): Backend | undefined {
    if (key !== listKey(backends)) update(backends);
    const n = backends.length;
    let dest = mark.cl;
    if (mark.mw === 0) return undefined; // no available dests
    const last = dest;
    let stop: number | undefined;
    let lastPass = false;
    let restarted = false;
    for (;;) {
      for (dest = dest + 1; dest < n; dest++) {
        const d = backends[dest]!;
        if (!d.overloaded && weightOf(d) >= mark.cw) {
          mark.cl = dest;
          return d;
        }
        if (dest === stop) {
          mark.cl = dest;
          return undefined; // all destinations are overloaded
        }
      }
      dest = HEAD;
      mark.cw -= mark.di;
      if (mark.cw <= 0) {
        mark.cw = mark.mw;
        // Stop if the last pass already ran from the first dest.
        if (lastPass || last === HEAD) {
          mark.cl = dest;
          return undefined;
        }
        restarted = true;
      }
      lastPass = mark.cw <= mark.di;
      // The first traversal for w >= 1 only covered dests after `last`; now
      // do the same for the dests up to `last`.
      if (lastPass && restarted && last !== HEAD) stop = last;
    }
  }

  return { name: 'wrr', pick, update };
}
