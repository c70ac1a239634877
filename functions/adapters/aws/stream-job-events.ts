/**
 * `StreamJobEvents`: the JobEvents port everywhere on AWS, in the API functions, the event-driven
 * functions and the stylize worker container alike.
 *
 * On AWS a job event is the job's write itself: the jobs table's stream feeds the WebSocket publisher
 * function, which fans each change out to subscribers. Publishing as well would deliver every change
 * twice, so `publish` does nothing (the store has already written the change). Subscribing is refused:
 * no function lives longer than one request, so subscriptions go through the WebSocket API, and the
 * GraphQL rules refuse a subscription sent over HTTP before any resolver runs. A call that reaches
 * `subscribe` is therefore a fault of the platform, not of the request: INTERNAL.
 */

import { DomainError, ErrorCode } from '../../core';
import type { JobEvent, JobEvents, JobSubscription } from '../../core';

/** Job events delivered by the jobs table's stream rather than in process. */
export class StreamJobEvents implements JobEvents {
  async publish(_event: JobEvent): Promise<void> {
    // Deliberately empty: the stream record of the write that preceded this call is the event.
  }

  subscribe(): JobSubscription {
    throw new DomainError(
      ErrorCode.INTERNAL,
      'Job events on AWS come from the jobs table stream; subscriptions are served by the WebSocket API.',
    );
  }
}
