// Bench only: the API server as `kubesvc apiserver --port 0` runs it, with
// the authorization mode chosen — 'AlwaysAllow' exists only so
// bench/apiserver-auth can measure what authentication and authorization
// cost, and no kubesvc command line reaches it (on purpose). Every server of
// that comparison runs through this one entry, so they differ only in it.
// Run: node --import tsx bench/apiserver-child.ts --data-dir DIR --authorization RBAC|AlwaysAllow
import { parseArgs } from 'node:util';
import { defaultApiServerConfig, runApiServer } from '../src/apiserver/apiserver.js';
import { untilSignal } from '../src/util/signals.js';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, authorization: { type: 'string', default: 'RBAC' } } });
const authorization = values.authorization;
if (!values['data-dir'] || (authorization !== 'RBAC' && authorization !== 'AlwaysAllow')) {
  throw new Error('usage: apiserver-child.ts --data-dir DIR --authorization RBAC|AlwaysAllow');
}
const server = await runApiServer({ ...defaultApiServerConfig, dataDir: values['data-dir'], port: 0, authorization });
await untilSignal();
await server.close();
// As the kubesvc command does once its command returns.
process.exit(0);
