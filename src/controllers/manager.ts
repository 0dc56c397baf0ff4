// Starts the controllers over one shared informer factory (what
// kube-controller-manager and the scheduler do, in one process).
import type { Client } from '../client/client.js';
import { createInformerFactory, type InformerFactory } from '../client/informer-factory.js';
import { defaultControllerOptions, type Controller, type ControllerContext, type ControllerOptions } from './controller.js';
import { createDaemonSetController } from './daemonset.js';
import { createDeploymentController } from './deployment.js';
import { createEndpointsController } from './endpoints.js';
import { createEndpointSliceController } from './endpointslice/controller.js';
import { createEndpointSliceMirroringController } from './endpointslice-mirroring.js';
import { createEventRecorder } from '../client/events.js';
import { createGarbageCollector } from './garbage-collector.js';
import { createLoadBalancerController } from './loadbalancer.js';
import { createNodeLifecycleController } from './node-lifecycle.js';
import { createReplicaSetController } from './replicaset.js';
import { createRootCAPublisher } from './root-ca-publisher.js';
import { createScheduler } from './scheduler.js';
import { createServiceAccountsController } from './serviceaccounts.js';
import { createStatefulSetController } from './statefulset/controller.js';
import { createJobController } from './job/controller.js';
import { createTTLAfterFinishedController } from './job/ttl-after-finished.js';
import { createCronJobController } from './cronjob/controller.js';
import { createClusterRoleAggregationController } from './clusterrole-aggregation.js';
import { createDisruptionController } from './disruption/controller.js';
import { createCSRApprovingController } from './certificates/approver.js';
import { createCSRSigningController } from './certificates/signer.js';
import { createBootstrapSignerController } from './bootstrap/signer.js';
import { createTokenCleanerController } from './bootstrap/tokencleaner.js';

export const controllerNames = [
  'serviceaccount',
  'endpoints',
  'endpointslice',
  'endpointslice-mirroring',
  'deployment',
  'replicaset',
  'daemonset',
  'statefulset',
  'job',
  'ttl-after-finished',
  'cronjob',
  'garbage-collector',
  'scheduler',
  'node-lifecycle',
  'loadbalancer',
  'root-ca-cert-publisher',
  'clusterrole-aggregation',
  'disruption',
  'csrapproving',
  'csrsigning',
  'bootstrapsigner',
  'tokencleaner',
] as const;

export type ControllerName = (typeof controllerNames)[number];

/** The component each controller's Events name as their source, as upstream's. */
const eventSources: Record<ControllerName, string> = {
  serviceaccount: 'serviceaccount-controller',
  endpoints: 'endpoint-controller',
  endpointslice: 'endpoint-slice-controller',
  'endpointslice-mirroring': 'endpoint-slice-mirroring-controller',
  deployment: 'deployment-controller',
  replicaset: 'replicaset-controller',
  daemonset: 'daemonset-controller',
  statefulset: 'statefulset-controller',
  job: 'job-controller',
  'ttl-after-finished': 'ttl-after-finished-controller',
  cronjob: 'cronjob-controller',
  'garbage-collector': 'garbage-collector-controller',
  scheduler: 'default-scheduler',
  'node-lifecycle': 'node-controller',
  loadbalancer: 'service-controller',
  'root-ca-cert-publisher': 'root-ca-cert-publisher',
  'clusterrole-aggregation': 'clusterrole-aggregation-controller',
  // Upstream's disruption controller records as the manager itself.
  disruption: 'controllermanager',
  csrapproving: 'csrapproving',
  csrsigning: 'csrsigning',
  bootstrapsigner: 'bootstrapsigner',
  tokencleaner: 'tokencleaner',
};

const constructors: Record<ControllerName, (ctx: ControllerContext) => Controller> = {
  serviceaccount: createServiceAccountsController,
  endpoints: createEndpointsController,
  endpointslice: createEndpointSliceController,
  'endpointslice-mirroring': createEndpointSliceMirroringController,
  deployment: createDeploymentController,
  replicaset: createReplicaSetController,
  daemonset: createDaemonSetController,
  statefulset: createStatefulSetController,
  job: (ctx) => createJobController(ctx),
  'ttl-after-finished': (ctx) => createTTLAfterFinishedController(ctx),
  cronjob: (ctx) => createCronJobController(ctx),
  'garbage-collector': createGarbageCollector,
  scheduler: createScheduler,
  'node-lifecycle': createNodeLifecycleController,
  loadbalancer: createLoadBalancerController,
  'root-ca-cert-publisher': createRootCAPublisher,
  'clusterrole-aggregation': createClusterRoleAggregationController,
  disruption: createDisruptionController,
  csrapproving: createCSRApprovingController,
  csrsigning: createCSRSigningController,
  bootstrapsigner: createBootstrapSignerController,
  tokencleaner: createTokenCleanerController,
};

/** The controllers that run with these options: the publisher needs a root CA (--root-ca-file), as upstream's. */
export function enabledControllers(options: Partial<ControllerOptions>): ControllerName[] {
  // csrsigning needs the signing CA (--cluster-signing-cert-file), as upstream's starts only with one.
  return controllerNames.filter((n) => (n !== 'root-ca-cert-publisher' || !!options.rootCA) && (n !== 'csrsigning' || !!options.clusterSigning));
}

export interface RunningControllers {
  factory: InformerFactory;
  controllers: Controller[];
  /** Resolves when every controller's queue is drained (tests and benchmarks). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** The identity each controller writes as: its service account in kube-system (upstream's names), or the scheduler's user. */
export const controllerAccounts: Record<ControllerName, string> = {
  serviceaccount: 'service-account-controller',
  endpoints: 'endpoint-controller',
  endpointslice: 'endpointslice-controller',
  'endpointslice-mirroring': 'endpointslicemirroring-controller',
  deployment: 'deployment-controller',
  replicaset: 'replicaset-controller',
  daemonset: 'daemon-set-controller',
  statefulset: 'statefulset-controller',
  job: 'job-controller',
  'ttl-after-finished': 'ttl-after-finished-controller',
  cronjob: 'cronjob-controller',
  'garbage-collector': 'generic-garbage-collector',
  scheduler: 'system:kube-scheduler',
  'node-lifecycle': 'node-controller',
  loadbalancer: 'service-controller',
  'root-ca-cert-publisher': 'root-ca-cert-publisher',
  'clusterrole-aggregation': 'clusterrole-aggregation-controller',
  disruption: 'disruption-controller',
  csrapproving: 'certificate-controller',
  csrsigning: 'certificate-controller',
  bootstrapsigner: 'bootstrap-signer',
  tokencleaner: 'token-cleaner',
};

export interface StartControllersOptions {
  options?: Partial<ControllerOptions>;
  only?: ControllerName[];
  /** Each controller's own client (its credentials); the shared informers' client when absent. */
  clientFor?: (name: ControllerName) => Promise<Client> | Client;
}

export async function startControllers(client: Client, opts: StartControllersOptions = {}): Promise<RunningControllers> {
  // Periodic resync re-reconciles everything: level-triggered controllers converge even after a missed event.
  const factory = createInformerFactory(client, { resyncMs: 5 * 60_000 });
  const options = { ...defaultControllerOptions, ...opts.options };
  const names = opts.only ?? enabledControllers(options);
  const clients = await Promise.all(names.map((n) => opts.clientFor?.(n) ?? client));
  const recorders = names.map((n, i) => createEventRecorder(clients[i]!, eventSources[n]));
  const controllers = names.map((n, i) => constructors[n]({ factory, client: clients[i]!, events: recorders[i]!, options }));
  const flushEvents = () => Promise.all(recorders.map((r) => r.flush()));
  for (const c of controllers) c.setup();
  await factory.start();
  // Accounts first: the pods the workload controllers make at start need their namespace's "default"
  // (upstream lets those creates fail and retry; one process can simply order them).
  const first = controllers.filter((c) => c.name === 'serviceaccount');
  for (const c of first) c.run();
  await Promise.all(first.map((c) => c.idle()));
  for (const c of controllers) if (!first.includes(c)) c.run();
  return {
    factory,
    controllers,
    async idle() {
      // Controllers feed each other (a Deployment makes ReplicaSets make Pods): settle until quiet.
      for (let round = 0; round < 3; round++) {
        await Promise.all(controllers.map((c) => c.idle()));
        await flushEvents();
      }
    },
    async stop() {
      for (const c of controllers) c.stop();
      factory.stop();
      await flushEvents();
    },
  };
}
