// The stand-in "outside" of test/e2e/egress.test.ts, run inside the test's
// own network namespace (ip netns exec): an HTTP server that tells the client
// the address it came from, and a DNS server answering one name. Usage:
//   outside-servers.ts HTTP_IP DNS_IP NAME ANSWER_IP   (prints "ready" once both listen)
import { createSocket } from 'node:dgram';
import { createServer } from 'node:http';
import { parseMessage, serializeMessage } from '../../src/dns/wire.js';
import { RRClass, RRType } from '../../src/dns/types.js';

const [httpIP, dnsIP, name, answerIP] = process.argv.slice(2) as [string, string, string, string];

const http = createServer((req, res) => res.end(`hello from outside; you are ${req.socket.remoteAddress}\n`));
const dns = createSocket('udp4');
dns.on('message', (buf, from) => {
  const q = parseMessage(buf);
  const question = q.questions[0]!;
  const known = question.name.toLowerCase().replace(/\.$/, '') === name && question.type === RRType.A;
  const out = serializeMessage({
    header: { ...q.header, qr: true, ra: true, aa: true, rcode: known ? 0 : 3 },
    questions: q.questions,
    answers: known ? [{ name: question.name, type: RRType.A, class: RRClass.IN, ttl: 60, data: { kind: 'A', address: answerIP } }] : [],
    authorities: [],
    additionals: [],
  }).buf;
  dns.send(out, from.port, from.address);
});
await Promise.all([new Promise<void>((r) => http.listen(80, httpIP, r)), new Promise<void>((r) => dns.bind(53, dnsIP, r))]);
console.log('ready');
process.on('SIGTERM', () => process.exit(0));
