// A long-lived `nft -i` for the small transactions of incremental syncs.
//
// Why not a new `nft -f -` per sync: a process costs its spawn and a fresh
// netlink cache (~4 ms), and — the larger part — closing a netfilter netlink
// socket right after a transaction that deleted set elements waits for the
// kernel to free them (nf_tables flushes its destroy work, an RCU grace
// period, on the socket's release): ~10 ms on every sync that removes an
// endpoint. One process reading transactions from its stdin keeps the socket
// open and pays neither; a one-service change takes about a millisecond.
//
// Protocol: each transaction is written as one line (nft -i runs each line as
// one buffer: one batch, all or nothing), followed by a marker line that nft
// always rejects as a syntax error. nft reports errors on stderr in input
// order, echoing the offending line: everything before the marker's error is
// the transaction's, and a transaction that printed nothing succeeded. A
// session that dies, or does not answer in time, is closed and reported as
// broken (the transaction's outcome is then unknown: the caller must sync in
// full); one that never worked (an nft built without its CLI) is not retried.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { CommandError } from '../../net/ip.js';

/** A transaction nft rejected: nothing of it was applied. */
export class NftTransactionError extends CommandError {}

/** The session itself failed (died, hung, cannot start): whether the transaction was applied is unknown. */
export class NftSessionError extends Error {
  constructor(
    message: string,
    /** The session never answered: nft -i does not work here. */
    readonly unusable: boolean,
  ) {
    super(message);
    this.name = 'NftSessionError';
  }
}

export interface NftSession {
  /** Applies a transaction of `nft -f` lines as one batch; rejects with NftTransactionError or NftSessionError. */
  apply(transaction: string): Promise<void>;
  close(): void;
}

export interface NftSessionOptions {
  /** How long one transaction may take before the session is given up. Default 60 s. */
  timeoutMs?: number;
  /**
   * Input after which the process is replaced by a fresh one: nft -i keeps every line in its history, in memory.
   * Default 4 MiB.
   */
  recycleAfterBytes?: number;
  /** The command line; default `nft -i` (e.g. behind `ip netns exec NS` for a namespace other than this one). */
  command?: readonly string[];
}

interface Pending {
  marker: string;
  resolve(): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

interface Process {
  child: ChildProcessWithoutNullStreams;
  stderr: string;
  pending: Pending | undefined;
  answered: boolean;
  written: number;
  dead: boolean;
}

export function openNftSession(opts: NftSessionOptions = {}): NftSession {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const recycleAfterBytes = opts.recycleAfterBytes ?? 4 << 20;
  const argv = opts.command ?? ['nft', '-i'];
  let proc: Process | undefined;
  let sequence = 0;
  const token = randomBytes(4).toString('hex');

  function kill(p: Process, why: string): void {
    if (p.dead) return;
    p.dead = true;
    if (proc === p) proc = undefined;
    p.child.kill('SIGKILL');
    const pending = p.pending;
    p.pending = undefined;
    if (pending) {
      clearTimeout(pending.timer);
      pending.reject(new NftSessionError(`nft -i: ${why}`, !p.answered));
    }
  }

  function start(): Process {
    // HOME=/dev/null: nft -i reads and writes its history under $HOME; there is none to keep.
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, HOME: '/dev/null' } });
    const p: Process = { child, stderr: '', pending: undefined, answered: false, written: 0, dead: false };
    child.stdout.resume();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      p.stderr += d;
      settle(p);
    });
    child.stdin.on('error', () => {});
    child.on('error', (e) => kill(p, `cannot run: ${e.message}`));
    child.on('exit', (code, signal) => kill(p, `exited (${signal ?? `code ${code}`})${p.stderr.trim() ? `: ${p.stderr.trim()}` : ''}`));
    return p;
  }

  /** Resolves the pending transaction once its marker's error (the echoed line and its caret line) has arrived. */
  function settle(p: Process): void {
    const pending = p.pending;
    if (!pending) return;
    const buffer = p.stderr;
    let echoed: number;
    if (buffer.startsWith(`${pending.marker}\n`)) echoed = 0;
    else {
      const at = buffer.indexOf(`\n${pending.marker}\n`);
      if (at < 0) return;
      echoed = at + 1;
    }
    const caretEnd = buffer.indexOf('\n', echoed + pending.marker.length + 1);
    if (caretEnd < 0) return;
    // The marker's own "Error: …" line precedes its echo.
    const errorLine = echoed === 0 ? 0 : buffer.lastIndexOf('\n', echoed - 2) + 1;
    const output = buffer.slice(0, errorLine).trim();
    p.stderr = buffer.slice(caretEnd + 1);
    p.pending = undefined;
    p.answered = true;
    clearTimeout(pending.timer);
    if (output) pending.reject(new NftTransactionError(argv, 1, output, output));
    else pending.resolve();
  }

  return {
    apply(transaction) {
      if (proc && proc.written > recycleAfterBytes && !proc.pending) {
        proc.child.stdin.end();
        proc.dead = true;
        proc = undefined;
      }
      const p = (proc ??= start());
      if (p.pending) return Promise.reject(new Error('nft -i: one transaction at a time'));
      const marker = `kubesvc-end-of-transaction-${token}-${++sequence}`;
      // One line: nft -i makes each line one transaction.
      const line = transaction
        .split('\n')
        .filter((l) => l.trim() !== '')
        .join('; ');
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => kill(p, `no answer in ${timeoutMs} ms`), timeoutMs);
        p.pending = { marker, resolve, reject, timer };
        const input = `${line}\n${marker}\n`;
        p.written += input.length;
        p.child.stdin.write(input);
      });
    },
    close() {
      if (!proc) return;
      const p = proc;
      proc = undefined;
      p.dead = true;
      p.child.stdin.end();
      // nft -i ends at the end of its input; a hung one is killed.
      setTimeout(() => p.child.kill('SIGKILL'), 5000).unref();
    },
  };
}
