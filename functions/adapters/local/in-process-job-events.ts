/**
 * `InProcessJobEvents`: job events delivered within one Node process, for the local server.
 *
 * Publishing never waits for subscribers. Each subscriber has its own bounded buffer; when a slow one
 * falls behind, its oldest events are dropped. That loses nothing that matters, because every event
 * carries the full job snapshot and the newest one (the one kept) supersedes the rest.
 */

import { EventEmitter } from 'node:events';
import type { JobEvent, JobEventFilter, JobEvents, JobSubscription } from '../../core';

/** Options for `InProcessJobEvents`. */
export interface InProcessJobEventsOptions {
  /** Events buffered per subscriber before the oldest are dropped. @default 100 */
  bufferSize?: number;
}

const CHANNEL = 'job-event';

/** In-process publish/subscribe of job events. */
export class InProcessJobEvents implements JobEvents {
  private readonly emitter = new EventEmitter();
  private readonly bufferSize: number;

  constructor(options: InProcessJobEventsOptions = {}) {
    this.bufferSize = options.bufferSize ?? 100;
    // Every GraphQL subscription is a listener; the default cap of 10 would warn on an ordinary load.
    this.emitter.setMaxListeners(0);
  }

  async publish(event: JobEvent): Promise<void> {
    this.emitter.emit(CHANNEL, event);
  }

  subscribe(filter: JobEventFilter): JobSubscription {
    return new BufferedSubscription(this.emitter, filter, this.bufferSize);
  }

  /** Number of live subscriptions, for tests and monitoring. */
  subscriberCount(): number {
    return this.emitter.listenerCount(CHANNEL);
  }
}

function matches(filter: JobEventFilter, event: JobEvent): boolean {
  return 'jobId' in filter ? event.job.id === filter.jobId : event.job.owner === filter.owner;
}

class BufferedSubscription implements JobSubscription {
  private readonly buffer: JobEvent[] = [];
  private waiting: ((result: IteratorResult<JobEvent>) => void) | undefined;
  private closed = false;
  /** Events dropped because this subscriber fell behind. */
  dropped = 0;
  private readonly listener = (event: JobEvent): void => this.push(event);

  constructor(
    private readonly emitter: EventEmitter,
    private readonly filter: JobEventFilter,
    private readonly capacity: number,
  ) {
    emitter.on(CHANNEL, this.listener);
  }

  private push(event: JobEvent): void {
    if (this.closed || !matches(this.filter, event)) return;
    if (this.waiting !== undefined) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: event, done: false });
      return;
    }
    this.buffer.push(event);
    if (this.buffer.length > this.capacity) {
      this.buffer.shift();
      this.dropped += 1;
    }
  }

  unsubscribe(): void {
    if (this.closed) return;
    this.closed = true;
    this.emitter.off(CHANNEL, this.listener);
    this.buffer.length = 0;
    if (this.waiting !== undefined) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<JobEvent> {
    return {
      next: () => {
        const event = this.buffer.shift();
        if (event !== undefined) return Promise.resolve({ value: event, done: false });
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiting = resolve;
        });
      },
      // Called when a `for await` loop exits early (break, throw), so leaving the loop unsubscribes.
      return: () => {
        this.unsubscribe();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
