// certificates.k8s.io/v1 certificatesigningrequests (`kubectl get csr`), as
// upstream's registry/certificates strategies: on create the requester's
// identity is written into spec (username, uid, groups, extra) and status is
// emptied; plain updates change metadata only; /status sets the certificate
// and Failed conditions (Approved/Denied kept as they were); /approval sets
// the conditions only. Cluster-scoped, names unchecked, fieldSelector
// spec.signerName.
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import type { KubeObject } from '../../api/object.js';
import { statusSubresource, standardVerbs, type ResourceDef } from '../resource.js';
import { populateConditionTimestamps, conditionTypes } from './conditions.js';
import { table } from './table.js';
import { validateApprovalUpdate, validateCreate, validateStatusUpdate, validateUpdate } from './validation.js';
import { admitApproval, admitSigning, admitSubject } from './admission.js';

const csr = (o: KubeObject) => o as unknown as CertificateSigningRequest;
type Mutable = { spec: Record<string, unknown>; status?: { conditions?: { type: string }[]; certificate?: string } };
const mut = (o: KubeObject) => o as unknown as Mutable;

const ident = { group: 'certificates.k8s.io', version: 'v1', kind: 'CertificateSigningRequest' };

/** preserveConditionInstances: a status write cannot change the Approved/Denied conditions (validation catches a count change). */
function preserveConditionInstances(next: Mutable, old: Mutable, type: string) {
  const indices = (o: Mutable) => (o.status?.conditions ?? []).flatMap((c, i) => (c.type === type ? [i] : []));
  const oldIdx = indices(old);
  const newIdx = indices(next);
  if (oldIdx.length !== newIdx.length) return;
  oldIdx.forEach((oi, i) => {
    next.status!.conditions![newIdx[i]!] = structuredClone(old.status!.conditions![oi]!);
  });
}

export const certificateSigningRequestsResource: ResourceDef = {
  ...ident,
  resource: 'certificatesigningrequests',
  singular: 'certificatesigningrequest',
  shortNames: ['csr'],
  categories: [],
  namespaced: false,
  verbs: standardVerbs,
  subresources: [statusSubresource(ident), { name: 'approval', ...ident, verbs: ['get', 'patch', 'update'] }],
  table,
  // ValidateCertificateRequestName: "We don't care what you call your certificate requests."
  validateName: () => [],
  fields: (o) => ({ 'spec.signerName': csr(o).spec?.signerName ?? '' }),
  strategy: {
    prepareForCreate(obj, ctx) {
      const spec = (mut(obj).spec ??= {});
      delete spec.username;
      delete spec.uid;
      delete spec.groups;
      delete spec.extra;
      if (ctx.user) {
        spec.username = ctx.user.name;
        if (ctx.user.uid) spec.uid = ctx.user.uid;
        if (ctx.user.groups.length) spec.groups = [...ctx.user.groups];
        if (ctx.user.extra && Object.keys(ctx.user.extra).length) spec.extra = structuredClone(ctx.user.extra);
      }
      // Users cannot create pre-approved requests.
      mut(obj).status = {};
    },
    admitCreate: (obj) => admitSubject(csr(obj)),
    prepareForUpdate(obj, old) {
      mut(obj).spec = structuredClone(mut(old).spec);
      mut(obj).status = structuredClone(mut(old).status);
      if (mut(obj).status === undefined) delete mut(obj).status;
    },
    validate: (obj) => validateCreate(csr(obj)),
    validateUpdate: (obj, old) => validateUpdate(csr(obj), csr(old)),
    subresourceUpdates: {
      status: {
        prepareForUpdate(obj, old) {
          mut(obj).spec = structuredClone(mut(old).spec);
          mut(obj).status ??= {};
          preserveConditionInstances(mut(obj), mut(old), conditionTypes.approved);
          preserveConditionInstances(mut(obj), mut(old), conditionTypes.denied);
          populateConditionTimestamps(csr(obj).status, csr(old).status);
        },
        admit: (obj, old, ctx) => admitSigning(csr(obj), csr(old), ctx),
        validateUpdate: (obj, old) => validateStatusUpdate(csr(obj), csr(old)),
      },
      approval: {
        prepareForUpdate(obj, old) {
          const conditions = mut(obj).status?.conditions;
          mut(obj).spec = structuredClone(mut(old).spec);
          mut(obj).status = { ...structuredClone(mut(old).status ?? {}), ...(conditions ? { conditions } : {}) };
          if (!conditions) delete mut(obj).status!.conditions;
          populateConditionTimestamps(csr(obj).status, csr(old).status);
        },
        admit: (obj, _old, ctx) => admitApproval(csr(obj), ctx),
        validateUpdate: (obj, old) => validateApprovalUpdate(csr(obj), csr(old)),
      },
    },
  },
};
