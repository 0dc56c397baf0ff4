// `kubesvc addons`: the cluster's own components as API objects — the
// kube-proxy DaemonSet with its ConfigMap and the cluster DNS (coredns behind
// kube-dns 10.96.0.10) — on a control plane that `up` did not start (several
// `kubesvc apiserver`s on etcd), as `kubeadm init phase addon all` installs
// them. `up` makes the same objects itself.
import { CLUSTER_POD_CIDR, CONTROL_PLANE_IP } from '../agent/network.js';
import { defaultAdvertisePort } from '../apiserver/apiserver.js';
import { componentUsers } from '../auth/user.js';
import { parseFlags } from './args.js';
import { clientFor } from './client-flags.js';
import { parseLogFlags, logFlags } from './log-flags.js';
import { chooseNodeProxy } from './proxy-config.js';
import { clusterDNSIP, ensureClusterDns, ensureKubeProxy } from './system-components.js';

export const addonsUsage = `Usage: kubesvc addons (--kubeconfig FILE | --data-dir DIR) [--proxy-mode M] [--proxy-config kube-proxy.yaml] [--no-dns] [-v N]

Creates (or keeps) the cluster's own components as 'kubeadm init phase addon all'
does: DaemonSet kube-system/kube-proxy with its ConfigMap (the mode from
--proxy-mode or the KubeProxyConfiguration file; kube-proxy reaches the API at
${CONTROL_PLANE_IP}:${defaultAdvertisePort}, the in-cluster address every machine serves) and, unless
--no-dns, the Deployment kube-system/coredns behind the Service kube-dns ${clusterDNSIP}.
For a control plane started without 'kubesvc up'; 'up' makes them itself.`;

export async function addonsCommand(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, {
    kubeconfig: { type: 'string' },
    'data-dir': { type: 'string' },
    'proxy-mode': { type: 'string' },
    'proxy-config': { type: 'string' },
    'no-dns': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    ...logFlags,
  });
  if (values.help) {
    console.log(addonsUsage);
    return;
  }
  const logging = parseLogFlags(values);
  const proxy = chooseNodeProxy(values['proxy-mode'], values['proxy-config'], CLUSTER_POD_CIDR);
  const client = clientFor(values, componentUsers.admin, 'kubesvc');
  try {
    await Promise.all([
      ensureKubeProxy(client, proxy.configText, proxy.explicit, `https://${CONTROL_PLANE_IP}:${defaultAdvertisePort}`, logging),
      values['no-dns'] ? undefined : ensureClusterDns(client, logging),
    ]);
  } finally {
    client.close();
  }
  console.log(`[addons] Applied essential addon: kube-proxy (${proxy.running} mode)`);
  if (!values['no-dns']) console.log(`[addons] Applied essential addon: CoreDNS (kube-system/kube-dns ${clusterDNSIP})`);
}
