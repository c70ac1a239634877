/**
 * A worker process for tests: the production worker process entry with the invert test engine in
 * place of onnxruntime. The step pause comes from TEST_STEP_MS so tests can make a job slow enough to
 * kill the process in the middle of it.
 */
import { runWorkerProcess } from '../../../../../functions/local/worker/worker-process';
import { InvertTestEngine } from '../../../../support/invert-test-engine';

runWorkerProcess(process.argv.slice(2), process.env, {
  engine: new InvertTestEngine({ steps: 20, stepMs: Number(process.env.TEST_STEP_MS ?? 0) }),
}).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
