// The entry the runtime runs for a built-in image:
//   node dist/images.js <image-kind> [args...]   (bundled by scripts/bundle.mjs)
// Each kind's module is imported on demand so a process loads only its own
// server (and only node: modules).

const USAGE = 'usage: main <agnhost|pause|nginx|node-hello|hello-app|kubernetes-bootcamp|echoserver|http-echo|coredns|kube-proxy> [args...]\n';

/**
 * The program is its container's PID 1, which the kernel spares signals it
 * has no handler for: SIGTERM and SIGINT would do nothing until the
 * kubelet's SIGKILL. A program that installs no handler of its own ends on
 * them as it would anywhere else (exit code 128 + the signal), as a Go
 * program of the images it implements does.
 */
function endOnSignals(): void {
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    process.on(signal, () => {
      if (process.listenerCount(signal) === 1) process.exit(code);
    });
  }
}

async function main(argv: string[]): Promise<void> {
  endOnSignals();
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
