// Round robin, in the two forms kube-proxy has used.
//
// 'ipvs' (default) — ip_vs_rr.c: continue the walk after the last chosen
// backend and take the next one that is neither quiesced (weight 0) nor
// overloaded, wrapping once. The position survives list changes; when the
// last chosen backend is removed the walk continues from its predecessor
// (ip_vs_rr_del_dest), so nobody is skipped or served twice in a row.
//
// 'userspace' — the old userspace proxy's LoadBalancerRR
// (pkg/proxy/userspace/roundrobin.go): when the set of endpoints changes
// (order does not matter) the list is shuffled and the index reset to 0; each
// pick takes endpoints[index] and advances. Weights and overload are not
// looked at; the proxy only ever handed it ready endpoints.
import { isUnavailable } from './common.js';
import type { Backend, Rng, Scheduler } from './types.js';

export type RoundRobinFlavor = 'ipvs' | 'userspace';

const HEAD = -1;

function createIpvsRr(): Scheduler {
  let lastId: string | undefined; // svc->sched_data; undefined = list head
  let ids: string[] = [];

  function update(backends: readonly Backend[]): void {
    const next = backends.map((b) => b.id);
    if (lastId !== undefined && !next.includes(lastId)) {
      // Removed: continue from the nearest surviving predecessor (or the head).
      const present = new Set(next);
      const at = ids.indexOf(lastId);
      let pred: string | undefined;
      for (let i = at - 1; i >= 0; i--) {
        if (present.has(ids[i]!)) {
          pred = ids[i];
          break;
        }
      }
      lastId = pred;
    }
    ids = next;
  }

  function pick(backends: readonly Backend[]): Backend | undefined {
    if (backends.length !== ids.length || backends.some((b, i) => b.id !== ids[i])) update(backends);
    const p = lastId === undefined ? HEAD : ids.indexOf(lastId);
    const last = p;
    let dest = p;
    let pass = 0;
    do {
      for (dest = dest + 1; dest < backends.length; dest++) {
        const d = backends[dest]!;
        if (!isUnavailable(d)) {
          lastId = d.id;
          return d;
        }
        if (dest === last) return undefined;
      }
      dest = HEAD;
      pass++;
      // Starting from the head, one pass has seen every backend.
    } while (pass < 2 && p !== HEAD);
    return undefined;
  }

  return { name: 'rr', pick, update };
}

/** kube-proxy's util.ShuffleStrings: a uniformly random permutation. */
function shuffle<T>(items: readonly T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(rng() * (i + 1)));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function createUserspaceRr(rng: Rng): Scheduler {
  let endpoints: string[] = [];
  let sortedKey = '';
  let index = 0;

  function update(backends: readonly Backend[]): void {
    const ids = backends.map((b) => b.id);
    const key = [...ids].sort().join('\u0000');
    if (key === sortedKey) return; // slicesEquiv: same set, nothing to do
    sortedKey = key;
    endpoints = shuffle(ids, rng);
    index = 0;
  }

  function pick(backends: readonly Backend[]): Backend | undefined {
    update(backends);
    if (endpoints.length === 0) return undefined;
    const id = endpoints[index]!;
    index = (index + 1) % endpoints.length;
    return backends.find((b) => b.id === id);
  }

  return { name: 'rr', pick, update };
}

export function createRr(flavor: RoundRobinFlavor = 'ipvs', rng: Rng = Math.random): Scheduler {
  return flavor === 'userspace' ? createUserspaceRr(rng) : createIpvsRr();
}
