// The pod's own /etc files, written once into <pod dir>/etc/ and mounted over
// /etc/hosts, /etc/resolv.conf and /etc/hostname in each of its containers:
// the kubelet-managed hosts file, the DNS config of its dnsPolicy, and its
// hostname (the node's for hostNetwork pods). What goes in them is ./dns.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod } from '../api/types.js';
import { formatResolvConf, hostNetworkHostsFile, managedHostsFile, podDNSConfig, podHostnameAndDomain, podKernelHostname, type ClusterDNS } from './dns.js';

export interface PodEtcFiles {
  hosts: string;
  resolvConf: string;
  hostname: string;
}

export interface PodFilesContext {
  dns: ClusterDNS;
  /** The node's /etc/hosts, for hostNetwork pods. */
  nodeHosts: string;
  nodeName: string;
}

/** The paths of the pod's /etc files under its directory. */
export function podEtcFiles(podDir: string): PodEtcFiles {
  const etc = join(podDir, 'etc');
  return { hosts: join(etc, 'hosts'), resolvConf: join(etc, 'resolv.conf'), hostname: join(etc, 'hostname') };
}

/** The containers' hostname (UTS namespace, HOSTNAME, /etc/hostname): the pod's, or the node's for hostNetwork pods. */
export function containerHostname(pod: Pod, ctx: PodFilesContext): string {
  return pod.spec?.hostNetwork === true ? ctx.nodeName : podKernelHostname(pod, ctx.dns.clusterDomain);
}

/** Writes the pod's /etc files; returns the DNS config's warnings (DNSConfigForming events). */
export function writePodFiles(podDir: string, pod: Pod, podIPs: string[], ctx: PodFilesContext): string[] {
  const files = podEtcFiles(podDir);
  mkdirSync(join(podDir, 'etc'), { recursive: true });
  const { config, warnings } = podDNSConfig(pod, ctx.dns);
  writeFileSync(files.resolvConf, formatResolvConf(config));
  if (pod.spec?.hostNetwork === true) {
    writeFileSync(files.hosts, hostNetworkHostsFile(ctx.nodeHosts, pod.spec?.hostAliases));
  } else {
    const { hostname, domain } = podHostnameAndDomain(pod, ctx.dns.clusterDomain);
    writeFileSync(files.hosts, managedHostsFile(podIPs, hostname, domain, pod.spec?.hostAliases));
  }
  writeFileSync(files.hostname, `${containerHostname(pod, ctx)}\n`);
  return warnings;
}
