// The components' logs, as klog has them: one line per event with a
// severity, a timestamp and the component's name, then key=value pairs
// (./log-format.ts: klog's text or component-base's JSON). Info messages
// carry a verbosity (`log.v(4).info(...)`, klog's V(4)) and are written when
// it is at most the process's `-v`. Where lines go is the process's choice:
// standard error by default (as upstream components log), or a sink per
// component name (`kubesvc up` writes each component's log to a file).
// User-facing command output (progress lines, tables, screens) is not logging
// and does not come here.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatEntry, type LogEntry, type LogFormat, type Severity } from './log-format.js';

export type { LogFormat } from './log-format.js';
export type Fields = Record<string, unknown>;

export interface InfoLogger {
  info(msg: string, fields?: Fields): void;
}

export interface Logger extends InfoLogger {
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** klog's V(level): info messages written only when the process's verbosity is `level` or more. */
  v(level: number): InfoLogger;
}

/** Where a line goes. */
export interface LogSink {
  write(line: string): void;
}

export interface LogSettings {
  /** `-v`: info messages at this verbosity or below are written (klog's default 0). */
  verbosity: number;
  format: LogFormat;
  /** The sink for each component's lines. */
  sinkFor(component: string): LogSink;
}

export const stderrSink: LogSink = { write: (line) => void process.stderr.write(line) };

const defaults: LogSettings = { verbosity: 0, format: 'text', sinkFor: () => stderrSink };
let settings: LogSettings = defaults;
let quiet = false;

/** Sets the process's logging (flags read at a command's start); the rest stays as it was. */
export function configureLogging(next: Partial<LogSettings>): void {
  settings = { ...settings, ...next };
}

export function loggingSettings(): Readonly<LogSettings> {
  return settings;
}

/** Back to standard error, text, verbosity 0. */
export function resetLogging(): void {
  settings = defaults;
}

/** Tests: warnings and errors only. */
export function setQuiet(q: boolean): void {
  quiet = q;
}

/**
 * A file the process appends its lines to (0600: lines may name the data dir's secrets' paths), written
 * synchronously so that nothing is lost when the process exits right after logging.
 */
export function fileSink(path: string): LogSink & { close(): void } {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let fd: number | undefined = openSync(path, 'a', 0o600);
  return {
    write(line) {
      if (fd !== undefined) writeSync(fd, line);
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/**
 * The wall clock to the microsecond: Date.now() has milliseconds only, so the monotonic clock adds the
 * rest, re-anchored whenever the two part by a millisecond (the wall clock was set, or the machine slept).
 */
let anchor = { wall: Date.now(), mono: process.hrtime.bigint() };
function nowMs(): number {
  const wall = Date.now();
  let t = anchor.wall + Number(process.hrtime.bigint() - anchor.mono) / 1e6;
  if (Math.abs(t - wall) >= 1) {
    anchor = { wall, mono: process.hrtime.bigint() };
    t = wall;
  }
  return t;
}

/** The logger of a component (or of a part of one): its name is what each of its lines says it came from. */
export function logger(component: string, out?: NodeJS.WritableStream): Logger {
  const emit = (severity: Severity, v: number, msg: string, fields?: Fields) => {
    const entry: LogEntry = { severity, v, time: nowMs(), component, msg, fields };
    const line = formatEntry(settings.format, entry, process.pid);
    if (out) out.write(line);
    else settings.sinkFor(component).write(line);
  };
  const info = (v: number) => (msg: string, fields?: Fields) => {
    if (!quiet && v <= settings.verbosity) emit('info', v, msg, fields);
  };
  const atLevel = new Map<number, InfoLogger>();
  return {
    info: info(0),
    warn: (msg, fields) => emit('warning', 0, msg, fields),
    error: (msg, fields) => emit('error', 0, msg, fields),
    v(level) {
      let l = atLevel.get(level);
      if (!l) atLevel.set(level, (l = { info: info(level) }));
      return l;
    },
  };
}
