/**
 * Previews through the local worker, with the real onnxruntime engine and the bundled model, a real
 * SQLite file and a real blob folder: a job whose output is over 512 px gets a preview by default, stored
 * as a JPEG beside the result and announced by a PREVIEW event before SUCCEEDED; `preview: false` turns
 * it off; a small output gets none unless asked, and then its preview is the result itself.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Job, JobEvent, JsonValue } from '../../../functions/core';
import { startPlatform, type Platform } from '../../../functions/local/main';
import { loadConfig } from '../../../functions/config';
import type { LocalRuntime } from '../../../functions/wiring/local';
import { IMAGES, tempDir } from '../../support/runtime';
import { at } from '../../support/checked';

let platform: Platform;
let rt: LocalRuntime;
let dataDir: string;

beforeAll(async () => {
  dataDir = await tempDir('preview');
  // The platform as `npm start` composes it, with its worker and the bundled model installed.
  platform = await startPlatform({
    config: loadConfig(['--data-dir', dataDir, '--port', '0', '--drop-dir=off', '--intra-op-threads=2'], {}),
    log: { info: () => undefined, error: () => undefined },
  });
  rt = platform.runtime;
  // A 640×480 content with structure to stylize: one of the fixtures, enlarged.
  const content = await sharp(await fs.readFile(path.join(IMAGES, 'photo-1.jpg')))
    .resize(640, 480)
    .jpeg()
    .toBuffer();
  await rt.blobs.put('uploads/alice/large.jpg', content);
  await rt.blobs.put('uploads/alice/small.jpg', await fs.readFile(path.join(IMAGES, 'photo-1.jpg')));
  await rt.blobs.put('uploads/alice/style.jpg', await fs.readFile(path.join(IMAGES, 'painting-1.jpg')));
});

afterAll(async () => {
  await platform?.stop();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

/** Queues a STYLIZE job in the shape submitStylizeJob stores, and collects its events to the end. */
async function run(content: string, extra: Record<string, JsonValue> = {}): Promise<{ job: Job; events: JobEvent[] }> {
  const { job, enqueued } = await rt.jobs.create({
    owner: 'alice',
    kind: 'STYLIZE',
    input: {
      contentKey: `uploads/alice/${content}`,
      styles: [{ key: 'uploads/alice/style.jpg', weight: 1, styleId: null }],
      modelId: 'tspr-default',
      strength: 1,
      preserveColor: false,
      styleSize: 128,
      format: 'png',
      ...extra,
    },
  });
  const subscription = rt.events.subscribe({ jobId: job.id });
  if (enqueued !== true) await rt.queue.enqueue(job.id);
  const events: JobEvent[] = [];
  for await (const event of subscription) {
    events.push(event);
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(event.job.status)) break;
  }
  subscription.unsubscribe();
  return { job: (await rt.jobs.get(job.id))!, events };
}

test('an output over 512 px gets a JPEG preview by default, announced before SUCCEEDED', async () => {
  const { job, events } = await run('large.jpg');
  expect(job.error).toBeNull();
  const types = events.map((e) => e.type);
  expect(types.filter((t) => t === 'PREVIEW')).toHaveLength(1);
  expect(types.indexOf('PREVIEW')).toBeLessThan(types.lastIndexOf('STATUS_CHANGED'));
  const announced = events.find((e) => e.type === 'PREVIEW')!.job;
  expect(announced.status).toBe('RUNNING');
  expect(announced.stage).toBe('preview');
  // Reported before the full-size work: the progress events after it carry on from there.
  expect(events.filter((e) => e.type === 'PROGRESS' && e.job.stage === 'transfer').length).toBeGreaterThan(0);
  expect(types.indexOf('PREVIEW')).toBeLessThan(events.findIndex((e) => e.job.stage === 'transfer'));

  expect(job.preview).toEqual({
    key: `results/${job.id}.preview.jpg`,
    width: 512,
    height: 384,
    contentType: 'image/jpeg',
  });
  const bytes = await rt.blobs.get(job.preview!.key);
  const meta = await sharp(bytes).metadata();
  expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 512, 384]);
  expect((await rt.blobs.head(job.preview!.key))?.contentType).toBe('image/jpeg');
  // The preview is the same picture as the result, smaller: close to the result scaled down.
  const result = job.result as { outputKey: string };
  const full = await sharp(await rt.blobs.get(result.outputKey))
    .resize(512, 384)
    .removeAlpha()
    .raw()
    .toBuffer();
  const small = await sharp(bytes).removeAlpha().raw().toBuffer();
  let diff = 0;
  full.forEach((v, i) => (diff += Math.abs(v - at(small, i))));
  expect(diff / full.length).toBeLessThan(40);
}, 120_000);

test('preview: false leaves a large output without one', async () => {
  const { job, events } = await run('large.jpg', { preview: false });
  expect(job.error).toBeNull();
  expect(events.map((e) => e.type)).not.toContain('PREVIEW');
  expect(job.preview).toBeUndefined();
  expect(await rt.blobs.head(`results/${job.id}.preview.jpg`)).toBeNull();
}, 120_000);

test('a small output gets no preview by default; asked for one, it gets the result itself as JPEG', async () => {
  const plain = await run('small.jpg');
  expect(plain.job.error).toBeNull();
  expect(plain.events.map((e) => e.type)).not.toContain('PREVIEW');
  expect(plain.job.preview).toBeUndefined();

  // size asks for more than 512 px: the default turns the preview on, whatever the content's size.
  const enlarged = await run('small.jpg', { size: 640 });
  expect(enlarged.job.preview).toMatchObject({ width: 512, height: 384 });

  const asked = await run('small.jpg', { preview: true });
  expect(asked.events.map((e) => e.type)).toContain('PREVIEW');
  const result = asked.job.result as { width: number; height: number };
  expect(asked.job.preview).toMatchObject({ width: result.width, height: result.height, contentType: 'image/jpeg' });
  expect((await sharp(await rt.blobs.get(asked.job.preview!.key)).metadata()).format).toBe('jpeg');
}, 120_000);
