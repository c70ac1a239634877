/**
 * The jobs table's stream consumer: pushes each job change to its WebSocket subscribers.
 *
 * Records are handled in stream order. At the first failure the rest of the batch is left alone and
 * that record is reported in `batchItemFailures`: Lambda retries a stream from the reported record
 * onwards, so handling later records now would only deliver them twice, and out of order. The
 * subscribers' API keys are re-verified once per batch, so a revoked key stops receiving events at
 * the next delivery at a cost of one lookup per distinct key, not per event.
 */

import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { fanOutRecord, subscriberAccessForBatch } from './support/job-event-fanout';

/** The Lambda entry point. */
export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const access = subscriberAccessForBatch();
  for (const record of event.Records) {
    try {
      await fanOutRecord(record, access);
    } catch (error) {
      console.error(`Publishing stream record ${record.dynamodb?.SequenceNumber} failed`, error);
      return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
    }
  }
  return { batchItemFailures: [] };
}
