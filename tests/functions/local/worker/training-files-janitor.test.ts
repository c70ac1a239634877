/**
 * What finished training jobs leave on disk is deleted after the retention period: the working folder
 * (dataset copy, checkpoints) under `<data>/training/` and the downloaded uploads under
 * `<data>/training-data/`. Jobs still queued or running keep theirs (a retry resumes from the
 * checkpoints). Real SQLite job records and real folders; the clock is the runtime's own.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Job, JobStatus } from '../../../../functions/core';
import { loadConfig } from '../../../../functions/config';
import { startPlatform } from '../../../../functions/local/main';
import { sweepTrainingFiles } from '../../../../functions/local/worker/training-files-janitor';
import type { LocalRuntime } from '../../../../functions/wiring/local';
import { openRuntime, tempDir, waitFor } from '../../../support/runtime';

const HOUR = 60 * 60 * 1000;

/** A TRAIN job moved to `status`, with a working folder (checkpoint inside) and a download folder. */
async function trainingJobIn(rt: LocalRuntime, status: JobStatus): Promise<{ job: Job; dirs: string[] }> {
  const { job } = await rt.jobs.create({ owner: 'alice', kind: 'TRAIN', input: { preset: 'tiny', steps: 3 } });
  if (status !== 'QUEUED') await rt.jobs.transition(job.id, 'QUEUED', 'RUNNING');
  if (status === 'FAILED') {
    await rt.jobs.transition(job.id, 'RUNNING', 'FAILED', { error: { code: 'INTERNAL' as never, message: 'x' } });
  }
  if (status === 'CANCELLED') {
    await rt.jobs.requestCancel(job.id);
    await rt.jobs.transition(job.id, 'RUNNING', 'CANCELLED');
  }
  if (status === 'SUCCEEDED') await rt.jobs.transition(job.id, 'RUNNING', 'SUCCEEDED', { result: { modelId: 'm' } });
  const work = path.join(rt.config.dataDir, 'training', job.id);
  const data = path.join(rt.config.dataDir, 'training-data', job.id);
  await fs.mkdir(path.join(work, 'checkpoints', 'ckpt-00000002'), { recursive: true });
  await fs.writeFile(path.join(work, 'checkpoints', 'ckpt-00000002', 'state.json'), '{}');
  await fs.mkdir(path.join(data, 'style'), { recursive: true });
  await fs.writeFile(path.join(data, 'style', 'a.jpg'), 'x');
  return { job: (await rt.jobs.get(job.id)) as Job, dirs: [work, data] };
}

describe('training files of finished jobs', () => {
  it('are kept for the retention period after the job finished, then deleted; active jobs keep theirs', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const rt = openRuntime(await tempDir('training-files'), { clock: () => now });
    try {
      const failed = await trainingJobIn(rt, 'FAILED');
      const cancelled = await trainingJobIn(rt, 'CANCELLED');
      const succeeded = await trainingJobIn(rt, 'SUCCEEDED');
      const running = await trainingJobIn(rt, 'RUNNING');
      const queued = await trainingJobIn(rt, 'QUEUED');
      // Not a job's folder: never touched.
      const other = path.join(rt.config.dataDir, 'training', 'notes');
      await fs.mkdir(other);
      const options = {
        jobs: rt.jobs,
        roots: ['training', 'training-data'].map((d) => path.join(rt.config.dataDir, d)),
      };

      now += 24 * HOUR - 1000;
      expect(await sweepTrainingFiles({ ...options, retentionMs: 24 * HOUR, clock: () => now })).toEqual([]);

      now += 2000;
      const removed = await sweepTrainingFiles({ ...options, retentionMs: 24 * HOUR, clock: () => now });
      expect(removed.sort()).toEqual([...failed.dirs, ...cancelled.dirs, ...succeeded.dirs].sort());
      for (const dir of [...failed.dirs, ...cancelled.dirs, ...succeeded.dirs]) expect(existsSync(dir)).toBe(false);
      for (const dir of [...running.dirs, ...queued.dirs, other]) expect(existsSync(dir)).toBe(true);
    } finally {
      rt.close();
    }
  });

  it('an orphan folder (no such job) goes once it has not changed for the retention period', async () => {
    const rt = openRuntime(await tempDir('training-orphans'));
    try {
      const orphan = path.join(rt.config.dataDir, 'training', randomUUID());
      await fs.mkdir(orphan, { recursive: true });
      const options = { jobs: rt.jobs, roots: [path.join(rt.config.dataDir, 'training')] };
      expect(await sweepTrainingFiles({ ...options, retentionMs: HOUR })).toEqual([]);
      expect(await sweepTrainingFiles({ ...options, retentionMs: HOUR, clock: () => Date.now() + 2 * HOUR })).toEqual([
        orphan,
      ]);
    } finally {
      rt.close();
    }
  });

  it('npm start sweeps them with --training-retention-hours=0, and leaves them with the default', async () => {
    const quiet = { info: () => undefined, error: () => undefined };
    const dataDir = await tempDir('training-files-serve');
    let failed: { job: Job; dirs: string[] };
    const rt = openRuntime(dataDir);
    try {
      failed = await trainingJobIn(rt, 'FAILED');
    } finally {
      rt.close();
    }
    for (const [flags, kept] of [
      [[], true],
      [['--training-retention-hours=0'], false],
    ] as const) {
      const config = loadConfig(
        ['--port', '0', '--data-dir', dataDir, '--drop-dir=off', '--workers=0', ...flags],
        {},
        dataDir,
      );
      const platform = await startPlatform({ config, modelDir: null, log: quiet });
      try {
        await waitFor(
          () => failed.dirs.map((dir) => existsSync(dir)),
          (present) => present.every((p) => p === kept),
          5000,
        );
        if (kept) await new Promise((resolve) => setTimeout(resolve, 300));
        expect({ flags, present: failed.dirs.map((dir) => existsSync(dir)) }).toEqual({
          flags,
          present: [kept, kept],
        });
      } finally {
        await platform.stop();
      }
    }
  });
});
