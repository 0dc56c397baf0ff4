// The names the apps controllers derive from a pod template: upstream's
// controller.ComputeHash (FNV-32a of the template plus collisionCount,
// rendered with rand.SafeEncodeString's alphabet) and EqualIgnoreHash.
//
// Upstream feeds the Go struct printed by spew into the hash; there is no Go
// struct here, so the input is the template's canonical JSON (sorted keys,
// empty values dropped). The hash is stable for one template and changes with
// it, which is the contract; the exact digits differ from a Go controller's.
import { isPlainObject } from '../../api/object.js';
import { podTemplateHashLabel, type PodTemplateSpec } from './types.js';

/** rand.SafeEncodeString's alphabet: no vowels, no 0/1/3, so no words and no look-alikes. */
const safeAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

export function safeEncodeString(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += safeAlphabet[b % safeAlphabet.length];
  return out;
}

const fnvOffset = 0x811c9dc5;
const fnvPrime = 0x01000193;

export function fnv32a(data: Uint8Array, seed = fnvOffset): number {
  let h = seed >>> 0;
  for (const b of data) {
    h ^= b;
    h = Math.imul(h, fnvPrime) >>> 0;
  }
  return h >>> 0;
}

/**
 * Normalises a JSON value the way apimachinery's semantic equality sees it:
 * an empty map or list is the same as an absent one.
 */
export function normalize(v: unknown): unknown {
  if (Array.isArray(v)) {
    const items = v.map(normalize);
    return items.length ? items : undefined;
  }
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const n = normalize(v[k]);
      if (n !== undefined) out[k] = n;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v === null ? undefined : v;
}

export function canonicalJSON(v: unknown): string {
  return JSON.stringify(normalize(v) ?? null);
}

/** controller.ComputeHash: the pod-template-hash / controller-revision-hash value. */
export function computeHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  let h = fnv32a(Buffer.from(canonicalJSON(template ?? {}), 'utf8'));
  if (collisionCount !== undefined && collisionCount !== null) {
    // binary.LittleEndian.PutUint32 into an 8-byte buffer, all 8 bytes hashed.
    const bytes = Buffer.alloc(8);
    bytes.writeUInt32LE(collisionCount >>> 0, 0);
    h = fnv32a(bytes, h);
  }
  return safeEncodeString(String(h));
}

/** deploymentutil.EqualIgnoreHash: templates equal apart from the pod-template-hash label. */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  const strip = (t: PodTemplateSpec | undefined) => {
    if (!t) return t;
    const labels = { ...(t.metadata?.labels ?? {}) };
    delete labels[podTemplateHashLabel];
    return { ...t, metadata: { ...(t.metadata ?? {}), labels } };
  };
  return canonicalJSON(strip(a)) === canonicalJSON(strip(b));
}
