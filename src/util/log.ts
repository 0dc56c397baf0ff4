// Structured logs: one line per event, component name first, then key=value pairs.

export type Fields = Record<string, unknown>;

function format(value: unknown): string {
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

export interface Logger {
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

let quiet = false;
export function setQuiet(q: boolean): void {
  quiet = q;
}

export function logger(component: string, out: NodeJS.WritableStream = process.stderr): Logger {
  const line = (level: string, msg: string, fields: Fields = {}) => {
    if (quiet && level === 'info') return;
    const kv = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${format(v)}`)
      .join(' ');
    out.write(`${component} ${level} ${format(msg)}${kv ? ' ' + kv : ''}\n`);
  };
  return {
    info: (m, f) => line('info', m, f),
    warn: (m, f) => line('warn', m, f),
    error: (m, f) => line('error', m, f),
  };
}
