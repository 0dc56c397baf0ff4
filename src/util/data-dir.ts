// Where the parts of a cluster find each other in its data dir: the API
// server's unix socket (for agents and system pods inside network
// namespaces) and each node agent's socket (pods/log and pods/exec).
import { join } from 'node:path';

export function apiServerSocketPath(dataDir: string): string {
  return join(dataDir, 'apiserver.sock');
}

/**
 * The agent serves kubelet's streaming endpoints on a unix socket, which the
 * API server proxies pods/log and pods/exec to:
 *   GET /containerLogs/{namespace}/{pod}/{container}?follow=&previous=&tailLines=&timestamps=&sinceSeconds=&limitBytes=
 *   GET /exec/{namespace}/{pod}/{container}?command=..&command=..&stdin=&stdout=&stderr=&tty=   (websocket,
 *       subprotocols v5.channel.k8s.io, v4.channel.k8s.io)
 */
export function agentSocketPath(dataDir: string, nodeName: string): string {
  return join(dataDir, 'nodes', nodeName, 'agent.sock');
}
