/**
 * Measures how soon a large stylize job's preview reaches a client: `peerstyle serve` runs as its own
 * process (as `npm start` does) on a fresh data folder with the bundled model; this process is the
 * client. It uploads a content image of `--size` px on the long side (a sample photo enlarged, 4:3) and
 * a sample style, submits `stylize` with no options (so the default asks for a preview), follows
 * `jobProgress` over graphql-ws, and downloads the preview the moment its PREVIEW event arrives.
 *
 * It prints every event with its time after the job started (the job's `startedAt`), then when the
 * PREVIEW event arrived and when its download completed. Unless `--wait` is given it then cancels the
 * job, since the full-size render of a 4096 px image takes minutes and is not what is measured here.
 * Meanwhile it sends a `job(id)` query every 100 ms, one after another, and prints their median and
 * slowest latency: how well the API answers while the engine works.
 * Prints figures only; it never passes or fails on time.
 * Run: `npx tsx bench/preview-latency.ts [--size=4096] [--threads=2] [--wait]`.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- GraphQL results are untyped JSON read by path. */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import sharp from 'sharp';
import WebSocket from 'ws';

import { must } from '../functions/core/must';

const ROOT = path.join(__dirname, '..');
const SAMPLE = path.join(ROOT, 'datasets', 'sample');

function flag(name: string): string | undefined {
  const arg = process.argv.slice(2).find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  return arg === undefined ? undefined : (arg.split('=')[1] ?? '');
}

async function graphql(url: string, key: string, query: string, variables: Record<string, unknown>): Promise<any> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function upload(url: string, key: string, bytes: Buffer): Promise<string> {
  const { createUpload } = await graphql(
    url,
    key,
    'mutation($n: Int!) { createUpload(contentType: "image/jpeg", byteSize: $n) { url key fields { name value } } }',
    { n: bytes.length },
  );
  const form = new FormData();
  for (const { name, value } of createUpload.fields) form.append(name, value);
  form.append('Content-Type', 'image/jpeg');
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), 'image.jpg');
  const response = await fetch(createUpload.url, { method: 'POST', body: form });
  if (response.status !== 204) throw new Error(`upload refused: ${response.status}`);
  return createUpload.key as string;
}

async function main(): Promise<void> {
  const size = Number(flag('size') ?? 4096);
  const threads = flag('threads') ?? '2';
  const wait = flag('wait') !== undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'peerstyle-preview-bench-'));
  const server = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bin', 'peerstyle.js'),
      'serve',
      '--port=0',
      `--data-dir=${dir}`,
      '--drop-dir=off',
      `--intra-op-threads=${threads}`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    let out = '';
    await new Promise<void>((resolve, reject) => {
      server.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/API key for .*: psk_\S+/.test(out)) resolve();
      });
      server.once('exit', (code) => reject(new Error(`serve exited (${code})`)));
    });
    const url = must(/GraphQL:\s+(\S+)/.exec(out)?.[1], "the server's GraphQL URL");
    const key = must(/API key for .*: (psk_\S+)/.exec(out)?.[1], "the server's API key");

    const content = await sharp(path.join(SAMPLE, 'content', 'chelsea.jpg'))
      .resize(size, Math.round((size * 3) / 4), { fit: 'fill' })
      .jpeg({ quality: 90 })
      .toBuffer();
    const contentKey = await upload(url, key, content);
    const styleKey = await upload(url, key, await sharp(path.join(SAMPLE, 'style', 'starry-night.jpg')).toBuffer());
    const submittedAt = Date.now();
    const polls: number[] = [];
    let polling = true;
    const { stylize } = await graphql(url, key, 'mutation($i: StylizeInput!) { stylize(input: $i) { id } }', {
      i: { content: contentKey, styles: [{ uploadKey: styleKey }], options: { format: 'PNG' } },
    });
    console.log(`# ${size}×${Math.round((size * 3) / 4)} content, ${content.length} bytes; job ${stylize.id}`);
    const poller = (async () => {
      while (polling) {
        const t = performance.now();
        await graphql(url, key, 'query($id: ID!) { job(id: $id) { status } }', { id: stylize.id });
        polls.push(performance.now() - t);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    const client = createClient({
      url: url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key}` },
      retryAttempts: 0,
    });
    let startedAt: number | undefined;
    let previewAt: number | undefined;
    let downloadedAt: number | undefined;
    const since = (t: number): string => `${((t - (startedAt ?? submittedAt)) / 1000).toFixed(2)} s`;
    await new Promise<void>((resolve, reject) => {
      const stop = client.subscribe<any>(
        {
          query:
            'subscription($id: ID!) { jobProgress(id: $id) { type job { status stage progress startedAt preview { url width height } } } }',
          variables: { id: stylize.id },
        },
        {
          next: ({ data }) => {
            const now = Date.now();
            const { type, job } = data.jobProgress;
            if (job.startedAt) startedAt = Date.parse(job.startedAt);
            console.log(`${since(now).padStart(9)}  ${type} ${job.status} ${job.stage} ${job.progress}`);
            if (type === 'PREVIEW') {
              previewAt = now;
              void fetch(job.preview.url)
                .then((r) => r.arrayBuffer())
                .then(async (bytes) => {
                  downloadedAt = Date.now();
                  const meta = await sharp(Buffer.from(bytes)).metadata();
                  console.log(`${since(downloadedAt).padStart(9)}  preview downloaded: ${meta.width}×${meta.height}`);
                  if (!wait) {
                    stop();
                    resolve();
                  }
                }, reject);
            }
          },
          error: reject,
          complete: resolve,
        },
      );
    });
    const finishedAt = Date.now();
    polling = false;
    await poller;
    await client.dispose();
    if (!wait) await graphql(url, key, 'mutation($id: ID!) { cancelJob(id: $id) { id } }', { id: stylize.id });
    console.log(`job started ${((startedAt! - submittedAt) / 1000).toFixed(2)} s after the mutation returned`);
    console.log(`PREVIEW event: ${previewAt === undefined ? 'none' : `${since(previewAt)} after the job started`}`);
    console.log(
      `preview downloaded: ${downloadedAt === undefined ? 'no' : `${since(downloadedAt)} after the job started`}`,
    );
    if (wait) console.log(`job finished: ${since(finishedAt)} after it started`);
    const sorted = [...polls].sort((a, b) => a - b);
    console.log(
      `job(id) queries meanwhile: ${sorted.length}, median ${sorted[sorted.length >> 1]?.toFixed(0)} ms, slowest ${sorted.at(-1)?.toFixed(0)} ms`,
    );
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
