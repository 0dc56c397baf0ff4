// The entry the runtime runs for a built-in image:
//   node dist/images.js <image-kind> [args...]   (bundled by scripts/bundle.mjs)
// Each kind's module is imported on demand so a process loads only its own
// server (and only node: modules).

const USAGE = 'usage: main <agnhost|pause|nginx|node-hello|hello-app|kubernetes-bootcamp|echoserver|http-echo|coredns|kube-proxy> [args...]\n';

async function main(argv: string[]): Promise<void> {
  const [kind, ...args] = argv;
  switch (kind) {
    case 'agnhost': return (await import('./agnhost.js')).runAgnhost(args);
    case 'pause': return (await import('./pause.js')).runPause(args);
    case 'nginx': return (await import('./nginx.js')).runNginx(args);
    case 'node-hello': return (await import('./samples.js')).runNodeHello(args);
    case 'hello-app': return (await import('./samples.js')).runHelloApp(args);
    case 'kubernetes-bootcamp': return (await import('./samples.js')).runBootcamp(args);
    case 'echoserver': return (await import('./samples.js')).runEchoserver(args);
    case 'http-echo': return (await import('./samples.js')).runHttpEcho(args);
    case 'coredns': return (await import('./components.js')).runCoreDns(args);
    case 'kube-proxy': return (await import('./components.js')).runKubeProxy(args);
    default:
      process.stderr.write(kind ? `unknown built-in image kind "${kind}"\n${USAGE}` : USAGE);
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
