/**
 * `SqliteJobQueue`: the job queue on a local SQLite file, with SQS-like semantics.
 *
 * A message is receivable when its `visible_at` has passed. Receiving it pushes `visible_at` forward by
 * the lease and gives it a fresh receipt, so a worker that dies simply lets the time pass and the next
 * receive redelivers the job with a higher attempt number; the fresh receipt makes the dead worker's
 * handle useless. A message already delivered `maxAttempts` times moves to the dead-letter table
 * instead of being delivered again. Times come from an injectable clock so tests can expire leases
 * without sleeping.
 *
 * Receiving is fair between owners: each message carries its job's owner, `queue_owner_turns` records
 * when each owner was last served (a counter, not a clock), and `receive` takes the oldest receivable
 * message of the owner served longest ago. Owner A's 200 queued jobs then alternate with owner B's one
 * instead of running first. Messages enqueued without an owner (older data folders) form one group.
 */

import { randomUUID } from 'node:crypto';
import { DomainError, ErrorCode, systemClock } from '../../core';
import type { Clock, DeadLetter, JobQueue, Lease, QueueStats, ReleaseOptions } from '../../core';
import { inWriteTransaction, type SqliteDatabase } from './sqlite-database';

/** Options for `SqliteJobQueue`. */
export interface SqliteJobQueueOptions {
  /** Deliveries before a job is dead-lettered (SQS's maxReceiveCount). @default 3 */
  maxAttempts?: number;
  /** Where time comes from. @default systemClock */
  clock?: Clock;
}

interface MessageRow {
  id: number;
  job_id: string;
  deliveries: number;
  visible_at: number;
  owner: string;
}

/** Longest lease or delay accepted, matching SQS's 12-hour visibility limit. */
export const MAX_LEASE_SECONDS = 12 * 60 * 60;

function checkSeconds(what: string, seconds: number, min: number): number {
  if (!Number.isFinite(seconds) || seconds < min || seconds > MAX_LEASE_SECONDS) {
    throw new DomainError(
      ErrorCode.BAD_REQUEST,
      `${what} must be between ${min} and ${MAX_LEASE_SECONDS} seconds, got ${seconds}.`,
      { field: what },
    );
  }
  return seconds;
}

function leaseLost(receipt: string): DomainError {
  return new DomainError(
    ErrorCode.EXPIRED,
    `Lease ${receipt} is no longer held: it expired and may have been redelivered, or it was already acknowledged.`,
    { receipt },
  );
}

/** A durable job queue with leases and a dead-letter list. */
export class SqliteJobQueue implements JobQueue {
  private readonly clock: Clock;
  private readonly maxAttempts: number;

  constructor(
    private readonly db: SqliteDatabase,
    options: SqliteJobQueueOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.maxAttempts = options.maxAttempts ?? 3;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new DomainError(ErrorCode.BAD_REQUEST, `maxAttempts must be a positive integer, got ${this.maxAttempts}.`);
    }
    db.exec(`
      CREATE TABLE IF NOT EXISTS queue_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL,
        visible_at INTEGER NOT NULL,
        deliveries INTEGER NOT NULL DEFAULT 0,
        receipt TEXT UNIQUE,
        worker_id TEXT
      );
      CREATE INDEX IF NOT EXISTS queue_messages_visible ON queue_messages (visible_at, id);
      CREATE TABLE IF NOT EXISTS queue_owner_turns (
        owner TEXT PRIMARY KEY,
        turn INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS queue_dead_letters (
        receipt TEXT PRIMARY KEY,
        job_id TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        reason TEXT NOT NULL,
        dead_at INTEGER NOT NULL
      );
    `);
    // Data folders made before fair scheduling have no owner column; their messages join the '' group.
    const columns = db.prepare('PRAGMA table_info(queue_messages)').all() as { name: string }[];
    if (!columns.some((column) => column.name === 'owner')) {
      db.exec(`ALTER TABLE queue_messages ADD COLUMN owner TEXT NOT NULL DEFAULT ''`);
    }
  }

  async enqueue(jobId: string, options: { delaySeconds?: number; owner?: string } = {}): Promise<void> {
    this.enqueueNow(jobId, options);
  }

  /**
   * `enqueue`, synchronously, so that a store sharing this connection can run it inside its own
   * transaction (see `SqliteJobStoreOptions.queue`): the job row and its message commit together.
   */
  enqueueNow(jobId: string, options: { delaySeconds?: number; owner?: string } = {}): void {
    const delay = checkSeconds('delaySeconds', options.delaySeconds ?? 0, 0);
    this.db
      .prepare('INSERT INTO queue_messages (job_id, visible_at, owner) VALUES (?, ?, ?)')
      .run(jobId, this.clock() + delay * 1000, options.owner ?? '');
  }

  async receive(workerId: string, leaseSeconds: number): Promise<Lease | null> {
    checkSeconds('leaseSeconds', leaseSeconds, 1);
    return inWriteTransaction(this.db, () => {
      const now = this.clock();
      for (;;) {
        // Round-robin over owners: the owner whose last turn is oldest (never served: turn 0) goes first,
        // then that owner's oldest receivable message.
        const row = this.db
          .prepare(
            `SELECT m.id, m.job_id, m.deliveries, m.visible_at, m.owner FROM queue_messages m
             LEFT JOIN queue_owner_turns t ON t.owner = m.owner
             WHERE m.visible_at <= ? ORDER BY COALESCE(t.turn, 0), m.visible_at, m.id LIMIT 1`,
          )
          .get(now) as MessageRow | undefined;
        if (row === undefined) return null;
        if (row.deliveries >= this.maxAttempts) {
          this.deadLetter(row, now);
          continue;
        }
        this.db
          .prepare(
            `INSERT INTO queue_owner_turns (owner, turn)
             VALUES (?, (SELECT COALESCE(MAX(turn), 0) + 1 FROM queue_owner_turns))
             ON CONFLICT (owner) DO UPDATE SET turn = excluded.turn`,
          )
          .run(row.owner);
        const receipt = randomUUID();
        const expires = now + leaseSeconds * 1000;
        this.db
          .prepare(
            'UPDATE queue_messages SET deliveries = deliveries + 1, visible_at = ?, receipt = ?, worker_id = ? WHERE id = ?',
          )
          .run(expires, receipt, workerId, row.id);
        return { jobId: row.job_id, receipt, attempt: row.deliveries + 1, expiresAt: new Date(expires).toISOString() };
      }
    });
  }

  async heartbeat(receipt: string, leaseSeconds: number): Promise<Lease> {
    checkSeconds('leaseSeconds', leaseSeconds, 1);
    return inWriteTransaction(this.db, () => {
      const now = this.clock();
      const row = this.db
        .prepare('SELECT id, job_id, deliveries, visible_at FROM queue_messages WHERE receipt = ?')
        .get(receipt) as MessageRow | undefined;
      // A lease that ran out cannot be revived, even if nobody has taken the job yet: the worker must
      // assume another one may have it and stop.
      if (row === undefined || row.visible_at <= now) throw leaseLost(receipt);
      const expires = now + leaseSeconds * 1000;
      this.db.prepare('UPDATE queue_messages SET visible_at = ? WHERE id = ?').run(expires, row.id);
      return { jobId: row.job_id, receipt, attempt: row.deliveries, expiresAt: new Date(expires).toISOString() };
    });
  }

  async ack(receipt: string): Promise<void> {
    const deleted = this.db.prepare('DELETE FROM queue_messages WHERE receipt = ?').run(receipt);
    if (deleted.changes === 0) throw leaseLost(receipt);
  }

  async release(receipt: string, options: ReleaseOptions = {}): Promise<void> {
    const delay = checkSeconds('delaySeconds', options.delaySeconds ?? 0, 0);
    const refund = options.countDelivery === false ? 1 : 0;
    const updated = this.db
      .prepare(
        `UPDATE queue_messages SET visible_at = ?, receipt = NULL, worker_id = NULL,
         deliveries = MAX(deliveries - ?, 0) WHERE receipt = ?`,
      )
      .run(this.clock() + delay * 1000, refund, receipt);
    if (updated.changes === 0) throw leaseLost(receipt);
  }

  async receiveDeadLetters(limit: number): Promise<DeadLetter[]> {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new DomainError(ErrorCode.BAD_REQUEST, `limit must be a positive integer, got ${limit}.`, {
        field: 'limit',
      });
    }
    const rows = this.db
      .prepare('SELECT receipt, job_id, attempts, reason FROM queue_dead_letters ORDER BY dead_at, rowid LIMIT ?')
      .all(limit) as { receipt: string; job_id: string; attempts: number; reason: string }[];
    return rows.map((row) => ({ jobId: row.job_id, attempts: row.attempts, reason: row.reason, receipt: row.receipt }));
  }

  async ackDeadLetter(receipt: string): Promise<void> {
    this.db.prepare('DELETE FROM queue_dead_letters WHERE receipt = ?').run(receipt);
  }

  async stats(): Promise<QueueStats> {
    const now = this.clock();
    const count = (sql: string, ...params: number[]): number =>
      (this.db.prepare(sql).get(...params) as { n: number }).n;
    return {
      visible: count('SELECT COUNT(*) AS n FROM queue_messages WHERE visible_at <= ?', now),
      inFlight: count('SELECT COUNT(*) AS n FROM queue_messages WHERE visible_at > ? AND receipt IS NOT NULL', now),
      deadLetters: count('SELECT COUNT(*) AS n FROM queue_dead_letters'),
    };
  }

  private deadLetter(row: MessageRow, now: number): void {
    const reason =
      `Job ${row.job_id} was delivered ${row.deliveries} times without finishing ` +
      `(maxAttempts ${this.maxAttempts}); its worker stopped responding or released it each time.`;
    this.db
      .prepare('INSERT INTO queue_dead_letters (receipt, job_id, attempts, reason, dead_at) VALUES (?, ?, ?, ?, ?)')
      .run(randomUUID(), row.job_id, row.deliveries, reason, now);
    this.db.prepare('DELETE FROM queue_messages WHERE id = ?').run(row.id);
  }
}
