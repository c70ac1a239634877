/**
 * The project's single doorway to onnxruntime-node: load an ONNX model into an inference session and
 * run it on plain float32 arrays.
 *
 * Everything else (the stylization engine, the exporter's parity tests, benchmarks) passes and receives
 * `{ data, dims }` objects and never sees an onnxruntime type, so the runtime can be upgraded, or swapped
 * for its GPU build, by editing this file alone.
 *
 * Realms. onnxruntime's JavaScript checks `data instanceof Float32Array`, and its native addon builds
 * output arrays in Node's main realm. Code evaluated in another realm (jest runs every test file in its
 * own VM context) has a different `Float32Array`, so both directions fail there: our inputs are rejected
 * and so are the addon's own outputs. This module therefore loads onnxruntime-node through Node's real
 * `require` (which always evaluates in the main realm, and is the very same module instance as a plain
 * import in production), builds input arrays with onnxruntime's own `Float32Array`, and copies outputs
 * into the caller's realm. Loading happens on first use, so importing this file loads no native code.
 */
import { promises as fs } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';

import type * as Ort from 'onnxruntime-node';
import { mainRealmRequire } from './main-realm-require';

/** A dense float32 tensor in row-major order. */
export interface FloatTensor {
  data: Float32Array;
  dims: number[];
}

/** The dims [N, C, H, W] of a tensor of rank 4; throws for any other rank. */
export function nchw(t: FloatTensor): [number, number, number, number] {
  const [n, c, h, w, ...more] = t.dims;
  if (n === undefined || c === undefined || h === undefined || w === undefined || more.length > 0) {
    throw new Error(`Expected a tensor [N, C, H, W], got dims [${t.dims.join(', ')}].`);
  }
  return [n, c, h, w];
}

/** Options for {@link createSession}. */
export interface SessionOptions {
  /**
   * Threads one operator may use. Set it on shared machines and in Lambda, where the vCPU count is
   * smaller than the host's. The default asks Node how many cores this process may use (which honours
   * CPU affinity), rather than leaving the choice to onnxruntime, so that the figure is visible, logged
   * and the same on every platform. @default os.availableParallelism()
   */
  intraOpThreads?: number;
  /**
   * Give memory back after every run instead of keeping it for the next one: no CPU memory arena (which
   * otherwise holds the largest run's high-water mark for the session's lifetime) and no memory pattern
   * (which preallocates one block for a whole run's intermediates, sized by the largest input seen).
   * Meant for the large-image graphs, whose single runs are large and whose inputs vary in size; small
   * repeated runs are faster with both kept. @default false
   */
  lowMemory?: boolean;
  /**
   * Let the intra-op threads spin (busy-wait) for the next parallel operator instead of sleeping. Spinning
   * saves a wake-up per operator, but a spinning thread holds a core for as long as it waits, including
   * while JavaScript prepares the next run. Graphs run many times with JavaScript work in between (tiles,
   * chunks) should turn it off: on a loaded 2-core machine the staged encoder used about half the CPU
   * time without it. @default true
   */
  spinWait?: boolean;
  /** Graph optimisation level. @default 'all' */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Run independent branches of the graph at the same time on an inter-op pool of this many threads
   * (onnxruntime's parallel execution mode) instead of one node after another. Peerstyle's graphs are
   * chains with few branches, so the default keeps the sequential mode. @default undefined (sequential)
   */
  interOpThreads?: number;
  /**
   * Record onnxruntime's own profile: every node's time in every run, with its operator type and
   * shapes. The value is a path prefix; {@link endProfiling} finishes the file and returns its name.
   * Each session needs a prefix of its own. @default no profile
   */
  profilePrefix?: string;
  /**
   * Where to run. 'cuda' is tried first (with CPU for any operator CUDA lacks) and falls back to the CPU
   * when the CUDA provider cannot start, e.g. on the CPU build of onnxruntime-node or a host without a
   * GPU; the session's `notice` then says why. @default 'cpu'
   */
  executionProvider?: ExecutionProvider;
}

/** Why CUDA failed to start in this process, once it has. */
let cudaFailure: string | undefined;

/** Execution providers a session may ask for. */
export const EXECUTION_PROVIDERS = ['cpu', 'cuda'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

/** A loaded model. Opaque outside this module; release it with {@link closeSession}. */
export interface OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The provider the session runs on. */
  readonly provider: ExecutionProvider;
  /** Set when the requested provider was unavailable and the session fell back to the CPU. */
  readonly notice?: string;
  /** The profile's path prefix, when the session records one. */
  readonly profilePrefix?: string;
  /** @internal the onnxruntime session; other modules must not touch it */
  readonly handle: unknown;
}

/** Raised when a model fails to load or run; the message carries onnxruntime's own explanation. */
export class OnnxSessionError extends Error {
  override name = 'OnnxSessionError';
}

/**
 * Loads a model from `.onnx` bytes or a file path.
 *
 * @throws OnnxSessionError when onnxruntime rejects the model (bad opset, unknown operator, shape error)
 */
export async function createSession(model: Uint8Array | string, options: SessionOptions = {}): Promise<OnnxSession> {
  const sessionOptions: Ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: options.optimization ?? 'all',
    intraOpNumThreads: defaultIntraOpThreads(),
  };
  if (options.intraOpThreads !== undefined) {
    if (!Number.isInteger(options.intraOpThreads) || options.intraOpThreads < 1) {
      throw new OnnxSessionError(`intraOpThreads must be a whole number ≥ 1, got ${options.intraOpThreads}.`);
    }
    sessionOptions.intraOpNumThreads = options.intraOpThreads;
  }
  if (options.lowMemory) {
    sessionOptions.enableCpuMemArena = false;
    sessionOptions.enableMemPattern = false;
  }
  if (options.interOpThreads !== undefined) {
    if (!Number.isInteger(options.interOpThreads) || options.interOpThreads < 1) {
      throw new OnnxSessionError(`interOpThreads must be a whole number ≥ 1, got ${options.interOpThreads}.`);
    }
    sessionOptions.executionMode = 'parallel';
    sessionOptions.interOpNumThreads = options.interOpThreads;
  }
  if (options.profilePrefix !== undefined) {
    sessionOptions.enableProfiling = true;
    sessionOptions.profileFilePrefix = options.profilePrefix;
  }
  if (options.spinWait === false) {
    // onnxruntime_session_options_config_keys.h: session.intra_op.allow_spinning.
    sessionOptions.extra = { session: { intra_op: { allow_spinning: '0' } } };
  }
  const requested = options.executionProvider ?? 'cpu';
  if (!(EXECUTION_PROVIDERS as readonly string[]).includes(requested)) {
    throw new OnnxSessionError(
      `Unknown execution provider "${String(requested)}". Expected one of: ${EXECUTION_PROVIDERS.join(', ')}.`,
    );
  }
  let notice: string | undefined;
  let provider: ExecutionProvider = 'cpu';
  let session: Ort.InferenceSession | undefined;
  if (requested === 'cuda' && cudaFailure === undefined) {
    try {
      session = await load(model, { ...sessionOptions, executionProviders: ['cuda', 'cpu'] });
      provider = 'cuda';
    } catch (error) {
      // Remembered for the process: onnxruntime logs each failed attempt natively, and a host that
      // cannot start CUDA once will not start it for the next graph either.
      cudaFailure = messageOf(error);
    }
  }
  if (requested === 'cuda' && provider !== 'cuda') {
    notice = `The CUDA execution provider is unavailable (${cudaFailure}); running on the CPU.`;
  }
  session ??= await load(model, sessionOptions);
  return {
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
    provider,
    notice,
    profilePrefix: options.profilePrefix,
    handle: session,
  };
}

async function load(
  model: Uint8Array | string,
  sessionOptions: Ort.InferenceSession.SessionOptions,
): Promise<Ort.InferenceSession> {
  const ort = runtime().ort;
  try {
    // Two calls because create's path and bytes overloads do not accept the union. Bytes from any realm
    // are fine here: the addon reads their underlying ArrayBuffer directly.
    return typeof model === 'string'
      ? await ort.InferenceSession.create(model, sessionOptions)
      : await ort.InferenceSession.create(model, sessionOptions);
  } catch (error) {
    const what = typeof model === 'string' ? `model file "${model}"` : `model (${model.byteLength} bytes)`;
    throw new OnnxSessionError(`onnxruntime could not load the ${what}: ${messageOf(error)}`);
  }
}

/** The cores this process may use: the default for {@link SessionOptions.intraOpThreads}. */
export function defaultIntraOpThreads(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Runs the model. Every graph input must be fed. The outputs named in `fetches` (every graph output when
 * it is omitted) are returned, copied into arrays owned by the caller; onnxruntime then computes only
 * the nodes those outputs need, so a pass that wants one output of a many-output graph neither pays for
 * nor holds the others.
 *
 * @throws OnnxSessionError on a missing or unknown feed or fetch, a size mismatch, or a runtime failure
 */
export async function run(
  session: OnnxSession,
  feeds: Readonly<Record<string, FloatTensor>>,
  fetches?: readonly string[],
): Promise<Record<string, FloatTensor>> {
  // onnxruntime computes on this thread until the run ends: give pending I/O and timers (a batch
  // worker's heartbeat, the CLI's progress) their turn before each run. The local server runs the engine
  // on a thread of its own (functions/worker/engine-thread/).
  await new Promise<void>((resolve) => setImmediate(resolve));
  const wanted = fetches ?? session.outputNames;
  const unknownFetches = wanted.filter((n) => !session.outputNames.includes(n));
  if (unknownFetches.length > 0) {
    throw new OnnxSessionError(
      `Unknown outputs [${unknownFetches.join(', ')}]. Expected some of: ${session.outputNames.join(', ')}.`,
    );
  }
  const missing = session.inputNames.filter((n) => !(n in feeds));
  const unknown = Object.keys(feeds).filter((n) => !session.inputNames.includes(n));
  if (missing.length > 0 || unknown.length > 0) {
    throw new OnnxSessionError(
      `Feeds do not match the model's inputs [${session.inputNames.join(', ')}]: ` +
        `missing [${missing.join(', ')}], unknown [${unknown.join(', ')}].`,
    );
  }
  const { ort, HostFloat32Array } = runtime();
  const ortFeeds: Record<string, Ort.Tensor> = {};
  for (const [name, { data, dims }] of Object.entries(feeds)) {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length) {
      throw new OnnxSessionError(
        `Feed "${name}" has dims [${dims.join(', ')}] (${size} values) but ${data.length} values.`,
      );
    }
    // Arrays already of onnxruntime's realm (always, outside a sandbox) are handed over as they are, views
    // included: at 4096 px a latent is ~800 MB, and a copy per run would be as large.
    let hostData: Float32Array = data;
    if (!((data as unknown) instanceof HostFloat32Array)) {
      hostData = new HostFloat32Array(data.length);
      hostData.set(data);
    }
    ortFeeds[name] = new ort.Tensor('float32', hostData, [...dims]);
  }
  let results: Ort.InferenceSession.ReturnType;
  try {
    results = await handleOf(session).run(ortFeeds, [...wanted]);
  } catch (error) {
    throw new OnnxSessionError(`onnxruntime failed to run the model: ${messageOf(error)}`);
  }
  const out: Record<string, FloatTensor> = {};
  for (const name of wanted) {
    const tensor = results[name];
    if (tensor === undefined) throw new OnnxSessionError(`onnxruntime returned no output "${name}".`);
    if (tensor.type !== 'float32') throw new OnnxSessionError(`Output "${name}" is ${tensor.type}, expected float32.`);
    // The addon's output arrays are ordinary JavaScript arrays of the main realm: kept as they are there
    // (an output can be hundreds of MB), copied only into a sandbox's realm.
    const data = tensor.data as Float32Array;
    out[name] = { data: data instanceof Float32Array ? data : copyFloats(data), dims: [...tensor.dims] };
  }
  return out;
}

/**
 * Stops a profiling session's recording and writes the profile: a Chrome trace-event JSON array in
 * which every node of every run is an event of category "Node" (see bench/support/onnx-profile.ts).
 *
 * @returns the file written, named by onnxruntime `<profilePrefix>_<date>_<time>.json`
 * @throws OnnxSessionError when the session was not created with `profilePrefix`
 */
export async function endProfiling(session: OnnxSession): Promise<string> {
  const prefix = session.profilePrefix;
  if (prefix === undefined) throw new OnnxSessionError('This session records no profile (no profilePrefix).');
  // onnxruntime-node drops the file name that onnxruntime returns; the prefix is the session's own, so the
  // one file that carries it is this session's.
  handleOf(session).endProfiling();
  const dir = path.dirname(prefix);
  const stem = `${path.basename(prefix)}_`;
  const found = (await fs.readdir(dir)).filter((f) => f.startsWith(stem) && f.endsWith('.json'));
  const [file] = found;
  if (file === undefined || found.length !== 1) {
    throw new OnnxSessionError(`Expected one profile named ${stem}….json in ${dir}, found ${found.length}.`);
  }
  return path.join(dir, file);
}

/** Releases the session's native memory. */
export async function closeSession(session: OnnxSession): Promise<void> {
  await handleOf(session).release();
}

function handleOf(session: OnnxSession): Ort.InferenceSession {
  return session.handle as Ort.InferenceSession;
}

interface Runtime {
  ort: typeof Ort;
  /** onnxruntime's realm's Float32Array, the only one its tensors accept. */
  HostFloat32Array: Float32ArrayConstructor;
}

let loaded: Runtime | undefined;

function runtime(): Runtime {
  if (!loaded) {
    const ort = mainRealmRequire()('onnxruntime-node') as typeof Ort;
    // A tensor built from a plain number array allocates its data with onnxruntime's own constructor.
    const probe = new ort.Tensor('float32', [0], [1]);
    loaded = { ort, HostFloat32Array: (probe.data as Float32Array).constructor as Float32ArrayConstructor };
  }
  return loaded;
}

/** A Float32Array of this module's realm, whatever realm `data` came from. */
function copyFloats(data: ArrayLike<number>): Float32Array {
  const copy = new Float32Array(data.length);
  copy.set(data);
  return copy;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
