/**
 * Data folders from before the single registry layout: a trained model that an older version stored
 * under `models/<owner>/<job id>/` and registered with that prefix keeps working. The runtime is
 * restarted on the folder (real SQLite file, real blob folders, the real onnxruntime engine on a
 * package exported from random `tiny` weights), a STYLIZE job with that model succeeds, and the next
 * model trained under the same name continues its version count under `models/<id>/<version>/`.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Worker } from '../../../functions/worker/worker';
import { exportTinyPackage } from '../../support/tiny-package';
import { IMAGES, jobStatus, openRuntime, tempDir, waitFor } from '../../support/runtime';

describe('models stored under the older layout', () => {
  it('still stylize after a restart, and the version count of their name carries on', async () => {
    const dataDir = await tempDir('legacy-layout');
    const { dir: packageDir, store } = await exportTinyPackage(11);
    store.dispose();
    const jobId = randomUUID();
    const modelId = randomUUID();
    const oldPrefix = `models/alice/${jobId}/`;

    // What an older version left: the package under the owner and job, and a row naming that prefix.
    const before = openRuntime(dataDir);
    try {
      const files = (await fs.readdir(packageDir)).sort();
      for (const file of files)
        await before.blobs.put(oldPrefix + file, await fs.readFile(path.join(packageDir, file)));
      before.db
        .prepare(
          'INSERT INTO models (id, name, version, owner, package_prefix, manifest, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          modelId,
          'oils',
          1,
          'alice',
          oldPrefix,
          JSON.stringify({ format: 'onnx-package', preset: 'tiny', steps: 4, files }),
          '2026-01-01T00:00:00.000Z',
        );
    } finally {
      before.close();
    }

    const rt = openRuntime(dataDir);
    const worker = new Worker({ ...rt.workerOptions(), heartbeatMs: 200, idlePollMs: 50 });
    try {
      expect(await rt.models.get(modelId, 'alice')).toMatchObject({ name: 'oils', packagePrefix: oldPrefix });
      await rt.blobs.put('uploads/alice/photo.jpg', await fs.readFile(path.join(IMAGES, 'photo-1.jpg')));
      await rt.blobs.put('uploads/alice/painting.jpg', await fs.readFile(path.join(IMAGES, 'painting-1.jpg')));
      const { job, enqueued } = await rt.jobs.create({
        owner: 'alice',
        kind: 'STYLIZE',
        input: {
          contentKey: 'uploads/alice/photo.jpg',
          styles: [{ key: 'uploads/alice/painting.jpg', weight: 1, styleId: null }],
          modelId,
          strength: 1,
          preserveColor: false,
          size: 64,
          styleSize: 64,
          format: 'PNG',
        },
      });
      if (enqueued !== true) await rt.queue.enqueue(job.id);
      worker.start();
      const done = await waitFor(
        () => jobStatus(rt, job.id),
        (j) => j.status !== 'QUEUED' && j.status !== 'RUNNING',
        60_000,
      );
      expect(done.error).toBeNull();
      expect(done.status).toBe('SUCCEEDED');

      const next = await rt.models.register(
        { id: rt.models.newId(), name: 'oils', owner: 'alice', manifest: {} },
        async () => {},
      );
      expect(next).toMatchObject({ version: 2, packagePrefix: `models/${next.id}/2/` });
    } finally {
      await worker.stop();
      rt.close();
      await fs.rm(packageDir, { recursive: true, force: true });
    }
  });
});
