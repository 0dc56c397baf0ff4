// `kubesvc apiserver`: the API server alone, until SIGINT/SIGTERM.
import { resolve } from 'node:path';
import { defaultApiServerConfig, runApiServer, type ApiServer, type ApiServerConfig } from '../apiserver/apiserver.js';
import { untilSignal } from '../util/signals.js';
import { intFlag, parseFlags, UsageError } from './args.js';
import { loadAuditPolicy } from '../apiserver/audit/policy.js';
import { errorMessage } from '../util/errors.js';
import { applyLogFlags, logFlags, logFlagsUsage } from './log-flags.js';
import { etcdFlags, etcdFlagsUsage, etcdFromFlags } from './etcd-flags.js';

export const apiserverUsage = `Usage: kubesvc apiserver --data-dir DIR [--port 6443] [--bind 127.0.0.1]
                         [--service-cluster-ip-range 10.96.0.0/12] [--service-node-port-range 30000-32767] [--advertise-address IP]
                         [--audit-policy-file policy.yaml --audit-log-path audit.log] [--enable-admission-plugins ServiceAccount]
                         [-v N] [--logging-format text|json]
                         [--etcd-servers URL,... [--etcd-cafile F] [--etcd-certfile F --etcd-keyfile F] [--etcd-prefix /registry]]

Serves the Kubernetes API over HTTPS (loopback by default) and on DIR/apiserver.sock
(TLS too, mode 0600), with the cluster CA, serving certificate and service
account keys in DIR/pki (kubeadm's layout, made on the first start); every
request is authenticated (client certificates, ServiceAccount tokens, else
system:anonymous) and authorized (Node, RBAC). Stores objects in DIR/state.db
(SQLite; Secrets encrypted with DIR/pki/encryption-config.yaml) and writes the
admin's kubeconfig to DIR/kubeconfig. With --audit-policy-file (an
audit.k8s.io/v1 Policy) and --audit-log-path (a file, or - for standard
output), every request is recorded as an audit.k8s.io/v1 Event per line,
as kube-apiserver's log backend writes them. With --advertise-address, the
server holds a lease for that address in the store (/registry/masterleases/IP,
15s TTL, renewed every 10s) and the "kubernetes" Endpoints name every API
server holding one, on its --port (upstream's lease endpoint reconciler).
--enable-admission-plugins ServiceAccount: pods get their service account's
token, the cluster CA (kube-root-ca.crt, published by 'kubesvc controllers
--root-ca-file') and namespace mounted, as on any kube-apiserver ('up' turns it
on; off by default here, for servers whose pods cannot reach them).
Logs go to standard error.
${etcdFlagsUsage}
${logFlagsUsage}`;

export const apiserverFlags = {
  'data-dir': { type: 'string' },
  port: { type: 'string' },
  bind: { type: 'string' },
  'service-cluster-ip-range': { type: 'string' },
  'service-node-port-range': { type: 'string' },
  'advertise-address': { type: 'string' },
  'audit-policy-file': { type: 'string' },
  'audit-log-path': { type: 'string' },
  'enable-admission-plugins': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ...logFlags,
  ...etcdFlags,
} as const;

/** --audit-policy-file and --audit-log-path go together: a policy with nowhere to write, or a log with no policy, records nothing. */
function auditFlags(values: Record<string, string | boolean | undefined>): ApiServerConfig['audit'] {
  const policyFile = values['audit-policy-file'] as string | undefined;
  const logPath = values['audit-log-path'] as string | undefined;
  if (!policyFile && !logPath) return undefined;
  if (!policyFile) throw new UsageError('--audit-log-path needs --audit-policy-file: the policy says what to record');
  if (!logPath) throw new UsageError('--audit-policy-file needs --audit-log-path: where to write the events ("-" for standard output)');
  try {
    loadAuditPolicy(policyFile);
  } catch (e) {
    throw new UsageError(errorMessage(e));
  }
  return { policyFile: resolve(policyFile), logPath: logPath === '-' ? '-' : resolve(logPath) };
}

/** The admission plugins --enable-admission-plugins may name (the others kubesvc runs always). */
const optionalAdmissionPlugins = ['ServiceAccount'];

function admissionFlags(values: Record<string, string | boolean | undefined>): Partial<ApiServerConfig> {
  const list = ((values['enable-admission-plugins'] as string | undefined) ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  for (const p of list) {
    if (!optionalAdmissionPlugins.includes(p)) throw new UsageError(`--enable-admission-plugins: unknown or always-on plugin "${p}" (the one that can be turned on: ${optionalAdmissionPlugins.join(', ')})`);
  }
  return list.includes('ServiceAccount') ? { serviceAccountTokens: true } : {};
}

/** --advertise-address: an IPv4 address; the `kubernetes` Endpoints name it on the secure port (--port). */
function advertiseFlags(values: Record<string, string | boolean | undefined>): Partial<ApiServerConfig> {
  const ip = values['advertise-address'] as string | undefined;
  if (ip === undefined) return {};
  if (!/^(\d{1,3})(\.\d{1,3}){3}$/.test(ip) || ip.split('.').some((o) => Number(o) > 255) || ip === '0.0.0.0') {
    throw new UsageError(`--advertise-address ${ip}: must be an IPv4 address`);
  }
  const port = intFlag(values.port as string | undefined, 'port', defaultApiServerConfig.port);
  return { advertiseAddress: ip, ...(port ? { advertisePort: port } : {}) };
}

export async function startApiServerFromFlags(
  values: Record<string, string | boolean | undefined>,
  defaultDataDir?: string,
  extra: Partial<ApiServerConfig> = {},
): Promise<ApiServer> {
  const dataDir = (values['data-dir'] as string | undefined) ?? defaultDataDir;
  if (!dataDir) throw new Error('--data-dir is required');
  return runApiServer({
    dataDir: resolve(dataDir),
    port: intFlag(values.port as string | undefined, 'port', defaultApiServerConfig.port),
    bind: (values.bind as string | undefined) ?? defaultApiServerConfig.bind,
    serviceClusterIPRange: (values['service-cluster-ip-range'] as string | undefined) ?? defaultApiServerConfig.serviceClusterIPRange,
    serviceNodePortRange: (values['service-node-port-range'] as string | undefined) ?? defaultApiServerConfig.serviceNodePortRange,
    audit: auditFlags(values),
    etcd: etcdFromFlags(values),
    ...advertiseFlags(values),
    ...admissionFlags(values),
    ...extra,
  });
}

export async function apiserverCommand(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, apiserverFlags);
  if (values.help) {
    console.log(apiserverUsage);
    return;
  }
  applyLogFlags(values);
  const server = await startApiServerFromFlags(values);
  await untilSignal();
  await server.close();
}

