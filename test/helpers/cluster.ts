// An API server plus the controllers, talking over real HTTP, for
// integration tests. Nodes and pod statuses are set by the test itself.
import { startControllers, type ControllerName, type RunningControllers } from '../../src/controllers/manager.js';
import type { ControllerOptions } from '../../src/controllers/controller.js';
import { createClient, resourceTypes, type Client } from '../../src/client/client.js';
import { createTransport } from '../../src/client/transport.js';
import { startTestApiServer, type TestApiServer } from './apiserver.js';

export interface TestCluster extends TestApiServer {
  client: Client;
  controllers: RunningControllers;
  /** Restarts the controllers (fresh caches), as after a crash. */
  restartControllers(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestCluster(opts: { only?: ControllerName[]; options?: Partial<ControllerOptions> } = {}): Promise<TestCluster> {
  const api = await startTestApiServer();
  const client = createClient(createTransport(api.admin), 'kubesvc-test');
  let controllers = await startControllers(client, opts);
  const cluster: TestCluster = {
    ...api,
    client,
    get controllers() {
      return controllers;
    },
    async restartControllers() {
      await controllers.stop();
      controllers = await startControllers(client, opts);
    },
    async stop() {
      await controllers.stop();
      client.close();
      await api.stop();
    },
  };
  return cluster;
}

/** A Ready node, as an agent would register it. */
export async function addNode(client: Client, name: string, labels: Record<string, string> = {}) {
  const nodes = client.resource(resourceTypes.nodes);
  const node = await nodes.create(undefined, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    spec: {},
  });
  node.status = {
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
    addresses: [{ type: 'InternalIP', address: '172.18.0.' + (2 + Math.floor(Math.random() * 200)) }],
  };
  return nodes.updateStatus(node);
}
