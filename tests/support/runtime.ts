/** Test helpers: a runtime on a fresh temporary data folder, job submission, and polling. */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type RuntimeConfig } from '../../functions/config';
import type { Job } from '../../functions/core';
import { createLocalRuntime, type LocalRuntime, type RuntimeOverrides } from '../../functions/wiring/local';

export const REPO = path.join(__dirname, '..', '..');
export const IMAGES = path.join(REPO, 'tests', 'fixtures', 'images');
export const SAMPLE = path.join(REPO, 'datasets', 'sample');

export async function tempDir(name: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `peerstyle-${name}-`));
}

/** The configuration a test runtime uses: short leases, drop folder off unless asked. */
export function testConfig(dataDir: string, extra: string[] = []): RuntimeConfig {
  return loadConfig(['--data-dir', dataDir, '--lease-seconds=1', '--drop-dir=off', ...extra], {});
}

export function openRuntime(dataDir: string, overrides: RuntimeOverrides = {}, extra: string[] = []): LocalRuntime {
  return createLocalRuntime(testConfig(dataDir, extra), overrides);
}

/** Stores a content and a style image and queues a STYLIZE job for them. */
export async function submitStylize(
  rt: LocalRuntime,
  options: { content?: string; maxAttempts?: number; owner?: string } = {},
): Promise<Job> {
  const owner = options.owner ?? 'alice';
  const content = await fs.readFile(path.join(IMAGES, options.content ?? 'photo-1.jpg'));
  const style = await fs.readFile(path.join(IMAGES, 'painting-1.jpg'));
  await rt.blobs.put(`uploads/${owner}/content.jpg`, content);
  await rt.blobs.put(`uploads/${owner}/style.jpg`, style);
  const { job, enqueued } = await rt.jobs.create({
    owner,
    kind: 'STYLIZE',
    // The shape submitStylizeJob stores.
    input: {
      contentKey: `uploads/${owner}/content.jpg`,
      styles: [{ key: `uploads/${owner}/style.jpg`, weight: 1, styleId: null }],
      modelId: 'tspr-default',
      strength: 1,
      preserveColor: false,
      size: 512,
      styleSize: 512,
      format: 'png',
    },
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
  });
  // The runtime's store queues a new job in its own transaction; enqueue only if it did not.
  if (enqueued !== true) await rt.queue.enqueue(job.id);
  return job;
}

/** Polls `read` until `done` holds, failing with the last value after `timeoutMs`. */
export async function waitFor<T>(
  read: () => Promise<T> | T,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(`Timed out; last value: ${JSON.stringify(value)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function jobStatus(rt: LocalRuntime, id: string): Promise<Job> {
  const job = await rt.jobs.get(id);
  if (job === null) throw new Error(`job ${id} vanished`);
  return job;
}
