/**
 * The trainer's settings from the environment: the only trainer module that reads `process.env`.
 *
 * Each of these settings also has a flag of `peerstyle train`, and the flag wins, so the values are
 * kept as the raw strings here and validated where they meet their flag (`parseBackendRequest`,
 * `parseThreads`): an unusable variable is an error only when no flag overrides it. The trainer image
 * sets PEERSTYLE_BACKEND and PEERSTYLE_OPT_ML (infra/docker/trainer/Dockerfile).
 */

/** The environment variables the trainer reads, as given (unset is `undefined`). */
export interface TrainerEnv {
  /** PEERSTYLE_BACKEND: the backend to use when no `--backend` is given (see trainer/backend.ts). */
  readonly backend: string | undefined;
  /** PEERSTYLE_THREADS: wasm threads when no `--threads` is given (see trainer/wasm-threads.ts). */
  readonly threads: string | undefined;
  /**
   * PEERSTYLE_OPT_ML: root of the SageMaker layout when no `--opt-ml` is given; when set, `train`
   * without `--data` runs under the SageMaker contract (trainer/sagemaker.ts).
   */
  readonly optMl: string | undefined;
  /**
   * PEERSTYLE_NATIVE_CONV: `off` keeps the wasm backend's own convolutions instead of onnxruntime's
   * native ones (trainer/native-conv), to compare the two or to train where onnxruntime misbehaves.
   */
  readonly nativeConv: string | undefined;
}

/** Reads the trainer's variables from `env`, the process's own unless given. */
export function readTrainerEnv(env: NodeJS.ProcessEnv = process.env): TrainerEnv {
  return {
    backend: env.PEERSTYLE_BACKEND,
    threads: env.PEERSTYLE_THREADS,
    optMl: env.PEERSTYLE_OPT_ML,
    nativeConv: env.PEERSTYLE_NATIVE_CONV,
  };
}
