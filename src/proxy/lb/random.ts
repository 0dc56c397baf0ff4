// kube-proxy's iptables and nftables modes: each new connection goes to an
// endpoint chosen uniformly at random (iptables: a cascade of
// "-m statistic --mode random --probability 1/(n-i)" rules; nftables:
// "numgen random mod n"). Both are uniform; we draw once, as nftables does.
// kube-proxy has no weights; here a quiesced (weight 0) or overloaded backend
// is left out, and every other backend is equally likely whatever its weight.
import { isUnavailable } from './common.js';
import type { Backend, Rng, Scheduler } from './types.js';

/**
 * A small seeded generator (mulberry32) so that tests and replays are
 * deterministic; not for anything that needs unpredictability.
 */
export function createSeededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pickRandom(backends: readonly Backend[], rng: Rng): Backend | undefined {
  const available = backends.filter((b) => !isUnavailable(b));
  if (available.length === 0) return undefined;
  const i = Math.min(available.length - 1, Math.floor(rng() * available.length));
  return available[i];
}

export function createRandom(rng: Rng = Math.random): Scheduler {
  return { name: 'random', pick: (backends) => pickRandom(backends, rng) };
}
