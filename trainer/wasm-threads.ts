/**
 * Runs the TF.js WebAssembly backend on several threads under Node.
 *
 * tfjs-backend-wasm ships a threaded SIMD build (XNNPACK on a pthreadpool of Web Workers) but turns it
 * off in Node, for three reasons this module works around, each checked against version 4.22.0:
 * - the `WASM_HAS_MULTITHREAD_SUPPORT` flag answers false whenever it runs in Node: set it to true;
 * - Emscripten starts each pthread as `new Worker(<blob: URL>)`, and Node's Worker accepts only file
 *   paths or code: blob workers are started from the same worker source, which the package also ships
 *   as a CommonJS string (wasm-out/…worker.js), and the main script they are sent (a Blob as well) is
 *   replaced by the package's own copy of that script on disk;
 * - the C++ side sizes its pool as `min(requested, logical cores / 2)`, assuming two hardware threads per
 *   core, which leaves a 2-core machine at one thread: `os.cpus()` is doubled while the module starts.
 * The pool's workers wait on futexes forever, so they are unreferenced: they must not keep the process
 * alive after the work is done.
 *
 * On this project's 2-core machine two threads run a 3×3 64→64 convolution 1.9× and a 512³ matMul 1.7×
 * faster than one (`npx tsx bench/conv-throughput.ts` prints the figures for the current machine).
 */
import * as os from 'node:os';
import * as path from 'node:path';

/** The most threads the backend's pool accepts (it pre-creates eight workers). */
export const MAX_WASM_THREADS = 8;

/** Default thread count: every logical core, within the pool's limit. */
export function defaultWasmThreads(): number {
  return Math.min(MAX_WASM_THREADS, Math.max(1, os.availableParallelism()));
}

/**
 * Parses a thread count from `--threads` or PEERSTYLE_THREADS (the flag wins); undefined when neither is
 * given. Throws a RangeError naming the source for anything but an integer 1..8.
 */
export function parseThreads(flag: string | undefined, envValue: string | undefined): number | undefined {
  const raw = flag ?? envValue;
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
    const source = flag !== undefined ? '--threads' : 'PEERSTYLE_THREADS';
    throw new RangeError(`${source} must be an integer from 1 to ${MAX_WASM_THREADS}, got "${raw}".`);
  }
  return n;
}

let workerPatched = false;

/**
 * Prepares the wasm backend to start with `threads` threads. Call before `tf.setBackend('wasm')`, and wrap
 * that call in `withDoubledCoreCount`. With one thread nothing changes (the single-threaded SIMD build
 * loads, as before).
 */
export function prepareWasmThreads(
  wasm: { setThreadsCount(n: number): void },
  env: { set(flag: string, value: boolean): void },
  threads: number,
): void {
  if (threads <= 1) return;
  patchWorkerForBlobScripts();
  env.set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);
}

/** Runs `start` while `os.cpus()` reports each core twice (see the module comment). */
export async function withDoubledCoreCount<T>(start: () => Promise<T>): Promise<T> {
  // The backend reads the count through its own `require('os')`, the same module object as this one's.
  const nodeOs = require('node:os') as { cpus: typeof os.cpus };
  const real = nodeOs.cpus;
  nodeOs.cpus = () => {
    const cores = real();
    return [...cores, ...cores];
  };
  try {
    return await start();
  } finally {
    nodeOs.cpus = real;
  }
}

function patchWorkerForBlobScripts(): void {
  if (workerPatched) return;
  const wasmOut = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  const workerSource = (
    require(path.join(wasmOut, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string }
  ).wasmWorkerContents
    // The source holds "\n" escapes inside string literals that became real newlines in the template
    // literal it is shipped in; put the escapes back so it parses (the backend does the same).
    .replace(/\n/g, '\\n');
  const mainScript = path.join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js');
  // The backend reads `require('worker_threads').Worker` when it starts, so the property is replaced.
  const threads = require('node:worker_threads') as { Worker: typeof import('node:worker_threads').Worker };
  const Base = threads.Worker;
  class PoolWorker extends Base {
    private readonly detached: boolean;
    constructor(filename: string | URL, options?: import('node:worker_threads').WorkerOptions) {
      const fromBlob = typeof filename === 'string' && filename.startsWith('blob:');
      super(fromBlob ? workerSource : filename, fromBlob ? { ...options, eval: true } : options);
      this.detached = fromBlob;
      if (fromBlob) super.unref();
    }
    override ref(): void {
      if (!this.detached) super.ref();
    }
    override postMessage(message: unknown, transferList?: readonly import('node:worker_threads').TransferListItem[]) {
      const msg = message as { cmd?: string; urlOrBlob?: unknown } | null;
      if (this.detached && msg?.cmd === 'load' && typeof msg.urlOrBlob !== 'string')
        message = { ...msg, urlOrBlob: mainScript };
      super.postMessage(message, transferList);
    }
  }
  threads.Worker = PoolWorker;
  workerPatched = true;
}
