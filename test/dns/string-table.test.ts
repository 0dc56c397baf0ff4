import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StringTable } from '../../src/dns/string-table.js';

test('StringTable numbers its members as a Map would keep them, through growth and deletions that shift runs back', () => {
  const table = new StringTable();
  const model = new Map<string, number>();
  let seed = 12345;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  for (let step = 0; step < 20_000; step++) {
    const key = `name-${rand(3000)}.default.svc.cluster.local`;
    if (rand(3) === 0) {
      table.delete(key);
      model.delete(key);
    } else {
      const slot = table.add(key);
      if (model.has(key)) assert.equal(slot, model.get(key));
      model.set(key, slot);
    }
    if (step % 1000 === 0) {
      assert.equal(table.size, model.size);
      for (const [k, slot] of model) {
        assert.equal(table.get(k), slot);
        assert.equal(table.keyOf(slot), k);
      }
    }
  }
  for (let i = 0; i < 3000; i++) {
    const key = `name-${i}.default.svc.cluster.local`;
    assert.equal(table.get(key), model.get(key) ?? -1);
  }
  // Slots are reused: never more than the most members held at once.
  const slots = new Set(model.values());
  assert.equal(slots.size, model.size);
  assert.ok(table.slots <= 3000);
  for (const k of [...model.keys()]) table.delete(k);
  assert.equal(table.size, 0);
  assert.equal(table.get('name-1.default.svc.cluster.local'), -1);
});
