/**
 * Partial batch failures for SQS-triggered functions.
 *
 * Lambda's SQS event source deletes every message of a batch when the function returns, unless the
 * function names some in `batchItemFailures` (the source is configured with `reportBatchItemFailures`).
 * Naming only the records that failed for a reason that may pass (storage unreachable, throttling)
 * keeps one bad record from redelivering the other nine, and a record that can never succeed is
 * acknowledged by its handler instead of looping until the dead-letter queue takes it.
 */

import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';

/** What a record handler decided; `retry` puts the record in `batchItemFailures`. */
export type RecordOutcome = 'done' | 'retry';

/** Called with each record that failed, for logging; the record is retried. */
export type RecordErrorLogger = (record: SQSRecord, error: unknown) => void;

/**
 * Runs `handle` on every record, one after another (a batch is at most ten records and the work
 * behind each is I/O-bound on shared services, so concurrency would only add throttling), and reports
 * the records to redeliver. A thrown error counts as `retry`.
 */
export async function processSqsBatch(
  records: readonly SQSRecord[],
  handle: (record: SQSRecord) => Promise<RecordOutcome>,
  onError: RecordErrorLogger = defaultLogger,
): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of records) {
    let outcome: RecordOutcome;
    try {
      outcome = await handle(record);
    } catch (error) {
      onError(record, error);
      outcome = 'retry';
    }
    if (outcome === 'retry') batchItemFailures.push({ itemIdentifier: record.messageId });
  }
  return { batchItemFailures };
}

function defaultLogger(record: SQSRecord, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  console.error(JSON.stringify({ level: 'ERROR', messageId: record.messageId, error: message }));
}
