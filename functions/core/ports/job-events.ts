/**
 * The job events port: live updates about jobs, for GraphQL subscriptions.
 *
 * Every event carries the whole job snapshot, so a subscriber that misses some (a slow WebSocket, a
 * bounded buffer that dropped the oldest) still ends up with the current state from the next one.
 * Locally this is an in-process emitter; on AWS it is a fan-out to WebSocket connections.
 */

import type { Job } from '../job';

/** What happened; PREVIEW: a running job's preview is stored (`job.preview`). */
export const JOB_EVENT_TYPES = ['CREATED', 'STATUS_CHANGED', 'PROGRESS', 'CANCEL_REQUESTED', 'PREVIEW'] as const;
/** What happened. */
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];

/** One update about one job. */
export interface JobEvent {
  type: JobEventType;
  /** The job as it is after the change. */
  job: Job;
}

/** Which events a subscriber wants: one job's, or all of one owner's. */
export type JobEventFilter = { jobId: string } | { owner: string };

/** A live stream of events; iterate it with `for await`, and unsubscribe (or `break`) to stop. */
export interface JobSubscription extends AsyncIterable<JobEvent> {
  /** Stops delivery and ends the iteration; safe to call more than once. */
  unsubscribe(): void;
}

/** Publishes job events and lets callers subscribe to them. */
export interface JobEvents {
  publish(event: JobEvent): Promise<void>;
  subscribe(filter: JobEventFilter): JobSubscription;
}
