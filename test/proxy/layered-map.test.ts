// The proxy's derived maps (src/proxy/layered-map.ts) read and iterate as a copy changed the same way would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LayeredMap } from '../../src/proxy/layered-map.js';

/** What `new Map(base)` and the same calls give. */
function copied<K, V>(base: ReadonlyMap<K, V>, ops: [K, V | undefined][]): Map<K, V> {
  const m = new Map(base);
  for (const [k, v] of ops) {
    if (v === undefined) m.delete(k);
    else m.set(k, v);
  }
  return m;
}

test('gets, sizes and iteration order match a changed copy, across a long chain of derivations', () => {
  let layered: ReadonlyMap<string, number> = new Map(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
  let plain = new Map(layered);
  let seed = 7;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let round = 0; round < 60; round++) {
    const ops: [string, number | undefined][] = [];
    for (let j = 0; j < 3; j++) {
      const key = `k${random(130)}`;
      // Delete and set the same key in one round: the key moves to the end, as in a Map.
      ops.push([key, random(3) === 0 ? undefined : round * 10 + j]);
    }
    const next = LayeredMap.derive(layered);
    for (const [k, v] of ops) {
      if (v === undefined) next.delete(k);
      else next.set(k, v);
    }
    const sealed = next.seal();
    const expected = copied(plain, ops);
    assert.equal(sealed.size, expected.size);
    for (let i = 0; i < 130; i++) {
      assert.equal(sealed.get(`k${i}`), expected.get(`k${i}`));
      assert.equal(sealed.has(`k${i}`), expected.has(`k${i}`));
    }
    // The base is unchanged by its derivation.
    assert.deepEqual([...layered], [...plain]);
    // Iterating only every few rounds leaves chains deeper than the limit to be cut short.
    if (round % 7 === 0) assert.deepEqual([...sealed], [...expected]);
    layered = sealed;
    plain = expected;
  }
  assert.deepEqual([...layered.keys()], [...plain.keys()]);
  assert.deepEqual([...layered.values()], [...plain.values()]);
});

test('a sealed map refuses changes', () => {
  const m = LayeredMap.derive(new Map([['a', 1]]));
  m.seal();
  assert.throws(() => m.set('b', 2), /sealed/);
});
