/**
 * Lambda entry point: drains the stylize SQS queue into AWS Batch, one SubmitJob per message.
 *
 * Each message body is `{"jobId": "..."}`, as the job queue adapter writes it. The Batch job receives
 * only the job id (the container reads everything else from the jobs table), so a message that
 * arrives twice makes two Batch jobs at worst, and the second one's worker finds the job already
 * claimed and exits. A throttled or failed submission is reported in `batchItemFailures` and retried;
 * a body without a job id is acknowledged, since it will never carry one.
 */

import type { SQSEvent, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { BatchStylizeLauncher } from '../adapters/aws';
import { batchLauncherFromEnv } from '../wiring/aws';
import { processSqsBatch, type RecordOutcome } from './events/sqs-batch';

let launcher: BatchStylizeLauncher | undefined;

/** The job id in a stylize queue message, or null when the body has none. */
export function jobIdOf(body: string): string | null {
  try {
    const value: unknown = JSON.parse(body);
    const jobId = typeof value === 'object' && value !== null ? (value as { jobId?: unknown }).jobId : undefined;
    return typeof jobId === 'string' && jobId.length > 0 ? jobId : null;
  } catch {
    return null;
  }
}

/** Submits the Batch job for one message. */
export async function dispatchRecord(
  batch: Pick<BatchStylizeLauncher, 'launch'>,
  record: SQSRecord,
): Promise<RecordOutcome> {
  const jobId = jobIdOf(record.body);
  if (jobId === null) {
    console.warn(
      JSON.stringify({ level: 'WARN', messageId: record.messageId, skipped: 'no jobId in the message body' }),
    );
    return 'done';
  }
  const submission = await batch.launch(jobId);
  console.log(JSON.stringify({ level: 'INFO', messageId: record.messageId, jobId, ...submission }));
  return 'done';
}

/** The function's handler. */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  launcher ??= batchLauncherFromEnv();
  const batch = launcher;
  return processSqsBatch(event.Records, (record) => dispatchRecord(batch, record));
}
