/**
 * The job events port for code running on AWS outside the API.
 *
 * On AWS, subscribers hear about job changes from the jobs table's stream, which a publisher function
 * fans out to WebSocket connections; a worker or handler that publishes as well would deliver every
 * change twice. So the use cases' `publish` calls end here, and subscribing (which only the API does)
 * is refused.
 */

import { DomainError, ErrorCode, type JobEvents, type JobSubscription } from '../../core';

/** JobEvents whose publish is a no-op because the table stream already carries each change. */
export const streamPublishedEvents: JobEvents = {
  async publish(): Promise<void> {
    // Delivered by the jobs table's stream.
  },
  subscribe(): JobSubscription {
    throw new DomainError(ErrorCode.INTERNAL, 'Subscriptions are served by the API, not by workers or handlers.');
  },
};
