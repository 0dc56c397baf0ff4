// intstr.GetScaledValueFromIntOrPercent and the rolling-update fenceposts.
import type { IntOrString } from './types.js';

/**
 * An int is itself; "25%" is that share of total, rounded up (surge) or down
 * (unavailable) as the caller asks. Anything else is an error, as upstream.
 */
export function scaledValue(value: IntOrString | undefined, total: number, roundUp: boolean): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number') return value;
  const m = /^(-?\d+)%$/.exec(value);
  if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  const v = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(v) : Math.floor(v);
}

/**
 * deploymentutil.ResolveFenceposts: maxSurge rounds up, maxUnavailable down;
 * both zero would make no progress, so unavailable becomes 1.
 */
export function resolveFenceposts(maxSurge: IntOrString | undefined, maxUnavailable: IntOrString | undefined, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}
