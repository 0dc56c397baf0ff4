// bench/fuzz-decode: the long run of test/fuzz-decode.test.ts against the
// built API server (`kubesvc apiserver`, as npm start runs it): N mutated
// bodies per served kind, spread over create, update, merge, strategic and
// JSON patch and apply. Figures: 5xx answers (target 0), stored objects that
// no longer decode as their kind (target 0, every object read back and
// checked against the schema), and the server's RSS after warm-up beside its
// RSS at the end (flat memory: a ratio near 1).
// Run: npm run build && npx tsx bench/fuzz-decode.ts [--per-kind 100000] [--seed 1] [--clients 8] [--kinds Secret,Pod]
import { decodeTyped } from '../src/apiserver/openapi/typed-decode.js';
import { fuzzKinds, fuzzOps, fuzzRequest, gvkOf, seededRandom } from '../test/helpers/fuzz.js';
import { httpsClient, type HttpsClient } from './http.js';
import { rssMb } from './proc.js';
import { printTable, type Row } from './report.js';
import { adminCredentials, builtApiServerArgs, removeTempDir, startServerProcess, tempDir } from './server-process.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const perKind = flag('--per-kind', 100_000);
const seed = flag('--seed', 1);
const clients = flag('--clients', 8);
/** --kinds Secret,Pod: only these kinds (all by default). */
const onlyKinds = args.includes('--kinds') ? args[args.indexOf('--kinds') + 1]!.split(',') : undefined;
const kinds = fuzzKinds.filter((k) => !onlyKinds || onlyKinds.includes(k.kind));

/** A request unanswered after 10 s is a hang: it is reported with its body (and still awaited). */
function call(client: HttpsClient, method: string, path: string, body?: string, contentType = 'application/json') {
  const answered = client.call(method, path, body, { 'Content-Type': contentType });
  const timer = setTimeout(() => console.log(`HUNG ${method} ${path} ${contentType}: ${body?.slice(0, 2000)}`), 10_000);
  return answered.finally(() => clearTimeout(timer));
}

async function main() {
  const dataDir = tempDir('kubesvc-fuzz-');
  // The built server as npm start runs it (the shebang's node flag), as the admin of the kubeconfig it writes.
  const server = await startServerProcess(builtApiServerArgs(dataDir), ['--max-semi-space-size=2']);
  const client = httpsClient(server.url, adminCredentials(dataDir), clients);
  const statuses = new Map<number, number>();
  const fiveHundreds: string[] = [];
  const total = perKind * kinds.length;
  const warmUp = Math.min(20_000, Math.floor(total / 10));
  let sent = 0;
  let wrongWrites = 0;
  let rssAfterWarmUp = NaN;
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: clients }, async (_, worker) => {
        const rand = seededRandom(seed * 1000 + worker);
        while (sent < total) {
          const i = sent++;
          const k = kinds[i % kinds.length]!;
          const op = fuzzOps[Math.floor(i / kinds.length) % fuzzOps.length]!;
          const name = `fuzz-${Math.floor(rand() * 3)}`;
          let live: Record<string, unknown> | undefined;
          if (op === 'update' || op === 'json-patch') {
            const got = await call(client, 'GET', `${k.collection}/${name}`);
            if (got.status === 200) live = JSON.parse(got.text);
          }
          const req = fuzzRequest(k, op, rand, name, live);
          const r = await call(client, req.method, req.path, req.body, req.contentType);
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status >= 500 && fiveHundreds.length < 5) fiveHundreds.push(`${k.kind} ${op}: ${r.text.slice(0, 200)} ← ${req.body.slice(0, 200)}`);
          // An accepted write answers with what was stored: it must decode as its kind.
          if (r.status === 200 || r.status === 201) {
            const decoded = decodeTyped(gvkOf(k), JSON.parse(r.text));
            if (decoded.error || decoded.unknown.length) wrongWrites++;
          }
          if (i === warmUp) rssAfterWarmUp = rssMb(server.pid);
          if (i % 50_000 === 0 && i) process.stderr.write(`  ${i} requests, RSS ${rssMb(server.pid).toFixed(0)} MB\n`);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const rssEnd = rssMb(server.pid);

    let stored = 0;
    let wrong = 0;
    for (const k of kinds) {
      const list = await call(client, 'GET', k.collection);
      for (const obj of JSON.parse(list.text).items) {
        stored++;
        const decoded = decodeTyped(gvkOf(k), obj);
        if (decoded.error || decoded.unknown.length) {
          wrong++;
          console.log(`stored ${k.kind} ${obj.metadata?.name} does not decode: ${decoded.error ?? decoded.unknown.join(', ')}`);
        }
      }
    }
    const alive = (await call(client, 'GET', '/readyz')).status === 200;
    const answers = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
    console.log(`\nbench/fuzz-decode: ${total} mutated bodies (${perKind} per kind × ${kinds.length} kinds, over ${fuzzOps.join(', ')}), seed ${seed}, ${clients} clients`);
    console.log(`answers: ${answers}; server alive after the run: ${alive}`);
    for (const line of fiveHundreds) console.log(`5xx: ${line}`);
    const count = (pred: (s: number) => boolean) => [...statuses].filter(([s]) => pred(s)).reduce((n, [, c]) => n + c, 0);
    const rows: Row[] = [
      { figure: 'answers 5xx (target 0)', value: count((s) => s >= 500), unit: '' },
      { figure: 'answers 4xx (refused, nothing stored)', value: count((s) => s >= 400 && s < 500), unit: '' },
      { figure: 'writes accepted (200/201)', value: count((s) => s === 200 || s === 201), unit: '' },
      { figure: 'stored objects read back', value: stored, unit: '' },
      { figure: 'accepted writes that stored a wrong type (target 0)', value: wrongWrites, unit: '' },
      { figure: 'stored objects of a wrong type at the end (target 0)', value: wrong, unit: '' },
      { figure: 'fuzz throughput', value: total / seconds, unit: 'req/s', lowerIsBetter: false },
      { figure: 'server RSS at the end', value: rssEnd, unit: 'MB', peer: rssAfterWarmUp, peerName: `after ${warmUp} requests` },
    ];
    printTable('bench/fuzz-decode', rows);
  } finally {
    client.close();
    await server.stop();
    removeTempDir(dataDir);
  }
}

await main();
