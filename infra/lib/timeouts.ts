/**
 * Timeouts shared between a queue and the function that consumes it.
 *
 * A queue consumed by Lambda must hide a received message for longer than the
 * function can run, or a slow batch is handed to a second invocation while the
 * first is still working on it. AWS recommends a visibility timeout of six
 * times the function timeout, which also leaves room for the event source's own
 * retries; both sides read their figure from here so they cannot drift apart.
 */
import { Duration } from 'aws-cdk-lib';

/** How long each queue-consuming or event-driven function may run. */
export const FUNCTION_TIMEOUTS = {
  dropIntake: Duration.seconds(60),
  stylizeDispatcher: Duration.seconds(30),
  wsPublisher: Duration.seconds(30),
  jobDispatch: Duration.seconds(30),
} as const;

/** The multiple of a consumer's timeout that its queue hides a message for. */
export const VISIBILITY_TO_TIMEOUT_RATIO = 6;

/** The visibility timeout for a queue whose consumer has the given timeout. */
export function visibilityTimeoutFor(functionTimeout: Duration): Duration {
  return Duration.seconds(functionTimeout.toSeconds() * VISIBILITY_TO_TIMEOUT_RATIO);
}
