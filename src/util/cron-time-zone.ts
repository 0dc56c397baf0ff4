// Time zones as Go's time.LoadLocation sees them (what the API server checks
// a CronJob's timeZone against and the cronjob controller schedules in), and
// wall-clock arithmetic in such a zone through the platform's Intl data.
import { statSync } from 'node:fs';
import { join } from 'node:path';

const zoneinfoDir = '/usr/share/zoneinfo';

/**
 * time.LoadLocation succeeds: "UTC" and "Local" are built in; any other name
 * must be a zoneinfo file of exactly that name (names are case-sensitive) or
 * in the bundled database (here: the names Intl knows, spelled exactly).
 */
export function isLoadableTimeZone(name: string): boolean {
  if (name === '' || name === 'UTC' || name === 'Local') return true;
  if (name.split('/').some((part) => part === '..' || part === '.')) return false;
  try {
    if (statSync(join(zoneinfoDir, name)).isFile()) return true;
  } catch {
    // not installed: fall through to the bundled names
  }
  return Intl.supportedValuesOf('timeZone').includes(name);
}

/** The process's own zone (kube-controller-manager schedules a CronJob without timeZone in it). */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone === 'Local' || zone === '' ? undefined : zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The wall clock in `zone` at an instant, as a UTC-based millisecond count (a "naive" time without zone). */
export function wallClock(instantMs: number, zone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(zone).formatToParts(new Date(instantMs))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wholeSeconds = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return wholeSeconds + (((instantMs % 1000) + 1000) % 1000);
}

/**
 * The instant a wall-clock time in `zone` names. A time skipped by a DST
 * change takes the offset from before the change (02:30 becomes 03:30), as
 * Go's time.Date normalises it.
 */
export function instantOf(wallMs: number, zone: string): number {
  const first = wallMs - (wallClock(wallMs, zone) - wallMs);
  if (wallClock(first, zone) === wallMs) return first;
  const second = wallMs - (wallClock(first, zone) - first);
  return wallClock(second, zone) === wallMs ? second : first;
}
