/**
 * The job store port: durable job records with idempotent creation and conditional status changes.
 *
 * Status changes are compare-and-set (`transition(id, from, to)`), so two workers that both believe they
 * own a job cannot both move it: the loser gets CONFLICT. The SQLite adapter does this in a transaction
 * and the DynamoDB adapter with a condition expression; both run the same contract suite.
 */

import type { Job, JobKind, JobStatus, NewJob, ProgressUpdate, TransitionPatch } from '../job';
import type { Page, PageRequest } from './page';

/** The outcome of `create`: the job, and whether this call made it or found it by idempotency key. */
export interface CreateJobResult {
  job: Job;
  created: boolean;
  /**
   * True when the store also put the new job on the queue in the same transaction (the SQLite store
   * built with its queue), so no crash can leave it QUEUED but never delivered; the caller must then
   * not enqueue it again. Absent or false: the caller enqueues it.
   */
  enqueued?: boolean;
}

/**
 * Per-owner caps `create` enforces atomically with the insert (a SQLite transaction, a conditional
 * counter update in DynamoDB), so concurrent submissions cannot overshoot them. A repeated idempotency
 * key returns its job even when the owner is at the cap.
 */
export interface JobQuota {
  /** Most QUEUED or RUNNING jobs per owner. */
  maxActive: number;
  /** Most QUEUED or RUNNING TRAIN jobs per owner. */
  maxActiveTraining: number;
}

/** Filters for listing an owner's jobs. */
export interface ListJobsRequest extends PageRequest {
  status?: JobStatus;
  kind?: JobKind;
}

/** Durable job records. */
export interface JobStore {
  /**
   * Creates a QUEUED job. When the owner already has a job with the same idempotency key, returns that
   * job with `created: false` instead, however many callers race; no second job is ever made.
   * With `quota`, a new job that would take the owner past it is refused with QUOTA_EXCEEDED.
   */
  create(request: NewJob, quota?: JobQuota): Promise<CreateJobResult>;
  /**
   * Reads a job. With `owner`, a job belonging to someone else reads as absent, so callers cannot probe
   * for other users' job ids.
   */
  get(id: string, owner?: string): Promise<Job | null>;
  /** Lists an owner's jobs newest first; cursors stay valid while new jobs are created. */
  list(owner: string, request?: ListJobsRequest): Promise<Page<Job>>;
  /**
   * Moves a job from `from` to `to` through `transitionJob`. NOT_FOUND when absent, CONFLICT when the
   * stored status is not `from`, ILLEGAL_TRANSITION when the state machine forbids the move.
   */
  transition(id: string, from: JobStatus, to: JobStatus, patch?: TransitionPatch): Promise<Job>;
  /** Applies a worker's progress report; CONFLICT once the job is terminal. */
  updateProgress(id: string, update: ProgressUpdate): Promise<Job>;
  /**
   * Records the owner's cancel request (see `requestCancellation`). With `owner`, another user's job is
   * NOT_FOUND.
   */
  requestCancel(id: string, owner?: string): Promise<Job>;
}
