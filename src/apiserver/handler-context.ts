// What every request handler gets from the server: the registry, the served
// resources, the watch settings, the way to a node's agent, and the server's
// authentication and authorization.
import type { Registry } from '../registry/registry.js';
import type { ResourceDef } from '../registry/resource.js';
import type { WatchSettings } from './watch.js';
import type { RequestAuth } from './auth/filter.js';
import type { Extensions } from './extensions.js';

export interface HandlerContext {
  registry: Registry;
  defs: ResourceDef[];
  watch: WatchSettings;
  /** The unix socket of a node's agent (pods/log, pods/exec), when one is known. */
  agentSocket?: (nodeName: string) => string | undefined;
  /** How requests are authenticated and authorized (also what access reviews ask). */
  auth: RequestAuth;
  /** Facilities of the create-only review resources and token requests, when the server has them. */
  extensions?: Extensions;
}
