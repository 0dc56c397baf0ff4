// The CRD controllers of upstream's apiextensions-apiserver, in process:
// naming (acceptedNames and NamesAccepted, refusing names another CRD of
// the group already took), establishing (Established once the names are
// accepted), serving (each served version of an Established CRD becomes a
// ResourceDef in the server's live list, so routing and discovery see it)
// and finalizing (the customresourcecleanup finalizer: the custom objects
// are deleted, the resource stops being served, then the CRD goes).
import { deepEqual, type KubeObject } from '../api/object.js';
import type { Registry } from '../registry/registry.js';
import type { ResourceDef } from '../registry/resource.js';
import { logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import { crdResource, setCondition } from './crd-resource.js';
import { customResourceDef, forgetFieldManagerTypes, isCustomResourceDef } from './custom-resource.js';
import { cleanupFinalizer, conditionOf, isEstablished, type CRDNames, type CustomResourceDefinition } from './types.js';

const log = logger('apiextensions');

export interface CustomResourceServing {
  /** The customresourcedefinitions resource, to serve with the built-in ones. */
  crds: ResourceDef;
  /** Starts the controllers (after the registry exists): replays stored CRDs, then follows changes. */
  start(registry: Registry): Promise<void>;
  stop(): void;
}

/** `defs` is the server's live list of served resources: custom resources are added to and removed from it in place. */
export function createCustomResourceServing(defs: ResourceDef[]): CustomResourceServing {
  let registry: Registry | undefined;
  let watch: { stop(): void } | undefined;
  const known = new Map<string, CustomResourceDefinition>();
  let queue = Promise.resolve();
  const enqueue = (work: () => Promise<void>) => {
    queue = queue.then(work).catch((e: unknown) => log.error('CRD reconcile failed', { error: errorMessage(e) }));
  };

  const crds = crdResource({
    deletionRequested(crd) {
      enqueue(() => reconcile(crd.metadata.name!));
    },
  });

  /** Per served "crd/version": aborted when it stops being served, which ends its watches (the defs themselves are replaced at every change). */
  const lifetimes = new Map<string, AbortController>();

  /**
   * Replaces the served defs of one CRD (none when it is not Established or is going). Versions no longer served
   * end their watches unless `retire` is false: the finalizer keeps them open while the objects go, so that
   * watchers see them deleted, and the CRD's own deletion ends them.
   */
  function serve(name: string, crd: CustomResourceDefinition | undefined, retire = true) {
    for (let i = defs.length - 1; i >= 0; i--) {
      const d = defs[i];
      if (isCustomResourceDef(d) && d.crdName === name) defs.splice(i, 1);
    }
    const served = crd && isEstablished(crd) && !crd.metadata.deletionTimestamp ? crd.spec.versions.filter((v) => v.served) : [];
    const now = new Set(served.map((v) => `${name}/${v.name}`));
    for (const [key, lifetime] of lifetimes) {
      if (retire && key.startsWith(`${name}/`) && !now.has(key)) {
        lifetime.abort();
        lifetimes.delete(key);
      }
    }
    for (const version of served) {
      const key = `${name}/${version.name}`;
      let lifetime = lifetimes.get(key);
      if (!lifetime) lifetimes.set(key, (lifetime = new AbortController()));
      defs.push(customResourceDef(crd!, version, lifetime.signal));
    }
  }

  /** The names this CRD may take: refused where another CRD of its group already has them accepted. */
  function namingConditions(crd: CustomResourceDefinition): { accepted: CRDNames; ok: boolean; reason: string; message: string } {
    const names = crd.spec.names;
    for (const other of known.values()) {
      if (other.metadata.name === crd.metadata.name || other.spec.group !== crd.spec.group) continue;
      const taken = other.status?.acceptedNames ?? {};
      const theirs = new Set([taken.plural, taken.singular, ...(taken.shortNames ?? [])].filter(Boolean));
      if (theirs.has(names.plural)) return { accepted: crd.status?.acceptedNames ?? {}, ok: false, reason: 'PluralConflict', message: `"${names.plural}" is already in use` };
      if (names.singular && theirs.has(names.singular)) {
        return { accepted: crd.status?.acceptedNames ?? {}, ok: false, reason: 'SingularConflict', message: `"${names.singular}" is already in use` };
      }
      if (taken.kind === names.kind || taken.listKind === names.listKind) {
        return { accepted: crd.status?.acceptedNames ?? {}, ok: false, reason: 'KindConflict', message: `"${names.kind}" is already in use` };
      }
      const shortName = names.shortNames?.find((s) => theirs.has(s));
      if (shortName) {
        return { accepted: crd.status?.acceptedNames ?? {}, ok: false, reason: 'ShortNamesConflict', message: `"${shortName}" is already in use` };
      }
    }
    return { accepted: { ...names }, ok: true, reason: 'NoConflicts', message: 'no conflicts found' };
  }

  async function reconcile(name: string) {
    const reg = registry;
    if (!reg) return;
    let crd: CustomResourceDefinition;
    try {
      crd = (await reg.get(crds, undefined, name)) as CustomResourceDefinition;
    } catch (e) {
      if ((e as { code?: number }).code !== 404) throw e;
      known.delete(name);
      serve(name, undefined);
      return;
    }
    known.set(name, crd);
    if (crd.metadata.deletionTimestamp) return finalize(reg, crd);

    const naming = namingConditions(crd);
    const next = structuredClone(crd);
    next.status ??= {};
    next.status.acceptedNames = naming.accepted;
    setCondition(next, { type: 'NamesAccepted', status: naming.ok ? 'True' : 'False', reason: naming.reason, message: naming.message });
    if (naming.ok) {
      // Once established, a CRD stays so: later name changes only change what is accepted.
      if (!isEstablished(next)) setCondition(next, { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' });
    } else if (!isEstablished(next)) {
      setCondition(next, { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' });
    }
    if (!deepEqual(next.status, crd.status)) {
      const written = await reg.update(crds, undefined, name, (live) => ({ ...live, status: next.status }) as KubeObject, { subresource: 'status' });
      crd = written.object as CustomResourceDefinition;
      known.set(name, crd);
    }
    serve(name, crd);
  }

  /** Deletes every custom object of the CRD, stops serving it, and lets the CRD go. */
  async function finalize(reg: Registry, crd: CustomResourceDefinition) {
    const name = crd.metadata.name!;
    if (!crd.metadata.finalizers?.includes(cleanupFinalizer)) return;
    const storage = crd.spec.versions.find((v) => v.storage) ?? crd.spec.versions[0];
    serve(name, undefined, false);
    if (storage && conditionOf(crd, 'Established')?.status === 'True') {
      const def = customResourceDef(crd, storage);
      const { items } = await reg.list(def, undefined);
      for (const item of items) {
        // Custom objects' own finalizers are dropped, as upstream's finalizer deletes through the storage.
        await reg
          .update(def, item.metadata.namespace, item.metadata.name!, (o) => ({ ...o, metadata: { ...o.metadata, finalizers: [] } }))
          .catch(ignoreNotFound);
        await reg.delete(def, item.metadata.namespace, item.metadata.name!).catch(ignoreNotFound);
      }
    }
    await reg
      .update(crds, undefined, name, (live) => ({ ...live, metadata: { ...live.metadata, finalizers: (live.metadata.finalizers ?? []).filter((f) => f !== cleanupFinalizer) } }))
      .catch(ignoreNotFound);
    known.delete(name);
  }

  return {
    crds,
    async start(reg) {
      registry = reg;
      const started = await reg.watch(crds, undefined, undefined, {}, (e) => {
        const name = e.object.metadata.name!;
        if (e.type === 'DELETED') {
          known.delete(name);
          forgetFieldManagerTypes(e.object as CustomResourceDefinition);
          serve(name, undefined);
          // Another CRD of the group may now take the names this one had.
          for (const other of known.keys()) enqueue(() => reconcile(other));
          return;
        }
        enqueue(() => reconcile(name));
      });
      watch = started.watch;
      await queue;
    },
    stop() {
      watch?.stop();
      registry = undefined;
    },
  };
}

function ignoreNotFound(e: unknown) {
  if ((e as { code?: number }).code !== 404) throw e;
}
