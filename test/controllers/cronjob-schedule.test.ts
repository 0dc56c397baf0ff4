// Cron schedules as robfig/cron v3's ParseStandard reads them (src/util/cron.ts):
// the next activation in a time zone, and the parser's exact error texts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCronSchedule } from '../../src/util/cron.js';

const next = (spec: string, after: string, zone = 'UTC') => parseCronSchedule(spec, zone).next(new Date(after))?.toISOString();
const error = (spec: string) => {
  try {
    parseCronSchedule(spec, 'UTC');
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
};

describe('cron schedules', () => {
  it('next activations', () => {
    assert.equal(next('* * * * *', '2024-03-10T06:30:20Z'), '2024-03-10T06:31:00.000Z');
    assert.equal(next('* * * * *', '2024-03-10T06:30:00Z'), '2024-03-10T06:31:00.000Z', 'strictly after');
    assert.equal(next('*/15 * * * *', '2024-03-10T06:30:20Z'), '2024-03-10T06:45:00.000Z');
    assert.equal(next('0 9 * * mon-fri', '2024-03-09T10:00:00Z'), '2024-03-11T09:00:00.000Z');
    assert.equal(next('0 0 29 feb *', '2024-03-01T00:00:00Z'), '2028-02-29T00:00:00.000Z');
    assert.equal(next('@hourly', '2024-03-10T06:30:00Z'), '2024-03-10T07:00:00.000Z');
    assert.equal(next('@every 90s', '2024-03-10T06:30:20.500Z'), '2024-03-10T06:31:50.000Z');
    assert.equal(next('0 0 31 2 *', '2024-01-01T00:00:00Z'), undefined, 'never: given up five years out');
  });

  it('day-of-month and day-of-week: OR, unless one is *', () => {
    assert.equal(next('0 0 13 * fri', '2024-09-01T00:00:00Z'), '2024-09-06T00:00:00.000Z');
    assert.equal(next('0 0 * * fri', '2024-09-01T00:00:00Z'), '2024-09-06T00:00:00.000Z');
  });

  it('time zones, across a DST change', () => {
    assert.equal(next('30 1 * * *', '2024-03-10T06:30:20Z', 'Asia/Tokyo'), '2024-03-10T16:30:00.000Z');
    assert.equal(next('0 2 * * *', '2024-03-10T00:00:00Z', 'America/New_York'), '2024-03-10T07:00:00.000Z', '02:00 does not exist that day');
    assert.equal(next('CRON_TZ=Europe/Berlin 0 9 * * *', '2024-07-01T00:00:00Z'), '2024-07-01T07:00:00.000Z');
  });

  it("robfig's error messages", () => {
    assert.equal(error(''), 'empty spec string');
    assert.equal(error('* * *'), 'expected exactly 5 fields, found 3: [* * *]');
    assert.equal(error('61 * * * *'), 'end of range (61) above maximum (59): 61');
    assert.equal(error('* * 0 * *'), 'beginning of range (0) below minimum (1): 0');
    assert.equal(error('a * * * *'), 'failed to parse int from a: strconv.Atoi: parsing "a": invalid syntax');
    assert.equal(error('1-2-3 * * * *'), 'too many hyphens: 1-2-3');
    assert.equal(error('*/2/3 * * * *'), 'too many slashes: */2/3');
    assert.equal(error('*/0 * * * *'), 'step of range should be a positive number: */0');
    assert.equal(error('5-1 * * * *'), 'beginning of range (5) beyond end of range (1): 5-1');
    assert.equal(error('*/-1 * * * *'), 'negative number (-1) not allowed: -1');
    assert.equal(error('* * * * 7'), 'end of range (7) above maximum (6): 7');
    assert.equal(error('@fortnightly'), 'unrecognized descriptor: @fortnightly');
    assert.equal(error('@every x'), 'failed to parse duration @every x: time: invalid duration "x"');
    assert.equal(error('TZ=Mars/Base * * * * *'), 'provided bad location Mars/Base: unknown time zone Mars/Base');
  });
});
