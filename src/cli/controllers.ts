// `kubesvc controllers`: the controllers as a separate process against any
// API server named by a kubeconfig (ours or a conformant kube-apiserver).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { controllerNames, startControllers, type ControllerName } from '../controllers/manager.js';
import { logger } from '../util/log.js';
import { untilSignal } from '../util/signals.js';
import { clientFor, dataDirTransport } from './client-flags.js';
import { controllerCredentials } from './controller-credentials.js';
import { componentUsers } from '../auth/user.js';
import { parseFlags, UsageError } from './args.js';
import { applyLogFlags, logFlags, logFlagsUsage } from './log-flags.js';

const log = logger('controllers');

export const controllersUsage = `Usage: kubesvc controllers (--kubeconfig FILE | --data-dir DIR) [--controllers a,b,...]
                           [--max-endpoints-per-slice 100] [--load-balancer-ip-range 172.18.255.1-172.18.255.250]
                           [--root-ca-file DIR/pki/ca.crt] [-v N] [--logging-format text|json]

Runs the controllers (${controllerNames.join(', ')}) against the API server.
root-ca-cert-publisher runs with --root-ca-file (the CA it publishes as kube-root-ca.crt).
Logs go to standard error. ${logFlagsUsage}`;

export function parseControllerList(text: string | undefined): ControllerName[] | undefined {
  if (!text) return undefined;
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!(controllerNames as readonly string[]).includes(n)) throw new UsageError(`unknown controller "${n}"; known: ${controllerNames.join(', ')}`);
  return names as ControllerName[];
}

export async function controllersCommand(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, {
    kubeconfig: { type: 'string' },
    'data-dir': { type: 'string' },
    controllers: { type: 'string' },
    'max-endpoints-per-slice': { type: 'string' },
    'load-balancer-ip-range': { type: 'string' },
    'root-ca-file': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    ...logFlags,
  });
  if (values.help) {
    console.log(controllersUsage);
    return;
  }
  applyLogFlags(values);
  const maxPerSlice = values['max-endpoints-per-slice'] ? Number(values['max-endpoints-per-slice']) : undefined;
  if (maxPerSlice !== undefined && !(Number.isInteger(maxPerSlice) && maxPerSlice >= 1 && maxPerSlice <= 1000)) {
    throw new UsageError('--max-endpoints-per-slice must be between 1 and 1000');
  }
  let rootCA: string | undefined;
  if (values['root-ca-file']) {
    try {
      rootCA = readFileSync(values['root-ca-file'], 'utf8');
    } catch (e) {
      throw new UsageError(`--root-ca-file: cannot read ${values['root-ca-file']}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (!rootCA.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--root-ca-file: ${values['root-ca-file']} holds no PEM certificate`);
  }
  // With the data dir (the control-plane machine), as `up` runs them: each controller with its own
  // ServiceAccount's credentials. With a kubeconfig, all of them as its user.
  const dataDir = values.kubeconfig ? undefined : values['data-dir'];
  const credentials = dataDir ? controllerCredentials((identity) => dataDirTransport(resolve(dataDir), identity)) : undefined;
  const client = credentials?.manager ?? clientFor(values, componentUsers.controllerManager, 'kube-controller-manager');
  const running = await startControllers(client, {
    clientFor: credentials?.clientFor,
    only: parseControllerList(values.controllers),
    options: {
      ...(maxPerSlice ? { maxEndpointsPerSlice: maxPerSlice } : {}),
      ...(values['load-balancer-ip-range'] ? { loadBalancerIPRange: values['load-balancer-ip-range'] } : {}),
      ...(rootCA ? { rootCA } : {}),
    },
  });
  log.info('ready', { controllers: running.controllers.map((c) => c.name).join(',') });
  await untilSignal();
  await running.stop();
  credentials?.close();
  client.close();
}
