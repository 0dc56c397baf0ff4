// Pieces several resource definitions share.
import type { KubeObject } from '../api/object.js';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain } from './validation/names.js';

/** generateName prefixes are validated with their trailing dash masked, as upstream's maskTrailingDash. */
function nameValidator(check: (name: string) => string[]) {
  return (name: string, prefix: boolean) => check(prefix && name.length > 1 && name.endsWith('-') ? name.slice(0, -2) + 'a' : name);
}

export const validateDNS1035Name = nameValidator(isDNS1035Label);
export const validateDNS1123LabelName = nameValidator(isDNS1123Label);
export const validateDNS1123SubdomainName = nameValidator(isDNS1123Subdomain);

/**
 * Status writes change only status: spec and the user-owned metadata come
 * from the stored object (ResetObjectMetaForStatus).
 */
export function keepAllButStatus(next: KubeObject, old: KubeObject): void {
  for (const k of Object.keys(next)) if (k !== 'status' && k !== 'metadata' && k !== 'apiVersion' && k !== 'kind') delete next[k];
  for (const k of Object.keys(old)) if (k !== 'status' && k !== 'metadata') next[k] = structuredClone(old[k]);
  const m = next.metadata;
  const o = old.metadata;
  m.labels = o.labels;
  m.annotations = o.annotations;
  m.finalizers = o.finalizers;
  m.ownerReferences = o.ownerReferences;
  for (const k of ['labels', 'annotations', 'finalizers', 'ownerReferences'] as const) if (m[k] === undefined) delete m[k];
}
