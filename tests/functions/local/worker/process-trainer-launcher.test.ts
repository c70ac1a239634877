/**
 * How the launcher reports a trainer process that dies without saying why. The stand-in trainers are
 * real child processes (plain scripts given as the launcher's `bin`), so the exit codes and signals are
 * the operating system's own; the SIGKILL a script sends itself stands in for the kernel's
 * out-of-memory killer, which cannot be summoned cheaply in a test.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ProcessTrainerLauncher, UNASKED_SIGKILL } from '../../../../functions/local/worker/process-trainer-launcher';
import { tempDir } from '../../../support/runtime';

async function launcherWith(name: string, script: string, stopGraceMs?: number): Promise<ProcessTrainerLauncher> {
  const dir = await tempDir(name);
  const bin = path.join(dir, 'trainer.js');
  await fs.writeFile(bin, script);
  return new ProcessTrainerLauncher({ jobsDir: path.join(dir, 'jobs'), bin, ...(stopGraceMs ? { stopGraceMs } : {}) });
}

const launch = {
  jobId: 'job-1',
  hyperparameters: { preset: 'tiny', steps: '2' },
  stageDataset: async (channel: string) => {
    await fs.mkdir(path.join(channel, 'content'));
    await fs.mkdir(path.join(channel, 'style'));
  },
};

describe('ProcessTrainerLauncher failures without a reason', () => {
  it('reads a SIGKILL it did not send as the system running out of memory', async () => {
    const launcher = await launcherWith('sigkill', "process.kill(process.pid, 'SIGKILL');\n");
    await expect(launcher.train(launch)).rejects.toThrow(`Training was killed by SIGKILL: ${UNASKED_SIGKILL}`);
  });

  it('says nothing of memory for the SIGKILL that ends a stop the trainer overstayed', async () => {
    const launcher = await launcherWith(
      'overstay',
      "process.on('SIGTERM', () => {}); console.log('started'); setInterval(() => {}, 1000);\n",
      200,
    );
    const stop = new AbortController();
    const run = launcher.train(launch, { signal: stop.signal });
    await new Promise((resolve) => setTimeout(resolve, 500));
    stop.abort();
    await expect(run).rejects.toThrow('Training was killed by SIGKILL: no reason given');
  });

  it('keeps "no reason given" for a silent non-zero exit', async () => {
    const launcher = await launcherWith('exit3', 'process.exit(3);\n');
    await expect(launcher.train(launch)).rejects.toThrow('Training exited with code 3: no reason given');
  });
});
