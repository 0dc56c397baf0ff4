// `kubectl get events` columns and cells (printers.go printEvent).
import type { Event } from 'kubernetes-types/core/v1.js';
import { column, nameColumn } from '../table.js';
import { convertor, timestampSince } from '../table-format.js';

/** formatEventSource: `component[, host]`, falling back to the events.k8s.io reporting fields. */
export function eventSource(ev: Event): string {
  const component = ev.source?.component || ev.reportingComponent || '';
  const instance = ev.source?.host || ev.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}

/** The Object cell: `kind/name` with the kind lower-cased, or just the kind. */
export function eventTarget(ev: Event): string {
  const kind = (ev.involvedObject?.kind ?? '').toLowerCase();
  return ev.involvedObject?.name ? `${kind}/${ev.involvedObject.name}` : kind;
}

/**
 * First/Last Seen and Count. Events written through events.k8s.io only carry
 * eventTime (and a series for repeats), so those stand in for the legacy fields.
 */
export function eventTimes(ev: Event, now: Date): { firstSeen: string; lastSeen: string; count: number } {
  const firstSeen = ev.firstTimestamp ? timestampSince(ev.firstTimestamp, now) : timestampSince(ev.eventTime, now);
  if (ev.series) return { firstSeen, lastSeen: timestampSince(ev.series.lastObservedTime, now), count: ev.series.count ?? 0 };
  const lastSeen = ev.lastTimestamp ? timestampSince(ev.lastTimestamp, now) : firstSeen;
  // Singleton events don't have a count set in the new API.
  return { firstSeen, lastSeen, count: ev.count || 1 };
}

export const table = convertor<Event>(
  [
    column('Last Seen', 'string', 0, 'The time at which the most recent occurrence of this event was recorded.'),
    column('Type', 'string', 0, 'Type of this event (Normal, Warning), new types could be added in the future'),
    column('Reason', 'string', 0, "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    column('Object', 'string', 0, 'The object that this event is about.'),
    column('Subobject', 'string', 1, 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: "spec.containers{name}" (where "name" refers to the name of the container that triggered the event) or if no container name is specified "spec.containers[2]" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.'),
    column('Source', 'string', 1, 'The component reporting this event. Should be a short machine understandable string.'),
    column('Message', 'string', 0, 'A human-readable description of the status of this operation.'),
    column('First Seen', 'string', 1, 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)'),
    column('Count', 'string', 1, 'The number of times this event has occurred.'),
    // Events are named `<object>.<hash>`, which says little, so the name is a wide column here.
    { ...nameColumn, priority: 1 },
  ],
  (ev, now) => {
    const { firstSeen, lastSeen, count } = eventTimes(ev, now);
    return [
      lastSeen,
      ev.type ?? '',
      ev.reason ?? '',
      eventTarget(ev),
      ev.involvedObject?.fieldPath ?? '',
      eventSource(ev),
      (ev.message ?? '').trim(),
      firstSeen,
      count,
      ev.metadata?.name ?? '',
    ];
  },
);
