/**
 * The `peerstyle serve` child process the reliability run drives, started from `bin/peerstyle.js` as a
 * user would on a fixed port and data folder, so that clients keep their address across restarts. It
 * can be killed with SIGKILL (nothing gets to clean up) or stopped with SIGTERM (the clean shutdown
 * that hands running jobs back), and its memory is sampled from /proc while it runs: the figure kept is
 * the kernel's own high-water mark of resident memory (VmHWM), the largest over every process started.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

/** The command users run. */
export const BIN = path.join(__dirname, '..', '..', 'bin', 'peerstyle.js');

/** How often memory is read from /proc. */
const SAMPLE_MS = 200;
/** How long a start may take before the run gives up. */
const START_TIMEOUT_MS = 120_000;
/** Output kept for the failure report. */
const KEEP_OUTPUT_CHARS = 20_000;

/** A free TCP port on 127.0.0.1, chosen once so that every restart listens at the same address. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

/** Kibibytes in a /proc/<pid>/status field, or undefined when the process is gone. */
function statusKib(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** Runs `peerstyle <args>` to completion; resolves with its stdout, or rejects with its stderr. */
export function runPeerstyle(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`peerstyle ${args.join(' ')} exited ${code}: ${stderr}`)),
    );
  });
}

/** Creates an API key for `owner` in `dataDir` with `peerstyle keys create`; returns the key. */
export async function createKey(dataDir: string, owner: string): Promise<string> {
  const out = await runPeerstyle(['keys', 'create', '--owner', owner, '--label', 'reliability', '--data-dir', dataDir]);
  const key = /^(psk_\S+)$/m.exec(out)?.[1];
  if (key === undefined) throw new Error(`no key in the output of keys create: ${out}`);
  return key;
}

/** The server across its restarts. */
export class ServeProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private sampler: NodeJS.Timeout | undefined;
  private output = '';
  private ending = false;
  /** Largest VmHWM seen in any of the processes, in KiB. */
  peakKib = 0;
  /** Processes started so far. */
  starts = 0;
  /** Rejects if a started server exits without being told to (a crash ends the run at once). */
  readonly crashed: Promise<never>;
  private reportCrash: (error: Error) => void = () => undefined;

  constructor(
    private readonly args: readonly string[],
    private readonly env: NodeJS.ProcessEnv = {},
  ) {
    this.crashed = new Promise<never>((_, reject) => (this.reportCrash = reject));
    this.crashed.catch(() => undefined);
  }

  /** Starts the server and resolves once it prints its playground line (it is listening by then). */
  async start(): Promise<void> {
    if (this.child !== undefined) throw new Error('the server is already running');
    const child = spawn(process.execPath, [BIN, 'serve', ...this.args], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.starts += 1;
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    this.exited = exited;
    void exited.then((code) => {
      if (this.child === child && !this.ending) {
        this.reportCrash(
          new Error(`serve (pid ${child.pid}) exited by itself with ${code ?? child.signalCode}:\n${this.output}`),
        );
      }
    });
    let stdout = '';
    const keep = (d: Buffer): void => {
      this.output = (this.output + d.toString()).slice(-KEEP_OUTPUT_CHARS);
    };
    child.stderr!.on('data', keep);
    child.stdout!.on('data', keep);
    this.sampler = setInterval(() => this.sample(), SAMPLE_MS);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`serve did not start in ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (/^Playground: \S+/m.test(stdout)) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`serve exited during start (${code}):\n${this.output}`));
      });
    });
  }

  /** The process id of the running server. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The server's recent output (stdout and stderr), for reports. */
  get recentOutput(): string {
    return this.output;
  }

  /** SIGKILL: the process gets no chance to clean up; resolves once it is gone. */
  async kill9(): Promise<void> {
    await this.end('SIGKILL');
  }

  /** SIGTERM, then waits for the clean exit; resolves with the exit code (0 after a clean stop). */
  async stopGracefully(): Promise<number | null> {
    return this.end('SIGTERM');
  }

  private async end(signal: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    if (child === undefined || this.exited === undefined) throw new Error('the server is not running');
    this.sample();
    this.ending = true;
    child.kill(signal);
    const code = await this.exited;
    clearInterval(this.sampler);
    this.child = undefined;
    this.exited = undefined;
    this.ending = false;
    return code;
  }

  private sample(): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    const hwm = statusKib(pid, 'VmHWM') ?? statusKib(pid, 'VmRSS');
    if (hwm !== undefined) this.peakKib = Math.max(this.peakKib, hwm);
  }
}
