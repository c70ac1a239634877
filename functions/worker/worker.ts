/**
 * `Worker`: the loop that runs jobs on this machine.
 *
 * It receives a lease, claims the job (which also retries a job whose previous worker died), runs the
 * executor for the job's kind while heartbeating the lease, then records the outcome and acknowledges
 * the lease. A cancel request reaches a running job through its CANCEL_REQUESTED event, at once, when the
 * worker shares the job events with the API (`npm start`); heartbeats also re-read the job, so a worker
 * in another process sees the request within one heartbeat. A heartbeat that finds the lease gone aborts
 * the run without recording anything, because another worker may already be running the next attempt.
 * Each pass also fails dead-lettered jobs, so jobs whose workers kept dying end FAILED.
 */

import { randomUUID } from 'node:crypto';
import { DomainError, ErrorCode, isDomainError } from '../core';
import type { Job, JobEvents, JobKind, JobQueue, JobStore, JsonValue, Lease } from '../core';
import { claimJob } from '../core/use-cases/run-claim-job';
import { failDeadLetteredJobs } from '../core/use-cases/run-fail-dead-letters';
import { finishJob, type RunOutcome } from '../core/use-cases/run-finish-job';
import { handBackJob } from '../core/use-cases/run-hand-back-job';
import { reportProgress } from '../core/use-cases/run-report-progress';
import type { JobExecutor } from './job-executor';
import { toJobError } from './job-error';

/** Options for `Worker`. */
export interface WorkerOptions {
  jobs: JobStore;
  queue: JobQueue;
  events: JobEvents;
  /** The executor for each job kind. */
  executors: Readonly<Record<JobKind, JobExecutor>>;
  /** Names this worker in leases and logs. @default a random id */
  id?: string;
  /** How long a lease lasts without a heartbeat. @default 60 */
  leaseSeconds?: number;
  /** Heartbeat (and cancel check) interval. @default a third of the lease */
  heartbeatMs?: number;
  /** Wait between receives when the queue is empty. @default 500 */
  idlePollMs?: number;
  /** Called with errors the loop survives (a store hiccup), for logging. */
  onError?: (error: unknown) => void;
}

/** Why a run's signal was aborted. */
type StopReason = 'cancel' | 'lease-lost' | 'shutdown';

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });

/** One worker loop; `start` it, and `stop` it to finish the current job's bookkeeping and exit. */
export class Worker {
  readonly id: string;
  private readonly leaseSeconds: number;
  private readonly heartbeatMs: number;
  private readonly idlePollMs: number;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(private readonly options: WorkerOptions) {
    this.id = options.id ?? `worker-${randomUUID().slice(0, 8)}`;
    this.leaseSeconds = options.leaseSeconds ?? 60;
    this.heartbeatMs = options.heartbeatMs ?? Math.max(100, (this.leaseSeconds * 1000) / 3);
    this.idlePollMs = options.idlePollMs ?? 500;
  }

  /** Starts the loop; calling it twice has no further effect. */
  start(): void {
    this.loop ??= this.run();
  }

  /**
   * Stops taking jobs. A job in progress is aborted and handed back (see `handBackJob`): its lease is
   * released so another worker picks it up at once rather than after the lease runs out, and the
   * attempt does not count. A job that finished while stopping is recorded as finished.
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  /** Receives and runs one job if there is one; returns whether it found one. Useful for tests and drains. */
  async runOnce(): Promise<boolean> {
    const deps = this.options;
    await failDeadLetteredJobs(deps);
    const lease = await deps.queue.receive(this.id, this.leaseSeconds);
    if (lease === null) return false;
    const claim = await claimJob(deps, lease);
    if (claim.action === 'skip') {
      await this.ackQuietly(lease);
      return true;
    }
    await this.execute(claim.job, lease);
    return true;
  }

  private async run(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      let found = false;
      try {
        found = await this.runOnce();
      } catch (error) {
        this.options.onError?.(error);
      }
      if (!found) await sleep(this.idlePollMs, this.stopping.signal);
    }
  }

  private async execute(job: Job, lease: Lease): Promise<void> {
    const deps = this.options;
    const controller = new AbortController();
    let stopReason: StopReason | undefined;
    const abort = (reason: StopReason): void => {
      if (stopReason !== undefined) return;
      stopReason = reason;
      controller.abort(new DomainError(ErrorCode.CANCELLED, `Job ${job.id} stopped: ${reason}.`));
    };
    const onShutdown = (): void => abort('shutdown');
    this.stopping.signal.addEventListener('abort', onShutdown);
    // The cancel mutation publishes CANCEL_REQUESTED after it sets the flag; waiting for the next
    // heartbeat instead (a third of the lease: 20 s by default) let a training run go on for seconds.
    const cancels = deps.events.subscribe({ jobId: job.id });
    void (async () => {
      for await (const event of cancels) {
        if (event.type === 'CANCEL_REQUESTED' && event.job.cancelRequested) return abort('cancel');
      }
    })().catch((error: unknown) => deps.onError?.(error));
    const beat = setInterval(() => {
      void this.heartbeat(lease, job.id).then((reason) => {
        if (reason !== undefined) abort(reason);
      });
    }, this.heartbeatMs);

    let outcome: RunOutcome;
    try {
      const executor = deps.executors[job.kind];
      const result: JsonValue = await executor(job, {
        signal: controller.signal,
        report: async (update) => {
          await reportProgress(deps, job.id, update);
        },
      });
      outcome = stopReason === 'cancel' ? { status: 'CANCELLED' } : { status: 'SUCCEEDED', result };
    } catch (error) {
      outcome = stopReason === 'cancel' ? { status: 'CANCELLED' } : { status: 'FAILED', error: toJobError(error) };
    } finally {
      clearInterval(beat);
      cancels.unsubscribe();
      this.stopping.signal.removeEventListener('abort', onShutdown);
    }

    if (stopReason === 'lease-lost') return; // the next attempt owns the job now
    if (stopReason === 'shutdown' && outcome.status !== 'SUCCEEDED') {
      // Hand the job back at once, without counting the attempt (a training run has checkpointed).
      await handBackJob(deps, job.id, lease).catch((error: unknown) => deps.onError?.(error));
      return;
    }
    try {
      await finishJob(deps, job.id, outcome);
    } catch (error) {
      // CONFLICT: the job was finished elsewhere (a duplicate delivery that won); nothing to record.
      if (!isDomainError(error, ErrorCode.CONFLICT)) throw error;
    }
    await this.ackQuietly(lease);
  }

  /** Extends the lease and reads the cancel flag; returns why the run must stop, if it must. */
  private async heartbeat(lease: Lease, jobId: string): Promise<StopReason | undefined> {
    try {
      await this.options.queue.heartbeat(lease.receipt, this.leaseSeconds);
    } catch (error) {
      if (isDomainError(error, ErrorCode.EXPIRED)) return 'lease-lost';
      this.options.onError?.(error);
      return undefined;
    }
    try {
      const job = await this.options.jobs.get(jobId);
      if (job?.cancelRequested) return 'cancel';
    } catch (error) {
      this.options.onError?.(error);
    }
    return undefined;
  }

  private async ackQuietly(lease: Lease): Promise<void> {
    try {
      await this.options.queue.ack(lease.receipt);
    } catch (error) {
      // EXPIRED: the lease ran out while finishing; the redelivery will see a terminal job and skip it.
      if (!isDomainError(error, ErrorCode.EXPIRED)) throw error;
    }
  }
}
