/**
 * Smoke test for the API benchmarks: both run end to end at a small scale over real HTTP and WebSocket
 * on 127.0.0.1 with real SQLite, and their figures are well-formed. It asserts nothing about time,
 * because on a shared machine no latency threshold is reliable; it does assert that every request
 * completed and that every subscriber received every event exactly once and in order, since those are
 * properties of the server, not of the machine's load.
 */

import { formatApiLatency, runApiLatency } from '../../bench/api-latency';
import { formatSubscriptionFanout, runSubscriptionFanout } from '../../bench/subscription-fanout';
import type { LatencySummary } from '../../bench/support/stats';

function expectWellFormed(latency: LatencySummary, count: number): void {
  expect(latency.count).toBe(count);
  for (const value of [latency.p50, latency.p99, latency.max, latency.mean]) {
    expect(Number.isFinite(value)).toBe(true);
    expect(value).toBeGreaterThan(0);
  }
  expect(latency.p50).toBeLessThanOrEqual(latency.p99);
  expect(latency.p99).toBeLessThanOrEqual(latency.max);
}

test('api-latency: 5 clients complete every mutation and query, and the figures are well-formed', async () => {
  const result = await runApiLatency({ clients: 5, mutations: 4, queries: 4, seconds: 60 });
  expectWellFormed(result.mutation.latency, 20);
  expectWellFormed(result.query.latency, 20);
  expect(result.mutation.planned).toBe(20);
  expect(result.mutation.requestsPerSecond).toBeGreaterThan(0);
  expect(result.query.requestsPerSecond).toBeGreaterThan(0);
  // The no-op engine: the warm-up job plus the measured ones, all still queued.
  expect(result.jobsQueued).toBe(5 * (1 + 4));
  expect(formatApiLatency(result)).toMatch(/stylize \(mutation\)\s+20\/20/);
});

test('subscription-fanout: 20 subscriptions receive every event in order and complete', async () => {
  const result = await runSubscriptionFanout({ jobs: 4, subscribers: 5, rounds: 5, seconds: 60 });
  expect(result.subscriptions).toBe(20);
  expect(result.roundsPublished).toBe(5);
  expect(result.eventsPublished).toBe(20);
  expect(result.expectedDeliveries).toBe(100);
  expect(result.delivered).toBe(100);
  expect(result.missing).toBe(0);
  expect(result.outOfOrder).toBe(0);
  expect(result.errors).toBe(0);
  expect(result.completed).toBe(20);
  expectWellFormed(result.latency, 100);
  expect(result.deliveredPerSecond).toBeGreaterThan(0);
  expect(formatSubscriptionFanout(result)).toMatch(/missing \/ out of order \(expect 0\)\s+0 \/ 0/);
});
