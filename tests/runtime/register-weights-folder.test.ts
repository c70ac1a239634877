/** The alternative model hook: registering a weights folder as it is, and refusing a folder without weights. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { registerWeightsFolder } from '../../functions/local/worker/register-weights-folder';
import { openRuntime, tempDir } from './support/runtime';

describe('registerWeightsFolder', () => {
  it('stores the folder under the job’s prefix and registers a new version of the name', async () => {
    const rt = openRuntime(await tempDir('weights-hook'));
    try {
      const dir = await tempDir('weights');
      await fs.writeFile(path.join(dir, 'weights.json'), '{"iteration":3}');
      await fs.writeFile(path.join(dir, 'weights.bin'), Buffer.from([1, 2, 3]));
      const { job } = await rt.jobs.create({ owner: 'alice', kind: 'TRAIN', input: {} });
      const hook = registerWeightsFolder(rt);
      const first = (await hook({ job, modelDir: dir, name: 'oils', lastStep: 3 })) as Record<string, unknown>;
      const second = (await hook({ job, modelDir: dir, name: 'oils', lastStep: 3 })) as Record<string, unknown>;
      expect(first.packagePrefix).toBe(`models/alice/${job.id}/`);
      expect([first.version, second.version]).toEqual([1, 2]);
      expect(Buffer.from(await rt.blobs.get(`models/alice/${job.id}/weights.bin`))).toEqual(Buffer.from([1, 2, 3]));
      const model = await rt.models.get(first.modelId as string, 'alice');
      expect(model?.manifest).toMatchObject({
        format: 'tfjs-weights',
        steps: 3,
        files: ['weights.bin', 'weights.json'],
      });

      const empty = await tempDir('no-weights');
      await expect(hook({ job, modelDir: empty, name: 'oils', lastStep: 0 })).rejects.toThrow(/has no weights.json/);
    } finally {
      rt.close();
    }
  });
});
