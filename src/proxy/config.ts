// KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) from YAML, with
// kube-proxy's defaults, its command-line flags on top (flags win), and
// validation in Kubernetes field-error wording. Pure: text and flags in, a
// config or a ProxyConfigError out.
//
// Differences from kube-proxy, on purpose: unknown fields are an error (kube-proxy
// falls back to lenient decoding for v1alpha1 and only logs), and the
// `userspace` mode — gone upstream since 1.26 — is kubesvc's and accepted.
import { isIP } from 'node:net';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { parseCIDRStrict } from '../net/addr.js';
import { formatGoDuration, parseGoDuration } from '../util/go-duration.js';

export const proxyConfigAPIVersion = 'kubeproxy.config.k8s.io/v1alpha1';
export const proxyModes = ['iptables', 'ipvs', 'nftables', 'nftables-maps', 'userspace'] as const;
export type ProxyMode = (typeof proxyModes)[number];
/** IPVS schedulers kube-proxy accepts (blank means rr), plus mh (Maglev hashing, kernel 5.x). */
export const ipvsSchedulers = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'sh', 'dh', 'sed', 'nq', 'mh'] as const;

export class ProxyConfigError extends Error {
  constructor(readonly errors: string[]) {
    super(errors.join('; '));
  }
}

// ---- The v1alpha1 schema --------------------------------------------------

type FieldType = 'string' | 'bool' | 'int' | 'number' | 'duration' | 'stringList' | 'boolMap' | 'any' | Schema;
interface Schema {
  [field: string]: FieldType;
}

const clientConnection: Schema = { acceptContentTypes: 'string', burst: 'int', contentType: 'string', kubeconfig: 'string', qps: 'number' };
const iptables: Schema = {
  masqueradeBit: 'int',
  masqueradeAll: 'bool',
  localhostNodePorts: 'bool',
  snatNodeInternalIP: 'bool',
  syncPeriod: 'duration',
  minSyncPeriod: 'duration',
};
const ipvs: Schema = {
  syncPeriod: 'duration',
  minSyncPeriod: 'duration',
  scheduler: 'string',
  excludeCIDRs: 'stringList',
  strictARP: 'bool',
  tcpTimeout: 'duration',
  tcpFinTimeout: 'duration',
  udpTimeout: 'duration',
};
const nftables: Schema = { masqueradeBit: 'int', masqueradeAll: 'bool', syncPeriod: 'duration', minSyncPeriod: 'duration' };
const winkernel: Schema = { networkName: 'string', sourceVip: 'string', enableDSR: 'bool', rootHnsEndpointName: 'string', forwardHealthCheckVip: 'bool' };
const conntrack: Schema = {
  maxPerCore: 'int',
  min: 'int',
  tcpEstablishedTimeout: 'duration',
  tcpCloseWaitTimeout: 'duration',
  tcpBeLiberal: 'bool',
  udpTimeout: 'duration',
  udpStreamTimeout: 'duration',
};
const v1alpha1: Schema = {
  apiVersion: 'string',
  kind: 'string',
  featureGates: 'boolMap',
  clientConnection,
  logging: 'any',
  hostnameOverride: 'string',
  bindAddress: 'string',
  healthzBindAddress: 'string',
  metricsBindAddress: 'string',
  bindAddressHardFail: 'bool',
  enableProfiling: 'bool',
  showHiddenMetricsForVersion: 'string',
  serviceProxyName: 'string',
  mode: 'string',
  iptables,
  ipvs,
  nftables,
  winkernel,
  detectLocalMode: 'string',
  detectLocal: { bridgeInterface: 'string', interfaceNamePrefix: 'string' },
  clusterCIDR: 'string',
  nodePortAddresses: 'stringList',
  oomScoreAdj: 'int',
  conntrack,
  configSyncPeriod: 'duration',
  portRange: 'string',
  udpIdleTimeout: 'duration',
  windowsRunAsService: 'bool',
};

/** Hints for fields people carry over from other versions. */
const movedFields: Record<string, string> = {
  syncPeriod: 'in v1alpha1 it is iptables.syncPeriod, ipvs.syncPeriod or nftables.syncPeriod',
  minSyncPeriod: 'in v1alpha1 it is iptables.minSyncPeriod, ipvs.minSyncPeriod or nftables.minSyncPeriod',
};

/** Walks the decoded YAML against the schema: unknown fields and wrong types are errors; durations become ms. */
function decode(value: unknown, schema: Schema, path: string, errs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (value === null || value === undefined) return out;
  if (typeof value !== 'object' || Array.isArray(value)) {
    errs.push(`${path || 'KubeProxyConfiguration'}: expected an object`);
    return out;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const p = path ? `${path}.${k}` : k;
    const t = schema[k];
    if (t === undefined) {
      errs.push(`strict decoding error: unknown field ${JSON.stringify(p)}${!path && movedFields[k] ? ` (${movedFields[k]})` : ''}`);
      continue;
    }
    if (v === null) continue; // JSON null leaves the zero value, as Go's decoder
    const wrong = (want: string) => errs.push(`${p}: expected ${want}, got ${JSON.stringify(v)}`);
    const ok =
      typeof t === 'object' ||
      t === 'any' ||
      (t === 'string' && typeof v === 'string') ||
      (t === 'bool' && typeof v === 'boolean') ||
      (t === 'int' && Number.isInteger(v)) ||
      (t === 'number' && typeof v === 'number') ||
      (t === 'stringList' && Array.isArray(v) && v.every((x) => typeof x === 'string')) ||
      t === 'boolMap' ||
      t === 'duration';
    if (!ok) {
      wrong({ string: 'a string', bool: 'true or false', int: 'an integer', number: 'a number', stringList: 'a list of strings' }[t as string] ?? t);
      continue;
    }
    if (typeof t === 'object') out[k] = decode(v, t, p, errs);
    else if (t === 'boolMap') {
      if (typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((x) => typeof x === 'boolean')) out[k] = v;
      else wrong('a map of feature names to true or false');
    } else if (t === 'duration') {
      if (typeof v !== 'string') {
        wrong('a duration string such as "30s" or "100ms"');
        continue;
      }
      try {
        out[k] = parseGoDuration(v);
      } catch (e) {
        errs.push(`${p}: ${(e as Error).message}`);
      }
    } else out[k] = v;
  }
  return out;
}

// ---- Flags ---------------------------------------------------------------

export type ProxyFlags = Record<string, string | boolean | string[] | undefined>;

type Decoded = Record<string, any>;

const durationFlag =
  (...paths: string[][]) =>
  (cfg: Decoded, v: string) => {
    const ms = parseGoDuration(v);
    for (const p of paths) set(cfg, p, ms);
  };
const stringFlag = (path: string[]) => (cfg: Decoded, v: string) => set(cfg, path, v);
const boolFlag = (path: string[]) => (cfg: Decoded, v: string) => {
  if (v !== 'true' && v !== 'false') throw new Error(`strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
  set(cfg, path, v === 'true');
};
const listFlag = (path: string[]) => (cfg: Decoded, v: string) =>
  set(
    cfg,
    path,
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
const intFlag = (path: string[]) => (cfg: Decoded, v: string) => {
  if (!/^-?\d+$/.test(v)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  set(cfg, path, Number(v));
};

/** kube-proxy's flags for the fields kubesvc uses; the iptables sync flags also drive nftables mode, as upstream. */
const flagAppliers: Record<string, (cfg: Decoded, v: string) => void> = {
  'proxy-mode': stringFlag(['mode']),
  'cluster-cidr': stringFlag(['clusterCIDR']),
  'ipvs-scheduler': stringFlag(['ipvs', 'scheduler']),
  'ipvs-sync-period': durationFlag(['ipvs', 'syncPeriod']),
  'ipvs-min-sync-period': durationFlag(['ipvs', 'minSyncPeriod']),
  'ipvs-strict-arp': boolFlag(['ipvs', 'strictARP']),
  'ipvs-exclude-cidrs': listFlag(['ipvs', 'excludeCIDRs']),
  'iptables-sync-period': durationFlag(['iptables', 'syncPeriod'], ['nftables', 'syncPeriod']),
  'iptables-min-sync-period': durationFlag(['iptables', 'minSyncPeriod'], ['nftables', 'minSyncPeriod']),
  'iptables-masquerade-bit': intFlag(['iptables', 'masqueradeBit']),
  'masquerade-all': boolFlag(['iptables', 'masqueradeAll']),
  'nodeport-addresses': listFlag(['nodePortAddresses']),
  'healthz-bind-address': stringFlag(['healthzBindAddress']),
  'metrics-bind-address': stringFlag(['metricsBindAddress']),
  'hostname-override': stringFlag(['hostnameOverride']),
  'bind-address': stringFlag(['bindAddress']),
  'config-sync-period': durationFlag(['configSyncPeriod']),
};

/** Every kube-proxy flag `kubesvc proxy` accepts (without the dashes). */
export const proxyFlagNames = Object.keys(flagAppliers);

function set(obj: Decoded, path: string[], v: unknown) {
  let o = obj;
  for (const k of path.slice(0, -1)) o = o[k] ??= {};
  o[path[path.length - 1]] = v;
}

// ---- Result ----------------------------------------------------------------

export interface ProxyConfig {
  /** Effective mode; blank in the file means iptables, as kube-proxy on Linux. */
  mode: ProxyMode;
  /** Comma-separated pod CIDRs as written; clusterCIDRs split. */
  clusterCIDR: string;
  clusterCIDRs: string[];
  /** IPVS scheduler; blank means rr. */
  ipvsScheduler: string;
  /** The mode's sync periods (iptables.* for iptables/userspace, ipvs.*, nftables.*), in ms. */
  syncPeriodMs: number;
  minSyncPeriodMs: number;
  nodePortAddresses: string[];
  /** host:port, the port appended when the file gave only an address. */
  healthzBindAddress: string;
  metricsBindAddress: string;
  hostnameOverride: string;
  bindAddress: string;
  serviceProxyName: string;
  masqueradeAll: boolean;
  masqueradeBit: number;
  /** The whole defaulted v1alpha1 object (durations as Go strings), for /configz. */
  configuration: Record<string, unknown>;
}

const defaultHealthzPort = 10256;
const defaultMetricsPort = 10249;

function appendPortIfNeeded(addr: string, port: number): string {
  if (isIP(addr)) return isIP(addr) === 6 ? `[${addr}]:${port}` : `${addr}:${port}`;
  if (/^\[[^\]]*\]$/.test(addr)) return `${addr}:${port}`;
  return addr;
}

function validHostPort(addr: string): boolean {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) return false;
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  return isIP(host) !== 0 && port >= 1 && port <= 65535;
}

/** Duration fields back in Go's printed form, for /configz. */
function durationsToStrings(value: Decoded, schema: Schema): Decoded {
  const out: Decoded = {};
  for (const [k, v] of Object.entries(value)) {
    const t = schema[k];
    out[k] = t === 'duration' && typeof v === 'number' ? formatGoDuration(v) : typeof t === 'object' && v && typeof v === 'object' ? durationsToStrings(v, t) : v;
  }
  return out;
}

/**
 * Parses a KubeProxyConfiguration (undefined: none, all defaults), applies the
 * given flags on top (names without the leading dashes, values as typed on the
 * command line), defaults and validates. Throws ProxyConfigError listing every problem.
 */
export function loadProxyConfig(yamlText: string | undefined, flags: ProxyFlags = {}): ProxyConfig {
  const errs: string[] = [];
  let raw: unknown;
  if (yamlText !== undefined && yamlText.trim() !== '') {
    try {
      raw = parseYaml(yamlText);
    } catch (e) {
      throw new ProxyConfigError([`failed to parse config: ${e instanceof YAMLParseError ? e.message.split('\n')[0] : String(e)}`]);
    }
    const r = raw as Record<string, unknown> | null;
    if (r && typeof r === 'object' && !Array.isArray(r)) {
      if (r.kind === undefined) errs.push(`Object 'Kind' is missing in config`);
      else if (r.kind !== 'KubeProxyConfiguration') errs.push(`no kind ${JSON.stringify(r.kind)} is registered for version ${JSON.stringify(r.apiVersion ?? '')}`);
      if (r.apiVersion !== proxyConfigAPIVersion) errs.push(`no kind "KubeProxyConfiguration" is registered for version ${JSON.stringify(r.apiVersion ?? '')}`);
    }
  }
  const cfg: Decoded = decode(raw, v1alpha1, '', errs);
  if (errs.length) throw new ProxyConfigError(errs);

  for (const [name, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    const apply = flagAppliers[name.replace(/^--?/, '')];
    if (!apply) {
      errs.push(`unknown flag: --${name.replace(/^--?/, '')}`);
      continue;
    }
    const text = Array.isArray(value) ? value.join(',') : String(value);
    try {
      apply(cfg, text);
    } catch (e) {
      errs.push(`invalid argument ${JSON.stringify(text)} for "--${name.replace(/^--?/, '')}" flag: ${(e as Error).message}`);
    }
  }
  if (errs.length) throw new ProxyConfigError(errs);

  // Defaults (v1alpha1 defaults.go; every mode's sync periods get iptables' 30s / 1s).
  cfg.apiVersion = proxyConfigAPIVersion;
  cfg.kind = 'KubeProxyConfiguration';
  cfg.bindAddress ||= '0.0.0.0';
  const v6 = isIP(cfg.bindAddress) === 6;
  cfg.healthzBindAddress = cfg.healthzBindAddress
    ? appendPortIfNeeded(cfg.healthzBindAddress, defaultHealthzPort)
    : `${v6 ? '[::]' : '0.0.0.0'}:${defaultHealthzPort}`;
  cfg.metricsBindAddress = cfg.metricsBindAddress
    ? appendPortIfNeeded(cfg.metricsBindAddress, defaultMetricsPort)
    : `${v6 ? '[::1]' : '127.0.0.1'}:${defaultMetricsPort}`;
  cfg.mode ??= '';
  for (const section of ['iptables', 'ipvs', 'nftables'] as const) {
    cfg[section] ??= {};
    cfg[section].syncPeriod ||= 30_000;
    cfg[section].minSyncPeriod ??= 1000;
  }
  cfg.iptables.masqueradeBit ??= 14;
  cfg.nftables.masqueradeBit ??= 14;
  cfg.iptables.localhostNodePorts ??= true;
  cfg.ipvs.scheduler ??= '';
  cfg.clusterCIDR ??= '';
  cfg.nodePortAddresses ??= [];
  cfg.oomScoreAdj ??= -999;
  cfg.configSyncPeriod ||= 15 * 60_000;
  cfg.conntrack = { maxPerCore: 32 * 1024, min: 128 * 1024, tcpEstablishedTimeout: 24 * 3600_000, tcpCloseWaitTimeout: 3600_000, ...cfg.conntrack };
  cfg.clientConnection = { contentType: 'application/vnd.kubernetes.protobuf', qps: 5, burst: 10, ...cfg.clientConnection };
  cfg.featureGates ??= {};

  // Validation (validation.go), Kubernetes field-error wording.
  const root = 'KubeProxyConfiguration';
  const mode: string = cfg.mode;
  if (mode !== '' && !(proxyModes as readonly string[]).includes(mode)) {
    errs.push(`${root}.mode: Unsupported value: ${JSON.stringify(mode)}: supported values: ${proxyModes.map((m) => JSON.stringify(m)).join(', ')}`);
  }
  const effectiveMode: ProxyMode = ((proxyModes as readonly string[]).includes(mode) ? mode : 'iptables') as ProxyMode;
  const section = effectiveMode === 'ipvs' ? 'ipvs' : effectiveMode === 'nftables' || effectiveMode === 'nftables-maps' ? 'nftables' : 'iptables';
  const sync: number = cfg[section].syncPeriod;
  const minSync: number = cfg[section].minSyncPeriod;
  if (sync <= 0) errs.push(`${root}.${section}.syncPeriod: Invalid value: ${JSON.stringify(formatGoDuration(sync))}: must be greater than 0`);
  if (minSync < 0) errs.push(`${root}.${section}.minSyncPeriod: Invalid value: ${JSON.stringify(formatGoDuration(minSync))}: must be greater than or equal to 0`);
  else if (minSync > sync) {
    errs.push(`${root}.${section}.syncPeriod: Invalid value: ${JSON.stringify(formatGoDuration(sync))}: must be greater than or equal to ${root}.${section}.minSyncPeriod`);
  }
  const scheduler: string = cfg.ipvs.scheduler;
  if (scheduler !== '' && !(ipvsSchedulers as readonly string[]).includes(scheduler)) {
    errs.push(`${root}.ipvs.scheduler: Unsupported value: ${JSON.stringify(scheduler)}: supported values: ${ipvsSchedulers.map((s) => JSON.stringify(s)).join(', ')}`);
  }
  for (const bit of [cfg.iptables.masqueradeBit, cfg.nftables.masqueradeBit]) {
    if (bit < 0 || bit > 31) errs.push(`${root}.iptables.masqueradeBit: Invalid value: ${bit}: must be within the range [0, 31]`);
  }
  if (isIP(cfg.bindAddress) === 0) errs.push(`${root}.bindAddress: Invalid value: ${JSON.stringify(cfg.bindAddress)}: not a valid textual representation of an IP address`);
  for (const f of ['healthzBindAddress', 'metricsBindAddress'] as const) {
    if (!validHostPort(cfg[f])) errs.push(`${root}.${f}: Invalid value: ${JSON.stringify(cfg[f])}: must be IP:port`);
  }
  const cidrs = cfg.clusterCIDR ? String(cfg.clusterCIDR).split(',') : [];
  const parsed = cidrs.map((c) => parseCIDRStrict(c.trim()));
  if (cidrs.length > 2) {
    errs.push(`${root}.clusterCIDR: Invalid value: ${JSON.stringify(cfg.clusterCIDR)}: only one CIDR allowed or a valid DualStack CIDR (e.g. 10.100.0.0/16,fde4:8dba:82e1::/48)`);
  } else if (cidrs.length === 2 && !(parsed[0] && parsed[1] && isIP(cidrs[0].split('/')[0]) !== isIP(cidrs[1].split('/')[0]))) {
    errs.push(`${root}.clusterCIDR: Invalid value: ${JSON.stringify(cfg.clusterCIDR)}: must be a valid DualStack CIDR (e.g. 10.100.0.0/16,fde4:8dba:82e1::/48)`);
  } else if (cidrs.length === 1 && !parsed[0]) {
    errs.push(`${root}.clusterCIDR: Invalid value: ${JSON.stringify(cfg.clusterCIDR)}: must be a valid CIDR block (e.g. 10.100.0.0/16 or fde4:8dba:82e1::/48)`);
  }
  const npa: string[] = cfg.nodePortAddresses;
  npa.forEach((a, i) => {
    if (a === 'primary') {
      if (npa.length > 1) errs.push(`${root}.nodePortAddresses[${i}]: Invalid value: "primary": can't use both 'primary' and CIDRs`);
    } else if (!parseCIDRStrict(a.trim())) {
      errs.push(`${root}.nodePortAddresses[${i}]: Invalid value: ${JSON.stringify(a)}: must be a valid CIDR`);
    }
  });
  for (const [i, c] of ((cfg.ipvs.excludeCIDRs ?? []) as string[]).entries()) {
    if (!parseCIDRStrict(c.trim())) errs.push(`${root}.ipvs.excludeCIDRs[${i}]: Invalid value: ${JSON.stringify(c)}: must be a valid CIDR`);
  }
  if (cfg.oomScoreAdj < -1000 || cfg.oomScoreAdj > 1000) errs.push(`${root}.oomScoreAdj: Invalid value: ${cfg.oomScoreAdj}: must be within the range [-1000, 1000]`);
  if (errs.length) throw new ProxyConfigError(errs);

  return {
    mode: effectiveMode,
    clusterCIDR: cfg.clusterCIDR,
    clusterCIDRs: cidrs.map((c) => c.trim()),
    ipvsScheduler: scheduler,
    syncPeriodMs: sync,
    minSyncPeriodMs: minSync,
    nodePortAddresses: [...npa],
    healthzBindAddress: cfg.healthzBindAddress,
    metricsBindAddress: cfg.metricsBindAddress,
    hostnameOverride: cfg.hostnameOverride ?? '',
    bindAddress: cfg.bindAddress,
    serviceProxyName: cfg.serviceProxyName ?? '',
    masqueradeAll: (section === 'nftables' ? cfg.nftables.masqueradeAll : cfg.iptables.masqueradeAll) ?? false,
    masqueradeBit: section === 'nftables' ? cfg.nftables.masqueradeBit : cfg.iptables.masqueradeBit,
    configuration: durationsToStrings(cfg, v1alpha1),
  };
}

/** The rule inputs the kernel modes (iptables, nftables) take from the configuration and the node's addresses. */
export function kernelRuleContext(config: ProxyConfig, nodePortIPs: string[] | undefined, nodeIPs: string[]) {
  return { clusterCIDRs: config.clusterCIDRs, nodePortIPs, masqueradeAll: config.masqueradeAll, masqueradeBit: config.masqueradeBit, nodeIPs };
}
