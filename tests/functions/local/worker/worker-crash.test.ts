/**
 * At-least-once delivery across processes: a worker child process is killed with SIGKILL in the middle
 * of a job, its lease runs out, and a worker in this process retries the job to the end.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Worker } from '../../../../functions/worker/worker';
import { InvertTestEngine } from '../../../support/invert-test-engine';
import { jobStatus, openRuntime, REPO, submitStylize, tempDir, waitFor } from '../../../support/runtime';

describe('a worker process killed mid-job', () => {
  it('leaves a lease that expires, and another worker finishes the job on attempt 2', async () => {
    const dataDir = await tempDir('worker-crash');
    const rt = openRuntime(dataDir, { engine: new InvertTestEngine() });
    const survivor = new Worker({ ...rt.workerOptions(), heartbeatMs: 100, idlePollMs: 50 });
    try {
      const job = await submitStylize(rt);
      const child = spawn(
        process.execPath,
        ['--require', 'tsx/cjs', path.join(__dirname, 'support', 'worker-child.ts')],
        {
          cwd: REPO,
          env: {
            ...process.env,
            PEERSTYLE_DATA_DIR: dataDir,
            PEERSTYLE_LEASE_SECONDS: '1',
            PEERSTYLE_DROP_DIR: 'off',
            TEST_STEP_MS: '300',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('close', (_code, signal) => resolve(signal)),
      );

      const running = await waitFor(
        () => jobStatus(rt, job.id),
        (j) => j.status === 'RUNNING' && j.progress > 0.1,
        30_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\nchild stderr: ${stderr}`);
      });
      expect(running.attempts).toBe(1);
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      expect((await jobStatus(rt, job.id)).status).toBe('RUNNING'); // nobody recorded the death

      survivor.start();
      const done = await waitFor(
        () => jobStatus(rt, job.id),
        (j) => j.status === 'SUCCEEDED',
        15_000,
      );
      expect(done.attempts).toBe(2);
      expect(done.messages.map((m) => m.text)).toContain('Attempt 1 lost its worker; retrying.');
      expect(await rt.blobs.head((done.result as { outputKey: string }).outputKey)).not.toBeNull();
    } finally {
      await survivor.stop();
      rt.close();
    }
  });
});

describe('the worker process', () => {
  it('starts the configured number of workers and exits 0 on SIGTERM', async () => {
    const dataDir = await tempDir('worker-process');
    const child = spawn(
      process.execPath,
      ['--require', 'tsx/cjs', path.join(__dirname, 'support', 'worker-child.ts')],
      {
        cwd: REPO,
        env: { ...process.env, PEERSTYLE_DATA_DIR: dataDir, PEERSTYLE_WORKERS: '2', PEERSTYLE_DROP_DIR: 'off' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await waitFor(
      () => stdout,
      (s) => s.includes('workers ready'),
      30_000,
    );
    expect(stdout).toMatch(/workers ready: worker-\d+-1, worker-\d+-2/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses to start with an invalid configuration, listing every problem', async () => {
    const child = spawn(
      process.execPath,
      ['--require', 'tsx/cjs', path.join(__dirname, 'support', 'worker-child.ts')],
      {
        cwd: REPO,
        env: { ...process.env, PEERSTYLE_WORKERS: 'many', PEERSTYLE_LEASE_SECONDS: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(stderr).toContain('PEERSTYLE_WORKERS must be an integer in 0..64, got "many".');
    expect(stderr).toContain('PEERSTYLE_LEASE_SECONDS must be an integer in 1..43200, got "0".');
  });
});
