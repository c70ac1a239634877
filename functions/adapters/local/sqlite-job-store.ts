/**
 * `SqliteJobStore`: the job store on a local SQLite file.
 *
 * Each job is one row: the whole job as JSON, plus the columns queries need (owner, status, kind,
 * idempotency key, and a sequence number that orders listings). Every change reads the row, applies a
 * pure function from `core/job.ts` and writes it back inside one IMMEDIATE transaction, which makes the
 * read-check-write atomic even across processes sharing the file.
 */

import { randomUUID } from 'node:crypto';
import {
  ACTIVE_STATUSES,
  applyProgress,
  assertSameRequest,
  createJob,
  DomainError,
  ErrorCode,
  JOB_KINDS,
  JOB_STATUSES,
  decodeCursor,
  encodeCursor,
  pageLimit,
  parseOneOf,
  requestCancellation,
  systemClock,
  quotaExceeded,
  transitionFrom,
} from '../../core';
import type {
  Clock,
  CreateJobResult,
  Job,
  JobQuota,
  JobStatus,
  JobStore,
  ListJobsRequest,
  NewJob,
  Page,
  ProgressUpdate,
  TransitionPatch,
} from '../../core';
import { inWriteTransaction, type SqliteDatabase } from './sqlite-database';
import type { SqliteJobQueue } from './sqlite-job-queue';

/** Options for `SqliteJobStore`. */
export interface SqliteJobStoreOptions {
  /** Where time comes from. @default systemClock */
  clock?: Clock;
  /**
   * The queue on the same database connection. When given, `create` puts each new job on it in the
   * same transaction as the job row (and says so with `enqueued: true`), so a crash between the two
   * writes cannot leave a QUEUED job that is never delivered. @default none: the caller enqueues
   */
  queue?: Pick<SqliteJobQueue, 'enqueueNow'>;
}

interface JobRow {
  seq: number;
  doc: string;
}

const isSeqCursor = (value: unknown): value is number => Number.isInteger(value);

/** Job records in SQLite. */
export class SqliteJobStore implements JobStore {
  private readonly clock: Clock;
  private readonly queue: Pick<SqliteJobQueue, 'enqueueNow'> | undefined;

  constructor(
    private readonly db: SqliteDatabase,
    options: SqliteJobStoreOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.queue = options.queue;
    db.exec(`
      CREATE TABLE IF NOT EXISTS jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        owner TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        idempotency_key TEXT,
        doc TEXT NOT NULL
      );
      CREATE UNIQUE INDEX IF NOT EXISTS jobs_idempotency ON jobs (owner, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
      CREATE INDEX IF NOT EXISTS jobs_owner_seq ON jobs (owner, seq);
      CREATE INDEX IF NOT EXISTS jobs_owner_status ON jobs (owner, status, kind);
    `);
  }

  async create(request: NewJob, quota?: JobQuota): Promise<CreateJobResult> {
    const job = createJob(randomUUID(), request, this.clock());
    return inWriteTransaction(this.db, () => {
      const existing = this.byIdempotencyKey(job);
      if (existing !== null) return { job: assertSameRequest(existing, job), created: false };
      if (quota !== undefined) this.checkQuota(job, quota);
      // The unique index decides races between connections; ON CONFLICT turns the loser into a lookup.
      const inserted = this.db
        .prepare(
          `INSERT INTO jobs (id, owner, kind, status, idempotency_key, doc) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (owner, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`,
        )
        .run(job.id, job.owner, job.kind, job.status, job.idempotencyKey, JSON.stringify(job));
      if (inserted.changes === 1) {
        if (this.queue === undefined) return { job, created: true };
        this.queue.enqueueNow(job.id, { owner: job.owner });
        return { job, created: true, enqueued: true };
      }
      return { job: assertSameRequest(this.byIdempotencyKey(job) as Job, job), created: false };
    });
  }

  private byIdempotencyKey(job: Job): Job | null {
    if (job.idempotencyKey === null) return null;
    const row = this.db
      .prepare('SELECT seq, doc FROM jobs WHERE owner = ? AND idempotency_key = ?')
      .get(job.owner, job.idempotencyKey) as JobRow | undefined;
    return row === undefined ? null : (JSON.parse(row.doc) as Job);
  }

  /** Runs inside the create transaction, so the count and the insert see the same rows. */
  private checkQuota(job: Job, quota: JobQuota): void {
    const active = ACTIVE_STATUSES.map(() => '?').join(', ');
    const count = (extra: string, ...params: string[]): number =>
      (
        this.db
          .prepare(`SELECT COUNT(*) AS n FROM jobs WHERE owner = ? AND status IN (${active})${extra}`)
          .get(job.owner, ...ACTIVE_STATUSES, ...params) as { n: number }
      ).n;
    if (count('') >= quota.maxActive) throw quotaExceeded(quota.maxActive, false);
    if (job.kind === 'TRAIN' && count(' AND kind = ?', 'TRAIN') >= quota.maxActiveTraining) {
      throw quotaExceeded(quota.maxActiveTraining, true);
    }
  }

  async get(id: string, owner?: string): Promise<Job | null> {
    const job = this.read(id);
    if (job === null || (owner !== undefined && job.owner !== owner)) return null;
    return job;
  }

  async list(owner: string, request: ListJobsRequest = {}): Promise<Page<Job>> {
    const limit = pageLimit(request.limit);
    const where = ['owner = ?'];
    const params: (string | number)[] = [owner];
    if (request.status !== undefined) {
      where.push('status = ?');
      params.push(parseOneOf('job status', request.status, JOB_STATUSES));
    }
    if (request.kind !== undefined) {
      where.push('kind = ?');
      params.push(parseOneOf('job kind', request.kind, JOB_KINDS));
    }
    if (request.cursor !== undefined) {
      // Newest first by insertion sequence: new jobs get larger numbers, so they never shift a page.
      where.push('seq < ?');
      params.push(decodeCursor(request.cursor, isSeqCursor));
    }
    const rows = this.db
      .prepare(`SELECT seq, doc FROM jobs WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`)
      .all(...params, limit + 1) as JobRow[];
    const page = rows.slice(0, limit);
    const result: Page<Job> = { items: page.map((row) => JSON.parse(row.doc) as Job) };
    const last = page.at(-1);
    if (rows.length > limit && last !== undefined) result.nextCursor = encodeCursor(last.seq);
    return result;
  }

  async transition(id: string, from: JobStatus, to: JobStatus, patch: TransitionPatch = {}): Promise<Job> {
    parseOneOf('job status', from, JOB_STATUSES);
    return this.update(id, undefined, (job) => transitionFrom(job, from, to, this.clock(), patch));
  }

  async updateProgress(id: string, update: ProgressUpdate): Promise<Job> {
    return this.update(id, undefined, (job) => applyProgress(job, update, this.clock()));
  }

  async requestCancel(id: string, owner?: string): Promise<Job> {
    return this.update(id, owner, (job) => requestCancellation(job, this.clock()));
  }

  private read(id: string): Job | null {
    const row = this.db.prepare('SELECT seq, doc FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row === undefined ? null : (JSON.parse(row.doc) as Job);
  }

  private update(id: string, owner: string | undefined, change: (job: Job) => Job): Job {
    return inWriteTransaction(this.db, () => {
      const job = this.read(id);
      if (job === null || (owner !== undefined && job.owner !== owner)) {
        throw new DomainError(ErrorCode.NOT_FOUND, `No job with id ${id}.`, { jobId: id });
      }
      const next = change(job);
      if (next !== job) {
        this.db.prepare('UPDATE jobs SET status = ?, doc = ? WHERE id = ?').run(next.status, JSON.stringify(next), id);
      }
      return next;
    });
  }
}
