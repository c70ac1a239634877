/**
 * Clean restarts of `peerstyle serve` during a training job: a real server process is started, a tiny
 * training job is queued over HTTP, and the server is stopped with SIGTERM three times while the
 * trainer runs, then started again each time on the same data folder. With the default
 * `--max-attempts` (3), counting each clean stop as an attempt would fail the job with
 * RETRIES_EXHAUSTED; handed back uncounted, it resumes from the checkpoint each stop wrote (its metric
 * steps never go back) and SUCCEEDS on its first counted attempt.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- GraphQL results are untyped JSON read by path. */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCli, type CliResult } from '../support/run-cli';
import { gql, modelPackage } from './support';
import { defined } from '../support/checked';

interface Started {
  child: ReturnType<typeof startCli>['child'];
  done: Promise<CliResult>;
  origin: string;
  key: string | undefined;
}

/** Starts `serve` and waits for its "Playground:" line; returns its origin and a first-start key. */
async function startServe(dataDir: string, modelDir: string): Promise<Started> {
  const { child, done } = startCli(
    ['serve', '--port', '0', '--data-dir', dataDir, '--model', modelDir, '--drop-dir=off'],
    { PEERSTYLE_THREADS: '1' },
  );
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', () => {
      if (/Playground: \S+/.test(stdout)) resolve();
    });
    void done.then((result) => reject(new Error(`serve exited early (${result.code}): ${result.stderr}`)));
  });
  return {
    child,
    done,
    origin: new URL(defined(/GraphQL:\s+(\S+)/.exec(stdout)?.[1], 'the GraphQL URL')).origin,
    key: /API key for "local" .*: (psk_\S+)/.exec(stdout)?.[1],
  };
}

const JOB = `query($id: ID!) { job(id: $id) { id status stage attempts error { code message }
  metricHistory { step } messages { text } result { modelId } } }`;

async function waitForJob(
  origin: string,
  key: string,
  id: string,
  until: (job: any) => boolean,
  timeoutMs: number,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let job: any;
  while (Date.now() < deadline) {
    const answer = await gql(origin, key, JOB, { id });
    if (answer.errors) throw new Error(JSON.stringify(answer.errors));
    job = answer.data.job;
    if (until(job)) return job;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`job did not get there in ${timeoutMs} ms: ${JSON.stringify(job)}`);
}

const stepOf = (job: any): number => Number(/^step (\d+)\//.exec(job.stage)?.[1] ?? 0);

describe('peerstyle serve stopped with SIGTERM during training', () => {
  let dataDir: string;
  let model: { dir: string; temporary: boolean };
  let running: Started | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'peerstyle-restart-'));
    model = await modelPackage();
  });

  afterAll(() => {
    if (running && running.child.exitCode === null) running.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    if (model.temporary) rmSync(model.dir, { recursive: true, force: true });
  });

  it('hands the job back uncounted at each stop, resumes from the checkpoint and succeeds', async () => {
    running = await startServe(dataDir, model.dir);
    const key = running.key!;
    expect(key).toBeDefined();
    const started = await gql(
      running.origin,
      key,
      'mutation($input: TrainingInput!) { startTraining(input: $input) { id } }',
      {
        input: {
          dataset: { folder: 'sample' },
          preset: 'tiny',
          steps: 40,
          hyperparameters: [{ key: 'logEvery', value: '1' }],
          modelName: 'restart-test',
        },
      },
    );
    expect(started.errors).toBeUndefined();
    const id = started.data.startTraining.id as string;

    let lastStep = 0;
    for (let cycle = 1; cycle <= 3; cycle += 1) {
      const seen = await waitForJob(
        running.origin,
        key,
        id,
        (job) => job.status === 'RUNNING' && stepOf(job) > lastStep,
        90_000,
      );
      lastStep = stepOf(seen);
      running.child.kill('SIGTERM');
      const stopped = await running.done;
      expect({ cycle, code: stopped.code }).toEqual({ cycle, code: 0 });
      running = await startServe(dataDir, model.dir);
    }

    const done = await waitForJob(
      running.origin,
      key,
      id,
      (job) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status),
      180_000,
    );
    expect(done.error).toBeNull();
    expect(done.status).toBe('SUCCEEDED');
    expect(done.attempts).toBe(1);
    expect(done.result.modelId).toEqual(expect.any(String));
    // Each restart continued from the checkpoint its stop wrote: no step was trained twice.
    const steps = done.metricHistory.map((point: { step: number }) => point.step);
    expect(steps[steps.length - 1]).toBe(40);
    for (let i = 1; i < steps.length; i += 1) expect(steps[i]).toBeGreaterThan(steps[i - 1]);

    running.child.kill('SIGTERM');
    expect((await running.done).code).toBe(0);
  }, 600_000);
});
