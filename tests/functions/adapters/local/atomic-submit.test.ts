/**
 * Creating a job and queueing it are one SQLite transaction in the local runtime (issue 12, item 18):
 * a crash right after the job row is written cannot leave a QUEUED job that no worker ever receives.
 */

import { promises as fs } from 'node:fs';
import { DEFAULT_LIMITS, startTraining } from '../../../../functions/core/use-cases';
import type { JobQueue } from '../../../../functions/core';
import { openRuntime, SAMPLE, tempDir } from '../../../support/runtime';
import path from 'node:path';

let dir: string;
beforeEach(async () => {
  dir = await tempDir('atomic');
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

test('a crash where the separate enqueue used to be still leaves the job receivable, once', async () => {
  const rt = openRuntime(path.join(dir, 'data'));
  try {
    // The process "dies" at the moment the old code made its second write.
    const crashing: JobQueue = Object.assign(Object.create(rt.queue) as JobQueue, {
      enqueue: async () => {
        throw new Error('crash between the job write and the queue write');
      },
    });
    const deps = { ...rt, queue: crashing, limits: { ...DEFAULT_LIMITS, datasetFolders: [path.basename(SAMPLE)] } };
    const request = { dataset: { folder: 'sample' }, preset: 'tiny', steps: 1, idempotencyKey: 'once' };
    const job = await startTraining(deps, 'alice', request);
    // A retry with the same key returns the job and does not queue it twice.
    expect((await startTraining(deps, 'alice', request)).id).toBe(job.id);
    expect(await rt.queue.stats()).toMatchObject({ visible: 1 });
    expect((await rt.queue.receive('w', 60))?.jobId).toBe(job.id);
    expect(await rt.queue.receive('w', 60)).toBeNull();
  } finally {
    rt.close();
  }
});
