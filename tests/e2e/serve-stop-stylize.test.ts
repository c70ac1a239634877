/**
 * SIGTERM to `peerstyle serve` while a stylize job runs, with the environment a user has (NODE_ENV is
 * not "test", which jest sets and which hides Apollo's own signal handling). The clean stop must finish:
 * the running job is handed back uncounted, the process prints "Stopped." and exits 0, and after a
 * restart the job SUCCEEDS on its first counted attempt. Apollo's default SIGTERM handler used to stop
 * the API and re-raise the signal mid-shutdown, so the process exited 143 with the job still RUNNING,
 * and the restart had to wait for its lease and spend a second attempt.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- GraphQL results are untyped JSON read by path. */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { startCli, type CliResult } from '../support/run-cli';
import { gql, modelPackage, upload } from './support';
import { defined } from '../support/checked';

interface Started {
  child: ReturnType<typeof startCli>['child'];
  done: Promise<CliResult>;
  stdout: () => string;
}

async function startServe(dataDir: string, modelDir: string, port: string): Promise<Started> {
  const { child, done } = startCli(
    ['serve', '--port', port, '--data-dir', dataDir, '--model', modelDir, '--drop-dir=off', '--lease-seconds', '10'],
    { NODE_ENV: 'production' },
  );
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', () => {
      if (/Playground: \S+/.test(stdout)) resolve();
    });
    void done.then((result) => reject(new Error(`serve exited early (${result.code}): ${result.stderr}`)));
  });
  return { child, done, stdout: () => stdout };
}

const JOB = 'query($id: ID!) { job(id: $id) { status attempts error { code message } messages { text } } }';

async function waitFor(origin: string, key: string, id: string, until: (job: any) => boolean): Promise<any> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const response = await gql(origin, key, JOB, { id });
    // Polled as a client would: within the API's 600 requests a minute, and waiting when told to.
    const limited = response.errors?.[0]?.extensions?.code === 'RATE_LIMITED';
    if (!limited) {
      const job = response.data.job;
      if (until(job)) return job;
      if (Date.now() > deadline) throw new Error(`job stuck: ${JSON.stringify(job)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, limited ? 1000 : 100));
  }
}

describe('peerstyle serve stopped with SIGTERM during a stylize job', () => {
  let dataDir: string;
  let model: { dir: string; temporary: boolean };
  let running: Started | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'peerstyle-stop-'));
    model = await modelPackage();
  });

  afterAll(() => {
    if (running && running.child.exitCode === null) running.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    if (model.temporary) rmSync(model.dir, { recursive: true, force: true });
  });

  it('finishes its clean stop (exit 0), hands the job back, and the job succeeds on its first attempt', async () => {
    running = await startServe(dataDir, model.dir, '0');
    const origin = new URL(defined(/GraphQL:\s+(\S+)/.exec(running.stdout())?.[1], 'the GraphQL URL')).origin;
    const port = new URL(origin).port;
    const key = defined(/API key for "local" .*: (psk_\S+)/.exec(running.stdout())?.[1], 'the API key');
    // Noise at 512 px keeps the job running for a while, so the signal lands while it runs.
    const noise = Buffer.from(Array.from({ length: 512 * 512 * 3 }, (_, i) => (i * 2654435761) % 251));
    const content = await sharp(noise, { raw: { width: 512, height: 512, channels: 3 } })
      .jpeg()
      .toBuffer();
    const contentKey = await upload(origin, key, content);
    const styleKey = await upload(origin, key, content);
    const submitted = await gql(origin, key, 'mutation($input: StylizeInput!) { stylize(input: $input) { id } }', {
      input: { content: contentKey, styles: [{ uploadKey: styleKey }] },
    });
    expect(submitted.errors).toBeUndefined();
    const id = submitted.data.stylize.id as string;
    await waitFor(origin, key, id, (job) => job.status === 'RUNNING');

    running.child.kill('SIGTERM');
    const stopped = await running.done;
    expect({ code: stopped.code, stopped: /^Stopped\.$/m.test(stopped.stdout) }).toEqual({ code: 0, stopped: true });

    running = await startServe(dataDir, model.dir, port);
    const done = await waitFor(origin, key, id, (job) => !['QUEUED', 'RUNNING'].includes(job.status));
    expect({ status: done.status, error: done.error }).toEqual({ status: 'SUCCEEDED', error: null });
    expect(done.attempts).toBe(1);
    expect(done.messages.map((m: { text: string }) => m.text)).toContain(
      'Handed back at worker shutdown; this attempt does not count.',
    );

    running.child.kill('SIGTERM');
    expect((await running.done).code).toBe(0);
  }, 300_000);
});
