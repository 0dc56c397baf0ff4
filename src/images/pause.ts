// registry.k8s.io/pause: sleeps until SIGINT/SIGTERM, then exits 0
// (build/pause/linux/pause.c).

export function runPause(args: string[]): void {
  if (args[0] === '-v') {
    process.stdout.write('pause.c v3.9\n');
    process.exit(0);
  }
  const keepAlive = setInterval(() => {}, 1 << 30);
  const down = (name: string) => (): void => {
    clearInterval(keepAlive);
    process.stdout.write(`Shutting down, got signal: ${name}\n`);
    process.exit(0);
  };
  process.on('SIGINT', down('Interrupt'));
  process.on('SIGTERM', down('Terminated'));
}
