/**
 * Turns one jobs-table stream record into graphql-ws messages for every subscriber of that job.
 *
 * The event type comes from comparing the old and new images (no old image: CREATED; a new status:
 * STATUS_CHANGED; a new cancellation request: CANCEL_REQUESTED; a new preview: PREVIEW; otherwise
 * PROGRESS, as `reportProgress` names the same changes locally). Subscribers are
 * found by topic (the job, and its owner for `myJobs`); each receives its own document's rendering as
 * `next`, and a `jobProgress` subscriber also gets `complete` once the job is finished, after which
 * its row is deleted. A connection that has gone is removed by the poster. A subscription whose
 * connection's API key has been revoked receives nothing: the batch's `SubscriberAccess` closes that
 * connection and forgets its rows. Records that are not job items (idempotency claims, TTL deletions)
 * are ignored.
 */

import type { DynamoDBRecord } from 'aws-lambda';
import { CloseCode, MessageType } from 'graphql-ws';
import { jobFromItem, jobTopic, ownerTopic, type SubscriptionRecord } from '../../adapters/aws';
import { isTerminal, type Job, type JsonValue } from '../../core';
import type { JobWatchEvent } from '../../core/use-cases';
import { createDocumentRules, renderEvent } from '../../graphql';
import { wsApiKeys, wsConnectionStore, wsEventContext, wsPublisher } from '../../wiring/aws';
import { once } from './handler-env';
import { KEY_REVOKED_REASON, SubscriberAccess } from './subscriber-access';

/** Built on the first delivery and kept for the container's lifetime. */
const documentRules = once(createDocumentRules);

type Image = NonNullable<NonNullable<DynamoDBRecord['dynamodb']>['NewImage']>;

/** The job held in a stream image, or null for items that are not jobs. */
function jobOf(image: Image | undefined): Job | null {
  const doc = image?.doc?.S;
  return typeof doc === 'string' && typeof image?.owner?.S === 'string' ? jobFromItem({ doc }) : null;
}

/** What the change was, from the two images. */
export function eventFromRecord(record: DynamoDBRecord): JobWatchEvent | null {
  if (record.eventName === 'REMOVE') return null;
  const job = jobOf(record.dynamodb?.NewImage);
  if (job === null) return null;
  const before = jobOf(record.dynamodb?.OldImage);
  if (before === null) return { type: 'CREATED', job };
  if (before.status !== job.status) return { type: 'STATUS_CHANGED', job };
  if (!before.cancelRequested && job.cancelRequested) return { type: 'CANCEL_REQUESTED', job };
  if (job.preview !== undefined && JSON.stringify(job.preview) !== JSON.stringify(before.preview)) {
    return { type: 'PREVIEW', job };
  }
  return { type: 'PROGRESS', job };
}

/** Closes a connection whose key was revoked, and forgets it and its subscriptions. */
async function closeRevoked(connectionId: string): Promise<void> {
  await wsConnectionStore().remove(connectionId);
  await wsPublisher().disconnect(connectionId);
  // API Gateway cannot carry the close code to the client; the log keeps it.
  console.warn(`Closed ${connectionId}: ${CloseCode.Forbidden} ${KEY_REVOKED_REASON}`);
}

/** The access check for one batch of stream records: each distinct key is verified once. */
export function subscriberAccessForBatch(): SubscriberAccess {
  return new SubscriberAccess(wsApiKeys(), closeRevoked);
}

/**
 * Sends one record's event to the subscribers `access` admits; returns how many messages were posted.
 * Share one `access` across a batch so each key is verified once.
 */
export async function fanOutRecord(record: DynamoDBRecord, access: SubscriberAccess): Promise<number> {
  const event = eventFromRecord(record);
  if (event === null) return 0;
  const store = wsConnectionStore();
  const [byJob, byOwner] = await Promise.all([
    store.subscriptionsByTopic(jobTopic(event.job.id)),
    store.subscriptionsByTopic(ownerTopic(event.job.owner)),
  ]);
  let posted = 0;
  for (const subscription of [...byJob, ...byOwner]) {
    // Ownership was checked at subscribe time; this keeps a stray row from ever leaking a job.
    if (subscription.owner !== event.job.owner) continue;
    if (!(await access.admits(subscription))) continue;
    posted += await deliver(subscription, event);
  }
  return posted;
}

async function deliver(subscription: SubscriptionRecord, event: JobWatchEvent): Promise<number> {
  const publisher = wsPublisher();
  const id = subscription.subscriptionId;
  const payload = await renderEvent(documentRules(), subscription, event, wsEventContext(subscription.owner));
  const outcome = await publisher.publish(subscription.connectionId, {
    id,
    type: MessageType.Next,
    payload,
  } as JsonValue);
  if (outcome === 'gone') return 0;
  if (subscription.topic === jobTopic(event.job.id) && isTerminal(event.job.status)) {
    await publisher.publish(subscription.connectionId, { id, type: MessageType.Complete });
    await wsConnectionStore().removeSubscription(subscription.connectionId, id);
    return 2;
  }
  return 1;
}
