/**
 * The `quality` stylize option over the wire: the platform as `npm start` composes it (real HTTP on
 * loopback, SQLite, blobs on disk, the worker pool and the onnxruntime engine with the bundled model)
 * takes one content and style through presigned uploads and the `stylize` mutation three times, as
 * JPEG at quality 10, at the default and at 95, and the signed downloads are JPEGs of the content's
 * size whose byte counts rise with the quality.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- GraphQL results are untyped JSON read by path. */

import sharp from 'sharp';
import type { Platform } from '../../functions/local/main';
import { gql, image, startTestPlatform, upload } from './support';

const JOB = 'query($id: ID!) { job(id: $id) { status error { code message } result { downloads { url } } } }';

let platform: Platform;
let stopPlatform: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ platform, stop: stopPlatform } = await startTestPlatform('quality', ['--intra-op-threads=1']));
}, 60_000);

afterAll(async () => {
  await stopPlatform?.();
});

/** Submits a stylize job with `options`, waits for it to finish and downloads its result. */
async function stylize(key: string, content: string, style: string, options: Record<string, unknown>) {
  const submitted = await gql(platform.origin, key, 'mutation($i: StylizeInput!) { stylize(input: $i) { id } }', {
    i: { content, styles: [{ uploadKey: style }], options },
  });
  expect(submitted.errors).toBeUndefined();
  const id = submitted.data.stylize.id as string;
  let job: any;
  for (let i = 0; i < 1200; i += 1) {
    job = (await gql(platform.origin, key, JOB, { id })).data.job;
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(job).toMatchObject({ status: 'SUCCEEDED', error: null });
  const response = await fetch(job.result.downloads[0].url);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

test('a JPEG result is encoded at the quality the mutation asks for', async () => {
  const key = platform.createdApiKey!;
  const content = image('photo-1.jpg');
  const contentKey = await upload(platform.origin, key, content);
  const styleKey = await upload(platform.origin, key, image('painting-1.jpg'));
  const source = await sharp(content).metadata();

  const low = await stylize(key, contentKey, styleKey, { format: 'JPEG', quality: 10 });
  const byDefault = await stylize(key, contentKey, styleKey, { format: 'JPEG' });
  const high = await stylize(key, contentKey, styleKey, { format: 'JPEG', quality: 95 });

  for (const bytes of [low, byDefault, high]) {
    const meta = await sharp(bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', source.width, source.height]);
  }
  expect(low.length).toBeLessThan(byDefault.length);
  expect(byDefault.length).toBeLessThan(high.length);
}, 300_000);
