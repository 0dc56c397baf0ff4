// TARGET and --from as the user writes them, parsed (pure): what to look up
// before anything is sent. Resolution against the API and the DNS is resolve.ts.
import { isIPv4 } from 'node:net';

export type ParsedTarget =
  /** svc/NAME[:PORT]: a Service of the namespace, looked up in the API. */
  | { kind: 'service'; name: string; port?: string }
  /** NAME[.NAMESPACE...][:PORT]: resolved through the cluster DNS. */
  | { kind: 'dns'; name: string; port?: string }
  /** IP:PORT: a cluster IP, an external or load-balancer IP, a node's or a pod's address. */
  | { kind: 'address'; ip: string; port: number }
  /** PORT alone (the source's node) or node/NAME:PORT: a node port. */
  | { kind: 'node-port'; node?: string; port: number };

export type ParsedSource = { kind: 'node'; name: string } | { kind: 'pod'; name: string };

export class TargetError extends Error {}

const dnsName = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*\.?$/;
const serviceName = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const portName = /^([a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?)$/;

function portNumber(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new TargetError(`${what}: "${text}" is not a port number (1-65535)`);
  return n;
}

/** Splits "HOST:PORT" at its last colon (no IPv6: the cluster is IPv4). */
function splitPort(text: string): [string, string | undefined] {
  const at = text.lastIndexOf(':');
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

export function parseTarget(input: string): ParsedTarget {
  const text = input.trim();
  if (!text) throw new TargetError('TARGET is empty');
  if (/^\d+$/.test(text)) return { kind: 'node-port', port: portNumber(text, 'node port') };
  const typed = /^(svc|service|services|node|nodes)\/(.*)$/.exec(text);
  if (typed) {
    const [host, port] = splitPort(typed[2]);
    if (typed[1].startsWith('node')) {
      if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(host)) throw new TargetError(`"${host}" is not a node name`);
      if (port === undefined) throw new TargetError(`${text}: a node port is needed (node/${host}:PORT)`);
      return { kind: 'node-port', node: host, port: portNumber(port, text) };
    }
    if (!serviceName.test(host)) throw new TargetError(`"${host}" is not a Service name (a DNS-1035 label)`);
    if (port !== undefined && !/^\d+$/.test(port) && !portName.test(port)) throw new TargetError(`${text}: "${port}" is neither a port number nor a port name`);
    return port === undefined ? { kind: 'service', name: host } : { kind: 'service', name: host, port };
  }
  const [host, port] = splitPort(text);
  if (isIPv4(host)) {
    if (port === undefined) throw new TargetError(`${text}: a port is needed (${host}:PORT)`);
    return { kind: 'address', ip: host, port: portNumber(port, text) };
  }
  if (/^[\d.]+$/.test(host)) throw new TargetError(`"${host}" is not an IPv4 address`);
  if (!dnsName.test(host)) throw new TargetError(`"${text}" is not a Service name, svc/NAME[:PORT], IP:PORT, a node port or node/NAME:PORT`);
  if (port !== undefined && !/^\d+$/.test(port) && !portName.test(port)) throw new TargetError(`${text}: "${port}" is neither a port number nor a port name`);
  return port === undefined ? { kind: 'dns', name: host } : { kind: 'dns', name: host, port };
}

export function parseSource(input: string): ParsedSource {
  const m = /^(pod|pods|po|node|nodes|no)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(input.trim());
  if (!m) throw new TargetError(`--from "${input}": expected pod/NAME or node/NAME`);
  return { kind: m[1].startsWith('p') ? 'pod' : 'node', name: m[2] };
}

/**
 * The names a resolver with the pod's resolv.conf would ask, in order
 * (`search <ns>.svc.<domain> svc.<domain> <domain>`, ndots:5): the search
 * suffixes first unless the name has five dots or ends with one.
 */
export function dnsSearchNames(name: string, namespace: string, domain = 'cluster.local'): string[] {
  if (name.endsWith('.')) return [name.slice(0, -1)];
  const search = [`${namespace}.svc.${domain}`, `svc.${domain}`, domain].map((suffix) => `${name}.${suffix}`);
  const dots = name.split('.').length - 1;
  return dots >= 5 ? [name, ...search] : [...search, name];
}

/** "name.namespace" of a Service record name (NAME.NS.svc.DOMAIN), or undefined for other names. */
export function serviceOfDnsName(fqdn: string, domain = 'cluster.local'): { namespace: string; name: string } | undefined {
  const suffix = `.svc.${domain}`;
  const name = fqdn.replace(/\.$/, '');
  if (!name.endsWith(suffix)) return undefined;
  const labels = name.slice(0, -suffix.length).split('.');
  // NAME.NS, or for a pod of a headless service HOST.NAME.NS.
  if (labels.length < 2) return undefined;
  return { namespace: labels[labels.length - 1], name: labels[labels.length - 2] };
}
