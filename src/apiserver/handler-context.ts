// What every request handler gets from the server: the registry, the served
// resources, the watch settings and the way to a node's agent.
import type { Registry } from '../registry/registry.js';
import type { ResourceDef } from '../registry/resource.js';
import type { WatchSettings } from './watch.js';

export interface HandlerContext {
  registry: Registry;
  defs: ResourceDef[];
  watch: WatchSettings;
  /** The unix socket of a node's agent (pods/log, pods/exec), when one is known. */
  agentSocket?: (nodeName: string) => string | undefined;
}
