// Small helpers shared by the built-in images. Only node: modules, so each
// image process stays lean.
import { hostname as osHostname } from 'node:os';
import type { Server } from 'node:http';
import { parseGoDuration } from '../util/go-duration.js';

/** The pod's hostname: the runtime passes it as HOSTNAME (the process shares the host's UTS namespace). */
export function podHostname(): string {
  return process.env.HOSTNAME || osHostname();
}

/**
 * The address servers listen on. Inside a pod's network namespace that is every
 * address (0.0.0.0); tests running images in the host namespace set
 * KUBESVC_BIND_ADDRESS=127.0.0.1 so nothing listens beyond loopback.
 */
export function bindAddress(): string {
  return process.env.KUBESVC_BIND_ADDRESS || '0.0.0.0';
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Go's log package timestamp, "2006/01/02 15:04:05" (containers run in UTC). */
export function goLogTime(d = new Date()): string {
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** Go's log.Printf: a timestamped line on stderr. */
export function goLog(msg: string): void {
  process.stderr.write(`${goLogTime()} ${msg.endsWith('\n') ? msg : msg + '\n'}`);
}

/** Go's log.Fatalf: log, exit 1. */
export function goFatal(msg: string): never {
  goLog(msg);
  process.exit(1);
}

/** Go's time.Now().String(): "2006-01-02 15:04:05.999999999 +0000 UTC m=+0.000000001". */
export function goTimeNow(): string {
  const d = new Date();
  const ns = String(d.getUTCMilliseconds() * 1_000_000 + Math.floor(Math.random() * 1_000_000)).padStart(9, '0').replace(/0+$/, '');
  const mono = (performance.now() / 1000).toFixed(9);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${ns ? '.' + ns : ''} +0000 UTC m=+${mono}`;
}

/** time.ParseDuration for a flag, in milliseconds; undefined when invalid. */
export function flagDuration(s: string): number | undefined {
  try {
    return parseGoDuration(s);
  } catch {
    return undefined; // the caller reports the flag as Go's flag package would
  }
}

/** Go's json.Marshal of a map: sorted keys, <, > and & escaped. */
export function goJSON(value: Record<string, unknown>): string {
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) sorted[k] = value[k];
  return JSON.stringify(sorted)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Go's http.DetectContentType, reduced to what text servers produce. */
export function goSniff(body: string): string {
  const head = body.replace(/^[\t\n\f\r ]+/, '').slice(0, 512).toLowerCase();
  for (const tag of ['<!doctype html', '<html', '<head', '<script', '<iframe', '<h1', '<div', '<font', '<table', '<a', '<style', '<title', '<b', '<body', '<br', '<p', '<!--']) {
    if (head.startsWith(tag)) {
      const next = head.charAt(tag.length);
      if (tag === '<!--' || next === ' ' || next === '>') return 'text/html; charset=utf-8';
    }
  }
  if (head.startsWith('<?xml')) return 'text/xml; charset=utf-8';
  if (head.startsWith('%pdf-')) return 'application/pdf';
  // Binary bytes make Go answer application/octet-stream.
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i);
    if (c <= 0x08 || c === 0x0b || (c >= 0x0e && c <= 0x1a) || (c >= 0x1c && c <= 0x1f)) return 'application/octet-stream';
  }
  return 'text/plain; charset=utf-8';
}

export type FlagType = 'int' | 'bool' | 'string' | 'duration';
export interface FlagSpec { type: FlagType; def: string | number | boolean }
export type FlagValues = Record<string, string | number | boolean>;

// klog's flags, which agnhost accepts on every subcommand (and ignores here).
const KLOG_FLAGS = new Set(['v', 'vmodule', 'logtostderr', 'alsologtostderr', 'stderrthreshold', 'log_dir', 'log_file', 'log_file_max_size', 'skip_headers', 'skip_log_headers', 'one_output', 'add_dir_header', 'log_backtrace_at']);
const KLOG_BOOL = new Set(['logtostderr', 'alsologtostderr', 'skip_headers', 'skip_log_headers', 'one_output', 'add_dir_header']);

/**
 * Parses flags the way pflag (cobra) and Go's flag package accept them:
 * --name=value, --name value, --bool, --bool=false; single dashes too.
 * Durations come back in milliseconds.
 */
export function parseFlags(args: string[], spec: Record<string, FlagSpec>): { values: FlagValues; positional: string[]; error?: string } {
  const values: FlagValues = {};
  for (const [name, s] of Object.entries(spec)) values[name] = s.type === 'duration' ? parseGoDuration(String(s.def)) ?? 0 : s.def;
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') { positional.push(...args.slice(i + 1)); break; }
    if (!arg.startsWith('-') || arg === '-') { positional.push(arg); continue; }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    const s = spec[name];
    if (!s) {
      if (KLOG_FLAGS.has(name)) {
        if (value === undefined && !KLOG_BOOL.has(name)) i++;
        continue;
      }
      return { values, positional, error: `unknown flag: ${arg.split('=')[0]}` };
    }
    if (s.type === 'bool') {
      if (value === undefined) { values[name] = true; continue; }
      if (/^(1|t|true|TRUE|True)$/.test(value)) values[name] = true;
      else if (/^(0|f|false|FALSE|False)$/.test(value)) values[name] = false;
      else return { values, positional, error: `invalid argument "${value}" for "--${name}" flag: strconv.ParseBool: parsing "${value}": invalid syntax` };
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= args.length) return { values, positional, error: `flag needs an argument: --${name}` };
      value = args[++i]!;
    }
    if (s.type === 'int') {
      if (!/^[-+]?\d+$/.test(value)) return { values, positional, error: `invalid argument "${value}" for "--${name}" flag: strconv.ParseInt: parsing "${value}": invalid syntax` };
      values[name] = Number(value);
    } else if (s.type === 'duration') {
      const ms = parseGoDuration(value);
      if (ms === undefined) return { values, positional, error: `invalid argument "${value}" for "--${name}" flag: time: invalid duration "${value}"` };
      values[name] = ms;
    } else {
      values[name] = value;
    }
  }
  return { values, positional };
}

const terminators: (() => void | Promise<void>)[] = [];
let terminating = false;

/**
 * Runs fn on SIGTERM/SIGINT, then exits 0 (or when the handlers are slow,
 * after 5 s). An image that wants other behaviour installs its own handlers
 * instead.
 */
export function onTerminate(fn: () => void | Promise<void>): void {
  terminators.push(fn);
  if (terminators.length > 1) return;
  const handler = (): void => {
    if (terminating) return;
    terminating = true;
    const timer = setTimeout(() => process.exit(0), 5000);
    timer.unref();
    void Promise.allSettled(terminators.map((t) => Promise.resolve().then(t))).then(() => process.exit(0));
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/** Stops an HTTP server: no new connections, idle keep-alive ones closed, busy ones finish. */
export function closeHttpServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

/** Prints a cobra-style usage error and exits 1. */
export function cobraError(command: string, error: string): never {
  process.stderr.write(`Error: ${error}\nRun '${command} --help' for usage.\n`);
  process.exit(1);
}
