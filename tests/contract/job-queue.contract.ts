/**
 * The contract every `JobQueue` adapter must pass: SQLite today, SQS later.
 *
 * Time is the factory's business: `advance(seconds)` moves an injected clock locally and sleeps against
 * a real queue, so the suite uses one-second leases and never assumes which. It checks FIFO-ish delivery,
 * exclusive leases, heartbeats, redelivery with a higher attempt after a lost lease, release for retry,
 * and dead-lettering after `maxAttempts` deliveries.
 */

import { ErrorCode, type JobQueue } from '../../functions/core';
import { expectDomainError } from '../support/expect-domain-error';

/** What a queue factory supplies. */
export interface JobQueueFixture {
  queue: JobQueue;
  /** Deliveries the queue allows before dead-lettering (its configured maxAttempts). */
  maxAttempts: number;
  /** Lets `seconds` of queue time pass. */
  advance: (seconds: number) => Promise<void>;
  close: () => Promise<void>;
}

/** Registers the job queue contract tests under `name`. */
export function describeJobQueueContract(name: string, makeQueue: () => Promise<JobQueueFixture>): void {
  describe(`JobQueue contract: ${name}`, () => {
    let fx: JobQueueFixture;

    beforeEach(async () => {
      fx = await makeQueue();
    });
    afterEach(async () => {
      await fx.close();
    });

    test('an empty queue returns null', async () => {
      expect(await fx.queue.receive('w1', 1)).toBeNull();
    });

    test('a job is leased to one worker at a time, then acked for good', async () => {
      await fx.queue.enqueue('job-1');
      const lease = await fx.queue.receive('w1', 30);
      expect(lease).toMatchObject({ jobId: 'job-1', attempt: 1 });
      expect(Date.parse(lease?.expiresAt ?? '')).toBeGreaterThan(Date.now() - 60_000);
      expect(await fx.queue.receive('w2', 30)).toBeNull();
      await fx.queue.ack(lease!.receipt);
      await fx.advance(1.2);
      expect(await fx.queue.receive('w2', 30)).toBeNull();
    });

    test('jobs come out in the order they went in', async () => {
      for (const id of ['a', 'b', 'c']) await fx.queue.enqueue(id);
      const got: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        const lease = await fx.queue.receive('w', 30);
        got.push(lease!.jobId);
        await fx.queue.ack(lease!.receipt);
      }
      expect(got).toEqual(['a', 'b', 'c']);
    });

    test('a lost lease is redelivered with the next attempt number', async () => {
      await fx.queue.enqueue('job-2');
      const first = await fx.queue.receive('w1', 1);
      expect(first?.attempt).toBe(1);
      await fx.advance(1.5);
      const second = await fx.queue.receive('w2', 30);
      expect(second).toMatchObject({ jobId: 'job-2', attempt: 2 });
      expect(second?.receipt).not.toBe(first?.receipt);
      await fx.queue.ack(second!.receipt);
    });

    test('heartbeats keep a lease past its original expiry', async () => {
      await fx.queue.enqueue('job-3');
      const lease = await fx.queue.receive('w1', 2);
      await fx.advance(1);
      const extended = await fx.queue.heartbeat(lease!.receipt, 3);
      expect(extended.jobId).toBe('job-3');
      expect(Date.parse(extended.expiresAt)).toBeGreaterThan(Date.parse(lease!.expiresAt));
      await fx.advance(1.5);
      expect(await fx.queue.receive('w2', 30)).toBeNull();
      await fx.queue.ack(lease!.receipt);
    });

    test('heartbeat after ack is EXPIRED', async () => {
      await fx.queue.enqueue('job-4');
      const lease = await fx.queue.receive('w1', 30);
      await fx.queue.ack(lease!.receipt);
      await expectDomainError(fx.queue.heartbeat(lease!.receipt, 30), ErrorCode.EXPIRED);
    });

    test('release hands the job back for another attempt', async () => {
      await fx.queue.enqueue('job-5');
      const lease = await fx.queue.receive('w1', 30);
      await fx.queue.release(lease!.receipt);
      const again = await fx.queue.receive('w2', 30);
      expect(again).toMatchObject({ jobId: 'job-5', attempt: 2 });
      await fx.queue.ack(again!.receipt);
    });

    test('an uncounted release (a clean shutdown) repeats the attempt and does not bring dead-lettering closer', async () => {
      await fx.queue.enqueue('job-6');
      for (let round = 0; round < fx.maxAttempts + 1; round += 1) {
        const lease = await fx.queue.receive('w1', 30);
        expect(lease).toMatchObject({ jobId: 'job-6', attempt: 1 });
        await fx.queue.release(lease!.receipt, { countDelivery: false });
      }
      const last = await fx.queue.receive('w2', 30);
      expect(last).toMatchObject({ jobId: 'job-6', attempt: 1 });
      await fx.queue.ack(last!.receipt);
      expect((await fx.queue.stats()).deadLetters).toBe(0);
    });

    test('delayed jobs become receivable only after the delay', async () => {
      await fx.queue.enqueue('later', { delaySeconds: 1 });
      expect(await fx.queue.receive('w', 30)).toBeNull();
      await fx.advance(1.5);
      expect((await fx.queue.receive('w', 30))?.jobId).toBe('later');
    });

    test('a job delivered maxAttempts times is dead-lettered with a reason, until acknowledged', async () => {
      await fx.queue.enqueue('poison');
      for (let attempt = 1; attempt <= fx.maxAttempts; attempt += 1) {
        const lease = await fx.queue.receive('w', 1);
        expect(lease).toMatchObject({ jobId: 'poison', attempt });
        await fx.advance(1.5);
      }
      expect(await fx.queue.receive('w', 1)).toBeNull();
      const dead = await fx.queue.receiveDeadLetters(10);
      expect(dead).toHaveLength(1);
      const letter = dead[0]!;
      expect(letter).toMatchObject({ jobId: 'poison', attempts: fx.maxAttempts });
      expect(letter.reason).toContain(String(fx.maxAttempts));
      await fx.queue.ackDeadLetter(letter.receipt);
      expect(await fx.queue.receiveDeadLetters(10)).toEqual([]);
    });

    test('stats count waiting and leased jobs', async () => {
      await fx.queue.enqueue('s1');
      await fx.queue.enqueue('s2');
      await fx.queue.receive('w', 30);
      expect(await fx.queue.stats()).toMatchObject({ visible: 1, inFlight: 1, deadLetters: 0 });
    });

    test('nonsense lease lengths are BAD_REQUEST', async () => {
      await expectDomainError(fx.queue.receive('w', 0), ErrorCode.BAD_REQUEST);
      await expectDomainError(fx.queue.receive('w', Number.NaN), ErrorCode.BAD_REQUEST);
    });
  });
}
