// The conditions of a CertificateSigningRequest (Approved, Denied, Failed) as
// the certificates code reads them: GetCertApprovalCondition, HasTrueCondition,
// the printer's summary, and the strategy's condition timestamps.
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import { nowTimestamp } from '../../api/object.js';

export type Status = NonNullable<CertificateSigningRequest['status']>;
export type Condition = NonNullable<Status['conditions']>[number];

export const conditionTypes = { approved: 'Approved', denied: 'Denied', failed: 'Failed' } as const;

/** GetCertApprovalCondition: whether the request carries an Approved / Denied condition. */
export function approval(status: Status | undefined): { approved: boolean; denied: boolean } {
  const cs = status?.conditions ?? [];
  return { approved: cs.some((c) => c.type === conditionTypes.approved), denied: cs.some((c) => c.type === conditionTypes.denied) };
}

/** IsCertificateRequestApproved: approved and not denied. */
export function isApproved(status: Status | undefined): boolean {
  const { approved, denied } = approval(status);
  return approved && !denied;
}

/** HasTrueCondition. */
export function hasTrueCondition(status: Status | undefined, type: string): boolean {
  return (status?.conditions ?? []).some((c) => c.type === type && (c.status === 'True' || !c.status));
}

/** extractCSRStatus: Denied, else Approved, else Pending; then ,Failed and ,Issued. */
export function conditionSummary(status: Status | undefined): string {
  const types = new Set((status?.conditions ?? []).map((c) => c.type));
  let s = types.has(conditionTypes.denied) ? 'Denied' : types.has(conditionTypes.approved) ? 'Approved' : 'Pending';
  if (types.has(conditionTypes.failed)) s += ',Failed';
  if (status?.certificate) s += ',Issued';
  return s;
}

/** populateConditionTimestamps: lastUpdateTime now when unset; lastTransitionTime kept from an old condition of the same type and status, else now. */
export function populateConditionTimestamps(next: Status | undefined, old: Status | undefined): void {
  const now = nowTimestamp();
  for (const c of next?.conditions ?? []) {
    const m = c as { lastUpdateTime?: string; lastTransitionTime?: string };
    if (!m.lastUpdateTime) m.lastUpdateTime = now;
    if (!m.lastTransitionTime) {
      const prior = (old?.conditions ?? []).find((o) => o.type === c.type && o.status === c.status && o.lastTransitionTime);
      m.lastTransitionTime = prior?.lastTransitionTime ?? now;
    }
  }
}
