// The floor a Node HTTPS API server stands on: TLS (an ECDSA P-256
// certificate, as the API server's, made here self-signed for 127.0.0.1), parse
// the JSON body, answer it back with 201. No authentication and no
// authorization: bench/apiserver measures it beside kubesvc in the same run,
// over the same keep-alive HTTPS clients, so the gap is the API server's own.
// Run: node --import tsx bench/echo-server.ts CERT-FILE (writes its
// certificate there, for the client to trust, then logs its url=).
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { newKeyPair, pem, validity } from '../src/apiserver/pki/ca.js';
import { createCertificate } from '../src/apiserver/pki/x509.js';

const certFile = process.argv[2];
if (!certFile) throw new Error('usage: echo-server.ts CERT-FILE');
const pair = newKeyPair();
const cert = createCertificate({ ...validity(1), commonName: 'echo', isCA: false, ips: ['127.0.0.1'], publicKey: pair.publicKey, privateKey: pair.privateKey });
writeFileSync(certFile, cert);

const server = createServer({ cert, key: pem(pair.privateKey) }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
    const text = JSON.stringify(body);
    res.writeHead(req.method === 'POST' ? 201 : 200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  });
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  console.error(`echo url=https://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
