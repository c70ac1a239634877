/**
 * Local-only behaviour of `InProcessJobEvents`: a slow subscriber's buffer is bounded and keeps the
 * newest snapshots.
 */

import { createJob, transitionJob } from '../../../../functions/core';
import { InProcessJobEvents } from '../../../../functions/adapters/local';

test('a subscriber that falls behind keeps only the newest events, ending with the latest snapshot', async () => {
  const events = new InProcessJobEvents({ bufferSize: 3 });
  let job = createJob('j', { owner: 'alice', kind: 'TRAIN', input: {} }, 0);
  job = transitionJob(job, 'RUNNING', 1);
  const live = events.subscribe({ jobId: 'j' });
  for (let i = 1; i <= 10; i += 1) await events.publish({ type: 'PROGRESS', job: { ...job, progress: i / 10 } });
  const reader = live[Symbol.asyncIterator]();
  const got: number[] = [];
  for (let i = 0; i < 3; i += 1) got.push(((await reader.next()).value as { job: { progress: number } }).job.progress);
  expect(got).toEqual([0.8, 0.9, 1]);
  live.unsubscribe();
  expect(events.subscriberCount()).toBe(0);
});
