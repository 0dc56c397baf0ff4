// The logging flags every component takes, with upstream's names:
// `-v N` / `--v N` (klog's verbosity) and `--logging-format text|json`
// (component-base's), and `--log-format` as kubesvc's shorter spelling.
import { configureLogging, type LogFormat, type LogSettings } from '../util/log.js';
import { logFormats } from '../util/log-format.js';
import { UsageError } from './args.js';

export const logFlags = {
  v: { type: 'string', short: 'v' },
  'logging-format': { type: 'string' },
  'log-format': { type: 'string' },
} as const;

export const logFlagsUsage = `-v, --v N: log info messages of verbosity N and below (klog's; default 0).
--logging-format text|json (or --log-format): klog's text lines (default) or component-base's JSON lines.`;

export interface LogFlagValues {
  v?: string;
  'logging-format'?: string;
  'log-format'?: string;
}

/** The settings the flags ask for (only those given); a bad value is a UsageError in upstream's words. */
export function parseLogFlags(values: LogFlagValues): Partial<Pick<LogSettings, 'verbosity' | 'format'>> {
  const out: Partial<Pick<LogSettings, 'verbosity' | 'format'>> = {};
  if (values.v !== undefined) {
    // pflag takes `-v=4` as well as `-v 4`, `-v4` and `--v=4`.
    const text = values.v.replace(/^=/, '');
    // A uint32, as component-base's VerbosityLevel.
    const n = Number(text);
    if (!/^\+?\d+$/.test(text)) throw new UsageError(`invalid argument "${values.v}" for "-v, --v" flag: strconv.ParseUint: parsing "${text}": invalid syntax`);
    if (n > 4294967295) throw new UsageError(`invalid argument "${values.v}" for "-v, --v" flag: strconv.ParseUint: parsing "${text}": value out of range`);
    out.verbosity = n;
  }
  const format = values['logging-format'] ?? values['log-format'];
  if (format !== undefined) {
    if (!(logFormats as readonly string[]).includes(format)) throw new UsageError(`logging.format: Invalid value: "${format}": Unsupported log format`);
    out.format = format as LogFormat;
  }
  return out;
}

/** Reads the flags and sets the process's logging from them (a command's first step). */
export function applyLogFlags(values: LogFlagValues): Partial<Pick<LogSettings, 'verbosity' | 'format'>> {
  const settings = parseLogFlags(values);
  configureLogging(settings);
  return settings;
}

