/**
 * What the worker-side use cases need: the job store that holds the truth and the event port that
 * tells subscribers about each change. Kept in one place so every `run-*` use case takes the same
 * argument and a worker builds it once.
 */

import type { JobEvents } from '../ports/job-events';
import type { JobStore } from '../ports/job-store';

/** The ports every worker-side use case uses. */
export interface RunDeps {
  jobs: JobStore;
  events: JobEvents;
}
