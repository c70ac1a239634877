/**
 * The job outbox relay: the jobs table's stream consumer that hands each new job to its runner. A
 * STYLIZE job goes on the stylize queue (drained into AWS Batch), a TRAIN job to the training launcher
 * function (invoked asynchronously).
 *
 * The GraphQL function's job store marks the items it creates (`dispatch` = `stream`) and sends
 * nothing itself, so a submission is one write and a function that dies right after it still leaves
 * a job that runs: the stream holds the insert until this function has relayed it. The event source
 * mapping passes only inserts of marked items (its filter), and this function checks again.
 *
 * Records are relayed in stream order; at the first failure the rest of the batch is left and that
 * record reported, so Lambda retries from it. A retry may relay a record twice: the dispatcher and the
 * worker take a job only while it is QUEUED, and the launcher leaves a job that already left QUEUED
 * alone, so a second message or start does no second work.
 */

import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { jobFromItem, STREAM_DISPATCH } from '../adapters/aws';
import type { Job } from '../core';
import { jobRunnersFromEnv } from '../wiring/aws';
import { once } from './support/handler-env';

const runners = once(() => jobRunnersFromEnv());

/** The new job a record announces, or null when the record is not the insert of a marked QUEUED job. */
export function jobToDispatch(record: DynamoDBRecord): Job | null {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || image?.dispatch?.S !== STREAM_DISPATCH) return null;
  const doc = image.doc?.S;
  if (typeof doc !== 'string') return null;
  const job = jobFromItem({ doc });
  return job.status === 'QUEUED' ? job : null;
}

async function relay(job: Job): Promise<void> {
  const { queue, training } = runners();
  if (job.kind === 'TRAIN') await training.start(job);
  else await queue.enqueue(job.id);
  console.log(JSON.stringify({ level: 'INFO', relayed: job.id, kind: job.kind }));
}

/** The Lambda entry point. */
export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  for (const record of event.Records) {
    const job = jobToDispatch(record);
    if (job === null) continue;
    try {
      await relay(job);
    } catch (error) {
      console.error(`Relaying job ${job.id} (stream record ${record.dynamodb?.SequenceNumber}) failed`, error);
      return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
    }
  }
  return { batchItemFailures: [] };
}
