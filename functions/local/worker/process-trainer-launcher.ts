/**
 * `ProcessTrainerLauncher`: the trainer launcher port as a child process of `peerstyle train
 * --sagemaker` in a per-job folder laid out like a SageMaker training container:
 *
 *     <jobs>/<job id>/input/config/hyperparameters.json   string values, as SageMaker sends them
 *     <jobs>/<job id>/input/data/training/                the dataset, staged by the caller
 *     <jobs>/<job id>/checkpoints/  model/  output/failure
 *
 * The folder is named after the job, so a retry after a lost worker finds the checkpoints of the last
 * attempt and the trainer resumes from them, and the dataset staged by the first attempt. The channel
 * is a real folder holding the run's own copy of the dataset (the trainer picks its channel among real
 * directories, and a run must not see its set change under it); the caller's `stageDataset` writes that
 * one copy straight into it. A completed run leaves the weights and the model package the trainer
 * exported in `model/`, as SageMaker would upload them. Metric lines on stdout become progress
 * callbacks; aborting the signal sends SIGTERM, on which the trainer checkpoints and exits 0, and
 * SIGKILL follows only if it overstays its grace period (SageMaker gives 120 s).
 */

import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { childProcessEnv } from '../../config';
import { DomainError, ErrorCode } from '../../core';
import type {
  TrainerLauncher,
  TrainingLaunch,
  TrainingOptions,
  TrainingOutcome,
} from '../../core/ports/trainer-launcher';
import { parseMetricLine } from '../../../trainer/progress';
import { sageMakerLayout } from '../../../trainer/sagemaker';

/** Options for `ProcessTrainerLauncher`. */
export interface ProcessTrainerLauncherOptions {
  /** Folder under which each job gets its own working folder. */
  jobsDir: string;
  /** The `peerstyle` entry point. @default bin/peerstyle.js of this checkout */
  bin?: string;
  /** Extra environment for the trainer (merged over this process's). */
  env?: NodeJS.ProcessEnv;
  /** How long a stopped trainer may take to checkpoint before it is killed. @default 120000 */
  stopGraceMs?: number;
}

/**
 * Why a trainer dies of a SIGKILL the launcher did not send. No process can catch it or say why; on Linux
 * it is nearly always the kernel's out-of-memory killer choosing the largest process, and the trainer is
 * that: `small` peaks at about 8 GB resident at its 128 px crop and 18 GB at 192 px (README, "Training").
 */
export const UNASKED_SIGKILL =
  'Peerstyle did not send it; most likely the machine ran out of memory and the system stopped the ' +
  'largest process. Lower cropSize, batchSize or ngf, or train on a larger machine.';

/** Longest stderr tail kept for the error message of a failed run. */
const STDERR_TAIL = 2000;

/** The meaningful end of a crashed trainer's stderr: stack frames and the Node version banner dropped. */
function lastError(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('at ') && !/^Node\.js v\d/.test(line));
  return lines.slice(-3).join(' ');
}

/**
 * The trainer's message as the job's owner may see it: the job folder on this machine is replaced by
 * names the owner knows (`dataset/content` rather than `/home/…/training/<id>/input/data/training/content`).
 */
export function withoutServerPaths(message: string, root: string): string {
  const channel = path.join(sageMakerLayout(root).dataDir, 'training');
  return message.split(channel).join('dataset').split(root).join('job folder');
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/** Runs training as a child process in a SageMaker-shaped job folder. */
export class ProcessTrainerLauncher implements TrainerLauncher {
  private readonly bin: string;

  constructor(private readonly options: ProcessTrainerLauncherOptions) {
    this.bin = options.bin ?? path.join(__dirname, '..', '..', '..', 'bin', 'peerstyle.js');
  }

  /** The working folder of a job's training run. */
  jobDir(jobId: string): string {
    return path.join(this.options.jobsDir, jobId);
  }

  async train(launch: TrainingLaunch, options: TrainingOptions = {}): Promise<TrainingOutcome> {
    options.signal?.throwIfAborted();
    const root = this.jobDir(launch.jobId);
    const layout = sageMakerLayout(root);
    await this.prepare(launch, root);

    const stepsText = launch.hyperparameters.steps;
    const steps = stepsText !== undefined && Number.isFinite(Number(stepsText)) ? Number(stepsText) : null;
    const child = spawn(process.execPath, [this.bin, 'train', '--sagemaker', '--opt-ml', root], {
      env: childProcessEnv(this.options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lastStep: number | null = null;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const metric = parseMetricLine(line);
      if (metric === null) return;
      lastStep = metric.step;
      options.onMetrics?.({ step: metric.step, steps, values: metric.values });
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
    });

    let stopped = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      stopped = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), this.options.stopGraceMs ?? 120_000);
    };
    options.signal?.addEventListener('abort', stop, { once: true });
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal }));
    }).finally(() => {
      options.signal?.removeEventListener('abort', stop);
      clearTimeout(killTimer);
    });

    if (exit.code === 0) {
      return {
        status: stopped ? 'STOPPED' : 'COMPLETED',
        modelDir: layout.modelDir,
        checkpointDir: layout.checkpointDir,
        lastStep,
      };
    }
    const failure = (await fs.readFile(layout.failureFile, 'utf8').catch(() => '')).trim();
    const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const reason = withoutServerPaths(
      failure || lastError(stderr) || (exit.signal === 'SIGKILL' && !stopped ? UNASKED_SIGKILL : 'no reason given'),
      root,
    );
    throw new DomainError(ErrorCode.INTERNAL, `Training ${how}: ${reason}`, {
      jobId: launch.jobId,
      exitCode: exit.code,
      signal: exit.signal,
    });
  }

  /** Lays out the job folder; a retry keeps the staged dataset and the checkpoints of earlier attempts. */
  private async prepare(launch: TrainingLaunch, root: string): Promise<void> {
    const layout = sageMakerLayout(root);
    for (const dir of [
      path.dirname(layout.hyperparametersFile),
      layout.dataDir,
      layout.checkpointDir,
      layout.modelDir,
    ]) {
      await fs.mkdir(dir, { recursive: true });
    }
    await fs.mkdir(path.dirname(layout.failureFile), { recursive: true });
    await fs.rm(layout.failureFile, { force: true });
    await fs.writeFile(layout.hyperparametersFile, JSON.stringify(launch.hyperparameters, null, 2));
    const channel = path.join(layout.dataDir, 'training');
    if (!(await exists(channel))) {
      // Stage beside, then rename: a crash mid-copy must not leave a half dataset that a retry trusts.
      const partial = `${channel}.partial`;
      await fs.rm(partial, { recursive: true, force: true });
      await fs.mkdir(partial);
      await launch.stageDataset(partial);
      await fs.rename(partial, channel);
    }
  }
}
