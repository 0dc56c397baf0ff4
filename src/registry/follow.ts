// Keeping an in-process view of one resource current, as an informer does
// but straight off the registry: list, then watch from the list's revision.
// The store publishes watch events as part of every write, so the view has a
// write's effect by the time the write returns. A list or watch that fails,
// or an event the view cannot apply, starts over with a list after a pause.
import type { KubeObject } from '../api/object.js';
import type { Watch } from '../storage/store.js';
import { errorMessage } from '../util/errors.js';
import { logger } from '../util/log.js';
import type { ObjectEvent, Registry } from './registry.js';
import type { ResourceDef } from './resource.js';

const log = logger('registry-follow');

export interface FollowHandlers {
  /** Every object, after a (re)list: the view starts over from these. */
  replace(items: KubeObject[]): void;
  apply(event: ObjectEvent): void;
}

export interface Follower {
  /** Resolves once the resource has been listed and is being watched (or the follower stopped). */
  ready: Promise<void>;
  stop(): void;
}

export function followResource(registry: Registry, def: ResourceDef, handlers: FollowHandlers, opts: { retryMs?: number } = {}): Follower {
  const retryMs = opts.retryMs ?? 1000;
  let watch: Watch | undefined;
  let stopped = false;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;

  const pause = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, retryMs);
    });

  async function follow(): Promise<void> {
    while (!stopped) {
      try {
        const { items, resourceVersion } = await registry.list(def, undefined);
        if (stopped) return;
        handlers.replace(items);
        const started = await registry.watch(def, undefined, resourceVersion, {}, (event) => {
          try {
            handlers.apply(event);
          } catch (e) {
            restart(e);
          }
        });
        if (stopped) started.watch.stop();
        else watch = started.watch;
        return;
      } catch (e) {
        log.warn('listing failed; retrying', { resource: def.resource, error: errorMessage(e) });
        await pause();
      }
    }
  }

  function restart(why: unknown): void {
    log.warn('event not applied; listing again', { resource: def.resource, error: errorMessage(why) });
    watch?.stop();
    watch = undefined;
    void pause().then(follow);
  }

  return {
    ready: follow(),
    stop() {
      stopped = true;
      watch?.stop();
      clearTimeout(timer);
      wake?.();
    },
  };
}
