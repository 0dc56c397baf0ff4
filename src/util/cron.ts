// Cron schedules as the CronJob API and controller read them: robfig/cron
// v3's ParseStandard (five fields minute hour day-of-month month day-of-week,
// names for months and weekdays, `*`/`?`, ranges, steps, lists, the
// @yearly … @hourly descriptors and `@every <duration>`, an optional
// `TZ=`/`CRON_TZ=` prefix) with its exact error messages, and its Next():
// the first matching second after a time, searched field by field in the
// schedule's time zone, giving up five years out.
import { instantOf, isLoadableTimeZone, wallClock } from './cron-time-zone.js';
import { parseGoDuration } from './go-duration.js';

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

/** Set when a field was `*` or `?`: day-of-month and day-of-week then combine with AND instead of OR. */
const starBit = 1n << 63n;

const minutes: Bounds = { min: 0, max: 59 };
const hours: Bounds = { min: 0, max: 23 };
const daysOfMonth: Bounds = { min: 1, max: 31 };
const months: Bounds = { min: 1, max: 12, names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 } };
const daysOfWeek: Bounds = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } };

export interface CronSchedule {
  /** The first activation strictly after `after` (whole seconds), or undefined when there is none within five years. */
  next(after: Date): Date | undefined;
}

function bits(min: number, max: number, step: number): bigint {
  let b = 0n;
  for (let i = min; i <= max; i += step) b |= 1n << BigInt(i);
  return b;
}

/** strconv.Atoi's errors, and the parser's refusal of negative numbers. */
function mustParseInt(expr: string): number {
  if (!/^[+-]?\d+$/.test(expr)) throw new Error(`failed to parse int from ${expr}: strconv.Atoi: parsing ${JSON.stringify(expr)}: invalid syntax`);
  const num = Number(expr);
  if (!Number.isSafeInteger(num) || Math.abs(num) > 2 ** 63) throw new Error(`failed to parse int from ${expr}: strconv.Atoi: parsing ${JSON.stringify(expr)}: value out of range`);
  if (num < 0) throw new Error(`negative number (${num}) not allowed: ${expr}`);
  return num;
}

function parseIntOrName(expr: string, names: Record<string, number> | undefined): number {
  const named = names?.[expr.toLowerCase()];
  return named ?? mustParseInt(expr);
}

/** getRange: `*`, `N`, `N-M`, each optionally `/step` (`N/step` runs to the field's maximum). */
function getRange(expr: string, r: Bounds): bigint {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0]!.split('-');
  const singleDigit = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  let extra = 0n;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = r.min;
    end = r.max;
    extra = starBit;
  } else {
    start = parseIntOrName(lowAndHigh[0]!, r.names);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1]!, r.names);
    else throw new Error(`too many hyphens: ${expr}`);
  }
  let step: number;
  if (rangeAndStep.length === 1) step = 1;
  else if (rangeAndStep.length === 2) {
    step = mustParseInt(rangeAndStep[1]!);
    if (singleDigit) end = r.max;
    if (step > 1) extra = 0n;
  } else throw new Error(`too many slashes: ${expr}`);
  if (start < r.min) throw new Error(`beginning of range (${start}) below minimum (${r.min}): ${expr}`);
  if (end > r.max) throw new Error(`end of range (${end}) above maximum (${r.max}): ${expr}`);
  if (start > end) throw new Error(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new Error(`step of range should be a positive number: ${expr}`);
  return bits(start, end, step) | extra;
}

/** getField: a comma-separated list of ranges. */
function getField(field: string, r: Bounds): bigint {
  let b = 0n;
  for (const expr of field.split(',').filter((e) => e !== '')) b |= getRange(expr, r);
  return b;
}

interface Fields {
  minute: bigint;
  hour: bigint;
  dom: bigint;
  month: bigint;
  dow: bigint;
}

const has = (set: bigint, n: number) => ((set >> BigInt(n)) & 1n) === 1n;

/** dayMatches: with `*` in either day field both must match, otherwise either. */
function dayMatches(f: Fields, wall: Date): boolean {
  const domMatch = has(f.dom, wall.getUTCDate());
  const dowMatch = has(f.dow, wall.getUTCDay());
  if ((f.dom & starBit) !== 0n || (f.dow & starBit) !== 0n) return domMatch && dowMatch;
  return domMatch || dowMatch;
}

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;

/** SpecSchedule.Next over the wall clock of `zone` (seconds are always 0 in a standard spec). */
function nextMatch(f: Fields, zone: string, after: Date): Date | undefined {
  // The upcoming whole second, as wall-clock fields in the zone.
  const startInstant = Math.floor(after.getTime() / second) * second + second;
  const t = new Date(wallClock(startInstant, zone));
  const yearLimit = t.getUTCFullYear() + 5;
  let added = false;
  const reset = (y: number, mo: number, d: number, h: number, mi: number) => t.setTime(Date.UTC(y, mo, d, h, mi, 0));
  wrap: for (;;) {
    if (t.getUTCFullYear() > yearLimit) return undefined;
    while (!has(f.month, t.getUTCMonth() + 1)) {
      if (!added) {
        added = true;
        reset(t.getUTCFullYear(), t.getUTCMonth(), 1, 0, 0);
      }
      reset(t.getUTCFullYear(), t.getUTCMonth() + 1, 1, 0, 0);
      if (t.getUTCMonth() === 0) continue wrap;
    }
    while (!dayMatches(f, t)) {
      if (!added) {
        added = true;
        reset(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate(), 0, 0);
      }
      reset(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate() + 1, 0, 0);
      if (t.getUTCDate() === 1) continue wrap;
    }
    while (!has(f.hour, t.getUTCHours())) {
      if (!added) {
        added = true;
        reset(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate(), t.getUTCHours(), 0);
      }
      t.setTime(t.getTime() + hour);
      if (t.getUTCHours() === 0) continue wrap;
    }
    while (!has(f.minute, t.getUTCMinutes())) {
      if (!added) {
        added = true;
        t.setTime(Math.floor(t.getTime() / minute) * minute);
      }
      t.setTime(t.getTime() + minute);
      if (t.getUTCMinutes() === 0) continue wrap;
    }
    if (t.getUTCSeconds() !== 0) {
      // The seconds field is always 0: go on to the next whole minute and check it again.
      t.setTime(Math.floor(t.getTime() / minute) * minute + minute);
      added = true;
      continue wrap;
    }
    return new Date(instantOf(t.getTime(), zone));
  }
}

const descriptors: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** Go's %s of a []string: `[a b c]`. */
const goStrings = (fields: string[]) => `[${fields.join(' ')}]`;

function parseFields(spec: string): Fields {
  const fields = spec.split(/\s+/).filter(Boolean);
  if (fields.length !== 5) throw new Error(`expected exactly 5 fields, found ${fields.length}: ${goStrings(fields)}`);
  return {
    minute: getField(fields[0]!, minutes),
    hour: getField(fields[1]!, hours),
    dom: getField(fields[2]!, daysOfMonth),
    month: getField(fields[3]!, months),
    dow: getField(fields[4]!, daysOfWeek),
  };
}

/**
 * cron.ParseStandard. `zone` is the time zone the schedule runs in (a
 * `TZ=`/`CRON_TZ=` prefix overrides it); errors carry robfig's messages.
 */
export function parseCronSchedule(spec: string, zone = 'Local'): CronSchedule {
  if (spec.length === 0) throw new Error('empty spec string');
  let rest = spec;
  let loc = zone;
  if (rest.startsWith('TZ=') || rest.startsWith('CRON_TZ=')) {
    const space = rest.indexOf(' ');
    const eq = rest.indexOf('=');
    const name = space < 0 ? rest.slice(eq + 1) : rest.slice(eq + 1, space);
    if (!isLoadableTimeZone(name)) throw new Error(`provided bad location ${name}: unknown time zone ${name}`);
    loc = name === '' ? 'UTC' : name;
    rest = space < 0 ? '' : rest.slice(space).trim();
  }
  if (rest.startsWith('@')) {
    if (rest.startsWith('@every ')) {
      const text = rest.slice('@every '.length);
      let ms: number;
      try {
        ms = parseGoDuration(text);
      } catch (e) {
        throw new Error(`failed to parse duration ${rest}: ${(e as Error).message}`, { cause: e });
      }
      // ConstantDelaySchedule: at least a second, whole seconds, from the time given.
      const delay = Math.max(second, Math.floor(ms / second) * second);
      return { next: (after) => new Date(Math.floor(after.getTime() / second) * second + delay) };
    }
    const expanded = descriptors[rest];
    if (!expanded) throw new Error(`unrecognized descriptor: ${rest}`);
    rest = expanded;
  }
  const fields = parseFields(rest);
  return { next: (after) => nextMatch(fields, loc, after) };
}
