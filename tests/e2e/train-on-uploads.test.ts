/**
 * The README's "Train a model" flow as a user runs it against `npm start`'s composition
 * (`startPlatform` on `loadConfig`, in process, on a free loopback port): images uploaded through
 * `createUpload` into two groups, `set/content` and `set/style`, are trained on with
 * `startTraining(dataset: { uploadPrefix })` (tiny preset, a few steps, the real trainer in a child
 * process); the progress comes over a graphql-ws subscription on a real WebSocket, the job SUCCEEDS,
 * the new model is listed by `models`, and a stylize job with that model returns an image. What the run
 * leaves on disk shows the flow: one copy of the uploads, in the run's training channel, and the
 * package the trainer exported, registered as it is under `models/<id>/<version>/`. Also the errors a
 * user meets on the way: a set without style images is refused by the mutation, and a set
 * whose images are not all JPEG, PNG or WebP fails its job with a message naming the group, never a
 * path on the server.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- GraphQL results are untyped JSON read by path. */

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import sharp from 'sharp';
import WebSocket from 'ws';
import { loadConfig } from '../../functions/config';
import { startPlatform, type Platform } from '../../functions/local/main';
import { gql, modelPackage, upload } from './support';
import { at } from '../support/checked';

const SAMPLE = path.join(__dirname, '..', '..', 'datasets', 'sample');
const sample = (folder: 'content' | 'style', name: string): Buffer => readFileSync(path.join(SAMPLE, folder, name));

const START_TRAINING = 'mutation($input: TrainingInput!) { startTraining(input: $input) { id kind status } }';
const JOB =
  'query($id: ID!) { job(id: $id) { id kind status stage progress error { code message } result { modelId downloads { url } } } }';

/** A GIF: an image the upload form accepts, but not one the trainer reads. */
async function gif(): Promise<Buffer> {
  return sharp({ create: { width: 32, height: 32, channels: 3, background: '#808080' } })
    .gif()
    .toBuffer();
}

describe('training on uploaded images, over HTTP and WebSocket', () => {
  let dir: string;
  let model: { dir: string; temporary: boolean };
  let platform: Platform;
  let key: string;
  let ws: Client;
  /** The training job of the first test and the model it registered. */
  let trained: { jobId: string; modelId: string } | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'peerstyle-train-e2e-'));
    model = await modelPackage();
    const config = loadConfig(['--port', '0', '--data-dir', path.join(dir, 'data'), '--drop-dir=off'], {}, dir);
    platform = await startPlatform({
      config,
      modelDir: model.dir,
      log: { info: () => undefined, error: () => undefined },
    });
    key = platform.createdApiKey!;
    ws = createClient({
      url: platform.graphqlUrl.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key}` },
      retryAttempts: 0,
    });
  });

  afterAll(async () => {
    await ws?.dispose();
    await platform?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (model?.temporary) rmSync(model.dir, { recursive: true, force: true });
  });

  /** Collects a job's `jobProgress` events until the stream completes at a terminal state. */
  function follow(id: string): Promise<{ type: string; status: string; stage: string; progress: number }[]> {
    const events: { type: string; status: string; stage: string; progress: number }[] = [];
    return new Promise((resolve, reject) => {
      ws.subscribe(
        {
          query: 'subscription($id: ID!) { jobProgress(id: $id) { type job { status stage progress } } }',
          variables: { id },
        },
        {
          next: ({ data, errors }) => {
            if (errors) reject(new Error(JSON.stringify(errors)));
            const event = (data as any).jobProgress;
            events.push({ type: event.type, ...event.job });
          },
          error: reject,
          complete: () => resolve(events),
        },
      );
    });
  }

  const startTraining = (uploadPrefix: string, idempotencyKey: string) =>
    gql(platform.origin, key, START_TRAINING, {
      input: {
        dataset: { uploadPrefix },
        preset: 'tiny',
        steps: 3,
        hyperparameters: [{ key: 'logEvery', value: '1' }],
        modelName: 'my-uploads',
        idempotencyKey,
      },
    });

  it('trains on a set uploaded into content and style groups, then stylizes with the new model', async () => {
    const contentKeys: string[] = [];
    for (const name of ['astronaut.jpg', 'chelsea.jpg'])
      contentKeys.push(await upload(platform.origin, key, sample('content', name), 'image/jpeg', 'tour-set/content'));
    const styleKeys: string[] = [];
    for (const name of ['starry-night.jpg', 'brick.jpg'])
      styleKeys.push(await upload(platform.origin, key, sample('style', name), 'image/jpeg', 'tour-set/style'));
    // The server names the files (no extension); the prefix is the group's parent.
    expect(contentKeys[0]).toMatch(/^uploads\/local\/tour-set\/content\/[0-9a-f-]{36}$/);

    const started = await startTraining('uploads/local/tour-set/', 'e2e-train-1');
    expect(started.errors).toBeUndefined();
    expect(started.data.startTraining).toMatchObject({ kind: 'TRAIN', status: 'QUEUED' });
    const id = started.data.startTraining.id as string;

    const events = await follow(id);
    const done = (await gql(platform.origin, key, JOB, { id })).data.job;
    expect(done.error).toBeNull();
    expect(done.status).toBe('SUCCEEDED');
    expect(events[events.length - 1]).toMatchObject({ type: 'STATUS_CHANGED', status: 'SUCCEEDED' });
    // The trainer's metric lines arrive as progress: one per step, with step/steps as the fraction.
    const steps = events.filter((e) => e.type === 'PROGRESS' && /^step \d+\/3$/.test(e.stage));
    expect(steps.map((e) => e.stage)).toEqual(expect.arrayContaining(['step 3/3']));
    expect(steps.length).toBeGreaterThanOrEqual(2);
    expect(at(steps, -1).progress).toBe(1);

    const modelId = done.result.modelId as string;
    expect(modelId).toEqual(expect.any(String));
    trained = { jobId: id, modelId };
    const models = (await gql(platform.origin, key, 'query { models { id name version builtIn } }')).data.models;
    expect(models).toContainEqual({ id: modelId, name: 'my-uploads', version: 1, builtIn: false });

    const stylized = await gql(
      platform.origin,
      key,
      'mutation($input: StylizeInput!) { stylize(input: $input) { id status } }',
      {
        input: {
          content: contentKeys[1],
          styles: [{ uploadKey: styleKeys[0] }],
          modelId,
          options: { size: 96, format: 'PNG' },
        },
      },
    );
    expect(stylized.errors).toBeUndefined();
    const stylizeId = stylized.data.stylize.id as string;
    const stylizeEvents = await follow(stylizeId);
    expect(stylizeEvents[stylizeEvents.length - 1]).toMatchObject({ type: 'STATUS_CHANGED', status: 'SUCCEEDED' });
    const result = (await gql(platform.origin, key, JOB, { id: stylizeId })).data.job;
    expect(result.error).toBeNull();
    const response = await fetch(result.result.downloads[0].url);
    expect(response.status).toBe(200);
    const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    expect([meta.format, Math.max(meta.width!, meta.height!)]).toEqual(['png', 96]);
  });

  it('registers the package the trainer exported, once, under models/<id>/<version>/, from one copy of the uploads', async () => {
    expect(trained).toBeDefined();
    const { jobId, modelId } = trained!;
    const rt = platform.runtime;
    const model = await rt.models.get(modelId, 'local');
    expect(model?.packagePrefix).toBe(`models/${modelId}/1/`);
    // The job folder is laid out as SageMaker's /opt/ml; the trainer exported the package into model/,
    // under the name the job asked for.
    const jobDir = path.join(dir, 'data', 'training', jobId);
    const exported = readFileSync(path.join(jobDir, 'model', 'manifest.json'));
    expect(JSON.parse(exported.toString('utf8')).name).toBe('my-uploads');
    // The registered package is that export, byte for byte (another export would carry its own
    // creation time), and nothing was exported beside it.
    expect(Buffer.from(await rt.blobs.get(`${model!.packagePrefix}manifest.json`))).toEqual(exported);
    expect(readdirSync(jobDir).sort()).toEqual(['checkpoints', 'input', 'model', 'output']);
    // The uploads were copied once, straight into the run's training channel.
    expect(existsSync(path.join(dir, 'data', 'training-data'))).toBe(false);
    expect(readdirSync(path.join(jobDir, 'input', 'data'))).toEqual(['training']);
    expect(readdirSync(path.join(jobDir, 'input', 'data', 'training', 'content'))).toHaveLength(2);
  });

  it('refuses a set without style images, naming the group to fill', async () => {
    await upload(platform.origin, key, sample('content', 'coffee.jpg'), 'image/jpeg', 'no-style/content');
    const refused = await startTraining('uploads/local/no-style/', 'e2e-train-2');
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    expect(refused.errors?.[0]?.message).toMatch(/0 style images under style\/.*group: "no-style\/style"/);
  });

  it('fails a job whose style images are not all JPEG, PNG or WebP, with the reason and no server path', async () => {
    await upload(platform.origin, key, sample('content', 'coffee.jpg'), 'image/jpeg', 'with-gif/content');
    await upload(platform.origin, key, sample('style', 'brick.jpg'), 'image/jpeg', 'with-gif/style');
    await upload(platform.origin, key, await gif(), 'image/gif', 'with-gif/style');
    const started = await startTraining('uploads/local/with-gif/', 'e2e-train-3');
    expect(started.errors).toBeUndefined();
    const id = started.data.startTraining.id as string;
    const events = await follow(id);
    expect(events[events.length - 1]).toMatchObject({ type: 'STATUS_CHANGED', status: 'FAILED' });
    const failed = (await gql(platform.origin, key, JOB, { id })).data.job;
    expect(failed.error.code).toBe('BAD_REQUEST');
    expect(failed.error.message).toMatch(/1 style image under style\/.*1 upload was left out because it is not a JPEG/);
    expect(failed.error.message).not.toContain(dir);
  });
});
