/**
 * The job queue port: at-least-once delivery of job ids to workers, with leases.
 *
 * A worker receives a lease on a job and must heartbeat it while working; if it dies, the lease runs
 * out and the job is delivered again with the next attempt number. A job delivered `maxAttempts` times
 * without being acknowledged is moved to the dead-letter list instead, where a janitor picks it up and
 * marks the job FAILED. This mirrors SQS (visibility timeout, ChangeMessageVisibility, redrive policy)
 * so the SQS adapter can pass the same contract suite as the SQLite one.
 */

/** A worker's temporary claim on a job. */
export interface Lease {
  jobId: string;
  /** Opaque handle for heartbeat, ack and release; valid only for this delivery. */
  receipt: string;
  /** 1 on first delivery, 2 after one lost or released lease, and so on. */
  attempt: number;
  /** ISO-8601 time the lease runs out unless heartbeated. */
  expiresAt: string;
}

/** A job that used up its deliveries. */
export interface DeadLetter {
  jobId: string;
  /** Deliveries made before giving up. */
  attempts: number;
  /** Human-readable reason, suitable for the job's error message. */
  reason: string;
  /** Handle for `ackDeadLetter`. */
  receipt: string;
}

/** Counts for monitoring. */
export interface QueueStats {
  /** Waiting to be received. */
  visible: number;
  /** Leased to a worker. */
  inFlight: number;
  /** Dead letters not yet acknowledged. */
  deadLetters: number;
}

/** Options for `JobQueue.release`. */
export interface ReleaseOptions {
  /** Seconds before the job is receivable again. @default 0 */
  delaySeconds?: number;
  /** Whether the released delivery counts towards `maxAttempts`. @default true */
  countDelivery?: boolean;
}

/** At-least-once delivery of job ids with leases. */
export interface JobQueue {
  /**
   * Adds a job; it becomes receivable after `delaySeconds` (default 0). `owner` names the job's
   * scheduling group: a queue that can takes turns between owners (see `receive`).
   */
  enqueue(jobId: string, options?: { delaySeconds?: number; owner?: string }): Promise<void>;
  /**
   * Leases a receivable job for `leaseSeconds`, or returns null when there is none. A fair queue (the
   * SQLite one) serves owners round-robin: the next job is the oldest of the owner served longest ago,
   * so one owner's backlog cannot hold up another's single job; SQS serves roughly oldest first. Jobs
   * that have used up their deliveries are dead-lettered on the way.
   */
  receive(workerId: string, leaseSeconds: number): Promise<Lease | null>;
  /** Extends a held lease to `leaseSeconds` from now; EXPIRED when the lease is no longer held. */
  heartbeat(receipt: string, leaseSeconds: number): Promise<Lease>;
  /** Removes a finished job from the queue. */
  ack(receipt: string): Promise<void>;
  /**
   * Gives a job back for another attempt after `delaySeconds` (default 0). With `countDelivery: false`
   * (a clean shutdown) this delivery does not count towards dead-lettering: the next one gets the same
   * attempt number again.
   */
  release(receipt: string, options?: ReleaseOptions): Promise<void>;
  /** Returns up to `limit` dead letters; each stays until acknowledged. */
  receiveDeadLetters(limit: number): Promise<DeadLetter[]>;
  /** Removes a dead letter once its job has been marked FAILED. */
  ackDeadLetter(receipt: string): Promise<void>;
  /** Counts for monitoring (approximate on SQS). */
  stats(): Promise<QueueStats>;
}
