// What the API server needs to know to serve one resource: its identity
// (for URLs and discovery), its printer, and its strategy (defaults,
// validation, hooks around writes), as upstream's registry strategies.
import type { FieldError } from '../api/field-errors.js';
import type { KubeObject } from '../api/object.js';
import type { TableConvertor } from './table.js';
import type { Authorizer } from '../auth/attributes.js';
import type { UserInfo } from '../auth/user.js';

export interface SubresourceInfo {
  name: string;
  group: string;
  version: string;
  kind: string;
  verbs: string[];
}

/** Per-request facts a strategy may need. */
export interface RequestContext {
  dryRun: boolean;
  /** Warnings to return as `Warning: 299 - "..."` headers. */
  warnings: string[];
  /** Set for subresource writes that are updates of the parent (finalize). */
  subresource?: string;
  /** The requesting user, for admission that depends on who asks (RBAC escalation checks); unset for internal writes. */
  user?: UserInfo;
  /** The server's authorizer, for admission that asks what the user may do (escalate, bind). */
  authorizer?: Authorizer;
}

/**
 * Side effects that must be atomic with the write (allocation). `commit` runs
 * after the object is stored, `rollback` when the write fails or is a dry run.
 */
export interface WriteTransaction {
  commit(): void;
  rollback(): void;
  /**
   * Writes the object together with the keys the transaction holds
   * (allocations) as one store transaction, retrying its own conflicts;
   * resolves to the object's new revision (its deletion's, for a delete).
   * The object's own conflict is the store's KeyExistsError,
   * RevisionConflictError or KeyNotFoundError. Without it the registry
   * writes the object alone.
   */
  write?(object: ObjectWrite): Promise<number>;
}

/** The object's part of a transaction: create (no expectedRevision), update (a value and the revision it replaces) or delete (no value). */
export interface ObjectWrite {
  key: string;
  /** The stored form, read at each attempt (the transaction may change the object between attempts). */
  value?: () => string;
  expectedRevision?: number;
}

export interface Strategy {
  /** Defaults and field resets on create (status cleared, etc.). */
  prepareForCreate?(obj: KubeObject, ctx: RequestContext): void;
  /**
   * Admission that reads other objects, after prepareForCreate and the
   * namespace check, before validation: may change the object or refuse it
   * (throws a StatusError), as upstream's mutating admission plugins.
   */
  admitCreate?(obj: KubeObject, ctx: RequestContext): Promise<void>;
  prepareForUpdate?(obj: KubeObject, old: KubeObject, ctx: RequestContext): void;
  /** Admission on updates (not status), after prepareForUpdate, before validation; throws a StatusError to refuse. */
  admitUpdate?(obj: KubeObject, old: KubeObject, ctx: RequestContext): Promise<void>;
  /** For the status subresource: keep old spec, take new status. */
  prepareForStatusUpdate?(obj: KubeObject, old: KubeObject): void;
  validate?(obj: KubeObject): FieldError[];
  validateUpdate?(obj: KubeObject, old: KubeObject): FieldError[];
  validateStatusUpdate?(obj: KubeObject, old: KubeObject): FieldError[];
  /** Allocation before the store write; throws StatusError on failure. */
  beginCreate?(obj: KubeObject, ctx: RequestContext): WriteTransaction | Promise<WriteTransaction>;
  beginUpdate?(obj: KubeObject, old: KubeObject, ctx: RequestContext): WriteTransaction | Promise<WriteTransaction>;
  /** What a delete releases with the object (its transaction's write deletes it). */
  beginDelete?(obj: KubeObject): WriteTransaction;
  /** After an object is gone from the store (release allocations, dependent cleanup). */
  afterDelete?(obj: KubeObject): Promise<void> | void;
  /**
   * Graceful deletion (pods): a grace period in seconds means "mark with
   * deletionTimestamp and let the owner finish"; undefined deletes at once.
   */
  gracefulDelete?(obj: KubeObject, requestedGraceSeconds: number | undefined): number | undefined;
  /** Changes made when deletion is requested but not done (namespace phase Terminating). */
  prepareForDelete?(obj: KubeObject): void;
  /** After deletionTimestamp was set (start namespace cleanup). */
  afterDeleteRequested?(obj: KubeObject): Promise<void> | void;
  /**
   * Subresources written with a strategy of their own (a CSR's status and
   * approval, upstream's csrStatusStrategy and csrApprovalStrategy): used
   * instead of the status hooks above for that subresource.
   */
  subresourceUpdates?: Record<string, SubresourceStrategy>;
  /** Whether metadata.generation tracks spec changes for this kind. */
  tracksGeneration?: boolean;
  /** Normalise a stored object for reading (defaults for fields added later). */
  decorate?(obj: KubeObject): void;
}

export interface SubresourceStrategy {
  prepareForUpdate(obj: KubeObject, old: KubeObject): void;
  /** Admission of the write (who may approve or sign); throws a StatusError to refuse. */
  admit?(obj: KubeObject, old: KubeObject, ctx: RequestContext): Promise<void>;
  validateUpdate(obj: KubeObject, old: KubeObject): FieldError[];
}

/** Who creates a create-only resource (an access review, a token review), and where. */
export interface CreateOnlyScope {
  user: UserInfo;
  namespace?: string;
}

export interface ResourceDef {
  /** Aborted when the resource stops being served (a custom resource whose CRD goes): its open watches end, as upstream's. */
  servedUntil?: AbortSignal;
  /**
   * A create-only resource that is answered, not stored (access and token
   * reviews): the handler computes the object's status from the request.
   */
  createOnly?: (obj: KubeObject, scope: CreateOnlyScope) => Promise<KubeObject> | KubeObject;
  /**
   * What decoding a request's object does before anything sees it
   * (upstream's conversion to the internal type): a Secret's stringData
   * merged into data. Field ownership is computed after it, as upstream's
   * field manager sees converted objects.
   */
  convertOnDecode?(obj: KubeObject): void;
  group: string;
  version: string;
  /** Plural resource name, e.g. services. */
  resource: string;
  kind: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  verbs: string[];
  subresources: SubresourceInfo[];
  table: TableConvertor;
  strategy: Strategy;
  /** Field labels for fieldSelector beyond metadata.name/namespace. */
  fields?(obj: KubeObject): Record<string, string>;
  /** Name validation for metadata.name (DNS-1035 label, DNS-1123 subdomain, ...). */
  validateName(name: string, prefix: boolean): string[];
}

export const standardVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function apiVersionOf(def: { group: string; version: string }): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

export function statusSubresource(def: { group: string; version: string; kind: string }): SubresourceInfo {
  return { name: 'status', group: def.group, version: def.version, kind: def.kind, verbs: ['get', 'patch', 'update'] };
}

export function scaleSubresource(): SubresourceInfo {
  return { name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] };
}
