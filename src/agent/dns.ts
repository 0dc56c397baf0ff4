// A pod's /etc/resolv.conf, /etc/hosts and hostname as the kubelet makes them
// (pkg/kubelet/network/dns/dns.go, kubelet_pods.go managedHostsFileContent,
// GeneratePodHostNameAndDomain) and containerd writes them. Pure.
import type { Pod } from '../api/types.js';

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: string[];
}

export interface ClusterDNS {
  /** The cluster DNS service IPs (kubelet --cluster-dns). */
  clusterDNS: string[];
  /** kubelet --cluster-domain. */
  clusterDomain: string;
  /** The node's resolver configuration (kubelet --resolv-conf), parsed. */
  host: ResolvConf;
}

// validation.MaxDNSNameservers, MaxDNSSearchPaths, MaxDNSSearchListChars (expanded DNS config).
const maxNameservers = 3;
const maxSearchPaths = 32;
const maxSearchListChars = 2048;
const maxDomainLength = 253;

function omitDuplicates(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** parseResolvConf: nameservers, the last search line (trailing dots dropped, "." ignored), options. */
export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const fields = line.split(/\s+/).filter(Boolean);
    if (fields.length === 0) continue;
    if (fields[0] === 'nameserver' && fields.length >= 2) conf.nameservers.push(fields[1]);
    if (fields[0] === 'search') conf.searches = fields.slice(1).filter((s) => s !== '.').map((s) => s.replace(/\.$/, ''));
    if (fields[0] === 'options') conf.options = omitDuplicates([...conf.options, ...fields.slice(1)]);
  }
  return conf;
}

type PodDNSType = 'cluster' | 'host' | 'none';

function podDNSType(pod: Pod): PodDNSType {
  switch (pod.spec?.dnsPolicy ?? 'ClusterFirst') {
    case 'None':
      return 'none';
    case 'ClusterFirstWithHostNet':
      return 'cluster';
    case 'ClusterFirst':
      return pod.spec?.hostNetwork ? 'host' : 'cluster';
    case 'Default':
      return 'host';
    default:
      return 'cluster';
  }
}

function mergeOptions(existing: string[], extra: { name?: string; value?: string }[]): string[] {
  const m = new Map<string, string>();
  for (const op of existing) {
    const i = op.indexOf(':');
    if (i >= 0) m.set(op.slice(0, i), op.slice(i + 1));
    else m.set(op, '');
  }
  for (const op of extra) m.set(op.name ?? '', op.value ?? '');
  return [...m].map(([k, v]) => (v ? `${k}:${v}` : k));
}

/** formDNSSearchFitsLimits: at most 32 paths, none over 253 characters, at most 2048 characters in all. */
function fitSearches(searches: string[]): { searches: string[]; exceeded: boolean } {
  let exceeded = false;
  let s = searches;
  if (s.length > maxSearchPaths) {
    s = s.slice(0, maxSearchPaths);
    exceeded = true;
  }
  const kept = s.filter((x) => x.length <= maxDomainLength);
  if (kept.length !== s.length) exceeded = true;
  s = kept;
  const lineLen = s.join(' ').length;
  if (lineLen > maxSearchListChars) {
    let cut = 0;
    let cutLen = 0;
    for (let i = s.length - 1; i >= 0; i--) {
      cutLen += s[i].length + 1;
      cut++;
      if (lineLen - cutLen <= maxSearchListChars) break;
    }
    s = s.slice(0, s.length - cut);
    exceeded = true;
  }
  return { searches: s, exceeded };
}

/**
 * GetPodDNS: the pod's resolver configuration for its dnsPolicy, with
 * dnsConfig merged and the limits applied. `warnings` are the
 * DNSConfigForming events the kubelet records.
 */
export function podDNSConfig(pod: Pod, cluster: ClusterDNS): { config: ResolvConf; warnings: string[] } {
  let config: ResolvConf = { nameservers: [...cluster.host.nameservers], searches: [...cluster.host.searches], options: [...cluster.host.options] };
  const type = podDNSType(pod);
  if (type === 'none') {
    config = { nameservers: [], searches: [], options: [] };
  } else if (type === 'cluster' && cluster.clusterDNS.length > 0) {
    const ns = pod.metadata?.namespace ?? 'default';
    const d = cluster.clusterDomain;
    config.nameservers = [...cluster.clusterDNS];
    config.searches = d ? omitDuplicates([`${ns}.svc.${d}`, `svc.${d}`, d, ...config.searches]) : config.searches;
    config.options = ['ndots:5'];
  }
  const dc = pod.spec?.dnsConfig;
  if (dc) {
    config.nameservers = omitDuplicates([...config.nameservers, ...(dc.nameservers ?? [])]);
    config.searches = omitDuplicates([...config.searches, ...(dc.searches ?? [])]);
    config.options = mergeOptions(config.options, dc.options ?? []);
  }
  const warnings: string[] = [];
  if (config.nameservers.length > maxNameservers) {
    config.nameservers = config.nameservers.slice(0, maxNameservers);
    warnings.push(`Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${config.nameservers.join(' ')}`);
  }
  const fit = fitSearches(config.searches);
  config.searches = fit.searches;
  if (fit.exceeded) warnings.push(`Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${fit.searches.join(' ')}`);
  return { config, warnings };
}

/** resolv.conf as containerd writes it from the CRI DNS config. */
export function formatResolvConf(c: ResolvConf): string {
  let out = '';
  if (c.searches.length) out += `search ${c.searches.join(' ')}\n`;
  if (c.nameservers.length) out += `nameserver ${c.nameservers.join('\nnameserver ')}\n`;
  if (c.options.length) out += `options ${c.options.join(' ')}\n`;
  return out;
}

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * GeneratePodHostNameAndDomain: spec.hostname (a DNS label) or the pod name,
 * truncated to 63 characters; the domain <subdomain>.<ns>.svc.<zone> when
 * spec.subdomain is set.
 */
export function podHostnameAndDomain(pod: Pod, clusterDomain: string): { hostname: string; domain: string } {
  let hostname = pod.metadata?.name ?? '';
  const specHostname = pod.spec?.hostname;
  if (specHostname) {
    if (specHostname.length > 63 || !dns1123Label.test(specHostname)) {
      throw new Error(`pod Hostname "${specHostname}" is not a valid DNS label`);
    }
    hostname = specHostname;
  }
  if (hostname.length > 63) hostname = hostname.slice(0, 63).replace(/[-.]+$/, '');
  const sub = pod.spec?.subdomain;
  return { hostname, domain: sub ? `${sub}.${pod.metadata?.namespace ?? 'default'}.svc.${clusterDomain}` : '' };
}

/** The kernel hostname a pod's containers see (setHostnameAsFQDN makes it the FQDN). */
export function podKernelHostname(pod: Pod, clusterDomain: string): string {
  const { hostname, domain } = podHostnameAndDomain(pod, clusterDomain);
  if (pod.spec?.setHostnameAsFQDN && domain) {
    const fqdn = `${hostname}.${domain}`;
    if (fqdn.length > 64) throw new Error(`failed to construct FQDN from pod hostname and cluster domain, FQDN ${fqdn} is too long (64 characters is the max, ${fqdn.length} characters requested)`);
    return fqdn;
  }
  return hostname;
}

type HostAlias = NonNullable<NonNullable<Pod['spec']>['hostAliases']>[number];

function hostAliasEntries(aliases: HostAlias[] | undefined): string {
  if (!aliases?.length) return '';
  let out = '\n# Entries added by HostAliases.\n';
  for (const a of aliases) out += `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`;
  return out;
}

/** managedHostsFileContent: the /etc/hosts of a pod with its own network namespace. */
export function managedHostsFile(podIPs: string[], hostname: string, domain: string, aliases?: HostAlias[]): string {
  let out = '# Kubernetes-managed hosts file.\n';
  out += '127.0.0.1\tlocalhost\n';
  out += '::1\tlocalhost ip6-localhost ip6-loopback\n';
  out += 'fe00::0\tip6-localnet\n';
  out += 'fe00::0\tip6-mcastprefix\n';
  out += 'fe00::1\tip6-allnodes\n';
  out += 'fe00::2\tip6-allrouters\n';
  for (const ip of podIPs) out += domain ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  return out + hostAliasEntries(aliases);
}

/** nodeHostsFileContent: a hostNetwork pod's /etc/hosts, the node's own with the aliases appended. */
export function hostNetworkHostsFile(nodeHosts: string, aliases?: HostAlias[]): string {
  return '# Kubernetes-managed hosts file (host network).\n' + nodeHosts + hostAliasEntries(aliases);
}
