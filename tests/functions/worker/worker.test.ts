/**
 * The worker loop against a real SQLite file, a real blob folder and real images: running, failing,
 * retrying, exhausting attempts, cancelling, and picking up after a restart.
 */
import sharp from 'sharp';
import { DomainError, ErrorCode, type JobEvent } from '../../../functions/core';
import { claimJob } from '../../../functions/core/use-cases/run-claim-job';
import { Worker } from '../../../functions/worker/worker';
import { startWorkerPool } from '../../../functions/local/worker/worker-pool';
import type { LocalRuntime } from '../../../functions/wiring/local';
import { InvertTestEngine } from '../../support/invert-test-engine';
import { jobStatus, openRuntime, submitStylize, tempDir, waitFor } from '../../support/runtime';
import { at } from '../../support/checked';

const open: LocalRuntime[] = [];
const workers: Worker[] = [];

function runtime(dataDir: string, engine: InvertTestEngine, extra: string[] = []): LocalRuntime {
  const rt = openRuntime(dataDir, { engine }, extra);
  open.push(rt);
  return rt;
}

function worker(rt: LocalRuntime): Worker {
  const w = new Worker({ ...rt.workerOptions(), heartbeatMs: 100, idlePollMs: 50 });
  workers.push(w);
  w.start();
  return w;
}

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  for (const rt of open.splice(0)) rt.close();
});

/** Takes a lease and claims the job, then walks away: what a worker that dies mid-job leaves behind. */
async function abandon(rt: LocalRuntime): Promise<void> {
  const lease = await waitFor(
    () => rt.queue.receive('doomed', 1),
    (l) => l !== null,
    5000,
  );
  const claim = await claimJob(rt, lease!);
  expect(claim.action).toBe('run');
}

describe('Worker', () => {
  it('runs a queued stylize job to SUCCEEDED with ordered progress events and the result stored', async () => {
    const engine = new InvertTestEngine({ steps: 4 });
    const rt = runtime(await tempDir('worker-ok'), engine);
    const job = await submitStylize(rt);
    const seen: JobEvent[] = [];
    const subscription = rt.events.subscribe({ jobId: job.id });
    const collecting = (async () => {
      for await (const event of subscription) {
        seen.push(event);
        if (event.job.status === 'SUCCEEDED' || event.job.status === 'FAILED') break;
      }
    })();
    worker(rt);
    await collecting;

    const done = await jobStatus(rt, job.id);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.attempts).toBe(1);
    const types = seen.map((e) => `${e.type}:${e.job.status}`);
    expect(types[0]).toBe('STATUS_CHANGED:RUNNING');
    expect(types[types.length - 1]).toBe('STATUS_CHANGED:SUCCEEDED');
    const progress = seen.filter((e) => e.type === 'PROGRESS').map((e) => e.job.progress);
    expect(progress.length).toBeGreaterThanOrEqual(5); // "reading images" + one per engine step
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(seen.filter((e) => e.type === 'PROGRESS').map((e) => e.job.stage)).toContain('step 4/4');

    const result = done.result as { outputKey: string; width: number; height: number };
    const bytes = Buffer.from(await rt.blobs.get(result.outputKey));
    const meta = await sharp(bytes).metadata();
    expect(meta.format).toBe('png');
    expect([meta.width, meta.height]).toEqual([result.width, result.height]);
    // The test engine inverts: the output's first pixel is 255 minus the content's.
    const input = await sharp(await rt.blobs.get('uploads/alice/content.jpg'))
      .raw()
      .toBuffer();
    const output = await sharp(bytes).removeAlpha().raw().toBuffer();
    expect(output[0]).toBeCloseTo(255 - at(input, 0), -1);
    expect(await rt.queue.stats()).toEqual({ visible: 0, inFlight: 0, deadLetters: 0 });
  });

  it('marks a job FAILED with the engine’s error code, without retrying it', async () => {
    const engine = new InvertTestEngine({ fail: new DomainError(ErrorCode.INVALID_IMAGE, 'Cannot decode content.') });
    const rt = runtime(await tempDir('worker-fail'), engine);
    const job = await submitStylize(rt);
    worker(rt);
    const done = await waitFor(
      () => jobStatus(rt, job.id),
      (j) => j.status === 'FAILED',
    );
    expect(done.error).toEqual({ code: 'INVALID_IMAGE', message: 'Cannot decode content.' });
    expect(done.attempts).toBe(1);
    expect(engine.calls).toHaveLength(1);
  });

  it('ends a job whose workers keep dying FAILED with RETRIES_EXHAUSTED and the reason', async () => {
    const engine = new InvertTestEngine();
    const rt = runtime(await tempDir('worker-exhaust'), engine, ['--max-attempts=2']);
    const job = await submitStylize(rt, { maxAttempts: 2 });
    await abandon(rt);
    await abandon(rt); // redelivered after the 1 s lease ran out: attempt 2
    expect((await jobStatus(rt, job.id)).attempts).toBe(2);
    worker(rt);
    const done = await waitFor(
      () => jobStatus(rt, job.id),
      (j) => j.status === 'FAILED',
    );
    expect(done.error?.code).toBe('RETRIES_EXHAUSTED');
    expect(done.error?.message).toMatch(/delivered 2 times without finishing/);
    expect(engine.calls).toHaveLength(0);
    expect((await rt.queue.stats()).deadLetters).toBe(0);
  });

  it('never starts a job cancelled while queued', async () => {
    const engine = new InvertTestEngine();
    const rt = runtime(await tempDir('worker-cancel-queued'), engine);
    const job = await submitStylize(rt);
    const cancelled = await rt.jobs.requestCancel(job.id, 'alice');
    expect(cancelled.status).toBe('CANCELLED');
    const other = await submitStylize(rt, { owner: 'bob' });
    worker(rt);
    await waitFor(
      () => jobStatus(rt, other.id),
      (j) => j.status === 'SUCCEEDED',
    );
    expect(engine.calls).toHaveLength(1);
    const after = await jobStatus(rt, job.id);
    expect(after.status).toBe('CANCELLED');
    expect(after.attempts).toBe(0);
    expect(await rt.queue.stats()).toEqual({ visible: 0, inFlight: 0, deadLetters: 0 });
  });

  it('stops a running stylize job through its signal when the owner cancels', async () => {
    const engine = new InvertTestEngine({ steps: 50, stepMs: 100 });
    const rt = runtime(await tempDir('worker-cancel-running'), engine);
    const job = await submitStylize(rt);
    worker(rt);
    await waitFor(
      () => jobStatus(rt, job.id),
      (j) => j.status === 'RUNNING' && j.progress > 0,
    );
    const asked = Date.now();
    await rt.jobs.requestCancel(job.id, 'alice');
    const done = await waitFor(
      () => jobStatus(rt, job.id),
      (j) => j.status === 'CANCELLED',
    );
    expect(Date.now() - asked).toBeLessThan(2000);
    expect(engine.aborted).toBe(1);
    expect(done.error?.code).toBe('CANCELLED');
    expect(done.result).toBeNull();
  });

  it('picks up after a restart: queued jobs run and an interrupted RUNNING job is retried', async () => {
    const dataDir = await tempDir('worker-restart');
    const first = runtime(dataDir, new InvertTestEngine());
    const interrupted = await submitStylize(first, { owner: 'carol' });
    const queued = [await submitStylize(first, { owner: 'dave' }), await submitStylize(first, { owner: 'erin' })];
    await abandon(first); // carol's job is RUNNING when the process goes away
    expect((await jobStatus(first, interrupted.id)).status).toBe('RUNNING');
    first.close();
    open.splice(open.indexOf(first), 1);

    const engine = new InvertTestEngine();
    const second = runtime(dataDir, engine);
    const pool = startWorkerPool(2, { ...second.workerOptions(), heartbeatMs: 100, idlePollMs: 50 });
    try {
      for (const job of [interrupted, ...queued]) {
        await waitFor(
          () => jobStatus(second, job.id),
          (j) => j.status === 'SUCCEEDED',
        );
      }
    } finally {
      await pool.stop();
    }
    expect((await jobStatus(second, interrupted.id)).attempts).toBe(2);
    expect((await jobStatus(second, interrupted.id)).messages.map((m) => m.text)).toContain(
      'Attempt 1 lost its worker; retrying.',
    );
    for (const job of queued) expect((await jobStatus(second, job.id)).attempts).toBe(1);
    expect(engine.calls).toHaveLength(3);
  });

  it('hands a running job back to the queue when stopped, so the next worker takes it at once', async () => {
    const dataDir = await tempDir('worker-shutdown');
    const slow = new InvertTestEngine({ steps: 50, stepMs: 100 });
    const rt = runtime(dataDir, slow, ['--lease-seconds=30']);
    const job = await submitStylize(rt);
    const first = worker(rt);
    await waitFor(
      () => jobStatus(rt, job.id),
      (j) => j.status === 'RUNNING' && j.progress > 0,
    );
    await first.stop();
    expect(slow.aborted).toBe(1);
    expect((await rt.queue.stats()).visible).toBe(1); // released, not left to a 30 s lease
    // A clean stop is not the job's fault: the attempt is given back.
    expect(await jobStatus(rt, job.id)).toMatchObject({ status: 'QUEUED', attempts: 0 });

    worker(runtime(dataDir, new InvertTestEngine())); // a fresh process's worker on the same files
    const done = await waitFor(
      () => jobStatus(rt, job.id),
      (j) => j.status === 'SUCCEEDED',
      10_000,
    );
    expect(done.attempts).toBe(1);
  });

  it('cancels instead of rerunning a job whose owner asked to stop it after its worker died', async () => {
    const engine = new InvertTestEngine();
    const rt = runtime(await tempDir('worker-cancel-dead'), engine);
    const job = await submitStylize(rt);
    await abandon(rt);
    await rt.jobs.requestCancel(job.id, 'alice'); // only flags it: the job is RUNNING
    expect((await jobStatus(rt, job.id)).status).toBe('RUNNING');
    worker(rt);
    const done = await waitFor(
      () => jobStatus(rt, job.id),
      (j) => j.status === 'CANCELLED',
    );
    expect(done.attempts).toBe(1);
    expect(engine.calls).toHaveLength(0);
    await waitFor(
      () => rt.queue.stats(),
      (s) => s.visible + s.inFlight === 0,
      5000,
    );
  });

  it('runs as many jobs at once as the pool has workers', async () => {
    const engine = new InvertTestEngine({ steps: 10, stepMs: 50 });
    const rt = runtime(await tempDir('worker-pool'), engine);
    const jobs = [
      await submitStylize(rt, { owner: 'p1' }),
      await submitStylize(rt, { owner: 'p2' }),
      await submitStylize(rt, { owner: 'p3' }),
    ];
    let peak = 0;
    const sampling = setInterval(() => {
      void Promise.all(jobs.map((j) => jobStatus(rt, j.id))).then((all) => {
        peak = Math.max(peak, all.filter((j) => j.status === 'RUNNING').length);
      });
    }, 20);
    const pool = startWorkerPool(2, { ...rt.workerOptions(), heartbeatMs: 100, idlePollMs: 20 });
    try {
      for (const job of jobs)
        await waitFor(
          () => jobStatus(rt, job.id),
          (j) => j.status === 'SUCCEEDED',
        );
    } finally {
      clearInterval(sampling);
      await pool.stop();
    }
    expect(peak).toBe(2);
  });
});
