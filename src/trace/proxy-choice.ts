// The userspace proxy's own pick for the probe: asked of each node's proxy at
// its metrics listener (127.0.0.1:10249 by default, reachable only inside the
// node's namespace), /debug/userspace-choices?client=IP:PORT — a short node
// process entered into the namespace as the probe helper is.
import { execInNetns } from '../net/ip.js';
import type { UserspaceChoice } from '../proxy/userspace/choices.js';

/** One pick as the proxy records it. */
export type RecordedChoice = UserspaceChoice;

const fetchScript = `
const http = require('node:http');
const req = http.get(process.argv[1], { timeout: 1000 }, (res) => {
  let body = '';
  res.on('data', (d) => (body += d));
  res.on('end', () => { process.stdout.write(res.statusCode === 200 ? body : ''); });
});
req.on('timeout', () => req.destroy());
req.on('error', () => {});
`;

/** host:port of the metrics listener to ask: 0.0.0.0 (any address) is asked on loopback. */
export function metricsAddressToAsk(bindAddress: string | undefined): string {
  const m = /^(.*):(\d+)$/.exec(bindAddress ?? '');
  if (!m) return '127.0.0.1:10249';
  const host = m[1] === '' || m[1] === '0.0.0.0' || m[1] === '[::]' ? '127.0.0.1' : m[1];
  return `${host}:${m[2]}`;
}

/** The choices a node's proxy recorded for client ip:port ([] when it has none, or is not a userspace proxy). */
export async function readNodeChoices(netns: string, metricsAddress: string, clientIP: string, clientPort: number): Promise<RecordedChoice[]> {
  const url = `http://${metricsAddress}/debug/userspace-choices?client=${encodeURIComponent(`${clientIP}:${clientPort}`)}`;
  const out = await execInNetns(netns, [process.execPath, '-e', fetchScript, url], { timeoutMs: 3_000 }).then(
    (r) => r.stdout,
    () => '',
  );
  try {
    const doc = JSON.parse(out) as { choices?: RecordedChoice[] };
    return Array.isArray(doc.choices) ? doc.choices : [];
  } catch {
    return [];
  }
}
