/**
 * Training jobs end to end: the real `peerstyle train --sagemaker` in a child process with the tiny
 * preset on the wasm backend, driven by a worker through the job store and queue on a SQLite file.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { JobEvent } from '../../../../functions/core';
import { cancelJob } from '../../../../functions/core/use-cases/jobs';
import type { TrainerLauncher, TrainingOutcome } from '../../../../functions/core/ports/trainer-launcher';
import { createTrainExecutor, type TrainedModel } from '../../../../functions/local/worker/train-executor';
import { Worker } from '../../../../functions/worker/worker';
import type { LocalRuntime } from '../../../../functions/wiring/local';
import { InvertTestEngine } from '../../../support/invert-test-engine';
import { IMAGES, jobStatus, openRuntime, SAMPLE, tempDir, waitFor } from '../../../support/runtime';
import { at } from '../../../support/checked';

const CONTENT = ['astronaut.jpg', 'chelsea.jpg'];
const STYLES = ['starry-night.jpg', 'brick.jpg'];

/** An operator's datasets folder offering "mini": two content and two style images, the least the trainer takes. */
async function datasetsDir(): Promise<string> {
  const root = await tempDir('train-datasets');
  const mini = path.join(root, 'mini');
  await fs.mkdir(path.join(mini, 'content'), { recursive: true });
  await fs.mkdir(path.join(mini, 'style'));
  for (const f of CONTENT) await fs.copyFile(path.join(SAMPLE, 'content', f), path.join(mini, 'content', f));
  for (const f of STYLES) await fs.copyFile(path.join(SAMPLE, 'style', f), path.join(mini, 'style', f));
  return root;
}

/** The same images uploaded by alice under one prefix, as a client would. */
async function uploadDataset(rt: LocalRuntime): Promise<string> {
  const prefix = 'uploads/alice/set-1/';
  for (const f of CONTENT)
    await rt.blobs.put(`${prefix}content/${f}`, await fs.readFile(path.join(SAMPLE, 'content', f)));
  for (const f of STYLES) await rt.blobs.put(`${prefix}style/${f}`, await fs.readFile(path.join(SAMPLE, 'style', f)));
  return prefix;
}

interface Harness {
  rt: LocalRuntime;
  worker: Worker;
  trained: TrainedModel[];
  outcomes: TrainingOutcome[];
}

async function harness(name: string, timing: { leaseSeconds?: number; heartbeatMs?: number } = {}): Promise<Harness> {
  const rt = openRuntime(
    await tempDir(name),
    { engine: new InvertTestEngine(), trainerEnv: { PEERSTYLE_BACKEND: 'wasm' } },
    [`--datasets-dir=${await datasetsDir()}`],
  );
  const trained: TrainedModel[] = [];
  const outcomes: TrainingOutcome[] = [];
  // Records what the real launcher returned, so the test can tell a clean stop from a crash.
  const launcher: TrainerLauncher = {
    train: async (launch, options) => {
      const outcome = await rt.trainer.train(launch, options);
      outcomes.push(outcome);
      return outcome;
    },
  };
  const train = createTrainExecutor({
    launcher,
    copyDataset: rt.copyDataset,
    onModelTrained: async (model) => {
      trained.push(model);
      return rt.onModelTrained(model);
    },
  });
  const worker = new Worker({
    ...rt.workerOptions(),
    executors: { ...rt.executors, TRAIN: train },
    leaseSeconds: 30,
    heartbeatMs: 100,
    idlePollMs: 50,
    ...timing,
  });
  worker.start();
  return { rt, worker, trained, outcomes };
}

/** Queues a TRAIN job with the input `startTraining` would store. */
async function submitTraining(
  rt: LocalRuntime,
  steps: number,
  hyperparameters: Record<string, string>,
  dataset: { folder: string } | { uploadPrefix: string } = { folder: 'mini' },
): Promise<string> {
  const { job, enqueued } = await rt.jobs.create({
    owner: 'alice',
    kind: 'TRAIN',
    input: { dataset, preset: 'tiny', steps, hyperparameters, modelName: 'my-style' },
  });
  if (enqueued !== true) await rt.queue.enqueue(job.id);
  return job.id;
}

describe('training jobs', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.worker.stop();
    h?.rt.close();
    h = undefined;
  });

  it('trains on uploaded images with the tiny preset, reports losses as progress, exports and registers the model, which then stylizes', async () => {
    h = await harness('train-ok');
    const { rt } = h;
    const seen: JobEvent[] = [];
    const subscription = rt.events.subscribe({ owner: 'alice' });
    const collecting = (async () => {
      for await (const event of subscription) {
        seen.push(event);
        if (event.type === 'STATUS_CHANGED' && ['SUCCEEDED', 'FAILED'].includes(event.job.status)) break;
      }
    })();
    const id = await submitTraining(rt, 4, { logEvery: '1' }, { uploadPrefix: await uploadDataset(rt) });
    await collecting;

    const done = await jobStatus(rt, id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('SUCCEEDED');
    const metricEvents = seen.filter((e) => e.type === 'PROGRESS' && e.job.stage.startsWith('step '));
    const steps = metricEvents.map((e) => at(e.job.metrics.history, -1).step);
    expect(steps).toEqual([...new Set(steps)].sort((a, b) => a - b));
    expect(steps[steps.length - 1]).toBe(4);
    const last = at(metricEvents, -1).job;
    expect(last.progress).toBe(1); // step 4 of 4
    expect(metricEvents[0]?.job.progress).toBeCloseTo(at(steps, 0) / 4);
    expect(Number.isFinite(last.metrics.latest.loss_idt)).toBe(true);
    expect(done.metrics.history.map((p) => p.step)).toContain(4);

    expect(h.trained).toHaveLength(1);
    const weights = JSON.parse(await fs.readFile(path.join(h.trained[0]!.modelDir, 'weights.json'), 'utf8'));
    expect(weights.iteration).toBe(4);
    const result = done.result as { modelId: string; packagePrefix: string };
    const model = await rt.models.get(result.modelId, 'alice');
    expect(model?.name).toBe('my-style');
    expect(result.packagePrefix).toBe(`models/${result.modelId}/1/`);
    // The trainer exported the weights: the registered package is loadable ONNX.
    expect(model?.manifest).toMatchObject({ format: 'onnx-package', preset: 'tiny', steps: 4 });
    for (const file of ['manifest.json', 'encoder.onnx', 'tpfr.onnx', 'decoder.onnx']) {
      expect(await rt.blobs.head(`${result.packagePrefix}${file}`)).not.toBeNull();
    }

    // The new model stylizes at once: a STYLIZE job naming it runs on the onnxruntime engine.
    await h.worker.stop();
    const dataDir = rt.config.dataDir;
    const real = openRuntime(dataDir); // the composition root's own engine, loaded lazily
    const stylizer = new Worker({ ...real.workerOptions(), heartbeatMs: 200, idlePollMs: 50 });
    try {
      await real.blobs.put('uploads/alice/photo.jpg', await fs.readFile(path.join(IMAGES, 'photo-1.jpg')));
      await real.blobs.put('uploads/alice/painting.jpg', await fs.readFile(path.join(IMAGES, 'painting-1.jpg')));
      const { job, enqueued } = await real.jobs.create({
        owner: 'alice',
        kind: 'STYLIZE',
        input: {
          contentKey: 'uploads/alice/photo.jpg',
          styles: [{ key: 'uploads/alice/painting.jpg', weight: 1, styleId: null }],
          modelId: result.modelId,
          strength: 1,
          preserveColor: false,
          size: 64,
          styleSize: 64,
          format: 'PNG',
        },
      });
      if (enqueued !== true) await real.queue.enqueue(job.id);
      stylizer.start();
      const stylized = await waitFor(
        () => jobStatus(real, job.id),
        (j) => j.status !== 'QUEUED' && j.status !== 'RUNNING',
        60_000,
      );
      expect(stylized.error).toBeNull();
      const output = stylized.result as { outputKey: string; width: number; height: number };
      expect(Math.max(output.width, output.height)).toBe(64);
      const meta = await sharp(Buffer.from(await real.blobs.get(output.outputKey))).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', output.width, output.height]);
    } finally {
      await stylizer.stop();
      real.close();
    }
  });

  it('sends SIGTERM to a running training on cancel; it checkpoints, exits 0, and the job is CANCELLED', async () => {
    h = await harness('train-cancel');
    const { rt } = h;
    const id = await submitTraining(rt, 100_000, { logEvery: '1' });
    await waitFor(
      () => jobStatus(rt, id),
      (j) => j.metrics.history.length > 0,
      60_000,
    );
    await rt.jobs.requestCancel(id, 'alice');
    const done = await waitFor(
      () => jobStatus(rt, id),
      (j) => j.status === 'CANCELLED',
      60_000,
    );
    expect(done.error?.code).toBe('CANCELLED');
    expect(h.outcomes).toHaveLength(1);
    const outcome = h.outcomes[0]!;
    expect(outcome.status).toBe('STOPPED'); // exit code 0, not a kill
    expect(h.trained).toHaveLength(0);
    const latest = (await fs.readFile(path.join(outcome.checkpointDir, 'latest'), 'utf8')).trim();
    await expect(fs.access(path.join(outcome.checkpointDir, latest, 'tensors.bin'))).resolves.toBeUndefined();
  });

  it('stops a training run within an iteration of the cancel mutation, without waiting for a heartbeat', async () => {
    // The server's own timing: a 60 s lease, heartbeats every 20 s.
    h = await harness('train-cancel-fast', { leaseSeconds: 60, heartbeatMs: undefined });
    const { rt } = h;
    const id = await submitTraining(rt, 100_000, { logEvery: '1', checkpointEvery: '100000' });
    const running = await waitFor(
      () => jobStatus(rt, id),
      (j) => j.metrics.history.length >= 2,
      60_000,
    );
    const seen = at(running.metrics.history, -1).step;
    const asked = Date.now();
    await cancelJob({ jobs: rt.jobs, events: rt.events }, 'alice', id);
    const done = await waitFor(
      () => jobStatus(rt, id),
      (j) => j.status === 'CANCELLED',
      30_000,
    );
    const seconds = (Date.now() - asked) / 1000;
    const stoppedAt = Number(
      (await fs.readFile(path.join(at(h.outcomes, 0).checkpointDir, 'latest'), 'utf8')).trim().slice(5),
    );
    // The iteration running when the request came, and at most one more that had started while the
    // metric line of the one before was on its way: not the dozens a 20 s heartbeat allowed.
    expect(stoppedAt - seen).toBeLessThanOrEqual(2);
    expect(seconds).toBeLessThan(5);
    expect(done.error?.code).toBe('CANCELLED');
    expect(h.outcomes[0]).toMatchObject({ status: 'STOPPED', lastStep: stoppedAt }); // exit 0 after its checkpoint
  });

  it('fails the job with the trainer’s reason from output/failure', async () => {
    h = await harness('train-bad');
    const { rt } = h;
    const id = await submitTraining(rt, 2, { knn: '0' });
    const done = await waitFor(
      () => jobStatus(rt, id),
      (j) => j.status === 'FAILED',
      60_000,
    );
    expect(done.error?.message).toMatch(/Training exited with code 1: .*knn must be between/);
    expect(h.trained).toHaveLength(0);
  });
});
