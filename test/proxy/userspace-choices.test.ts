// The userspace proxy's record of its picks (for `kubesvc trace`): a real TCP
// proxy socket on loopback relays a connection, and the record names the
// backend it dialed for that client's address and port; bounded; served
// read-only under /debug/ with ?client=.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { createScheduler } from '../../src/proxy/lb/index.js';
import { createChoiceRecord, userspaceChoicesPath } from '../../src/proxy/userspace/choices.js';
import { startTcpProxy } from '../../src/proxy/userspace/tcp-proxy.js';

async function echoServer(): Promise<Server> {
  const s = createServer((c) => c.pipe(c));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return s;
}

test('a relayed connection is recorded under its client address:port with the backend dialed', async () => {
  const backends = [await echoServer(), await echoServer()];
  const record = createChoiceRecord();
  const proxy = await startTcpProxy({ bind: '127.0.0.1', port: 0, scheduler: record.recording(createScheduler('rr'), 'default/web:http', 'TCP') });
  proxy.setEndpoints(backends.map((b) => ({ ip: '127.0.0.1', port: (b.address() as AddressInfo).port })));
  try {
    const client = connect({ host: '127.0.0.1', port: proxy.port });
    await new Promise<void>((r) => client.once('connect', () => r()));
    client.write('x');
    await new Promise<void>((r) => client.once('data', () => r()));
    const me = `127.0.0.1:${client.localPort}`;
    const [choice, ...more] = record.lookup(me);
    assert.equal(more.length, 0);
    assert.equal(choice.service, 'default/web:http');
    assert.equal(choice.protocol, 'TCP');
    assert.equal(choice.picks, 1);
    assert.ok(backends.some((b) => choice.endpoint === `127.0.0.1:${(b.address() as AddressInfo).port}`), choice.endpoint);
    assert.deepEqual(record.debug(userspaceChoicesPath, new URLSearchParams({ client: me })), { choices: [choice] });
    assert.deepEqual(record.debug(userspaceChoicesPath, new URLSearchParams({ client: '127.0.0.1:1' })), { choices: [] });
    assert.equal(record.debug('/debug/other', new URLSearchParams()), undefined);
    client.destroy();
  } finally {
    await proxy.close();
    for (const b of backends) b.close();
  }
});

test('the record is bounded: the oldest picks go first', () => {
  const record = createChoiceRecord(2);
  const scheduler = record.recording(createScheduler('rr'), 'default/web', 'UDP');
  const backends = [{ id: '10.244.0.5:53', ip: '10.244.0.5', port: 53, weight: 1, activeConns: 0, inactiveConns: 0 }];
  for (const port of [1001, 1002, 1003]) scheduler.pick(backends, { ip: '::ffff:10.0.0.1', port }, 0);
  assert.deepEqual(record.lookup('10.0.0.1:1001'), []);
  assert.equal(record.lookup('10.0.0.1:1003')[0]?.endpoint, '10.244.0.5:53');
  assert.equal((record.debug(userspaceChoicesPath, new URLSearchParams()) as { choices: unknown[] }).choices.length, 2);
});
