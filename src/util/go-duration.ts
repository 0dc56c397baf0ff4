// Go's time.Duration as text: time.ParseDuration and Duration.String(), in
// milliseconds. KubeProxyConfiguration's periods, agnhost's flags and the
// kubelet's messages ("back-off 10s restarting failed container") all use it.

const unitNs: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** time.ParseDuration, to milliseconds; throws Go's messages ("time: invalid duration \"x\""). */
export function parseGoDuration(text: string): number {
  const quoted = JSON.stringify(text);
  let s = text;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new Error(`time: invalid duration ${quoted}`);
  let totalNs = 0;
  while (s !== '') {
    const num = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    if (num[0] === '' || num[0] === '.') throw new Error(`time: invalid duration ${quoted}`);
    s = s.slice(num[0].length);
    const unit = /^[^\d.]*/.exec(s)![0];
    if (unit === '') throw new Error(`time: missing unit in duration ${quoted}`);
    const mult = unitNs[unit];
    if (mult === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
    s = s.slice(unit.length);
    totalNs += Number(`${num[1] || '0'}.${num[2] || '0'}`) * mult;
  }
  return (sign * totalNs) / 1e6;
}

/** A duration as Go's Duration.String() prints it ("1s", "1m30s", "100ms", "0s"). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let ns = Math.round(Math.abs(ms) * 1e6);
  let out: string;
  if (ns < 1e9) {
    const [unit, div] = ns < 1e3 ? ['ns', 1] : ns < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = `${trimNumber(ns / div)}${unit}`;
  } else {
    const h = Math.floor(ns / 3600e9);
    ns -= h * 3600e9;
    const m = Math.floor(ns / 60e9);
    ns -= m * 60e9;
    out = `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${trimNumber(ns / 1e9)}s`;
  }
  return neg ? `-${out}` : out;
}

function trimNumber(n: number): string {
  return Number(n.toFixed(9)).toString();
}
