/**
 * The job: what a stylize or training run is, the state machine its status follows, and the pure
 * helpers that change it.
 *
 * Every store (SQLite locally, DynamoDB on AWS) keeps jobs in exactly this shape and changes them only
 * through these functions, so the rules (which status moves are legal, how long the message list may
 * grow, when timestamps are set) live in one place and are tested once. Nothing here performs I/O;
 * each helper takes the current time and returns a new job.
 */

import { createHash } from 'node:crypto';
import { assertBlobKey } from './blob-key';
import { DomainError, ErrorCode, parseOneOf } from './errors';
import type { JsonValue } from './json';
import { parseStylizeJobInput } from './stylize-input';

/** What a job does. */
export const JOB_KINDS = ['STYLIZE', 'TRAIN'] as const;
/** What a job does: stylize an image with a model, or train a new model. */
export type JobKind = (typeof JOB_KINDS)[number];

/** Where a job is in its life. */
export const JOB_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
/** Where a job is in its life; the last three are terminal. */
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses a job never leaves. */
export const TERMINAL_STATUSES: readonly JobStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

/** Severity of a job message. */
export const MESSAGE_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
/** Severity of a job message. */
export type MessageLevel = (typeof MESSAGE_LEVELS)[number];

/** One line of a job's log, as shown to its owner. */
export interface JobMessage {
  /** ISO-8601 time the message was recorded. */
  at: string;
  level: MessageLevel;
  text: string;
}

/** One sample of training metrics. */
export interface MetricPoint {
  /** Training iteration the values belong to. */
  step: number;
  /** ISO-8601 time the values were recorded. */
  at: string;
  /** Loss name → value at this step. */
  values: Record<string, number>;
}

/** Training metrics: the latest value of each loss plus a bounded history for charts. */
export interface JobMetrics {
  /** Loss name → most recent value. */
  latest: Record<string, number>;
  /** Oldest first; trimmed to `MAX_METRIC_POINTS`. */
  history: MetricPoint[];
}

/** Why a job failed, in the platform's closed vocabulary. */
export interface JobError {
  code: ErrorCode;
  message: string;
}

/**
 * A small, early rendering of a stylize job's result, stored as a blob beside the result. It arrives
 * while the job runs and stays once it has finished.
 */
export interface JobPreview {
  /** Blob key of the encoded image. */
  key: string;
  width: number;
  height: number;
  /** MIME type of the blob, e.g. "image/jpeg". */
  contentType: string;
}

/** A stylize or training job, as stored and as shown to its owner. */
export interface Job {
  id: string;
  /** The user (or API key owner) the job belongs to; nobody else may see it. */
  owner: string;
  kind: JobKind;
  status: JobStatus;
  /** Free-form name of the current step, e.g. "decoding" or "epoch 3". */
  stage: string;
  /** Fraction done, 0..1. */
  progress: number;
  /** Most recent messages, oldest first; trimmed to `MAX_JOB_MESSAGES`. */
  messages: JobMessage[];
  metrics: JobMetrics;
  /** The request as submitted (image keys, style, model id, hyperparameters). */
  input: JsonValue;
  /** What the job produced (output object keys, a model id), once it has. */
  result: JsonValue | null;
  /** Why the job failed or was cancelled. */
  error: JobError | null;
  /** The stylize job's preview, once its worker has stored one; absent before (and in older records). */
  preview?: JobPreview;
  /**
   * The id a TRAIN job's model is published under, recorded before its package is stored so that a
   * repeated or retried publication registers that same model again rather than a second one. Absent
   * until then (and in older records).
   */
  trainedModelId?: string;
  /** ISO-8601 timestamps. */
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  /** How many times the job has started running. */
  attempts: number;
  /** How many starts are allowed before the job is failed. */
  maxAttempts: number;
  /** Client-chosen key that makes submission safe to retry; unique per owner. */
  idempotencyKey: string | null;
  /** The owner asked for a running job to stop; the worker checks this and winds down. */
  cancelRequested: boolean;
}

/** Most messages a job keeps; older ones are dropped first. */
export const MAX_JOB_MESSAGES = 50;
/** Longest message text kept; longer texts are cut so one noisy log line cannot bloat the record. */
export const MAX_MESSAGE_LENGTH = 1000;
/** Most metric samples a job keeps; older ones are dropped first. */
export const MAX_METRIC_POINTS = 200;
/** Starts allowed when the submitter does not say. */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** Longest idempotency key accepted (a UUID or a `bucket/key#version` string fits comfortably). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

/** What a caller supplies to create a job; the store adds id and time. */
export interface NewJob {
  owner: string;
  kind: JobKind;
  input: JsonValue;
  idempotencyKey?: string;
  /** @default DEFAULT_MAX_ATTEMPTS */
  maxAttempts?: number;
}

/** Canonical JSON: object keys sorted at every level, so equal values always serialise alike. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The SHA-256 of a job request (its kind and its input, which the use cases have already normalised:
 * defaults applied, styles resolved), independent of key order. Two submissions with one idempotency
 * key are the same request exactly when their hashes match.
 */
export function requestHash(request: Pick<NewJob, 'kind' | 'input'>): string {
  return createHash('sha256')
    .update(canonicalJson({ kind: request.kind, input: request.input }), 'utf8')
    .digest('hex');
}

/**
 * A request as idempotency compares it: a stylize input in its canonical form. Stylize inputs are
 * stored canonical (functions/core/stylize-input.ts), but a job stored before that form existed holds
 * upper-case enums and no defaults, and its retry, canonical now, must still find it. An input the
 * parser refuses is compared as stored.
 */
function comparable(request: Pick<NewJob, 'kind' | 'input'>): Pick<NewJob, 'kind' | 'input'> {
  if (request.kind !== 'STYLIZE') return request;
  try {
    return { kind: request.kind, input: parseStylizeJobInput(request.input) as unknown as JsonValue };
  } catch {
    return request;
  }
}

/**
 * Checks that a repeated idempotency key comes with the request that created `existing`; otherwise
 * IDEMPOTENCY_CONFLICT, since silently answering with another request's job would be wrong. Stores call
 * this on every path that returns an existing job for a key.
 */
export function assertSameRequest(existing: Job, request: Pick<NewJob, 'kind' | 'input'>): Job {
  if (requestHash(comparable(existing)) === requestHash(comparable(request))) return existing;
  throw new DomainError(
    ErrorCode.IDEMPOTENCY_CONFLICT,
    `IDEMPOTENCY_CONFLICT: idempotency key ${JSON.stringify(existing.idempotencyKey)} was already used for a ` +
      `different request (a ${existing.kind} job with other inputs); send a new key for a new request.`,
    { field: 'idempotencyKey', jobId: existing.id, kind: existing.kind },
  );
}

/** Statuses that count against an owner's quota of active jobs. */
export const ACTIVE_STATUSES: readonly JobStatus[] = ['QUEUED', 'RUNNING'];

/**
 * The error for a submission past an owner's cap, naming the limit. `training` says which cap: all
 * active jobs, or active training jobs.
 */
export function quotaExceeded(limit: number, training: boolean): DomainError {
  const what = training ? 'queued or running training jobs' : 'queued or running jobs';
  return new DomainError(
    ErrorCode.QUOTA_EXCEEDED,
    `QUOTA_EXCEEDED: at most ${limit} ${what} per owner; wait for some to finish or cancel them.`,
    { limit, training },
  );
}

/** True for SUCCEEDED, FAILED and CANCELLED. */
export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

const iso = (now: number): string => new Date(now).toISOString();

/**
 * Builds a freshly QUEUED job, validating what the caller supplied. Stores call this so that every
 * adapter starts jobs identically.
 */
export function createJob(id: string, request: NewJob, now: number): Job {
  if (typeof request.owner !== 'string' || request.owner.length === 0) {
    throw new DomainError(ErrorCode.BAD_REQUEST, 'A job needs a non-empty owner.', { field: 'owner' });
  }
  const kind = parseOneOf('job kind', request.kind, JOB_KINDS);
  const maxAttempts = request.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new DomainError(ErrorCode.BAD_REQUEST, `maxAttempts must be a positive integer, got ${maxAttempts}.`, {
      field: 'maxAttempts',
    });
  }
  const key = request.idempotencyKey;
  if (key !== undefined && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
    throw new DomainError(
      ErrorCode.BAD_REQUEST,
      `An idempotency key must be 1..${MAX_IDEMPOTENCY_KEY_LENGTH} characters, got ${key.length}.`,
      { field: 'idempotencyKey' },
    );
  }
  const at = iso(now);
  return {
    id,
    owner: request.owner,
    kind,
    status: 'QUEUED',
    stage: 'queued',
    progress: 0,
    messages: [],
    metrics: { latest: {}, history: [] },
    input: request.input,
    result: null,
    error: null,
    createdAt: at,
    startedAt: null,
    finishedAt: null,
    updatedAt: at,
    attempts: 0,
    maxAttempts,
    idempotencyKey: key ?? null,
    cancelRequested: false,
  };
}

/**
 * Why a running job goes back to the queue: its worker stopped heartbeating and the lease ran out
 * (`LEASE_LOST`: the attempt counts), or its worker was shut down cleanly and handed the job back
 * (`SHUTDOWN`: the attempt is given back, since the job did nothing wrong; a training run checkpoints
 * before it goes, and the next attempt resumes from there). A worker that fails on purpose marks the
 * job FAILED instead.
 */
export type RequeueReason = 'LEASE_LOST' | 'SHUTDOWN';

/** Extra changes applied together with a status change. */
export interface TransitionPatch {
  stage?: string;
  progress?: number;
  /** Set on SUCCEEDED. */
  result?: JsonValue;
  /** Set on FAILED (and optionally CANCELLED). */
  error?: JobError;
  /** Appended to the job's messages. */
  message?: { level: MessageLevel; text: string };
  /** Required for RUNNING → QUEUED. */
  requeueReason?: RequeueReason;
}

/** The legal moves, ignoring the extra conditions checked in `transitionJob`. */
const LEGAL_MOVES: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  QUEUED: ['RUNNING', 'CANCELLED', 'FAILED'],
  RUNNING: ['SUCCEEDED', 'FAILED', 'CANCELLED', 'QUEUED'],
  SUCCEEDED: [],
  FAILED: [],
  CANCELLED: [],
};

/** The statuses `from` may move to (before the conditions on retries and cancellation). */
export function nextStatuses(from: JobStatus): readonly JobStatus[] {
  return LEGAL_MOVES[from];
}

function illegal(job: Job, to: JobStatus, why: string): DomainError {
  const allowed = LEGAL_MOVES[job.status];
  return new DomainError(
    ErrorCode.ILLEGAL_TRANSITION,
    `Job ${job.id} cannot move from ${job.status} to ${to}: ${why}. ` +
      `From ${job.status} it may move to: ${allowed.length > 0 ? allowed.join(', ') : 'nothing (terminal)'}.`,
    { jobId: job.id, from: job.status, to, allowed },
  );
}

/**
 * The compare-and-set form of `transitionJob` that job stores apply: the move happens only if the job is
 * still in `from`; otherwise another writer got there first and the caller gets CONFLICT.
 */
export function transitionFrom(
  job: Job,
  from: JobStatus,
  to: JobStatus,
  now: number,
  patch: TransitionPatch = {},
): Job {
  if (job.status !== from) {
    throw new DomainError(
      ErrorCode.CONFLICT,
      `Job ${job.id} is ${job.status}, not ${from}; another writer changed it first.`,
      {
        jobId: job.id,
        expected: from,
        actual: job.status,
      },
    );
  }
  return transitionJob(job, to, now, patch);
}

/**
 * The one function through which a job's status changes. It rejects illegal moves with
 * ILLEGAL_TRANSITION and sets the bookkeeping that goes with each move:
 *
 * - QUEUED → RUNNING counts an attempt and stamps `startedAt` the first time;
 * - RUNNING → QUEUED is a retry after a lost lease (`requeueReason: 'LEASE_LOST'`), allowed only while
 *   attempts remain, or a clean shutdown's hand-back (`'SHUTDOWN'`), which gives the attempt back;
 *   both reset progress;
 * - QUEUED → CANCELLED is immediate; RUNNING → CANCELLED needs a prior cancel request, so a worker
 *   cannot cancel a job nobody asked to stop;
 * - QUEUED → FAILED covers a job that is dead-lettered or rejected before it starts;
 * - terminal moves stamp `finishedAt`.
 */
export function transitionJob(job: Job, to: JobStatus, now: number, patch: TransitionPatch = {}): Job {
  parseOneOf('job status', to, JOB_STATUSES);
  if (!LEGAL_MOVES[job.status].includes(to)) {
    throw illegal(job, to, isTerminal(job.status) ? `${job.status} is terminal` : 'not a legal move');
  }
  if (job.status === 'RUNNING' && to === 'QUEUED') {
    if (patch.requeueReason !== 'LEASE_LOST' && patch.requeueReason !== 'SHUTDOWN') {
      throw illegal(job, to, 'a running job returns to the queue only after its lease is lost or at shutdown');
    }
    if (patch.requeueReason === 'LEASE_LOST' && job.attempts >= job.maxAttempts) {
      throw illegal(job, to, `all ${job.maxAttempts} attempts are used; mark it FAILED instead`);
    }
  }
  if (job.status === 'RUNNING' && to === 'CANCELLED' && !job.cancelRequested) {
    throw illegal(job, to, 'a running job is cancelled only after a cancel request');
  }
  const at = iso(now);
  let next: Job = { ...job, status: to, updatedAt: at };
  if (to === 'RUNNING') {
    next.attempts = job.attempts + 1;
    next.startedAt = job.startedAt ?? at;
    next.stage = patch.stage ?? 'starting';
  }
  if (to === 'QUEUED') {
    next.progress = 0;
    next.stage = 'queued';
    if (patch.requeueReason === 'SHUTDOWN') next.attempts = Math.max(0, job.attempts - 1);
  }
  if (isTerminal(to)) next.finishedAt = at;
  if (to === 'SUCCEEDED') next.progress = 1;
  if (to === 'CANCELLED' && patch.error === undefined) {
    next.error = { code: ErrorCode.CANCELLED, message: 'Cancelled at the owner’s request.' };
  }
  if (patch.stage !== undefined) next.stage = patch.stage;
  if (patch.progress !== undefined) next.progress = checkProgress(patch.progress);
  if (patch.result !== undefined) next.result = patch.result;
  if (patch.error !== undefined) next.error = patch.error;
  if (patch.message !== undefined) next = appendMessage(next, patch.message.level, patch.message.text, now);
  return next;
}

function checkProgress(progress: number): number {
  if (typeof progress !== 'number' || !Number.isFinite(progress) || progress < 0 || progress > 1) {
    throw new DomainError(ErrorCode.BAD_REQUEST, `Progress must be a number in 0..1, got ${progress}.`, {
      field: 'progress',
    });
  }
  return progress;
}

/** Adds a message, keeping only the newest `MAX_JOB_MESSAGES` and cutting overlong text. */
export function appendMessage(job: Job, level: MessageLevel, text: string, now: number): Job {
  parseOneOf('message level', level, MESSAGE_LEVELS);
  const cut = text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : text;
  const messages = [...job.messages, { at: iso(now), level, text: cut }].slice(-MAX_JOB_MESSAGES);
  return { ...job, messages, updatedAt: iso(now) };
}

/**
 * Records one sample of training losses: each becomes the latest value for its name, and the sample
 * joins the history, which keeps only the newest `MAX_METRIC_POINTS`.
 */
export function recordMetrics(job: Job, step: number, values: Record<string, number>, now: number): Job {
  if (!Number.isInteger(step) || step < 0) {
    throw new DomainError(ErrorCode.BAD_REQUEST, `A metric step must be a non-negative integer, got ${step}.`, {
      field: 'step',
    });
  }
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      // A NaN loss is worth reporting, but as a message: JSON cannot carry it and charts cannot draw it.
      throw new DomainError(ErrorCode.BAD_REQUEST, `Metric "${name}" must be a finite number, got ${value}.`, {
        field: 'metrics',
      });
    }
  }
  const point: MetricPoint = { step, at: iso(now), values: { ...values } };
  return {
    ...job,
    metrics: {
      latest: { ...job.metrics.latest, ...values },
      history: [...job.metrics.history, point].slice(-MAX_METRIC_POINTS),
    },
    updatedAt: iso(now),
  };
}

/** A progress report from a worker; every field is optional. */
export interface ProgressUpdate {
  progress?: number;
  stage?: string;
  message?: { level: MessageLevel; text: string };
  metrics?: { step: number; values: Record<string, number> };
  /** A preview of the result, already stored under its key. */
  preview?: JobPreview;
  /**
   * Reserves the id a TRAIN job's model will be published under. The first id recorded stays: a later
   * one is ignored, so two writers that race to reserve both read back the same id.
   */
  trainedModelId?: string;
}

function checkPreview(preview: JobPreview): JobPreview {
  assertBlobKey(preview.key);
  for (const side of [preview.width, preview.height]) {
    if (!Number.isInteger(side) || side < 1) {
      throw new DomainError(ErrorCode.BAD_REQUEST, `A preview's sides must be positive integers, got ${side}.`, {
        field: 'preview',
      });
    }
  }
  if (typeof preview.contentType !== 'string' || !preview.contentType.startsWith('image/')) {
    throw new DomainError(ErrorCode.BAD_REQUEST, `A preview must be an image, got ${String(preview.contentType)}.`, {
      field: 'preview',
    });
  }
  return { key: preview.key, width: preview.width, height: preview.height, contentType: preview.contentType };
}

/**
 * Applies a worker's progress report. Only QUEUED and RUNNING jobs take progress; a report that
 * arrives after the job finished is CONFLICT, which tells a straggling worker to stop.
 */
export function applyProgress(job: Job, update: ProgressUpdate, now: number): Job {
  if (isTerminal(job.status)) {
    throw new DomainError(ErrorCode.CONFLICT, `Job ${job.id} is ${job.status}; it takes no more progress reports.`, {
      jobId: job.id,
      status: job.status,
    });
  }
  let next: Job = { ...job, updatedAt: iso(now) };
  if (update.progress !== undefined) next.progress = checkProgress(update.progress);
  if (update.stage !== undefined) next.stage = update.stage;
  if (update.message !== undefined) next = appendMessage(next, update.message.level, update.message.text, now);
  if (update.metrics !== undefined) next = recordMetrics(next, update.metrics.step, update.metrics.values, now);
  if (update.preview !== undefined) next.preview = checkPreview(update.preview);
  if (update.trainedModelId !== undefined) {
    if (job.kind !== 'TRAIN') {
      throw new DomainError(
        ErrorCode.BAD_REQUEST,
        `Job ${job.id} is a ${job.kind} job; only TRAIN jobs publish a model.`,
        {
          field: 'trainedModelId',
        },
      );
    }
    next.trainedModelId ??= update.trainedModelId;
  }
  return next;
}

/**
 * Handles an owner's cancel request: a QUEUED job is CANCELLED at once; a RUNNING job gets the
 * `cancelRequested` flag, which its worker honours by moving it to CANCELLED; asking again is harmless.
 * Cancelling a job that already SUCCEEDED or FAILED is CONFLICT, since there is nothing left to stop.
 */
export function requestCancellation(job: Job, now: number): Job {
  if (job.status === 'CANCELLED' || (job.status === 'RUNNING' && job.cancelRequested)) return job;
  if (job.status === 'SUCCEEDED' || job.status === 'FAILED') {
    throw new DomainError(ErrorCode.CONFLICT, `Job ${job.id} already ${job.status}; there is nothing to cancel.`, {
      jobId: job.id,
      status: job.status,
    });
  }
  const flagged: Job = { ...job, cancelRequested: true, updatedAt: iso(now) };
  return job.status === 'QUEUED' ? transitionJob(flagged, 'CANCELLED', now) : flagged;
}

/**
 * Progress as clients see it: four decimals. Stages add fractions (0.1 + 0.2), and 0.30000000000000004
 * is noise that reached every client before; progress is rounded when it is recorded and when it is read.
 */
export function roundProgress(progress: number): number {
  return Math.round(progress * 10_000) / 10_000;
}
