// A listening TCP socket inside a network namespace, held by this process.
//
// A socket belongs to the namespace it was created in, whoever holds it
// later. Node cannot enter a namespace, so a short-lived helper does it:
// `ip netns exec <ns> node -e ...` binds the address, hands the listening
// socket back over the IPC channel (SCM_RIGHTS) and exits. Connections then
// arrive here, on a socket whose traffic never leaves the namespace — no
// relay process stays behind and no route touches the host namespace.
import { spawn } from 'node:child_process';
import type { Server } from 'node:net';
import { netnsExecArgv } from './ip.js';

const helper = `
const net = require('node:net');
const [host, port] = [process.argv[1], Number(process.argv[2])];
const server = net.createServer();
server.on('error', (e) => { process.send({ error: e.code === 'EADDRINUSE' ? 'address ' + host + ':' + port + ' already in use' : e.message }, () => process.exit(1)); });
server.listen({ host, port }, () => process.send('listening', server));
// Stays until the parent has the socket and lets go of the channel.
process.on('disconnect', () => process.exit(0));
`;

export function listenInNetns(netns: string, host: string, port: number, timeoutMs = 10_000): Promise<Server> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = netnsExecArgv(netns, [process.execPath, '--max-semi-space-size=1', '-e', helper, host, String(port)]);
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`listen on ${host}:${port} in network namespace ${netns}: ${why}`));
    };
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', (e) => fail(e.message));
    child.on('message', (msg: unknown, handle: unknown) => {
      if (msg === 'listening' && handle) {
        settled = true;
        clearTimeout(timer);
        child.disconnect();
        resolve(handle as Server);
      } else if (typeof msg === 'object' && msg && 'error' in msg) fail(String((msg as { error: unknown }).error));
    });
    // 'close' comes after every message the helper sent ('exit' may come before them).
    child.on('close', (code) => fail(stderr.trim() || `helper exited with code ${code}`));
  });
}
