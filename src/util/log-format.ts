// One log entry as a line, in the two formats Kubernetes components write:
// klog's text format (`--logging-format=text`, the default) and
// component-base's JSON format (`--logging-format=json`). Where a Go
// component puts its source file:line, kubesvc puts the component's name.

export type Severity = 'info' | 'warning' | 'error';
export type LogFormat = 'text' | 'json';
export const logFormats: readonly LogFormat[] = ['text', 'json'];

export interface LogEntry {
  severity: Severity;
  /** The verbosity the message was logged at (klog's V(n)); 0 for warnings and errors. */
  v: number;
  /** Milliseconds since the epoch, with the microseconds as a fraction. */
  time: number;
  /** The component (or part of one) that logged: klog's file:line slot, JSON's "caller". */
  component: string;
  msg: string;
  fields?: Record<string, unknown>;
}

const severityLetter: Record<Severity, string> = { info: 'I', warning: 'W', error: 'E' };

const two = (n: number) => String(n).padStart(2, '0');

/** klog's header: `Lmmdd hh:mm:ss.uuuuuu threadid file:line] ` (local time, the id right-aligned in 7 columns). */
function header(e: LogEntry, pid: number): string {
  const us = Math.round(e.time * 1000);
  const t = new Date(Math.floor(us / 1000));
  const micros = String(us % 1_000_000).padStart(6, '0');
  return `${severityLetter[e.severity]}${two(t.getMonth() + 1)}${two(t.getDate())} ${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}.${micros} ${String(pid).padStart(7, ' ')} ${e.component}] `;
}

/**
 * A value as klog's structured text writes it: strings (and errors) quoted,
 * a string with line breaks as an indented block (`key=<` … ` >`), numbers
 * and booleans bare, anything else as JSON.
 */
function textValue(v: unknown): string {
  if (v instanceof Error) v = v.message;
  if (typeof v === 'string') {
    if (!v.includes('\n')) return JSON.stringify(v);
    const lines = v.split('\n');
    const last = lines.pop()!;
    const body = lines.map((l) => `\t${l}\n`).join('');
    return `<\n${body}${last === '' ? ' >' : `\t${last}\n >`}`;
  }
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null) return 'null';
  return JSON.stringify(v) ?? 'null';
}

/** `I1205 19:31:07.123456   12345 kubelet] "node registered" node="node-1" ip="172.18.0.2"` */
export function formatText(e: LogEntry, pid: number): string {
  let line = header(e, pid) + JSON.stringify(e.msg);
  for (const [k, v] of Object.entries(e.fields ?? {})) if (v !== undefined) line += ` ${k}=${textValue(v)}`;
  return line + '\n';
}

/**
 * component-base's JSON line: `{"ts":<epoch ms, a fraction for the rest>,"caller":…,"msg":…,"v":N,…}`;
 * errors carry no "v" (zapr writes it for info entries only).
 */
export function formatJson(e: LogEntry): string {
  const entry: Record<string, unknown> = { ts: Math.round(e.time * 1000) / 1000, caller: e.component, msg: e.msg };
  if (e.severity !== 'error') entry.v = e.v;
  for (const [k, v] of Object.entries(e.fields ?? {})) {
    if (v === undefined || Object.hasOwn(entry, k)) continue;
    entry[k] = v instanceof Error ? v.message : v;
  }
  return JSON.stringify(entry, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)) + '\n';
}

export function formatEntry(format: LogFormat, e: LogEntry, pid: number): string {
  return format === 'json' ? formatJson(e) : formatText(e, pid);
}
