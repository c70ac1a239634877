/**
 * `StreamJobEvents`: the JobEvents port as seen from a Lambda function.
 *
 * On AWS, a job event is the job's write itself: the jobs table's stream feeds the WebSocket
 * publisher, which fans out to subscribers. Publishing from a request handler therefore does nothing
 * (the store has already written the change), and subscribing is impossible in a function that lives
 * for one request; subscriptions go through the WebSocket API instead.
 */

import { DomainError, ErrorCode } from '../../core';
import type { JobEvent, JobEvents, JobSubscription } from '../../core';

/** Job events delivered by the table stream rather than in process. */
export class StreamJobEvents implements JobEvents {
  async publish(_event: JobEvent): Promise<void> {
    // Deliberately empty: the stream record of the write that preceded this call is the event.
  }

  subscribe(): JobSubscription {
    throw new DomainError(
      ErrorCode.BAD_REQUEST,
      'Subscriptions are served over the WebSocket API (graphql-ws), not over HTTP.',
    );
  }
}
