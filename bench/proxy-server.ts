// A userspace proxy socket in its own process, for bench/proxy:
// proxy-server.ts <backendPort> prints "port=N" once listening.
import { createScheduler } from '../src/proxy/lb/index.js';
import { startTcpProxy } from '../src/proxy/userspace/tcp-proxy.js';

const backendPort = Number(process.argv[2]);
const proxy = await startTcpProxy({ bind: '127.0.0.1', port: 0, scheduler: createScheduler('rr') });
proxy.setEndpoints([{ ip: '127.0.0.1', port: backendPort }]);
console.log(`port=${proxy.port}`);
process.on('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
