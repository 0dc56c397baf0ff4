// `kubesvc up`: the whole local cluster in one command. Today that is the API
// server on the embedded store and the controllers; nodes, proxy and DNS join
// as they land.
import { performance } from 'node:perf_hooks';
import { createClient } from '../client/client.js';
import { createTransport } from '../client/transport.js';
import { controllerNames, startControllers } from '../controllers/manager.js';
import { apiserverFlags, startApiServerFromFlags, untilSignal } from './apiserver.js';
import { parseFlags } from './args.js';

export const upUsage = `Usage: kubesvc up [--data-dir .kubesvc] [--port 6443] [--bind 127.0.0.1]

Starts a local cluster whose API the real kubectl drives. Objects persist in
the data dir (SQLite); a second 'up' with the same data dir brings them back.`;

export async function upCommand(argv: string[]): Promise<void> {
  const started = performance.now();
  const { values } = parseFlags(argv, apiserverFlags);
  if (values.help) {
    console.log(upUsage);
    return;
  }
  const server = await startApiServerFromFlags(values, '.kubesvc');
  // In one process the controllers still go through the API, as separate components would.
  const client = createClient(createTransport({ server: 'http://localhost', socketPath: server.socketPath }), 'kubesvc-controllers');
  const controllers = await startControllers(client);
  const ms = Math.round(performance.now() - started);
  console.log(`kubesvc is up (${ms} ms)

  API server   ${server.url}   (storage: SQLite in ${server.kubeconfigPath.replace(/\/kubeconfig$/, '')})
  controllers  ${controllerNames.join(', ')}

  export KUBECONFIG=${server.kubeconfigPath}
  kubectl get namespaces
  kubectl create deployment web --image=nginx --replicas=3
  kubectl expose deployment web --port=80 --type=NodePort && kubectl get svc web

Not running yet: nodes (pods stay Pending), service proxy, cluster DNS.
Ctrl-C stops the cluster; 'kubesvc up' again brings every object back.`);
  await untilSignal();
  console.log('kubesvc: stopping');
  await controllers.stop();
  client.close();
  await server.close();
}
