// `kubesvc trace [--from pod/NAME|node/NAME] TARGET`: one real probe to a
// Service, with the kernel's path for its packet read back and explained
// (src/trace/).
import { resolve } from 'node:path';
import { clusterIdFor } from '../agent/cluster-id.js';
import { podNetnsName } from '../agent/network.js';
import { componentUsers } from '../auth/user.js';
import { renderTrace } from '../trace/render.js';
import { runTrace } from '../trace/run.js';
import { parseSource, TargetError } from '../trace/target.js';
import { parseFlags, UsageError } from './args.js';
import { clientFor } from './client-flags.js';
import { knownNodes, nodeIndex, nodeNetns } from './nodes.js';

export const traceUsage = `Usage: kubesvc trace [--data-dir .kubesvc] [--from pod/NAME|node/NAME] [-n NAMESPACE] [--udp] [-o json] TARGET

Sends one real probe (a TCP connection, or with --udp one datagram) from the
source's network namespace (default: node-1) and prints the kernel's path for
that packet: each kube-proxy chain and rule it met (nft monitor trace, or
xtables-monitor --trace in iptables mode) with the Service or endpoint each
stands for, the DNAT target, the conntrack entry and whether the reply came
back; a failure is explained (no endpoints, Local policy without a local
endpoint, a port the Service lacks, pods not ready, DNS name not found).

TARGET:
  NAME[.NAMESPACE][:PORT]   a Service name, resolved through the cluster DNS (10.96.0.10) from the source
  svc/NAME[:PORT]           a Service of the namespace, from the API (PORT: number or port name)
  IP:PORT                   a cluster IP, external or load-balancer IP, a node's or a pod's address
  NODEPORT | node/NAME:PORT a node port on the source's node, or on node NAME

Flags:
  --from pod/NAME|node/NAME  where the probe leaves from (a pod of -n's namespace)
  -n, --namespace NS         namespace of the source pod and of Service names (default "default")
  --udp                      probe a UDP port
  --timeout 1s               how long the probe waits for an answer
  -o json                    the trace as JSON (a stable shape for scripts)`;

export async function traceCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, {
    'data-dir': { type: 'string' },
    from: { type: 'string' },
    namespace: { type: 'string', short: 'n' },
    udp: { type: 'boolean' },
    timeout: { type: 'string' },
    output: { type: 'string', short: 'o' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(traceUsage);
    return;
  }
  if (positionals.length !== 1) throw new UsageError(`${positionals.length ? 'exactly one TARGET is expected' : 'a TARGET is required'}\n\n${traceUsage}`);
  if (values.output !== undefined && values.output !== 'json') throw new UsageError(`-o ${values.output}: only json is supported (the default is text)`);
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(values.timeout);
    if (!m) throw new UsageError(`--timeout "${values.timeout}": expected a duration like 500ms or 2s`);
    timeoutMs = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
  }
  if (process.getuid?.() !== 0) throw new UsageError('trace enters network namespaces and adds trace rules, which needs root');
  const dataDir = resolve(values['data-dir'] ?? '.kubesvc');
  const nodes = knownNodes(dataDir);
  if (!nodes.length) throw new UsageError(`no node of a cluster in ${dataDir}: start one with 'kubesvc up'`);
  let source;
  try {
    source = values.from ? parseSource(values.from) : { kind: 'node' as const, name: nodes[0] };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (source.kind === 'node') nodeIndex(source.name);
  const client = clientFor({ 'data-dir': dataDir }, componentUsers.admin, 'kubesvc-trace');
  const clusterId = clusterIdFor(dataDir);
  try {
    const report = await runTrace({
      client,
      source,
      namespace: values.namespace,
      target: positionals[0],
      protocol: values.udp ? 'UDP' : 'TCP',
      timeoutMs,
      nodeNetns: (name) => nodeNetns(dataDir, name),
      podNetns: (nodeName, uid) => podNetnsName(clusterId, nodeIndex(nodeName), uid),
    }).catch((e: unknown) => {
      if (e instanceof TargetError) throw new UsageError(e.message);
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ECONNREFUSED') throw new UsageError(`no cluster is running in ${dataDir} (start one with: kubesvc up --data-dir ${dataDir})`);
      throw e;
    });
    console.log(values.output === 'json' ? JSON.stringify(report, null, 2) : renderTrace(report));
    // As ping and curl do: a trace whose packet did not arrive exits non-zero.
    if (report.outcome.result !== 'delivered') process.exitCode = 1;
  } finally {
    client.close();
  }
}
