/**
 * Chooses the TF.js backend once, at the start of training, and prepares it for gradients.
 *
 * This is the only module that loads a TF.js backend. The order of preference is the native TensorFlow
 * binding (@tensorflow/tfjs-node-gpu, then @tensorflow/tfjs-node), then WebAssembly, then plain JS.
 * The native packages are optional dependencies that only install where libtensorflow can be downloaded
 * (the GPU container image), so they are loaded through a guarded `require` when asked for, never at
 * import time. They depend on @tensorflow/tfjs 4.22.0, whose tfjs-core is this project's 4.22.0 and is
 * deduplicated into one copy; when loaded, tfjs-node calls `registerBackend('tensorflow', …)` on that
 * shared engine (its kernels are registered for 'tensorflow' in the same global kernel registry), so
 * selecting it is `setBackend('tensorflow')` on the engine everyone else already imports.
 *
 * tfjs-core alone registers no gradient functions (the @tensorflow/tfjs umbrella package does it, and it
 * is not installed here), so this module registers them (and the chained tensor methods) too; see `registerCoreGradients`.
 * On wasm it also registers the kernels that backend lacks for training (trainer/wasm-kernels), and
 * puts onnxruntime's native convolutions in place of its own where onnxruntime-node loads
 * (trainer/native-conv; PEERSTYLE_NATIVE_CONV=off keeps wasm's).
 */
import * as path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { registerWasmGradientKernels } from './wasm-kernels';
import { registerFusedKernels } from './kernels';
import { installNativeConvKernels } from './native-conv/native-conv-kernels';
import { readTrainerEnv, type TrainerEnv } from './trainer-env';
import { defaultWasmThreads, parseThreads, prepareWasmThreads, withDoubledCoreCount } from './wasm-threads';

/** The engine names of the backends training can run on. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** Accepted values of `--backend` and PEERSTYLE_BACKEND, and what each one selects. */
const REQUEST_NAMES = ['gpu', 'tensorflow', 'node', 'wasm', 'cpu'] as const;
type BackendRequest = (typeof REQUEST_NAMES)[number];

/** The native packages each request may load, in order of preference. */
const NATIVE_PACKAGES: Record<'gpu' | 'tensorflow' | 'node', readonly string[]> = {
  gpu: ['@tensorflow/tfjs-node-gpu'],
  node: ['@tensorflow/tfjs-node'],
  tensorflow: ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'],
};

/** Raised when a backend name is unknown or a requested backend cannot be loaded. */
export class BackendError extends Error {
  override name = 'BackendError';
}

/** The outcome of `initBackend`: the engine's backend name and a human-readable account of the choice. */
export interface BackendChoice {
  name: BackendName;
  detail: string;
  /** Threads of the wasm backend's pool; 1 for the others (they manage their own threads). */
  threads: number;
  /** Whether the convolutions run on onnxruntime's native kernels (wasm only). */
  nativeConv?: boolean;
}

/** Options of `initBackend` beyond the backend's name. */
export interface BackendOptions {
  /** Threads for the wasm backend (default: PEERSTYLE_THREADS, else every logical core, at most 8). */
  threads?: number;
  /** The trainer's environment variables. @default the process's (`readTrainerEnv()`) */
  env?: TrainerEnv;
  /** Convolutions on onnxruntime's native kernels on wasm (default: unless PEERSTYLE_NATIVE_CONV is `off`). */
  nativeConv?: boolean;
}

/** PEERSTYLE_NATIVE_CONV: on unless `off` (or `0`, `false`, `no`); anything else is an error. */
export function parseNativeConv(value: string | undefined): boolean {
  if (value === undefined || value.trim() === '') return true;
  const v = value.trim().toLowerCase();
  if (['on', '1', 'true', 'yes'].includes(v)) return true;
  if (['off', '0', 'false', 'no'].includes(v)) return false;
  throw new BackendError(`PEERSTYLE_NATIVE_CONV is "${value}"; expected on or off.`);
}

/**
 * Resolves an explicit request: the flag wins over the environment variable; with neither, `undefined`
 * (automatic choice). Throws a BackendError listing the valid names for anything else.
 */
export function parseBackendRequest(
  flag: string | undefined,
  envValue: string | undefined,
): BackendRequest | undefined {
  const raw = flag ?? envValue;
  if (raw === undefined || raw.trim() === '') return undefined;
  const name = raw.trim().toLowerCase();
  if (!(REQUEST_NAMES as readonly string[]).includes(name)) {
    const source = flag !== undefined ? '--backend' : 'PEERSTYLE_BACKEND';
    throw new BackendError(`Unknown backend "${raw}" (from ${source}). Expected one of: ${REQUEST_NAMES.join(', ')}.`);
  }
  return name as BackendRequest;
}

let chosen: Promise<BackendChoice> | undefined;
let chosenFor: BackendRequest | undefined;

/**
 * Picks and initialises the backend, once per process. `requested` comes from a `--backend` flag and
 * overrides the PEERSTYLE_BACKEND environment variable; 'gpu', 'node' and 'tensorflow' ask for the
 * native binding, 'wasm' and 'cpu' for those backends. A requested backend that cannot be loaded is an
 * error, never a silent fallback. Without a request the first backend that loads wins.
 * Later calls return the first result; a later call asking for a different backend is an error.
 */
export async function initBackend(requested?: string, options: BackendOptions = {}): Promise<BackendChoice> {
  const env = options.env ?? readTrainerEnv();
  const request = parseBackendRequest(requested, env.backend);
  const threads = options.threads ?? parseThreads(undefined, env.threads) ?? defaultWasmThreads();
  const nativeConv = options.nativeConv ?? parseNativeConv(env.nativeConv);
  if (chosen !== undefined) {
    if (request !== undefined && request !== chosenFor) {
      throw new BackendError(
        `The backend is already initialised (${chosenFor ?? 'automatic'}); cannot switch to "${request}".`,
      );
    }
    return chosen;
  }
  chosenFor = request;
  chosen = choose(request, threads, nativeConv);
  // A failed choice may be retried (e.g. with another request), so forget it.
  chosen.catch(() => {
    chosen = undefined;
    chosenFor = undefined;
  });
  return chosen;
}

async function choose(
  request: BackendRequest | undefined,
  threads: number,
  nativeConv: boolean,
): Promise<BackendChoice> {
  if (request === 'gpu' || request === 'node' || request === 'tensorflow')
    return useNative(NATIVE_PACKAGES[request], true);
  if (request === 'wasm') return useWasm(threads, nativeConv);
  if (request === 'cpu') return useCpu();
  const native = await useNative(NATIVE_PACKAGES.tensorflow, false).catch(() => undefined);
  if (native !== undefined) return native;
  const wasm = await useWasm(threads, nativeConv).catch(() => undefined);
  return wasm ?? useCpu();
}

async function useNative(packages: readonly string[], explicit: boolean): Promise<BackendChoice> {
  const failures: string[] = [];
  for (const pkg of packages) {
    try {
      // Loading the package registers the 'tensorflow' backend and all gradients on the shared engine.
      require(pkg);
    } catch (err) {
      failures.push(`${pkg}: ${firstLine(err)}`);
      continue;
    }
    await activate('tensorflow');
    return { name: 'tensorflow', detail: `native TensorFlow through ${pkg}`, threads: 1 };
  }
  const hint = explicit
    ? ' It installs only where libtensorflow can be downloaded (e.g. the GPU image); use --backend=wasm or --backend=cpu here.'
    : '';
  throw new BackendError(`The native TensorFlow backend is not available. ${failures.join('; ')}.${hint}`);
}

async function useWasm(threads: number, nativeConv: boolean): Promise<BackendChoice> {
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  // Point at the binaries explicitly: bundlers and test runners can hide the package's own directory.
  wasm.setWasmPaths(
    path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep,
  );
  prepareWasmThreads(wasm, tf.env(), threads);
  await (threads > 1 ? withDoubledCoreCount(() => activate('wasm')) : activate('wasm'));
  const kernels = registerWasmGradientKernels();
  registerFusedKernels('wasm');
  const actual = wasm.getThreadsCount();
  // One onnxruntime thread per convolution, whatever the pool: on 2 cores, `small` with the wasm pool at
  // 1 or 2 threads ran 3.28-3.62 s/it so, against 3.69-3.72 with onnxruntime on 2 threads (idle threads
  // sleeping), and 5.4-6.0 with them spinning (they spin while the wasm kernels run in between).
  const native = nativeConv && installNativeConvKernels(1);
  const convolutions = native
    ? '; convolutions on onnxruntime (native)'
    : nativeConv
      ? '; onnxruntime not loadable, convolutions on wasm'
      : '';
  return {
    name: 'wasm',
    detail: `WebAssembly (XNNPACK, ${actual} thread${actual === 1 ? '' : 's'}) with training kernels ${kernels.join(', ')}${convolutions}`,
    threads: actual,
    nativeConv: native,
  };
}

async function useCpu(): Promise<BackendChoice> {
  require('@tensorflow/tfjs-backend-cpu');
  await activate('cpu');
  registerFusedKernels('cpu');
  return { name: 'cpu', detail: 'plain JavaScript (slow; for tests and tiny models)', threads: 1 };
}

async function activate(name: BackendName): Promise<void> {
  registerCoreGradients();
  const ok = await tf.setBackend(name);
  if (!ok) throw new BackendError(`The ${name} backend was found but failed to initialise.`);
  await tf.ready();
}

/**
 * Registers tfjs-core's gradient functions and chained tensor methods (`t.sum()`, `t.add(u)`) if nothing
 * has yet (the @tensorflow/tfjs umbrella package and tfjs-node do it themselves). tfjs-core publishes
 * both only as extensionless ES modules (dist/register_all_gradients.js and
 * dist/public/chained_ops/register_all_chained_ops.js), which plain Node and jest cannot require, so
 * they are bundled once into CommonJS with esbuild (a dependency of tsx) and evaluated. That copy of the
 * tfjs-core code shares the engine, the kernel and gradient registries and the Tensor class with the
 * main copy, because tfjs-core keeps all of those on a global namespace object. Takes about 0.1 s.
 */
export function registerCoreGradients(): void {
  if (tf.getGradient('Conv2D') !== undefined && typeof (tf.Tensor.prototype as { sum?: unknown }).sum === 'function')
    return;
  const gradients = require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  const chained = require.resolve('@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js');
  const esbuild = require('esbuild') as typeof import('esbuild');
  const built = esbuild.buildSync({
    stdin: {
      contents: `import ${JSON.stringify(gradients)};\nimport ${JSON.stringify(chained)};\n`,
      resolveDir: path.dirname(gradients),
    },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  const [bundle] = built.outputFiles;
  if (bundle === undefined) throw new BackendError('Bundling the TF.js gradient functions produced no output.');
  const code = bundle.text;
  const mod = { exports: {} };
  // Evaluated in this realm so the bundle sees the same global namespace as the imported tfjs-core.
  new Function('module', 'exports', 'require', code)(mod, mod.exports, createRequire(gradients));
  if (tf.getGradient('Conv2D') === undefined)
    throw new BackendError('Registering the TF.js gradient functions failed.');
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n', 1)[0] ?? message;
}
