/**
 * `peerstyle worker --job-id <id>`: the stylize worker container's entry point under AWS Batch.
 *
 * The job definition runs `worker --job-id Ref::jobId`; everything else (the jobs table, the uploads,
 * results and models buckets) comes from the environment the stack sets on the container. The command
 * runs exactly one job and exits 0 when it succeeded, was cancelled or was not this container's to run,
 * and 1 when it failed, so the Batch job's status matches the platform job's. SIGTERM (a Batch timeout
 * or a Spot reclaim) stops the run and leaves the job for Batch's retry.
 */

import { tmpdir } from 'node:os';
import path from 'node:path';
import { readBatchAttempt } from '../../handlers/support/handler-env';
import { batchWorkerDepsFromEnv } from '../../wiring/aws';
import { runBatchStylizeJob } from '../../worker/run-batch-stylize-job';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../../engine';
import { parseArgs, usage, UsageError, type FlagSpec } from '../args';

const FLAGS: Record<string, FlagSpec> = {
  'job-id': { type: 'string', description: 'the platform job to run' },
  'model-cache': {
    type: 'string',
    description: 'folder for downloaded model packages (default: a folder in the temp dir)',
  },
  threads: { type: 'string', description: 'threads per inference (default 1)' },
  provider: {
    type: 'string',
    description: `where the model runs: ${EXECUTION_PROVIDERS.join(' or ')} (default cuda, falling back to cpu)`,
  },
  help: { type: 'boolean', description: 'show this help' },
};

/** Runs the command; returns the exit code. */
export async function workerCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { flags, positionals } = parseArgs(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(usage('worker --job-id <id>', 'run one stylize job (the AWS Batch container entry)', FLAGS));
    return 0;
  }
  const jobId = flags['job-id'];
  if (typeof jobId !== 'string' || jobId === '' || positionals.length > 0) {
    throw new UsageError('Usage: peerstyle worker --job-id <id>');
  }
  const threads = Number(flags.threads ?? '1');
  if (!Number.isInteger(threads) || threads < 1)
    throw new UsageError(`--threads must be a positive integer, got ${String(flags.threads)}.`);
  const modelCacheDir =
    typeof flags['model-cache'] === 'string' ? flags['model-cache'] : path.join(tmpdir(), 'peerstyle-models');

  const provider = flags.provider ?? 'cuda';
  if (typeof provider !== 'string' || !(EXECUTION_PROVIDERS as readonly string[]).includes(provider)) {
    throw new UsageError(
      `Unknown --provider "${String(provider)}". Expected one of: ${EXECUTION_PROVIDERS.join(', ')}.`,
    );
  }

  const deps = batchWorkerDepsFromEnv(
    { modelCacheDir, intraOpThreads: threads, executionProvider: provider as ExecutionProvider },
    env,
  );
  const stopping = new AbortController();
  const onTerm = (): void => stopping.abort();
  process.once('SIGTERM', onTerm);
  try {
    const result = await runBatchStylizeJob(deps, jobId, {
      batchAttempt: readBatchAttempt(env),
      signal: stopping.signal,
    });
    if (result.status === 'skipped') {
      process.stdout.write(`job ${jobId}: not run (${result.reason})\n`);
      return 0;
    }
    const detail = result.job.error ? ` ${result.job.error.code}: ${result.job.error.message}` : '';
    process.stdout.write(`job ${jobId}: ${result.status}${detail}\n`);
    return result.status === 'FAILED' ? 1 : 0;
  } finally {
    process.off('SIGTERM', onTerm);
  }
}
