// kube-proxy's iptables and nftables modes: each new connection goes to an
// endpoint chosen uniformly at random (iptables: a cascade of
// "-m statistic --mode random --probability 1/(n-i)" rules; nftables:
// "numgen random mod n"). Both are uniform; we draw once, as nftables does.
// kube-proxy has no weights; here a quiesced (weight 0) or overloaded backend
// is left out, and every other backend is equally likely whatever its weight.
import { isUnavailable } from './common.js';
import type { Backend, Rng, Scheduler } from './types.js';

export function pickRandom(backends: readonly Backend[], rng: Rng): Backend | undefined {
  const available = backends.filter((b) => !isUnavailable(b));
  if (available.length === 0) return undefined;
  const i = Math.min(available.length - 1, Math.floor(rng() * available.length));
  return available[i];
}

export function createRandom(rng: Rng = Math.random): Scheduler {
  return { name: 'random', pick: (backends) => pickRandom(backends, rng) };
}
