/**
 * `startWorkerPool`: several worker loops sharing one set of ports in this process, which is how the
 * embedded server runs jobs concurrently. Each worker holds at most one lease, so the pool size is the
 * number of jobs that run at once.
 */

import { Worker, type WorkerOptions } from '../../worker/worker';

/** A running set of workers. */
export interface WorkerPool {
  readonly workers: readonly Worker[];
  /** Stops every worker; jobs in progress are handed back to the queue. */
  stop(): Promise<void>;
}

/** Starts `concurrency` workers named `<prefix>-1`, `<prefix>-2`, … */
export function startWorkerPool(
  concurrency: number,
  options: Omit<WorkerOptions, 'id'>,
  prefix = `worker-${process.pid}`,
): WorkerPool {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`Worker concurrency must be a positive integer, got ${concurrency}.`);
  }
  const workers = Array.from({ length: concurrency }, (_, i) => new Worker({ ...options, id: `${prefix}-${i + 1}` }));
  for (const worker of workers) worker.start();
  return {
    workers,
    stop: async () => {
      await Promise.all(workers.map((worker) => worker.stop()));
    },
  };
}
