// A UDP client for tests, run on a node with `kubesvc exec`: sends "hi" to
// HOST:PORT from --count fresh sockets in turn (each its own source port,
// or all from --sport), and prints each reply on a line of its own, an empty
// line when none came within --wait milliseconds.
// Usage: node udp-ask.mjs HOST PORT [--count 1] [--sport P] [--wait 300]
import { createSocket } from 'node:dgram';
import { setTimeout, clearTimeout } from 'node:timers';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { count: { type: 'string', default: '1' }, sport: { type: 'string' }, wait: { type: 'string', default: '300' } },
});
const [host, port] = positionals;

function ask() {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const done = (answer) => {
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    };
    const timer = setTimeout(() => done(''), Number(values.wait));
    socket.on('message', (msg) => done(msg.toString().trim()));
    socket.on('error', () => done(''));
    socket.bind(values.sport ? Number(values.sport) : 0, () => socket.send('hi\n', Number(port), host));
  });
}

for (let i = 0; i < Number(values.count); i++) console.log(await ask());
