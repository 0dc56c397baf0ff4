// `kubesvc controllers`: the controllers as a separate process against any
// API server named by a kubeconfig (ours or a conformant kube-apiserver).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { controllerNames, enabledControllers, startControllers, type ControllerName } from '../controllers/manager.js';
import { logger } from '../util/log.js';
import { untilSignal } from '../util/signals.js';
import { clientFor, dataDirTransport } from './client-flags.js';
import { controllerCredentials } from './controller-credentials.js';
import { componentUsers } from '../auth/user.js';
import { parseFlags, UsageError } from './args.js';
import { applyLogFlags, logFlags, logFlagsUsage } from './log-flags.js';
import { leaderElectionDefaults, leaderElectionIdentity, startLeaderElection, validateLeaderElection } from '../controllers/leader-election.js';
import { createEventRecorder } from '../client/events.js';
import { parseGoDuration } from '../util/go-duration.js';
import { errorMessage } from '../util/errors.js';
import { clusterSigningFlags, clusterSigningOption, clusterSigningUsage } from './cluster-signing.js';

const log = logger('controllers');

export const controllersUsage = `Usage: kubesvc controllers (--kubeconfig FILE | --data-dir DIR) [--controllers a,b,...]
                           [--max-endpoints-per-slice 100] [--load-balancer-ip-range 172.18.255.1-172.18.255.250]
                           [--root-ca-file DIR/pki/ca.crt] [-v N] [--logging-format text|json]
                           [--leader-elect[=true|false]] [--leader-elect-lease-duration 15s]
                           [--leader-elect-renew-deadline 10s] [--leader-elect-retry-period 2s]
                           [--leader-elect-resource-name kube-controller-manager] [--leader-elect-resource-namespace kube-system]

Runs the controllers (${controllerNames.join(', ')}) against the API server.
root-ca-cert-publisher runs with --root-ca-file (the CA it publishes as kube-root-ca.crt).
With --leader-elect (the default, as kube-controller-manager's) the controllers
run only while this process holds the Lease kube-system/kube-controller-manager
(holder <hostname>_<uuid>): a standby takes it over once the leader has not
renewed it for the lease duration; a leader that cannot renew it within the
renew deadline stops and exits ("leaderelection lost"). On SIGINT/SIGTERM the
leader releases the Lease, so a standby takes over at its next retry.
${clusterSigningUsage}
Logs go to standard error. ${logFlagsUsage}`;

export function parseControllerList(text: string | undefined): ControllerName[] | undefined {
  if (!text) return undefined;
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!(controllerNames as readonly string[]).includes(n)) throw new UsageError(`unknown controller "${n}"; known: ${controllerNames.join(', ')}`);
  return names as ControllerName[];
}

/** --leader-elect takes Go's boolean forms (--leader-elect=false); node's parser only the bare flag. */
function leaderElectArg(argv: string[]): { argv: string[]; leaderElect: boolean } {
  let leaderElect = true;
  const rest = argv.filter((a) => {
    const m = /^--leader-elect(?:=(.*))?$/.exec(a);
    if (!m) return true;
    const v = (m[1] ?? 'true').toLowerCase();
    if (!['true', 'false', '1', '0', 't', 'f'].includes(v)) throw new UsageError(`invalid argument "${m[1]}" for "--leader-elect" flag: strconv.ParseBool: parsing "${m[1]}": invalid syntax`);
    leaderElect = ['true', '1', 't'].includes(v);
    return false;
  });
  return { argv: rest, leaderElect };
}

function durationFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  try {
    return parseGoDuration(value);
  } catch (e) {
    throw new UsageError(`--${name}: ${errorMessage(e)}`);
  }
}

export async function controllersCommand(args: string[]): Promise<void> {
  const { argv, leaderElect } = leaderElectArg(args);
  const { values } = parseFlags(argv, {
    kubeconfig: { type: 'string' },
    'data-dir': { type: 'string' },
    controllers: { type: 'string' },
    'max-endpoints-per-slice': { type: 'string' },
    'load-balancer-ip-range': { type: 'string' },
    'root-ca-file': { type: 'string' },
    'leader-elect': { type: 'boolean' },
    'leader-elect-lease-duration': { type: 'string' },
    'leader-elect-renew-deadline': { type: 'string' },
    'leader-elect-retry-period': { type: 'string' },
    'leader-elect-resource-name': { type: 'string' },
    'leader-elect-resource-namespace': { type: 'string' },
    'leader-elect-resource-lock': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    ...clusterSigningFlags,
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
  const only = parseControllerList(values.controllers);
  const options = {
    ...(maxPerSlice ? { maxEndpointsPerSlice: maxPerSlice } : {}),
    ...(values['load-balancer-ip-range'] ? { loadBalancerIPRange: values['load-balancer-ip-range'] } : {}),
    ...(rootCA ? { rootCA } : {}),
    ...clusterSigningOption(values, dataDir),
  };
  const start = (names: ControllerName[] | undefined) => startControllers(client, { clientFor: credentials?.clientFor, only: names, options });
  const close = () => {
    credentials?.close();
    client.close();
  };
  if (!leaderElect) {
    const running = await start(only);
    log.info('ready', { controllers: running.controllers.map((c) => c.name).join(','), leader: 'none' });
    await untilSignal();
    await running.stop();
    close();
    return;
  }

  const timing = {
    leaseDurationMs: durationFlag(values['leader-elect-lease-duration'], 'leader-elect-lease-duration', leaderElectionDefaults.leaseDurationMs),
    renewDeadlineMs: durationFlag(values['leader-elect-renew-deadline'], 'leader-elect-renew-deadline', leaderElectionDefaults.renewDeadlineMs),
    retryPeriodMs: durationFlag(values['leader-elect-retry-period'], 'leader-elect-retry-period', leaderElectionDefaults.retryPeriodMs),
  };
  const invalidTiming = validateLeaderElection(timing);
  if (invalidTiming) throw new UsageError(invalidTiming);
  const lock = values['leader-elect-resource-lock'] ?? 'leases';
  if (lock !== 'leases') throw new UsageError(`--leader-elect-resource-lock ${lock}: only "leases" is supported (upstream's only lock since v1.24)`);
  const identity = leaderElectionIdentity();
  const namespace = values['leader-elect-resource-namespace'] ?? 'kube-system';
  // The scheduler is kube-scheduler upstream, a program of its own electing on its own Lease (kube-system/kube-scheduler):
  // the controllers and the scheduler may lead from different processes.
  const wanted = only ?? enabledControllers(options);
  const groups = [
    { component: 'kube-controller-manager', lease: values['leader-elect-resource-name'] ?? 'kube-controller-manager', names: wanted.filter((n) => n !== 'scheduler') },
    { component: 'kube-scheduler', lease: 'kube-scheduler', names: wanted.filter((n) => n === 'scheduler') },
  ].filter((g) => g.names.length);
  // Each elects as its own user (the scheduler as system:kube-scheduler: RBAC gives each only its own Lease).
  const electionClients = await Promise.all(groups.map((g) => (credentials && g.component === 'kube-scheduler' ? credentials.clientFor('scheduler') : client)));
  const electors = groups.map((g, i) => {
    const electionClient = electionClients[i]!;
    let running: Awaited<ReturnType<typeof startControllers>> | undefined;
    let starting: Promise<unknown> = Promise.resolve();
    const events = createEventRecorder(electionClient, g.component, identity);
    const elector = startLeaderElection(electionClient, {
      namespace,
      name: g.lease,
      identity,
      ...timing,
      events,
      callback: {
        onStartedLeading: () => {
          starting = start(g.names).then((r) => {
            running = r;
            log.info('ready', { controllers: r.controllers.map((c) => c.name).join(','), leader: identity, lease: `${namespace}/${g.lease}` });
          });
        },
        onStoppedLeading: async () => {
          await starting.catch(() => undefined);
          await running?.stop();
          running = undefined;
        },
        onNewLeader: (leader) => log.info('new leader elected', { identity: leader, lease: `${namespace}/${g.lease}` }),
      },
    });
    return {
      done: elector.done,
      async stop() {
        await starting.catch(() => undefined);
        await running?.stop();
        await elector.stop();
        await events.flush().catch(() => undefined);
      },
    };
  });
  const outcome = await Promise.race([untilSignal().then(() => 'signal' as const), ...electors.map((e) => e.done.then(() => 'lost' as const))]);
  if (outcome === 'lost') {
    // kube-controller-manager's and kube-scheduler's OnStoppedLeading: the process exits.
    log.error('leaderelection lost');
    await Promise.all(electors.map((e) => e.stop().catch(() => undefined)));
    close();
    process.exitCode = 1;
    return;
  }
  await Promise.all(electors.map((e) => e.stop()));
  close();
}
