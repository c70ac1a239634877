/**
 * `watchJob` and `watchMyJobs`: live job events for subscriptions, independent of any transport.
 *
 * `watchJob` subscribes before it reads the job, so no change can slip between the snapshot and the
 * first event; events older than the snapshot are then skipped. It checks ownership up front (throwing
 * NOT_FOUND before any stream exists), yields the current state first, and ends once the job is in a
 * terminal state. Leaving the loop early unsubscribes.
 */

import { isTerminal, type Job } from '../job';
import type { JobEventType } from '../ports/job-events';
import type { UseCaseDeps } from './deps';
import { requireJob } from './jobs';

/** An event as subscribers see it: the port's events plus SNAPSHOT, the state when watching began. */
export interface JobWatchEvent {
  type: JobEventType | 'SNAPSHOT';
  job: Job;
}

/** Opens a stream of one job's events for its owner; NOT_FOUND for anyone else. */
export async function watchJob(
  deps: Pick<UseCaseDeps, 'jobs' | 'events'>,
  owner: string,
  id: string,
): Promise<AsyncGenerator<JobWatchEvent>> {
  const subscription = deps.events.subscribe({ jobId: id });
  let snapshot: Job;
  try {
    snapshot = await requireJob(deps, owner, id);
  } catch (error) {
    subscription.unsubscribe();
    throw error;
  }
  async function* stream(): AsyncGenerator<JobWatchEvent> {
    try {
      yield { type: 'SNAPSHOT', job: snapshot };
      if (isTerminal(snapshot.status)) return;
      for await (const event of subscription) {
        // ISO timestamps of one clock compare as strings; an older one is already in the snapshot.
        if (event.job.updatedAt < snapshot.updatedAt) continue;
        yield event;
        if (isTerminal(event.job.status)) return;
      }
    } finally {
      subscription.unsubscribe();
    }
  }
  return stream();
}

/** Streams every event of the owner's jobs until the consumer stops. */
export async function* watchMyJobs(deps: Pick<UseCaseDeps, 'events'>, owner: string): AsyncGenerator<JobWatchEvent> {
  const subscription = deps.events.subscribe({ owner });
  try {
    for await (const event of subscription) yield event;
  } finally {
    subscription.unsubscribe();
  }
}
