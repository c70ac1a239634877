/**
 * Telling a training run that outgrew the wasm backend's heap from any other failure.
 *
 * Every tensor of the wasm backend lives in one WebAssembly memory, which cannot grow past 4 GiB
 * (wasm32 addresses). When an iteration's tensors need more, an allocation fails inside the module and
 * the step dies with a bare "memory access out of bounds" (a null pointer written to) or an
 * emscripten abort, often with no reason at all ("Aborted()": the module is built without assertions,
 * and a failed C++ allocation aborts), none of which says what to change. `small` at a 256 px crop
 * does this on its first iteration, as either of the first two; at 192 px it runs. A run whose tensors alone pass the limit (by
 * trainer/memory.ts's lower bound: `paper` at 256 px) is refused before anything is built; the rest
 * can only be found out by trying, and a failure is reported as such.
 */
import type { TrainConfig } from './config';
import { iterationMemory } from './memory';

/** The most a wasm32 memory can hold. */
export const WASM_HEAP_LIMIT_BYTES = 4 * 1024 ** 3;

const HEAP_FAILURES = [
  /memory access out of bounds/i,
  /cannot enlarge memory/i,
  /maximum memory size exceeded/i,
  /\bOOM\b/,
  /out of memory/i,
  /^Aborted\(\)/, // no reason given: in a release build of the backend, a failed allocation
];

/** Whether `error` is the wasm module failing to allocate, rather than a fault of the model's code. */
export function isWasmHeapFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // By name, not instanceof: a test's realm and the backend's may hold different WebAssembly globals.
  const fromWasm = error.name === 'RuntimeError' || error.name === 'RangeError' || /abort/i.test(error.message);
  return fromWasm && HEAP_FAILURES.some((pattern) => pattern.test(error.message));
}

/** A run stopped because one iteration does not fit in the wasm heap. */
export class WasmHeapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WasmHeapError';
  }
}

const gib = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

/**
 * The error to report for a heap failure in `iteration`, or, with `iteration` null, for a run refused
 * before it starts because its tensors alone would not fit: what the config asks for and what to change.
 */
export function wasmHeapError(
  cfg: TrainConfig,
  iteration: number | null,
  lastCheckpoint: string | undefined,
  cause?: Error,
): WasmHeapError {
  const estimate = iterationMemory(cfg).total;
  const what =
    iteration === null
      ? "One iteration of this run cannot fit in the wasm backend's memory"
      : `The wasm backend ran out of memory in iteration ${iteration}` +
        (cause ? ` (it stopped with "${cause.message.split('\n')[0]}")` : '');
  const kept =
    iteration === null
      ? ''
      : lastCheckpoint
        ? ` The last checkpoint, ${lastCheckpoint}, is intact.`
        : ' No checkpoint of this run was written.';
  return new WasmHeapError(
    `${what}: its heap cannot grow past ${gib(WASM_HEAP_LIMIT_BYTES)}, and one iteration at a ` +
      `${cfg.cropSize} px crop, batch ${cfg.batchSize}, ngf ${cfg.ngf} keeps at least ${gib(estimate)} of ` +
      `tensors (trainer/memory.ts) plus the kernels' workspace. Lower cropSize, batchSize or ngf, or train ` +
      `on a GPU (tfjs-node-gpu: README, "On a GPU").` +
      kept,
  );
}

/** Refuses, before anything is built, a run whose tensors alone exceed the wasm heap. */
export function checkFitsWasmHeap(cfg: TrainConfig): void {
  if (iterationMemory(cfg).total > WASM_HEAP_LIMIT_BYTES) throw wasmHeapError(cfg, null, undefined);
}
