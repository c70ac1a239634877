/**
 * Removing what finished training jobs leave on disk. Each training job gets a working folder (the
 * dataset copy, checkpoints, weights and exported package: `<data>/training/<job id>`); data folders
 * from older versions may also hold a download folder per job (`<data>/training-data/<job id>`). A job
 * that is still QUEUED or RUNNING needs them (a retry or a restart resumes from the checkpoints); once
 * the job is SUCCEEDED (its model is stored in the blob store), FAILED or CANCELLED, they are kept for
 * the retention period after it finished, for an operator to look into, and then deleted.
 *
 * Only folders named like job ids are considered. A folder whose job does not exist (left by a job
 * created and lost in a crash) is deleted once it has not changed for the retention period.
 */

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isTerminal, systemClock, type Clock, type JobStore } from '../../core';

/** Options for `sweepTrainingFiles` and `startTrainingFilesJanitor`. */
export interface TrainingFilesJanitorOptions {
  jobs: JobStore;
  /** Folders that hold one sub-folder per training job, named by its id. */
  roots: readonly string[];
  /** How long a finished job's folders are kept, in milliseconds; 0 deletes them at the next sweep. */
  retentionMs: number;
  /** @default systemClock */
  clock?: Clock;
}

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Deletes the expired folders under every root; returns the folders deleted. */
export async function sweepTrainingFiles(options: TrainingFilesJanitorOptions): Promise<string[]> {
  const now = (options.clock ?? systemClock)();
  const removed: string[] = [];
  for (const root of options.roots) {
    const entries = await fs.readdir(root, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    for (const entry of entries) {
      if (!entry.isDirectory() || !JOB_ID.test(entry.name)) continue;
      const dir = path.join(root, entry.name);
      const job = await options.jobs.get(entry.name);
      let since: number;
      if (job === null) since = (await fs.stat(dir)).mtimeMs;
      else if (isTerminal(job.status)) since = Date.parse(job.finishedAt ?? job.updatedAt);
      else continue;
      if (now - since < options.retentionMs) continue;
      await fs.rm(dir, { recursive: true, force: true });
      removed.push(dir);
    }
  }
  return removed;
}

/** A running janitor. */
export interface TrainingFilesJanitor {
  /** Stops the timer; resolves once a sweep in progress has ended. */
  stop(): Promise<void>;
}

/** Sweeps now and then every `intervalMs`, reporting failures to `onError` and carrying on. */
export function startTrainingFilesJanitor(
  options: TrainingFilesJanitorOptions & { intervalMs: number; onError?: (error: unknown) => void },
): TrainingFilesJanitor {
  let running: Promise<unknown> = Promise.resolve();
  const sweep = (): void => {
    running = running.then(() => sweepTrainingFiles(options)).catch((error: unknown) => options.onError?.(error));
  };
  sweep();
  const timer = setInterval(sweep, options.intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
