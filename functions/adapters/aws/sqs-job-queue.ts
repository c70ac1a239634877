/**
 * `SqsJobQueue`: the job queue on an SQS queue with a dead-letter queue.
 *
 * The port maps onto SQS directly: a lease is the visibility timeout of a received message, a heartbeat
 * is ChangeMessageVisibility, ack is DeleteMessage, and the queue's RedrivePolicy (maxReceiveCount =
 * `maxAttempts`) moves a message that keeps losing its lease to the dead-letter queue. The attempt
 * number is SQS's ApproximateReceiveCount, which SQS returns only when asked for through the
 * `AttributeNames` parameter.
 *
 * Release is the one place that does not use the obvious call. ChangeMessageVisibility(0) would work on
 * SQS, but some SQS-protocol servers count every visibility change as a receive, so a released message
 * would skip attempt numbers and be dead-lettered early. Release therefore sends a fresh copy carrying
 * the deliveries made so far (`priorDeliveries`) and then deletes the original; the attempt number is
 * `priorDeliveries + ApproximateReceiveCount`, and because the redrive policy only counts the copy's
 * receives, `receive` dead-letters a copy that has reached `maxAttempts` itself. This behaves the same
 * on SQS and on the servers, at the price of one more call per release.
 *
 * Receipts handed to workers are opaque: they wrap SQS's receipt handle together with the job id and
 * attempt, so that a heartbeat can answer with a complete lease without another call.
 */

import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type MessageAttributeValue,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DomainError, ErrorCode, systemClock } from '../../core';
import type { Clock, DeadLetter, JobQueue, Lease, QueueStats, ReleaseOptions } from '../../core';
import { awsErrorName, translateAwsError } from './aws-errors';

/** Options for `SqsJobQueue`. */
export interface SqsJobQueueOptions {
  /** A client from `createSqsClient`. */
  client: SQSClient;
  /** The work queue (env PEERSTYLE_STYLIZE_QUEUE_URL). */
  queueUrl: string;
  /**
   * Its dead-letter queue. Only consumers need it (receive, dead letters, stats); a producer that
   * only enqueues leaves it out, since SQS's redrive policy moves messages there without this adapter.
   * The methods that need it fail with INTERNAL when it is absent.
   * @default - none: enqueue only
   */
  deadLetterQueueUrl?: string;
  /** Deliveries before dead-lettering; must equal the queue's RedrivePolicy maxReceiveCount. @default 4 */
  maxAttempts?: number;
  /** How long `receiveDeadLetters` hides the letters it returns. @default 60 */
  deadLetterLeaseSeconds?: number;
  /**
   * Long-poll wait of `receive` and `receiveDeadLetters`, in seconds. With 0 (short polling) SQS
   * samples only some of its servers and may answer empty although a message was just sent; a wait
   * of 1 or more returns as soon as any message is there. @default 0
   */
  waitSeconds?: number;
  /**
   * Set for SQS-protocol servers whose ApproximateNumberOfMessages counts leased messages too
   * (local-aws-sqs 2.0.2); `stats` then subtracts the leased ones. SQS itself counts only waiting ones.
   * @default false
   */
  visibleCountIncludesInFlight?: boolean;
  /** Where time comes from, for lease expiry times. @default systemClock */
  clock?: Clock;
}

/** Longest lease or delay SQS allows for a visibility timeout (12 hours). */
export const MAX_SQS_LEASE_SECONDS = 12 * 60 * 60;
/** Longest delay SQS allows on a message (15 minutes). */
export const MAX_SQS_DELAY_SECONDS = 15 * 60;

const PRIOR_DELIVERIES = 'priorDeliveries';
const DEAD_LETTER_DELIVERIES = 'deliveries';

interface ReceiptParts {
  handle: string;
  jobId: string;
  attempt: number;
}

function seconds(what: string, value: number, min: number, max: number): number {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new DomainError(ErrorCode.BAD_REQUEST, `${what} must be between ${min} and ${max} seconds, got ${value}.`, {
      field: what,
    });
  }
  // SQS takes whole seconds; rounding up never shortens what the caller asked for.
  return Math.ceil(value);
}

function leaseLost(receipt: string, cause?: unknown): DomainError {
  return new DomainError(
    ErrorCode.EXPIRED,
    `Lease ${receipt.slice(0, 24)}… is no longer held: it expired and may have been redelivered, or it was already acknowledged.`,
    { receipt },
    { cause },
  );
}

/** SQS's ways of saying a receipt handle no longer refers to a leased message. */
function isStaleReceipt(error: unknown): boolean {
  const name = awsErrorName(error) ?? '';
  return name === 'ReceiptHandleIsInvalid' || name === 'MessageNotInflight' || name === 'InvalidParameterValue';
}

function encodeReceipt(parts: ReceiptParts): string {
  return Buffer.from(JSON.stringify([parts.handle, parts.jobId, parts.attempt]), 'utf8').toString('base64url');
}

function decodeReceipt(receipt: string): ReceiptParts {
  try {
    const value: unknown = JSON.parse(Buffer.from(receipt, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      typeof value[0] === 'string' &&
      typeof value[1] === 'string' &&
      Number.isInteger(value[2])
    ) {
      return { handle: value[0], jobId: value[1], attempt: value[2] as number };
    }
  } catch {
    // Fall through: a receipt this queue did not make can only be a lease it does not hold.
  }
  throw leaseLost(receipt);
}

function numberAttribute(value: number): MessageAttributeValue {
  return { DataType: 'Number', StringValue: String(value) };
}

function readNumberAttribute(message: Message, name: string): number {
  const value = Number(message.MessageAttributes?.[name]?.StringValue ?? '0');
  return Number.isInteger(value) && value >= 0 ? value : 0;
}

function jobIdOf(message: Message): string {
  try {
    const body = JSON.parse(message.Body ?? '') as { jobId?: unknown };
    if (typeof body.jobId === 'string') return body.jobId;
  } catch {
    // A body that is not ours is still delivered under its raw text, so the janitor can see it.
  }
  return message.Body ?? '';
}

/** A job queue on SQS. */
export class SqsJobQueue implements JobQueue {
  private readonly client: SQSClient;
  private readonly queueUrl: string;
  private readonly deadLetterQueueUrlOption: string | undefined;
  private readonly maxAttempts: number;
  private readonly deadLetterLeaseSeconds: number;
  private readonly waitSeconds: number;
  private readonly visibleCountIncludesInFlight: boolean;
  private readonly clock: Clock;

  constructor(options: SqsJobQueueOptions) {
    this.client = options.client;
    this.queueUrl = options.queueUrl;
    this.deadLetterQueueUrlOption = options.deadLetterQueueUrl === '' ? undefined : options.deadLetterQueueUrl;
    this.maxAttempts = options.maxAttempts ?? 4;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new DomainError(ErrorCode.BAD_REQUEST, `maxAttempts must be a positive integer, got ${this.maxAttempts}.`);
    }
    this.deadLetterLeaseSeconds = options.deadLetterLeaseSeconds ?? 60;
    this.waitSeconds = options.waitSeconds ?? 0;
    this.visibleCountIncludesInFlight = options.visibleCountIncludesInFlight ?? false;
    this.clock = options.clock ?? systemClock;
  }

  /** The dead-letter queue, for the consumer operations; a producer-only queue has none. */
  private get deadLetterQueueUrl(): string {
    if (this.deadLetterQueueUrlOption === undefined) {
      throw new DomainError(
        ErrorCode.INTERNAL,
        `The queue ${this.queueUrl} was opened to enqueue only (no deadLetterQueueUrl); receiving, dead letters and stats need one.`,
      );
    }
    return this.deadLetterQueueUrlOption;
  }

  async enqueue(jobId: string, options: { delaySeconds?: number } = {}): Promise<void> {
    const delay = seconds('delaySeconds', options.delaySeconds ?? 0, 0, MAX_SQS_DELAY_SECONDS);
    await this.send(this.queueUrl, jobId, delay, {});
  }

  async receive(_workerId: string, leaseSeconds: number): Promise<Lease | null> {
    const lease = seconds('leaseSeconds', leaseSeconds, 1, MAX_SQS_LEASE_SECONDS);
    for (;;) {
      let response;
      try {
        response = await this.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.queueUrl,
            MaxNumberOfMessages: 1,
            VisibilityTimeout: lease,
            WaitTimeSeconds: this.waitSeconds,
            // The receive count is a message system attribute. SQS returns it through the current
            // parameter; some SQS-protocol servers only through the legacy one, whose SDK type lists
            // queue attribute names although the service accepts message attribute names there.
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
            AttributeNames: ['ApproximateReceiveCount' as QueueAttributeName],
            MessageAttributeNames: [PRIOR_DELIVERIES],
          }),
        );
      } catch (error) {
        throw translateAwsError(error, 'Receiving a job');
      }
      const message = response.Messages?.[0];
      if (message?.ReceiptHandle === undefined) return null;
      const received = Number(message.Attributes?.ApproximateReceiveCount ?? '1');
      const attempt = readNumberAttribute(message, PRIOR_DELIVERIES) + received;
      const jobId = jobIdOf(message);
      if (attempt > this.maxAttempts) {
        // Only a released copy gets here: the redrive policy counts its own receives, not earlier ones.
        await this.send(this.deadLetterQueueUrl, jobId, 0, { [DEAD_LETTER_DELIVERIES]: numberAttribute(attempt - 1) });
        await this.deleteMessage(this.queueUrl, message.ReceiptHandle);
        continue;
      }
      return {
        jobId,
        receipt: encodeReceipt({ handle: message.ReceiptHandle, jobId, attempt }),
        attempt,
        expiresAt: new Date(this.clock() + lease * 1000).toISOString(),
      };
    }
  }

  async heartbeat(receipt: string, leaseSeconds: number): Promise<Lease> {
    const lease = seconds('leaseSeconds', leaseSeconds, 1, MAX_SQS_LEASE_SECONDS);
    const parts = decodeReceipt(receipt);
    try {
      await this.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.queueUrl,
          ReceiptHandle: parts.handle,
          VisibilityTimeout: lease,
        }),
      );
    } catch (error) {
      if (isStaleReceipt(error)) throw leaseLost(receipt, error);
      throw translateAwsError(error, 'Extending a lease');
    }
    return {
      jobId: parts.jobId,
      receipt,
      attempt: parts.attempt,
      expiresAt: new Date(this.clock() + lease * 1000).toISOString(),
    };
  }

  async ack(receipt: string): Promise<void> {
    await this.deleteMessage(this.queueUrl, decodeReceipt(receipt).handle, receipt);
  }

  async release(receipt: string, options: ReleaseOptions = {}): Promise<void> {
    const delay = seconds('delaySeconds', options.delaySeconds ?? 0, 0, MAX_SQS_DELAY_SECONDS);
    const parts = decodeReceipt(receipt);
    // An uncounted release carries one delivery fewer, so the copy's next receive repeats this attempt.
    const prior = options.countDelivery === false ? Math.max(0, parts.attempt - 1) : parts.attempt;
    // Copy first, then delete: a failure in between delivers the job twice, never zero times.
    await this.send(this.queueUrl, parts.jobId, delay, { [PRIOR_DELIVERIES]: numberAttribute(prior) });
    await this.deleteMessage(this.queueUrl, parts.handle, receipt);
  }

  async receiveDeadLetters(limit: number): Promise<DeadLetter[]> {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new DomainError(ErrorCode.BAD_REQUEST, `limit must be a positive integer, got ${limit}.`, {
        field: 'limit',
      });
    }
    let response;
    try {
      response = await this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.deadLetterQueueUrl,
          MaxNumberOfMessages: Math.min(limit, 10),
          VisibilityTimeout: this.deadLetterLeaseSeconds,
          WaitTimeSeconds: this.waitSeconds,
          MessageAttributeNames: [PRIOR_DELIVERIES, DEAD_LETTER_DELIVERIES],
        }),
      );
    } catch (error) {
      throw translateAwsError(error, 'Receiving dead letters');
    }
    return (response.Messages ?? [])
      .filter((message) => message.ReceiptHandle !== undefined)
      .map((message) => {
        // Moved by this adapter: the count travels with it. Moved by the redrive policy: the message
        // was received maxAttempts times on top of the deliveries it carried from earlier copies.
        const recorded = readNumberAttribute(message, DEAD_LETTER_DELIVERIES);
        const attempts = recorded > 0 ? recorded : readNumberAttribute(message, PRIOR_DELIVERIES) + this.maxAttempts;
        const jobId = jobIdOf(message);
        return {
          jobId,
          attempts,
          reason:
            `Job ${jobId} was delivered ${attempts} times without finishing (maxAttempts ${this.maxAttempts}); ` +
            'its worker stopped responding or released it each time.',
          receipt: message.ReceiptHandle as string,
        };
      });
  }

  async ackDeadLetter(receipt: string): Promise<void> {
    await this.deleteMessage(this.deadLetterQueueUrl, receipt);
  }

  async stats(): Promise<QueueStats> {
    const [main, dead] = await Promise.all([this.counts(this.queueUrl), this.counts(this.deadLetterQueueUrl)]);
    const visible = this.visibleCountIncludesInFlight ? Math.max(0, main.visible - main.inFlight) : main.visible;
    const deadVisible = this.visibleCountIncludesInFlight ? Math.max(0, dead.visible - dead.inFlight) : dead.visible;
    return { visible, inFlight: main.inFlight, deadLetters: deadVisible + dead.inFlight };
  }

  private async counts(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
    try {
      const response = await this.client.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return {
        visible: Number(response.Attributes?.ApproximateNumberOfMessages ?? '0'),
        inFlight: Number(response.Attributes?.ApproximateNumberOfMessagesNotVisible ?? '0'),
      };
    } catch (error) {
      throw translateAwsError(error, 'Reading queue counts');
    }
  }

  private async send(
    queueUrl: string,
    jobId: string,
    delaySeconds: number,
    attributes: Record<string, MessageAttributeValue>,
  ): Promise<void> {
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: JSON.stringify({ jobId }),
          DelaySeconds: delaySeconds,
          ...(Object.keys(attributes).length > 0 && { MessageAttributes: attributes }),
        }),
      );
    } catch (error) {
      throw translateAwsError(error, `Queueing job ${jobId}`);
    }
  }

  private async deleteMessage(queueUrl: string, handle: string, receipt: string = handle): Promise<void> {
    try {
      await this.client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: handle }));
    } catch (error) {
      if (isStaleReceipt(error)) throw leaseLost(receipt, error);
      throw translateAwsError(error, 'Removing a message');
    }
  }
}
