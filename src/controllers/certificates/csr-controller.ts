// The shape the certificate controllers share: every CertificateSigningRequest
// added or changed is queued by name, and the handler gets the informer's
// current object (a CSR gone meanwhile is skipped).
import type { Informer } from '../../client/informer.js';
import type { Logger } from '../../util/log.js';
import { queueFor, type Controller, type ControllerContext } from '../controller.js';
import { csrType, type CSR } from './types.js';

export function csrController(name: string, ctx: ControllerContext, handle: (csr: CSR, log: Logger) => Promise<void>): Controller {
  let csrs: Informer<CSR>;
  const { queue, log } = queueFor(name, async (key) => {
    const csr = csrs.get(key);
    if (csr) await handle(csr, log);
  });
  return {
    name,
    setup() {
      csrs = ctx.factory.informer<CSR>(csrType);
      csrs.on({ add: (o) => queue.add(o.metadata.name), update: (_o, o) => queue.add(o.metadata.name) });
    },
    run() {
      for (const o of csrs.list()) queue.add(o.metadata.name);
    },
    stop: () => queue.shutdown(),
    idle: () => queue.idle(),
  };
}
