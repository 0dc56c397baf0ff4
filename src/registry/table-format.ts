// Cell formatting shared by the server-side printers: apimachinery's
// duration.HumanDuration, the printers' translateTimestampSince, and the
// label/selector renderings (labels.FormatLabels, metav1.FormatLabelSelector).
// kubectl prints these strings verbatim, so each one follows upstream exactly.
import type { Container } from 'kubernetes-types/core/v1.js';
import type { LabelSelector, LabelSelectorRequirement } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../api/object.js';
import type { ColumnDefinition, TableConvertor } from './table.js';

/** metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"], the description of every Age column. */
export const creationTimestampDoc =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

/** The Age column as every upstream printer declares it. */
export const ageColumn: ColumnDefinition = {
  name: 'Age',
  type: 'string',
  format: '',
  description: creationTimestampDoc,
  priority: 0,
};

/** Descriptions of the wide Containers/Images columns shared by the workload printers. */
export const containersDoc = 'Names of each container in the template.';
export const imagesDoc = 'Images referenced by each container in the template.';

/**
 * Builds a TableConvertor whose cell function sees the object as its API type.
 * Stored objects are plain JSON, so the cast is the only conversion needed.
 */
export function convertor<T>(columns: ColumnDefinition[], cells: (obj: T, now: Date) => unknown[]): TableConvertor {
  return { columns, cells: (obj: KubeObject, now: Date) => cells(obj as unknown as T, now) };
}

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;

/**
 * duration.HumanDuration: about 2-3 significant figures. Up to 2s in the
 * future counts as "now" (clock skew between machines); beyond that the
 * timestamp is `<invalid>`. Go truncates toward zero, hence Math.trunc.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / second);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 2 * 60) return `${seconds}s`;
  const minutes = Math.trunc(ms / minute);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 3 * 60) return `${minutes}m`;
  const hours = Math.trunc(ms / hour);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const dy = days % 365;
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${years}y`;
}

/**
 * translateTimestampSince: `<unknown>` for an unset time (Go's zero Time),
 * else the human duration from it to `now`. Accepts metav1.Time and MicroTime.
 */
export function timestampSince(timestamp: string | null | undefined, now: Date): string {
  const t = timestamp ? Date.parse(timestamp) : NaN;
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration(now.getTime() - t);
}

/** The Age cell: time since metadata.creationTimestamp. */
export function age(obj: { metadata?: { creationTimestamp?: string } }, now: Date): string {
  return timestampSince(obj.metadata?.creationTimestamp, now);
}

/** labels.Set.String(): `k=v` pairs with sorted keys, joined by `,`. */
function labelSetString(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${map![k]}`)
    .join(',');
}

/** labels.FormatLabels: a label map (service selector, node selector) or `<none>`. */
export function formatSelectorMap(map: Record<string, string> | undefined): string {
  return labelSetString(map) || '<none>';
}

// A LabelSelector requirement as labels.Requirement holds it: matchLabels
// entries become `key=value`, expressions keep their operator.
interface Requirement {
  key: string;
  text: string;
}

/** labels.Requirement.String(); undefined where NewRequirement would reject it. */
function expressionString(expr: LabelSelectorRequirement): string | undefined {
  const values = expr.values ?? [];
  // Values print sorted (safeSort) regardless of their order in the object.
  const list = [...values].sort().join(',');
  switch (expr.operator) {
    case 'In':
      return values.length ? `${expr.key} in (${list})` : undefined;
    case 'NotIn':
      return values.length ? `${expr.key} notin (${list})` : undefined;
    case 'Exists':
      return values.length ? undefined : expr.key;
    case 'DoesNotExist':
      return values.length ? undefined : `!${expr.key}`;
    default:
      return undefined;
  }
}

/**
 * metav1.LabelSelectorAsSelector(sel).String(): requirements sorted by key
 * (a stable sort, so matchLabels stay ahead of expressions on the same key),
 * "" for a nil or empty selector, undefined when the selector is invalid.
 * Key and value syntax is not re-validated: storage validation already did.
 */
export function labelSelectorAsString(sel: LabelSelector | null | undefined): string | undefined {
  if (!sel) return '';
  const reqs: Requirement[] = Object.keys(sel.matchLabels ?? {}).map((key) => ({ key, text: `${key}=${sel.matchLabels![key]}` }));
  for (const expr of sel.matchExpressions ?? []) {
    const text = expressionString(expr);
    if (text === undefined) return undefined;
    reqs.push({ key: expr.key, text });
  }
  return reqs
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((r) => r.text)
    .join(',');
}

/** metav1.FormatLabelSelector: `<none>` when it selects by nothing, `<error>` when invalid. */
export function formatLabelSelector(sel: LabelSelector | null | undefined): string {
  const text = labelSelectorAsString(sel);
  if (text === undefined) return '<error>';
  return text || '<none>';
}

/** layoutContainerCells: container names and images, each joined by `,`. */
export function containerCells(containers: Container[] | undefined): [names: string, images: string] {
  const list = containers ?? [];
  return [list.map((c) => c.name).join(','), list.map((c) => c.image ?? '').join(',')];
}

/**
 * The printers' "first N, then ` + M more...`" shortening (formatEndpoints,
 * listWithMoreString). The empty case differs per printer, so callers decide it.
 */
export function listWithMore(items: string[], max = 3): string {
  const shown = items.slice(0, max).join(',');
  return items.length > max ? `${shown} + ${items.length - max} more...` : shown;
}
