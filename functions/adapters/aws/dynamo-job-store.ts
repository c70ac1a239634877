/**
 * `DynamoJobStore`: the job store on the DynamoDB jobs table the infrastructure provisions.
 *
 * Item layout (partition key `pk`, see `JOBS_TABLE_SCHEMA` in infra/lib/jobs.ts):
 * - a job item: `pk` = job id, `owner` and `createdAt` (the `byOwner` index keys), `status`, `kind`,
 *   `version` (bumped on every write), `expiresAt` (the TTL, set once a job is finished when a
 *   retention is configured), and `doc`, the whole job as JSON text, so that it reads back exactly as
 *   written and the stream publisher decodes it with the same function (`jobFromItem`);
 *   With `dispatchThroughStream`, a new job item also carries `dispatch` = `stream`, which the
 *   job-dispatch function's stream filter selects;
 * - an idempotency item: `pk` = `idem#<owner>#<key>`, holding the id and a snapshot of the job it
 *   created. It has no `owner`/`createdAt`, so the owner index never shows it;
 * - an active-jobs counter: `pk` = `active#<owner>`, with `jobs` and `training`, the owner's QUEUED or
 *   RUNNING jobs (and TRAIN jobs among them). `create` with a quota raises it by a conditional update
 *   (`jobs < :max`) before writing the job, and the write that moves a job out of QUEUED/RUNNING lowers
 *   it; the counter, not a query, enforces the cap, so concurrent Lambdas cannot overshoot it. A crash
 *   between the two writes can leave the counter one too high (never too low).
 *
 * Writes are single-item conditional puts, not transactions (the protocol server used in tests has
 * no TransactWriteItems, and none is needed): creation claims the idempotency item with
 * `attribute_not_exists`, then writes the job with `attribute_not_exists`; a loser of the claim, or a
 * caller that finds the claim of a creator that died between the two writes, writes the same snapshot
 * and so completes the creation instead of making a second job. Every change reads the job, applies
 * the pure function from `core/job.ts`, and writes back on condition that `status` and `version` are
 * what it read: the status condition is the compare-and-set of `transition`, the version condition
 * keeps a concurrent progress report from being overwritten (the change is then recomputed).
 */

import { randomUUID } from 'node:crypto';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import {
  ACTIVE_STATUSES,
  applyProgress,
  assertSameRequest,
  createJob,
  decodeCursor,
  DomainError,
  encodeCursor,
  ErrorCode,
  JOB_KINDS,
  JOB_STATUSES,
  pageLimit,
  parseOneOf,
  requestCancellation,
  quotaExceeded,
  systemClock,
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
import { awsErrorName, translateAwsError } from './aws-errors';

/**
 * The jobs table's key, index and TTL names, as JOBS_TABLE_SCHEMA in infra/lib/jobs.ts provisions them
 * (that module is not imported: it loads aws-cdk-lib; a test compares the two).
 */
export const DYNAMO_JOBS_TABLE = {
  partitionKey: 'pk',
  ownerIndex: 'byOwner',
  ownerAttribute: 'owner',
  createdAtAttribute: 'createdAt',
  ttlAttribute: 'expiresAt',
} as const;

/** Options for `DynamoJobStore`. */
export interface DynamoJobStoreOptions {
  /** A client from `createDynamoDbDocumentClient`. */
  client: DynamoDBDocumentClient;
  /** The jobs table (env PEERSTYLE_JOBS_TABLE). */
  tableName: string;
  /** The owner index (env PEERSTYLE_JOBS_BY_OWNER_INDEX). @default 'byOwner' */
  ownerIndexName?: string;
  /** Keep finished jobs this long, then let DynamoDB's TTL delete them. @default forever */
  retentionSeconds?: number;
  /** Where time comes from. @default systemClock */
  clock?: Clock;
  /**
   * Mark each new job item for the job-dispatch function, which queues or starts the job from the
   * table's stream (the transactional outbox): the item is then the only write a submission makes,
   * so no crash can leave a job that is QUEUED but never delivered, and `create` says `enqueued: true`.
   * @default false - the caller queues or starts the job itself
   */
  dispatchThroughStream?: boolean;
}

/** The value of `dispatch` on job items the job-dispatch function relays (see `dispatchThroughStream`). */
export const STREAM_DISPATCH = 'stream';

/** A job item as stored. */
export interface JobItem {
  pk: string;
  owner: string;
  createdAt: string;
  status: JobStatus;
  kind: string;
  version: number;
  /** TTL, in epoch seconds; absent while the job runs or when no retention is set. */
  expiresAt?: number;
  /** 1 when creating the job raised the owner's active-jobs counter, so leaving QUEUED/RUNNING lowers it. */
  counted?: number;
  /** `stream` on items written for the job-dispatch function to relay; set at creation only. */
  dispatch?: typeof STREAM_DISPATCH;
  doc: string;
}

interface IdempotencyItem {
  pk: string;
  jobId: string;
  snapshot: string;
}

/** The owner-index position a cursor encodes (DynamoDB's LastEvaluatedKey for that index). */
type OwnerIndexKey = { pk: string; owner: string; createdAt: string };

const isOwnerIndexKey = (value: unknown): value is OwnerIndexKey =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as OwnerIndexKey).pk === 'string' &&
  typeof (value as OwnerIndexKey).owner === 'string' &&
  typeof (value as OwnerIndexKey).createdAt === 'string';

/** Attempts at an optimistic write before giving up on a job that keeps changing underneath. */
const MAX_WRITE_ATTEMPTS = 8;

/** Reads the job out of a stored item (also used by the stream publisher on NEW_IMAGE records). */
export function jobFromItem(item: Pick<JobItem, 'doc'>): Job {
  return JSON.parse(item.doc) as Job;
}

const isConditionFailure = (error: unknown): boolean => awsErrorName(error) === 'ConditionalCheckFailedException';

/** Job records in DynamoDB. */
export class DynamoJobStore implements JobStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly ownerIndex: string;
  private readonly clock: Clock;
  private readonly retentionSeconds: number | undefined;
  private readonly dispatchThroughStream: boolean;
  private lastStamp = '';
  private stampCounter = 0;

  constructor(options: DynamoJobStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.ownerIndex = options.ownerIndexName ?? DYNAMO_JOBS_TABLE.ownerIndex;
    this.clock = options.clock ?? systemClock;
    this.retentionSeconds = options.retentionSeconds;
    this.dispatchThroughStream = options.dispatchThroughStream ?? false;
  }

  /**
   * The owner-index sort key: the creation time plus a counter, so that jobs created in the same
   * millisecond by this process still list in creation order (the index orders equal keys arbitrarily).
   */
  private sortKey(createdAt: string): string {
    if (createdAt === this.lastStamp) this.stampCounter += 1;
    else {
      this.lastStamp = createdAt;
      this.stampCounter = 0;
    }
    return `${createdAt}#${String(this.stampCounter).padStart(6, '0')}`;
  }

  async create(request: NewJob, quota?: JobQuota): Promise<CreateJobResult> {
    const job = createJob(randomUUID(), request, this.clock());
    const item = this.toItem(job, this.sortKey(job.createdAt), 0);
    if (quota !== undefined) item.counted = 1;
    // The mark rides in the idempotency snapshot too, so a creation completed by a retry is relayed.
    if (this.dispatchThroughStream) item.dispatch = STREAM_DISPATCH;
    const created: CreateJobResult = { job, created: true, ...(this.dispatchThroughStream && { enqueued: true }) };
    if (job.idempotencyKey === null) {
      if (quota !== undefined) await this.takeQuota(job, quota);
      await this.putJobIfAbsent(item);
      return created;
    }
    const idemKey = `idem#${job.owner}#${job.idempotencyKey}`;
    // A repeated key returns its job even when the owner is at the cap.
    const earlier = await this.read<IdempotencyItem>(idemKey);
    if (earlier !== null) return { job: assertSameRequest(await this.completeCreation(earlier), job), created: false };
    if (quota !== undefined) await this.takeQuota(job, quota);
    try {
      const claim: IdempotencyItem = { pk: idemKey, jobId: job.id, snapshot: JSON.stringify(item) };
      await this.client.send(
        new PutCommand({ TableName: this.table, Item: claim, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
    } catch (error) {
      if (quota !== undefined) await this.releaseQuota(job);
      if (!isConditionFailure(error)) throw translateAwsError(error, 'Creating a job');
      const existing = await this.read<IdempotencyItem>(idemKey);
      if (existing === null) throw translateAwsError(error, 'Creating a job');
      return { job: assertSameRequest(await this.completeCreation(existing), job), created: false };
    }
    await this.putJobIfAbsent(item);
    return created;
  }

  /**
   * The claimant may still be writing, or may have died after claiming: writing its snapshot (a no-op
   * when the job exists) guarantees the job exists exactly once.
   */
  private async completeCreation(claim: IdempotencyItem): Promise<Job> {
    await this.putJobIfAbsent(JSON.parse(claim.snapshot) as JobItem);
    const found = await this.get(claim.jobId);
    if (found === null) throw new DomainError(ErrorCode.INTERNAL, `Job ${claim.jobId} vanished after creation.`);
    return found;
  }

  /** Raises the owner's active-jobs counter, on condition that it stays within `quota`. */
  private async takeQuota(job: Job, quota: JobQuota): Promise<void> {
    const training = job.kind === 'TRAIN';
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `active#${job.owner}` },
          UpdateExpression: training ? 'ADD jobs :one, training :one' : 'ADD jobs :one',
          ConditionExpression: training
            ? '(attribute_not_exists(jobs) OR jobs < :max) AND (attribute_not_exists(training) OR training < :maxTraining)'
            : 'attribute_not_exists(jobs) OR jobs < :max',
          ExpressionAttributeValues: {
            ':one': 1,
            ':max': quota.maxActive,
            ...(training ? { ':maxTraining': quota.maxActiveTraining } : {}),
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw translateAwsError(error, 'Counting active jobs');
      // Say which cap was hit: the training cap only when the overall count is still below its own.
      const counter = await this.read<{ jobs?: number }>(`active#${job.owner}`);
      const overall = (counter?.jobs ?? 0) >= quota.maxActive;
      throw quotaExceeded(overall ? quota.maxActive : quota.maxActiveTraining, !overall);
    }
  }

  /** Lowers the owner's active-jobs counter for a job that left QUEUED/RUNNING (or was never made). */
  private async releaseQuota(job: Pick<Job, 'owner' | 'kind'>): Promise<void> {
    const training = job.kind === 'TRAIN';
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `active#${job.owner}` },
          UpdateExpression: training ? 'ADD jobs :minus, training :minus' : 'ADD jobs :minus',
          // Jobs created before the counter existed were never counted: never go below zero.
          ConditionExpression: training ? 'jobs > :zero AND training > :zero' : 'jobs > :zero',
          ExpressionAttributeValues: { ':minus': -1, ':zero': 0 },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw translateAwsError(error, 'Counting active jobs');
    }
  }

  async get(id: string, owner?: string): Promise<Job | null> {
    const item = await this.read<JobItem>(id);
    if (item === null || item.doc === undefined) return null;
    const job = jobFromItem(item);
    if (owner !== undefined && job.owner !== owner) return null;
    return job;
  }

  async list(owner: string, request: ListJobsRequest = {}): Promise<Page<Job>> {
    const limit = pageLimit(request.limit);
    const status = request.status === undefined ? undefined : parseOneOf('job status', request.status, JOB_STATUSES);
    const kind = request.kind === undefined ? undefined : parseOneOf('job kind', request.kind, JOB_KINDS);
    let start: OwnerIndexKey | undefined;
    if (request.cursor !== undefined) {
      start = decodeCursor(request.cursor, isOwnerIndexKey);
      if (start.owner !== owner) {
        throw new DomainError(ErrorCode.BAD_REQUEST, 'Invalid page cursor: it belongs to another listing.', {
          field: 'cursor',
        });
      }
    }
    const filters: string[] = [];
    const names: Record<string, string> = { '#owner': 'owner' };
    const values: Record<string, unknown> = { ':owner': owner };
    if (status !== undefined) {
      filters.push('#status = :status');
      names['#status'] = 'status';
      values[':status'] = status;
    }
    if (kind !== undefined) {
      filters.push('#kind = :kind');
      names['#kind'] = 'kind';
      values[':kind'] = kind;
    }
    // Filters apply after Limit, so keep querying until one item more than a page is in hand: that
    // extra item proves a next page exists, and the cursor is the key of the page's last item.
    const items: JobItem[] = [];
    let exclusiveStart: Record<string, unknown> | undefined = start;
    do {
      let response;
      try {
        response = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: this.ownerIndex,
            KeyConditionExpression: '#owner = :owner',
            FilterExpression: filters.length > 0 ? filters.join(' AND ') : undefined,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ScanIndexForward: false,
            Limit: limit + 1 - items.length,
            ExclusiveStartKey: exclusiveStart,
          }),
        );
      } catch (error) {
        if (start !== undefined && awsErrorName(error) === 'ValidationException') {
          throw new DomainError(
            ErrorCode.BAD_REQUEST,
            'Invalid page cursor: pass back the nextCursor of a previous page.',
            {
              field: 'cursor',
            },
          );
        }
        throw translateAwsError(error, `Listing jobs of ${owner}`);
      }
      items.push(...((response.Items ?? []) as JobItem[]));
      exclusiveStart = response.LastEvaluatedKey;
    } while (items.length <= limit && exclusiveStart !== undefined);
    const pageItems = items.slice(0, limit);
    const page: Page<Job> = { items: pageItems.map(jobFromItem) };
    const last = pageItems.at(-1);
    if (items.length > limit && last !== undefined) {
      page.nextCursor = encodeCursor({ pk: last.pk, owner: last.owner, createdAt: last.createdAt });
    }
    return page;
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

  private toItem(job: Job, createdAt: string, version: number): JobItem {
    const item: JobItem = {
      pk: job.id,
      owner: job.owner,
      createdAt,
      status: job.status,
      kind: job.kind,
      version,
      doc: JSON.stringify(job),
    };
    if (this.retentionSeconds !== undefined && job.finishedAt !== null) {
      item.expiresAt = Math.floor(Date.parse(job.finishedAt) / 1000) + this.retentionSeconds;
    }
    return item;
  }

  private async read<T>(pk: string): Promise<T | null> {
    try {
      const response = await this.client.send(
        new GetCommand({ TableName: this.table, Key: { pk }, ConsistentRead: true }),
      );
      return (response.Item as T | undefined) ?? null;
    } catch (error) {
      throw translateAwsError(error, `Reading ${pk}`);
    }
  }

  private async putJobIfAbsent(item: JobItem): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw translateAwsError(error, 'Creating a job');
    }
  }

  /** Read, change, write back on condition that nobody wrote in between; recompute when someone did. */
  private async update(id: string, owner: string | undefined, change: (job: Job) => Job): Promise<Job> {
    for (let attempt = 1; ; attempt += 1) {
      const item = await this.read<JobItem>(id);
      const job = item === null || item.doc === undefined ? null : jobFromItem(item);
      if (item === null || job === null || (owner !== undefined && job.owner !== owner)) {
        throw new DomainError(ErrorCode.NOT_FOUND, `No job with id ${id}.`, { jobId: id });
      }
      const next = change(job);
      if (next === job) return job;
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              ...this.toItem(next, item.createdAt, item.version + 1),
              ...(item.counted !== undefined ? { counted: item.counted } : {}),
            },
            ConditionExpression: '#status = :status AND #version = :version',
            ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
            ExpressionAttributeValues: { ':status': item.status, ':version': item.version },
          }),
        );
        // Only the one write that moved the job out of QUEUED/RUNNING succeeds its condition; jobs made
        // without a quota (the drop-folder intake) were never counted and must not lower the counter.
        if (item.counted === 1 && ACTIVE_STATUSES.includes(job.status) && !ACTIVE_STATUSES.includes(next.status)) {
          await this.releaseQuota(next);
        }
        return next;
      } catch (error) {
        if (!isConditionFailure(error)) throw translateAwsError(error, `Updating job ${id}`);
        if (attempt >= MAX_WRITE_ATTEMPTS) {
          throw new DomainError(ErrorCode.CONFLICT, `Job ${id} kept changing during the update; try again.`, {
            jobId: id,
          });
        }
      }
    }
  }
}
