// The components' log lines: klog's text format, component-base's JSON
// format, verbosity (klog's V(n)) and where lines go; the logging flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatJson, formatText, type LogEntry } from '../src/util/log-format.js';
import { configureLogging, fileSink, logger, resetLogging, type LogSink } from '../src/util/log.js';
import { parseLogFlags } from '../src/cli/log-flags.js';
import { UsageError } from '../src/cli/args.js';

// 5 December, 19:31:07.123456 local time (klog writes the local time).
const at = new Date(2024, 11, 5, 19, 31, 7, 123).getTime() + 0.456;
const entry = (e: Partial<LogEntry>): LogEntry => ({ severity: 'info', v: 0, time: at, component: 'kubelet', msg: 'node registered', ...e });

test('text: klog header (severity, MMDD, time to the microsecond, 7-column pid, source), quoted message, key=value', () => {
  assert.equal(
    formatText(entry({ fields: { node: 'node-1', pods: 3, ready: true, skipped: undefined } }), 12345),
    'I1205 19:31:07.123456   12345 kubelet] "node registered" node="node-1" pods=3 ready=true\n',
  );
  assert.match(formatText(entry({ severity: 'warning' }), 1), /^W1205 19:31:07\.123456 {7}1 kubelet\] "node registered"\n$/);
  assert.match(formatText(entry({ severity: 'error' }), 1234567), /^E1205 19:31:07\.123456 1234567 kubelet\] /);
});

test('text: values as klog writes them: quotes escaped, errors by message, structures as JSON, line breaks as a block', () => {
  const line = formatText(entry({ msg: 'say "hi"', fields: { err: new Error('boom'), labels: { app: 'web' }, list: [1, 2], none: null } }), 1);
  assert.ok(line.endsWith('kubelet] "say \\"hi\\"" err="boom" labels={"app":"web"} list=[1,2] none=null\n'), line);
  assert.ok(formatText(entry({ fields: { out: 'a\nb' } }), 1).endsWith('] "node registered" out=<\n\ta\n\tb\n >\n'));
  assert.ok(formatText(entry({ fields: { out: 'a\n' } }), 1).endsWith(' out=<\n\ta\n >\n'));
});

test('json: component-base keys (ts in epoch ms, caller, msg, v), then the key/values; errors carry no v', () => {
  const info = JSON.parse(formatJson(entry({ v: 2, fields: { node: 'node-1', pods: 3, err: new Error('boom') } })));
  assert.deepEqual(Object.keys(info), ['ts', 'caller', 'msg', 'v', 'node', 'pods', 'err']);
  assert.deepEqual(info, { ts: at, caller: 'kubelet', msg: 'node registered', v: 2, node: 'node-1', pods: 3, err: 'boom' });
  const error = JSON.parse(formatJson(entry({ severity: 'error', msg: 'sync failed' })));
  assert.deepEqual(error, { ts: at, caller: 'kubelet', msg: 'sync failed' });
  assert.ok(formatJson(entry({})).endsWith('}\n'));
  assert.doesNotMatch(formatJson(entry({ fields: { out: 'a\nb' } })).slice(0, -1), /\n/, 'one line');
});

test('verbosity: info at V(n) is written when n <= -v; warnings and errors always; each component to its sink', (t) => {
  t.after(resetLogging);
  const lines: Record<string, string[]> = {};
  const sinkFor = (component: string): LogSink => ({ write: (l) => void (lines[component] ??= []).push(l) });
  configureLogging({ verbosity: 2, format: 'text', sinkFor });
  const a = logger('apiserver');
  const b = logger('kubelet');
  a.info('zero');
  a.v(2).info('two');
  a.v(3).info('three');
  b.warn('careful');
  b.error('broken');
  assert.deepEqual(
    lines.apiserver!.map((l) => l.replace(/^.*\] /, '')),
    ['"zero"\n', '"two"\n'],
  );
  assert.deepEqual(lines.kubelet!.map((l) => l[0]), ['W', 'E']);
  configureLogging({ verbosity: 0, format: 'json' });
  a.v(1).info('hidden');
  a.info('shown', { k: 'v' });
  assert.equal(lines.apiserver!.length, 3);
  const { ts, ...rest } = JSON.parse(lines.apiserver![2]!);
  assert.ok(Math.abs(ts - Date.now()) < 60_000, 'ts is now, in epoch milliseconds');
  assert.deepEqual(rest, { caller: 'apiserver', msg: 'shown', v: 0, k: 'v' });
});

test('file sink: appends, 0600, in a directory it makes', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kubesvc-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'logs', 'apiserver.log');
  for (const text of ['one\n', 'two\n']) {
    const sink = fileSink(path);
    sink.write(text);
    sink.close();
    sink.write('after close: dropped\n');
  }
  assert.equal(readFileSync(path, 'utf8'), 'one\ntwo\n');
  assert.equal(statSync(path).mode & 0o777, 0o600);
});

test('flags: -v/--v as pflag takes them, --logging-format or --log-format; bad values in upstream words', () => {
  assert.deepEqual(parseLogFlags({}), {});
  assert.deepEqual(parseLogFlags({ v: '4', 'logging-format': 'json' }), { verbosity: 4, format: 'json' });
  assert.deepEqual(parseLogFlags({ v: '=3', 'log-format': 'text' }), { verbosity: 3, format: 'text' });
  assert.throws(() => parseLogFlags({ v: 'x' }), (e: Error) => e instanceof UsageError && e.message === 'invalid argument "x" for "-v, --v" flag: strconv.ParseUint: parsing "x": invalid syntax');
  assert.throws(() => parseLogFlags({ v: '-1' }), UsageError);
  assert.throws(() => parseLogFlags({ 'log-format': 'xml' }), { message: 'logging.format: Invalid value: "xml": Unsupported log format' });
});
