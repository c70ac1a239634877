/**
 * The contract every `JobEvents` adapter must pass: in-process today, a WebSocket fan-out later.
 *
 * Subscribers get the events for the job or owner they asked for, in publish order, each carrying the
 * job snapshot, and nothing after they unsubscribe.
 */

import { createJob, transitionJob, type JobEvent, type JobEvents } from '../../functions/core';

/** Builds fresh events and a way to dispose of them. */
export type JobEventsFactory = () => Promise<{ events: JobEvents; close: () => Promise<void> }>;

const job = (id: string, owner: string) =>
  createJob(id, { owner, kind: 'STYLIZE', input: {} }, Date.parse('2030-01-01T00:00:00Z'));

/** Takes the next `n` events from an iterator, failing instead of hanging if they do not arrive. */
async function take(iterator: AsyncIterator<JobEvent>, n: number, timeoutMs = 2000): Promise<JobEvent[]> {
  const got: JobEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < n) {
    let timer: NodeJS.Timeout | undefined;
    const next = await Promise.race([
      iterator.next(),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), Math.max(1, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    if (next === 'timeout') throw new Error(`Only ${got.length} of ${n} events arrived within ${timeoutMs} ms`);
    if (next.done === true) break;
    got.push(next.value);
  }
  return got;
}

/** Registers the job events contract tests under `name`. */
export function describeJobEventsContract(name: string, makeEvents: JobEventsFactory): void {
  describe(`JobEvents contract: ${name}`, () => {
    let events: JobEvents;
    let close: () => Promise<void>;

    beforeEach(async () => {
      ({ events, close } = await makeEvents());
    });
    afterEach(async () => {
      await close();
    });

    test('a job subscriber gets that job’s events in order, with snapshots', async () => {
      const subscription = events.subscribe({ jobId: 'j1' });
      const iterator = subscription[Symbol.asyncIterator]();
      const queued = job('j1', 'alice');
      const running = transitionJob(queued, 'RUNNING', Date.parse('2030-01-01T00:00:01Z'));
      await events.publish({ type: 'CREATED', job: queued });
      await events.publish({ type: 'CREATED', job: job('other', 'alice') });
      await events.publish({ type: 'STATUS_CHANGED', job: running });
      const got = await take(iterator, 2);
      expect(got.map((e) => [e.type, e.job.id, e.job.status])).toEqual([
        ['CREATED', 'j1', 'QUEUED'],
        ['STATUS_CHANGED', 'j1', 'RUNNING'],
      ]);
      subscription.unsubscribe();
    });

    test('an owner subscriber gets all of that owner’s jobs and nobody else’s', async () => {
      const subscription = events.subscribe({ owner: 'alice' });
      const iterator = subscription[Symbol.asyncIterator]();
      await events.publish({ type: 'CREATED', job: job('a1', 'alice') });
      await events.publish({ type: 'CREATED', job: job('b1', 'bob') });
      await events.publish({ type: 'CREATED', job: job('a2', 'alice') });
      expect((await take(iterator, 2)).map((e) => e.job.id)).toEqual(['a1', 'a2']);
      subscription.unsubscribe();
    });

    test('unsubscribing ends the iteration and stops delivery', async () => {
      const subscription = events.subscribe({ jobId: 'j2' });
      const iterator = subscription[Symbol.asyncIterator]();
      const pending = iterator.next();
      subscription.unsubscribe();
      expect((await pending).done).toBe(true);
      await events.publish({ type: 'CREATED', job: job('j2', 'alice') });
      expect((await iterator.next()).done).toBe(true);
      subscription.unsubscribe();
    });

    test('leaving a for-await loop unsubscribes', async () => {
      const subscription = events.subscribe({ owner: 'carol' });
      setTimeout(() => void events.publish({ type: 'CREATED', job: job('c1', 'carol') }), 5);
      for await (const event of subscription) {
        expect(event.job.id).toBe('c1');
        break;
      }
      await events.publish({ type: 'CREATED', job: job('c2', 'carol') });
      expect((await subscription[Symbol.asyncIterator]().next()).done).toBe(true);
    });
  });
}
