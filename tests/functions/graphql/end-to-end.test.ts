/**
 * The main client journey over real HTTP and WebSocket on loopback: upload an image through its
 * presigned-POST target, stylize it, follow the job's events while the test plays the worker through
 * the ports, and download the result from its signed URL. Also idempotent submission and cancelling
 * a queued job.
 */

import { collect, fixture, startHarness, type Harness } from './harness';
import { at } from '../../support/checked';

const STYLIZE = `mutation($input: StylizeInput!) { stylize(input: $input) { id kind status stage progress attempts } }`;
const PROGRESS = `subscription($id: ID!) { jobProgress(id: $id) { type job { id status stage progress messages { text } } } }`;

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

async function submit(key: string, content: string, style: string, idempotencyKey?: string) {
  return h.gql(key, STYLIZE, {
    input: { content, styles: [{ uploadKey: style, weight: 1 }], options: { size: 256 }, idempotencyKey },
  });
}

test('upload → stylize → progress events in order → SUCCEEDED → the result downloads', async () => {
  const photo = fixture('photo-1.jpg');
  const content = await h.upload(h.aliceKey, photo);
  expect(content).toMatch(/^uploads\/alice\/[0-9a-f-]{36}$/);
  const style = await h.upload(h.aliceKey, fixture('painting-4.webp'), 'image/webp');

  const submitted = await submit(h.aliceKey, content, style);
  expect(submitted.body.errors).toBeUndefined();
  const job = submitted.body.data!.stylize;
  expect(job).toMatchObject({ kind: 'STYLIZE', status: 'QUEUED', progress: 0, attempts: 0 });
  const stored = await h.deps.jobs.get(job.id);
  // The job reads copies of its uploads, which a reposted upload form cannot change.
  expect(stored?.input).toMatchObject({
    contentKey: expect.stringMatching(/^job-inputs\/alice\//),
    styles: [{ key: expect.stringMatching(/^job-inputs\/alice\//), weight: 1 }],
    size: 256,
    format: 'jpeg',
    modelId: 'tspr-default',
  });
  const input = stored?.input as { contentKey: string; styles: Array<{ key: string }> };
  expect(Buffer.from(await h.deps.blobs.get(input.contentKey)).equals(photo)).toBe(true);
  expect(Buffer.from(await h.deps.blobs.get(at(input.styles, 0).key))).toEqual(
    Buffer.from(await h.deps.blobs.get(style)),
  );

  const stream = collect(h.wsClient({ authorization: `Bearer ${h.aliceKey}` }), PROGRESS, { id: job.id });
  await stream.waitFor(1);

  // Play the worker: lease the job from the queue, run it, report progress, store the output.
  const lease = await h.queue.receive('test-worker', 60);
  expect(lease?.jobId).toBe(job.id);
  const running = await h.deps.jobs.transition(job.id, 'QUEUED', 'RUNNING', { stage: 'encoding' });
  await h.events.publish({ type: 'STATUS_CHANGED', job: running });
  const half = await h.deps.jobs.updateProgress(job.id, {
    progress: 0.5,
    stage: 'decoding',
    message: { level: 'INFO', text: 'halfway' },
  });
  await h.events.publish({ type: 'PROGRESS', job: half });
  const outputKey = `outputs/alice/${job.id}/result.jpg`;
  await h.deps.blobs.put(outputKey, fixture('photo-2.jpg'), { contentType: 'image/jpeg' });
  const done = await h.deps.jobs.transition(job.id, 'RUNNING', 'SUCCEEDED', { result: { outputKeys: [outputKey] } });
  await h.events.publish({ type: 'STATUS_CHANGED', job: done });

  expect(await stream.done).toEqual({});
  // The completed stream let go of its event subscription.
  expect(h.events.subscriberCount()).toBe(0);
  expect(
    stream.results.map((r) => [
      r.data.jobProgress.type,
      r.data.jobProgress.job.status,
      r.data.jobProgress.job.progress,
    ]),
  ).toEqual([
    ['SNAPSHOT', 'QUEUED', 0],
    ['STATUS_CHANGED', 'RUNNING', 0],
    ['PROGRESS', 'RUNNING', 0.5],
    ['STATUS_CHANGED', 'SUCCEEDED', 1],
  ]);
  expect(stream.results[2]?.data.jobProgress.job.messages).toEqual([{ text: 'halfway' }]);

  const read = await h.gql(
    h.aliceKey,
    `query($id: ID!) { job(id: $id) { status result { downloads { url expiresAt } modelId } } }`,
    { id: job.id },
  );
  const result = read.body.data!.job.result;
  expect(read.body.data!.job.status).toBe('SUCCEEDED');
  expect(result.downloads).toHaveLength(1);
  expect(Date.parse(result.downloads[0].expiresAt)).toBeGreaterThan(Date.now());
  const download = await fetch(result.downloads[0].url);
  expect(download.status).toBe(200);
  expect(download.headers.get('content-type')).toBe('image/jpeg');
  expect(Buffer.from(await download.arrayBuffer()).equals(fixture('photo-2.jpg'))).toBe(true);

  // Once its lifetime has passed, the same URL is refused.
  h.advanceBlobClock(2 * 60 * 60 * 1000);
  const late = await fetch(result.downloads[0].url);
  expect(late.status).toBe(403);
  expect(await late.json()).toMatchObject({ error: { code: 'EXPIRED' } });
  h.advanceBlobClock(-2 * 60 * 60 * 1000);

  // A signed URL is tied to its key: pointing it at another object is refused.
  const forged = result.downloads[0].url.replace('result.jpg', 'other.jpg');
  expect((await fetch(forged)).status).toBe(403);
});

test('a late subscriber to a finished job gets its final state and the stream completes', async () => {
  const content = await h.upload(h.aliceKey, fixture('photo-1.jpg'));
  const { body } = await submit(h.aliceKey, content, content);
  const id = body.data!.stylize.id;
  await h.deps.jobs.transition(id, 'QUEUED', 'FAILED', {
    error: { code: 'INVALID_IMAGE' as never, message: 'bad pixels' },
  });
  const stream = collect(
    h.wsClient({ apiKey: h.aliceKey }),
    `subscription($id: ID!) { jobProgress(id: $id) { type job { status error { code message } } } }`,
    { id },
  );
  expect(await stream.done).toEqual({});
  expect(stream.results).toEqual([
    {
      data: {
        jobProgress: {
          type: 'SNAPSHOT',
          job: { status: 'FAILED', error: { code: 'INVALID_IMAGE', message: 'bad pixels' } },
        },
      },
    },
  ]);
});

test('the same idempotency key returns the same job and queues it once', async () => {
  const content = await h.upload(h.aliceKey, fixture('photo-1.jpg'));
  const first = await submit(h.aliceKey, content, content, 'retry-1');
  const second = await submit(h.aliceKey, content, content, 'retry-1');
  const other = await submit(h.aliceKey, content, content, 'retry-2');
  expect(second.body.data!.stylize.id).toBe(first.body.data!.stylize.id);
  expect(other.body.data!.stylize.id).not.toBe(first.body.data!.stylize.id);
  expect((await h.queue.stats()).visible).toBe(2);
});

test('a reused idempotency key with another size, or for startTraining, is IDEMPOTENCY_CONFLICT', async () => {
  const content = await h.upload(h.aliceKey, fixture('photo-1.jpg'));
  const first = await submit(h.aliceKey, content, content, 'reuse-1');
  expect(first.body.errors).toBeUndefined();
  const resized = await h.gql(h.aliceKey, STYLIZE, {
    input: { content, styles: [{ uploadKey: content, weight: 1 }], options: { size: 512 }, idempotencyKey: 'reuse-1' },
  });
  expect(resized.body.errors?.[0]).toMatchObject({
    message: expect.stringMatching(/^IDEMPOTENCY_CONFLICT: idempotency key "reuse-1" was already used/),
    extensions: { code: 'IDEMPOTENCY_CONFLICT' },
  });
  const training = await h.gql(
    h.aliceKey,
    `mutation($input: TrainingInput!) { startTraining(input: $input) { id kind } }`,
    { input: { dataset: { folder: 'sample' }, preset: 'tiny', steps: 10, idempotencyKey: 'reuse-1' } },
  );
  expect(training.body.errors?.[0]?.extensions?.code).toBe('IDEMPOTENCY_CONFLICT');
  expect((await h.queue.stats()).visible).toBe(1);
});

test('cancelling a queued job cancels it at once; a running one is flagged; a finished one is CONFLICT', async () => {
  const content = await h.upload(h.aliceKey, fixture('photo-1.jpg'));
  const CANCEL = `mutation($id: ID!) { cancelJob(id: $id) { status cancelRequested error { code } } }`;
  const queued = (await submit(h.aliceKey, content, content)).body.data!.stylize.id;
  const cancelled = await h.gql(h.aliceKey, CANCEL, { id: queued });
  expect(cancelled.body.data!.cancelJob).toEqual({
    status: 'CANCELLED',
    cancelRequested: true,
    error: { code: 'CANCELLED' },
  });

  const running = (await submit(h.aliceKey, content, content)).body.data!.stylize.id;
  await h.deps.jobs.transition(running, 'QUEUED', 'RUNNING');
  const mine = collect(
    h.wsClient({ apiKey: h.aliceKey }),
    `subscription { myJobs { type job { id cancelRequested } } }`,
  );
  // myJobs has no snapshot; give the server a moment to register the subscription before acting.
  await waitForSubscribers(h, 1);
  const flagged = await h.gql(h.aliceKey, CANCEL, { id: running });
  expect(flagged.body.data!.cancelJob).toMatchObject({ status: 'RUNNING', cancelRequested: true });
  await mine.waitFor(1);
  expect(mine.results[0]?.data.myJobs).toEqual({
    type: 'CANCEL_REQUESTED',
    job: { id: running, cancelRequested: true },
  });
  mine.unsubscribe();

  const finished = (await submit(h.aliceKey, content, content)).body.data!.stylize.id;
  await h.deps.jobs.transition(finished, 'QUEUED', 'RUNNING');
  await h.deps.jobs.transition(finished, 'RUNNING', 'SUCCEEDED', { result: { outputKeys: [] } });
  const refused = await h.gql(h.aliceKey, CANCEL, { id: finished });
  expect(refused.body.errors?.[0]?.extensions?.code).toBe('CONFLICT');
});

test('jobs pages newest first with items/nextCursor and filters by status', async () => {
  const content = await h.upload(h.aliceKey, fixture('photo-1.jpg'));
  const ids: string[] = [];
  for (let i = 0; i < 3; i += 1) ids.push((await submit(h.aliceKey, content, content)).body.data!.stylize.id);
  await h.gql(h.aliceKey, `mutation($id: ID!) { cancelJob(id: $id) { id } }`, { id: ids[0] });
  const LIST = `query($first: Int, $after: String, $filter: JobFilter) { jobs(first: $first, after: $after, filter: $filter) { items { id } nextCursor } }`;
  const page1 = (await h.gql(h.aliceKey, LIST, { first: 2 })).body.data!.jobs;
  expect(page1.items.map((j: { id: string }) => j.id)).toEqual([ids[2], ids[1]]);
  const page2 = (await h.gql(h.aliceKey, LIST, { first: 2, after: page1.nextCursor })).body.data!.jobs;
  expect(page2).toEqual({ items: [{ id: ids[0] }], nextCursor: null });
  const queued = (await h.gql(h.aliceKey, LIST, { filter: { status: 'QUEUED' } })).body.data!.jobs;
  expect(queued.items.map((j: { id: string }) => j.id)).toEqual([ids[2], ids[1]]);
});

test('queries also work over GET, with the CSRF preflight header Apollo requires', async () => {
  const url = `${h.origin}/graphql?query=${encodeURIComponent('{ models { id } }')}`;
  const auth = { authorization: `Bearer ${h.aliceKey}` };
  const ok = await fetch(url, { headers: { ...auth, 'apollo-require-preflight': 'true' } });
  expect(ok.status).toBe(200);
  expect(await ok.json()).toEqual({ data: { models: [{ id: 'tspr-default' }] } });
  const simple = await fetch(url, { headers: auth });
  expect(simple.status).toBe(400);
});

test('GET /health answers ok', async () => {
  const response = await fetch(`${h.origin}/health`);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ status: 'ok' });
});

async function waitForSubscribers(harness: Harness, count: number): Promise<void> {
  for (let i = 0; i < 200 && harness.events.subscriberCount() < count; i += 1)
    await new Promise((r) => setTimeout(r, 10));
  expect(harness.events.subscriberCount()).toBeGreaterThanOrEqual(count);
}
