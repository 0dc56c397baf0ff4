// Where `kubesvc up`'s components log: its terminal is for its progress lines
// and ready screen, so each component in its process writes to a file of the
// data dir instead, as a host's kube-apiserver, kube-controller-manager and
// kubelet each have their own log. The cluster's system pods (kube-proxy,
// coredns) are containers: their logs are theirs, read with
// `kubectl logs -n kube-system`.
//
// The components share one process, so a line's file is chosen by the name of
// the logger that wrote it: the API server's parts, the nodes' parts, and
// everything else (the controllers and scheduler, and the client library's
// informers and event recorders) in controllers.log.
import { join } from 'node:path';
import { fileSink, type LogSink } from '../util/log.js';

/** The files under <data dir>/logs, by what writes them. */
export const upLogFiles = {
  apiserver: 'apiserver.log',
  controllers: 'controllers.log',
  kubelet: 'kubelet.log',
} as const;

type LogFile = keyof typeof upLogFiles;

/** Logger names (util/log.ts `logger(name)`) of the API server and of the node agents; any other is the controllers'. */
const fileOfLogger: Record<string, LogFile> = {
  apiserver: 'apiserver',
  apiextensions: 'apiserver',
  storage: 'apiserver',
  'registry-follow': 'apiserver',
  kubelet: 'kubelet',
  agent: 'kubelet',
  'agent-server': 'kubelet',
  'node-network': 'kubelet',
};

export const upLogsDir = (dataDir: string) => join(dataDir, 'logs');

export interface UpLogs {
  dir: string;
  sinkFor(component: string): LogSink;
  close(): void;
}

/** Opens (appends to) the log files of a cluster in `dataDir`. */
export function openUpLogs(dataDir: string): UpLogs {
  const dir = upLogsDir(dataDir);
  const sinks = Object.fromEntries(Object.entries(upLogFiles).map(([k, file]) => [k, fileSink(join(dir, file))])) as Record<LogFile, ReturnType<typeof fileSink>>;
  return {
    dir,
    sinkFor: (component) => sinks[Object.hasOwn(fileOfLogger, component) ? fileOfLogger[component]! : 'controllers'],
    close() {
      for (const s of Object.values(sinks)) s.close();
    },
  };
}
