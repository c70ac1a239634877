/**
 * Lambda entry point: S3 notifications for `drop/<style-id>/<file>`, delivered through the intake SQS
 * queue, become stylize jobs.
 *
 * Per record: the s3:TestEvent S3 sends when the notification is configured is acknowledged and
 * skipped; a body that is not an S3 notification is acknowledged too (it would never parse); each
 * object goes through `intakeDroppedObject`. Only records that failed for a reason that may pass
 * (storage or queue unavailable) are reported in `batchItemFailures`, so SQS redelivers just those.
 */

import type { SQSEvent, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { isDomainError, ErrorCode } from '../core';
import { intakeDroppedObject, type IntakeDeps } from './events/intake-dropped-object';
import { parseS3Notification } from './events/s3-notification';
import { processSqsBatch, type RecordOutcome } from './events/sqs-batch';
import { intakeDepsFromEnv } from '../wiring/aws';

let deps: IntakeDeps | undefined;

/** Handles one SQS record holding one S3 notification (which may list several objects). */
export async function intakeRecord(intake: IntakeDeps, record: SQSRecord): Promise<RecordOutcome> {
  let notification;
  try {
    notification = parseS3Notification(record.body);
  } catch (error) {
    if (!isDomainError(error, ErrorCode.BAD_REQUEST)) throw error;
    log('WARN', record, { skipped: error.message });
    return 'done';
  }
  if (notification.kind === 'test') return 'done';
  for (const object of notification.objects) {
    const result = await intakeDroppedObject(intake, object);
    log('INFO', record, { key: object.key, ...result });
  }
  return 'done';
}

/** The function's handler. */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  deps ??= intakeDepsFromEnv();
  const intake = deps;
  return processSqsBatch(event.Records, (record) => intakeRecord(intake, record));
}

function log(level: 'INFO' | 'WARN', record: SQSRecord, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ level, messageId: record.messageId, ...fields }));
}
