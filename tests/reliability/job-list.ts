/**
 * Reading an owner's jobs back through the API: every page of the `jobs` query, and each output
 * downloaded from its signed link and decoded, so that "completed" means an image the owner can fetch.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- GraphQL results are untyped JSON read by path. */

import sharp from 'sharp';
import type { ApiClient } from './api-client';
import type { ListedJob } from './verdict';

const JOBS = `query($first: Int, $after: String, $filter: JobFilter) {
  jobs(first: $first, after: $after, filter: $filter) {
    items { id status attempts createdAt startedAt messages { text } result { downloads { url } } }
    nextCursor
  }
}`;

/** How the message a clean stop adds to a job it hands back begins (see `handBackJob`). */
const HANDED_BACK = 'Handed back at worker shutdown';

/** Every job of the client's owner (optionally only those with `status`), newest first. */
export async function listJobs(client: ApiClient, owner: string, status?: string): Promise<ListedJob[]> {
  const jobs: ListedJob[] = [];
  let after: string | null = null;
  do {
    const data: any = await client.data(JOBS, { first: 100, after, filter: status ? { status } : null });
    for (const item of data.jobs.items) {
      const urls: string[] = item.result?.downloads.map((download: { url: string }) => download.url) ?? [];
      jobs.push({
        owner,
        id: item.id,
        status: item.status,
        attempts: item.attempts,
        createdAt: item.createdAt,
        startedAt: item.startedAt,
        outputs: urls,
        outputsReadable: [],
        handedBack: item.messages.some((message: { text: string }) => message.text.startsWith(HANDED_BACK)),
      });
    }
    after = data.jobs.nextCursor;
  } while (after !== null);
  return jobs;
}

/**
 * Downloads every output of `jobs` (a few at a time) and records whether each decodes as an image;
 * then replaces each signed URL by its object path, which names the stored output.
 */
export async function checkOutputs(jobs: ListedJob[], concurrency = 8): Promise<void> {
  const queue = [...jobs];
  const readable = async (url: string): Promise<boolean> => {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
      if (response.status !== 200) return false;
      const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
      return (meta.width ?? 0) > 0 && (meta.height ?? 0) > 0;
    } catch {
      return false;
    }
  };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
        job.outputsReadable = [];
        for (const url of job.outputs) job.outputsReadable.push(await readable(url));
        job.outputs = job.outputs.map((url) => new URL(url).pathname);
      }
    }),
  );
}
