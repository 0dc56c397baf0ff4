// The server processes the benchmarks measure, and their temporary data
// dirs: started as children that log `url=https://127.0.0.1:<port>`, stopped
// (and the dirs removed) when the bench is done — or, should it fail or be
// interrupted, when the bench process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import type { Credentials } from './http.js';

const children = new Set<ChildProcess>();
const dirs = new Set<string>();

process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
// Interrupted: exit (running the handler above) instead of dying on the signal.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

/** A fresh directory under the system's temp dir, removed by removeTempDir or at exit. */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(d);
  return d;
}

export function removeTempDir(d: string): void {
  rmSync(d, { recursive: true, force: true });
  dirs.delete(d);
}

export interface ServerProcess {
  pid: number;
  /** https://127.0.0.1:<port>, from the server's log. */
  url: string;
  /** SIGTERM, and resolves when it has exited. */
  stop(): Promise<void>;
}

/**
 * `node [nodeFlags] args…`, resolved once its stderr names its https URL; a
 * server that exits first, or is silent for 60 s, is an error (and killed).
 */
export function startServerProcess(args: string[], nodeFlags: string[] = []): Promise<ServerProcess> {
  // `up` names its URL on its ready screen (standard output), the other servers in their log (standard error).
  const child = spawn(process.execPath, [...nodeFlags, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  let log = '';
  for (const out of [child.stdout!, child.stderr!]) {
    out.setEncoding('utf8');
    out.on('data', (d: string) => (log = (log + d).slice(-64 * 1024)));
  }
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      const m = /(?:url="?|API server +)(https:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (!m) return;
      done();
      resolve({
        pid: child.pid!,
        url: m[1]!,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    }, 20);
    const timeout = setTimeout(() => {
      done();
      child.kill('SIGKILL');
      reject(new Error(`server did not start in 60 s: ${log}`));
    }, 60_000);
    void exited.then(() => {
      done();
      reject(new Error(`server exited: ${log}`));
    });
    function done() {
      clearInterval(poll);
      clearTimeout(timeout);
    }
  });
}

/**
 * A built entry of dist/ (kubesvc.js, as npm start runs it; images.js, as a node runs a built-in image) with `args`
 * as a child, resolved once its output matches `ready` (the match is handed back: a port it names, say); killed
 * when the bench exits.
 */
export function startBuiltChild(entry: string, args: string[], ready: RegExp, nodeFlags: string[] = []): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const built = join(import.meta.dirname, '../dist', entry);
  if (!existsSync(built)) throw new Error('dist/ is missing: run npm run build first');
  const child = spawn(process.execPath, [...nodeFlags, built, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out = (out + d).slice(-64 * 1024);
      const m = ready.exec(out);
      if (m) resolve({ child, match: m });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`${entry} ${args[0]} exited ${code}: ${out}`)));
  });
}

/** The built `kubesvc <cmd…>` as a child (startBuiltChild). */
export const startKubesvc = (cmd: string[], ready: RegExp, nodeFlags: string[] = []) => startBuiltChild('kubesvc.js', cmd, ready, nodeFlags);

/** The built `kubesvc apiserver` (what npm start runs), on port 0 with `dataDir`. */
export function builtApiServerArgs(dataDir: string): string[] {
  const entry = join(import.meta.dirname, '../dist/kubesvc.js');
  if (!existsSync(entry)) throw new Error('dist/ is missing: run npm run build first');
  return [entry, 'apiserver', '--data-dir', dataDir, '--port', '0'];
}

/** The admin's credentials (kubernetes-admin in system:masters) from the kubeconfig the API server wrote in its data dir. */
export function adminCredentials(dataDir: string): Credentials {
  const k = loadKubeconfig(join(dataDir, 'kubeconfig'));
  if (!k.ca || !k.cert || !k.key) throw new Error(`${dataDir}/kubeconfig has no CA or client certificate`);
  return { ca: k.ca, cert: k.cert, key: k.key };
}

/**
 * CPU seconds the process has used: its threads' run time from
 * /proc/PID/task/TID/schedstat, in nanoseconds (/proc/PID/stat counts 10 ms
 * ticks, too coarse for a tenth of a second of load).
 */
export function cpuSeconds(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns / 1e9;
}

/**
 * The bench file itself run again as a child (`node --import tsx FILE --ROLE ARG`) that prints `URL <url>` on its
 * standard output once it serves: its pid, that URL and a stop (SIGTERM, resolved when it has exited).
 */
export function startBenchChild(file: string, role: string, arg: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', file, `--${role}`, arg], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /URL (\S+)/.exec(out);
      if (m) resolve({ pid: child.pid!, url: m[1]!, stop: () => (child.kill('SIGTERM'), exited) });
    });
    child.once('exit', (code) => reject(new Error(`${role} child exited (${code})`)));
  });
}
