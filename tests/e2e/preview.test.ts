/**
 * A preview over the wire, as a client sees it: the platform as `npm start` composes it (real HTTP and
 * graphql-ws on loopback, SQLite, blobs on disk, the onnxruntime engine with the bundled model) takes a
 * 1536×1024 content through a presigned upload and the `stylize` mutation, with no options, so the
 * default asks for a preview. The `jobProgress` subscription delivers a PREVIEW event whose signed link
 * downloads a JPEG with a 512 px long side, and the download completes before the SUCCEEDED event
 * arrives; the full image follows at the content's size.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- GraphQL results are untyped JSON read by path. */

import { createClient, type Client } from 'graphql-ws';
import sharp from 'sharp';
import WebSocket from 'ws';
import type { Platform } from '../../functions/local/main';
import { gql, image, startTestPlatform, upload } from './support';
import { at } from '../support/checked';

const PROGRESS = `subscription($id: ID!) {
  jobProgress(id: $id) { type job { status stage progress preview { url width height } result { downloads { url } } } }
}`;

let platform: Platform;
let client: Client | undefined;
let stopPlatform: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ platform, stop: stopPlatform } = await startTestPlatform('preview', ['--intra-op-threads=2']));
}, 60_000);

afterAll(async () => {
  await client?.dispose();
  await stopPlatform?.();
});

/** A fetched download: when it completed, and what it held. */
interface Fetched {
  at: number;
  status: number;
  contentType: string | null;
  bytes: Buffer;
}

async function download(url: string): Promise<Fetched> {
  const response = await fetch(url);
  const bytes = Buffer.from(await response.arrayBuffer());
  return { at: Date.now(), status: response.status, contentType: response.headers.get('content-type'), bytes };
}

test('the PREVIEW event of a large content brings a working link to a 512 px JPEG before SUCCEEDED', async () => {
  const key = platform.createdApiKey!;
  const content = await sharp(image('photo-2.jpg')).resize(1536, 1024).jpeg({ quality: 90 }).toBuffer();
  const contentKey = await upload(platform.origin, key, content);
  const styleKey = await upload(platform.origin, key, image('painting-1.jpg'));

  const submitted = await gql(platform.origin, key, 'mutation($i: StylizeInput!) { stylize(input: $i) { id } }', {
    i: { content: contentKey, styles: [{ uploadKey: styleKey }], options: { format: 'PNG' } },
  });
  expect(submitted.errors).toBeUndefined();
  const id = submitted.data.stylize.id as string;

  client = createClient({
    url: `${platform.origin.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
  });
  const events: { type: string; at: number; job: any }[] = [];
  let previewDownload: Promise<Fetched> | undefined;
  await new Promise<void>((resolve, reject) => {
    client!.subscribe<any>(
      { query: PROGRESS, variables: { id } },
      {
        next: ({ data, errors }) => {
          if (errors) return reject(new Error(JSON.stringify(errors)));
          const { type, job } = data.jobProgress;
          events.push({ type, at: Date.now(), job });
          // Fetched at once, as a client that shows it would.
          if (type === 'PREVIEW') previewDownload = download(job.preview.url);
        },
        error: reject,
        complete: resolve,
      },
    );
  });

  const types = events.map((e) => e.type);
  const last = at(events, -1);
  expect(last).toMatchObject({ type: 'STATUS_CHANGED', job: { status: 'SUCCEEDED' } });
  expect(types.filter((t) => t === 'PREVIEW')).toHaveLength(1);
  const previewEvent = events.find((e) => e.type === 'PREVIEW')!;
  expect(previewEvent.job).toMatchObject({ status: 'RUNNING', stage: 'preview', preview: { width: 512, height: 341 } });
  // Full-size work was still to come: progress events for it follow the preview.
  expect(types.slice(types.indexOf('PREVIEW')).filter((t) => t === 'PROGRESS').length).toBeGreaterThan(2);

  const fetched = await previewDownload!;
  expect([fetched.status, fetched.contentType]).toEqual([200, 'image/jpeg']);
  expect(fetched.at).toBeLessThan(last.at);
  const meta = await sharp(fetched.bytes).metadata();
  expect(meta.format).toBe('jpeg');
  expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(512);
  expect([meta.width, meta.height]).toEqual([512, 341]);

  // The full image replaces it at the content's size; the preview stays readable on the finished job.
  const full = await download(last.job.result.downloads[0].url);
  expect(full.status).toBe(200);
  const fullMeta = await sharp(full.bytes).metadata();
  expect([fullMeta.format, fullMeta.width, fullMeta.height]).toEqual(['png', 1536, 1024]);
  const after = await gql(platform.origin, key, 'query($id: ID!) { job(id: $id) { preview { url width } } }', { id });
  expect(after.data.job.preview.width).toBe(512);
  expect((await download(after.data.job.preview.url)).bytes.equals(fetched.bytes)).toBe(true);
}, 600_000);
