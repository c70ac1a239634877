/**
 * A process that only runs workers: reads the configuration, builds the runtime, starts the configured
 * number of worker loops and, on SIGTERM or SIGINT, stops them (jobs in progress go back to the queue
 * at once) and closes the database. Several of these may share one data folder with the server, since
 * the queue and job store are safe across processes.
 */

import { loadConfig } from '../../config';
import { createLocalRuntime, type RuntimeOverrides } from '../../wiring/local';
import { listenForStopSignal } from '../stop-signal';
import { startWorkerPool } from './worker-pool';

/** Runs workers until a stop signal; resolves with the exit code. */
export async function runWorkerProcess(
  argv: readonly string[] = process.argv.slice(2),
  env?: NodeJS.ProcessEnv,
  overrides: RuntimeOverrides = {},
): Promise<number> {
  const stopSignal = listenForStopSignal();
  // Without `env`, the configuration module reads the process's own.
  const config = loadConfig(argv, env);
  const runtime = createLocalRuntime(config, overrides);
  const pool = startWorkerPool(Math.max(1, config.workers), {
    ...runtime.workerOptions(),
    onError: (error) => process.stderr.write(`worker: ${error instanceof Error ? error.message : String(error)}\n`),
  });
  process.stdout.write(`workers ready: ${pool.workers.map((w) => w.id).join(', ')}\n`);
  await stopSignal;
  await pool.stop();
  runtime.close();
  return 0;
}

if (require.main === module) {
  runWorkerProcess().then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 2;
    },
  );
}
