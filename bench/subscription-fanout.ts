/**
 * Measures job-event fan-out on the embedded API server: many concurrent graphql-ws `jobProgress`
 * subscriptions, progress events published as a worker publishes them, and the latency from publish
 * to arrival at each client (p50/p99), delivered events per second, and whether every subscriber got
 * every event exactly once and in order.
 *
 * Setup: jobs are submitted over HTTP, then each job gets several subscribers, each its own WebSocket
 * connection to 127.0.0.1. The bench then plays the worker through the ports, as a real worker does:
 * it claims each job (QUEUED → RUNNING), then publishes rounds of progress, one event per job per round
 * back to back, each written with `JobStore.updateProgress` and sent with `JobEvents.publish`. The job's
 * `stage` carries the round number and the send time, so a client can both time the event and check its
 * order. The next round starts once the last one has fully arrived (or timed out): the figures describe
 * a server keeping up, not a backlog, and the per-subscriber buffer never has to drop anything. Finally
 * the jobs succeed, and every subscription must complete.
 *
 * Clients and server share one process and event loop, so the latency includes the clients' own JSON
 * parsing; compare runs on the same machine. Prints figures only; never passes or fails on time. Every
 * wait has a time limit, and the run stops by itself.
 * Run: `npx tsx bench/subscription-fanout.ts [--jobs=100] [--subscribers=10] [--rounds=20] [--seconds=120]`.
 */

import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { BenchHttpClient } from './support/bench-http-client';
import { benchImage, startBenchServer } from './support/bench-server';
import { formatTable, ms, parseIntFlags, summarize, type LatencySummary } from './support/stats';
import { Tally } from './support/tally';

/** Scale of one run. */
export interface SubscriptionFanoutOptions {
  /** Jobs whose progress is published. */
  jobs: number;
  /** Subscribers per job, each on its own WebSocket connection. */
  subscribers: number;
  /** Progress events published per job. */
  rounds: number;
  /** Time limit for the whole run's waits, in seconds. */
  seconds: number;
}

/** The full-scale run quoted in the README: 100 jobs × 10 subscribers = 1,000 subscriptions. */
export const DEFAULT_SUBSCRIPTION_FANOUT_OPTIONS: SubscriptionFanoutOptions = {
  jobs: 100,
  subscribers: 10,
  rounds: 20,
  seconds: 120,
};

/** What `runSubscriptionFanout` measured. */
export interface SubscriptionFanoutResult {
  options: SubscriptionFanoutOptions;
  subscriptions: number;
  /** Seconds from opening the first connection to every subscriber holding its first snapshot. */
  connectSeconds: number;
  /** Rounds actually published; fewer than planned only when the time limit ran out. */
  roundsPublished: number;
  eventsPublished: number;
  /** eventsPublished × subscribers per job. */
  expectedDeliveries: number;
  /** Progress events received, counting duplicates. */
  delivered: number;
  /** Events a subscriber never received. */
  missing: number;
  /** Events that arrived after a later one, or twice. */
  outOfOrder: number;
  /** Subscriptions that ended in an error. */
  errors: number;
  /** Subscriptions that completed when their job succeeded. */
  completed: number;
  /** Publish-to-arrival latency of every delivered progress event, in milliseconds. */
  latency: LatencySummary;
  /** Deliveries divided by the time from the first publish to the last arrival. */
  deliveredPerSecond: number;
}

const PROGRESS = `subscription($id: ID!) { jobProgress(id: $id) { type job { id status stage } } }`;
const STYLIZE = `mutation($input: StylizeInput!) { stylize(input: $input) { id } }`;
/** Jobs per owner: subscribers of one job share its owner's key, as one user's devices would. */
const JOBS_PER_OWNER = 10;
const STAGE = /^bench-round (\d+) sent ([\d.]+)$/;

interface JobProgressMessage {
  data?: { jobProgress: { type: string; job: { id: string; status: string; stage: string } } } | null;
}

/** One subscriber's view of the stream. */
class Subscriber {
  private expectedRound = 1;
  missing = 0;
  outOfOrder = 0;
  failed = false;

  constructor(
    readonly client: Client,
    private readonly tallies: FanoutTallies,
  ) {}

  onMessage(message: JobProgressMessage, now: number): void {
    const event = message.data?.jobProgress;
    if (event === undefined) {
      this.failed = true;
      return;
    }
    if (event.type === 'SNAPSHOT') this.tallies.ready.add();
    else if (event.type === 'STATUS_CHANGED' && event.job.status === 'RUNNING') this.tallies.running.add();
    else if (event.type === 'PROGRESS') {
      const stamp = STAGE.exec(event.job.stage);
      if (stamp === null) {
        this.failed = true;
        return;
      }
      const round = Number(stamp[1]);
      this.tallies.latencies.push(now - Number(stamp[2]));
      this.tallies.lastArrival = now;
      this.tallies.rounds[round]?.add();
      if (round === this.expectedRound) this.expectedRound += 1;
      else if (round > this.expectedRound) {
        this.missing += round - this.expectedRound;
        this.outOfOrder += 1;
        this.expectedRound = round + 1;
      } else this.outOfOrder += 1;
    }
  }

  /** Counts the events of the first `rounds` rounds that never arrived. */
  finish(rounds: number): void {
    this.missing += Math.max(0, rounds + 1 - this.expectedRound);
  }
}

interface FanoutTallies {
  ready: Tally;
  running: Tally;
  completed: Tally;
  /** Deliveries per round, indexed by round number (1-based). */
  rounds: Tally[];
  latencies: number[];
  lastArrival: number;
}

/** Starts a server, runs the fan-out and shuts everything down, also on failure. */
export async function runSubscriptionFanout(options: SubscriptionFanoutOptions): Promise<SubscriptionFanoutResult> {
  const server = await startBenchServer();
  const deadline = performance.now() + options.seconds * 1000;
  const remaining = () => deadline - performance.now();
  const http: BenchHttpClient[] = [];
  const subscribers: Subscriber[] = [];
  const tallies: FanoutTallies = {
    ready: new Tally(),
    running: new Tally(),
    completed: new Tally(),
    rounds: Array.from({ length: options.rounds + 1 }, () => new Tally()),
    latencies: [],
    lastArrival: 0,
  };
  try {
    // Submit the jobs over HTTP, as users would.
    const image = benchImage();
    const jobs: { id: string; key: string }[] = [];
    for (let first = 0; first < options.jobs; first += JOBS_PER_OWNER) {
      const key = await server.createKey(`bench-owner-${first / JOBS_PER_OWNER}`);
      const client = new BenchHttpClient(server.origin, key);
      http.push(client);
      const upload = await client.upload(image, 'image/jpeg');
      for (let j = first; j < Math.min(options.jobs, first + JOBS_PER_OWNER); j += 1) {
        const data = await client.graphql(STYLIZE, {
          input: { content: upload, styles: [{ uploadKey: upload, weight: 1 }], options: { size: 256 } },
        });
        jobs.push({ id: (data.stylize as { id: string }).id, key });
      }
    }

    // Open every subscription at once; each answers first with the job's snapshot.
    const total = options.jobs * options.subscribers;
    const url = `${server.origin.replace('http', 'ws')}/graphql`;
    const connectStart = performance.now();
    for (const job of jobs) {
      for (let s = 0; s < options.subscribers; s += 1) {
        const client = createClient({
          url,
          webSocketImpl: WebSocket,
          connectionParams: { authorization: `Bearer ${job.key}` },
          // A dropped connection is a result to report, not something to paper over by reconnecting.
          retryAttempts: 0,
          lazy: true,
        });
        const subscriber = new Subscriber(client, tallies);
        subscribers.push(subscriber);
        client.subscribe(
          { query: PROGRESS, variables: { id: job.id } },
          {
            next: (message) => subscriber.onMessage(message as JobProgressMessage, performance.now()),
            error: () => {
              subscriber.failed = true;
              tallies.completed.add();
            },
            complete: () => tallies.completed.add(),
          },
        );
      }
    }
    if (!(await tallies.ready.reached(total, remaining())))
      throw new Error(`Only ${tallies.ready.count} of ${total} subscriptions started within the time limit.`);
    const connectSeconds = (performance.now() - connectStart) / 1000;

    // Claim every job as a worker would, and let the status change reach everyone before timing.
    for (const job of jobs) {
      const running = await server.jobs.transition(job.id, 'QUEUED', 'RUNNING', { stage: 'starting' });
      await server.events.publish({ type: 'STATUS_CHANGED', job: running });
    }
    await tallies.running.reached(total, remaining());

    // Rounds of progress: one event per job, back to back, then wait for the round to arrive everywhere.
    let roundsPublished = 0;
    const firstSend = performance.now();
    for (let round = 1; round <= options.rounds && remaining() > 0; round += 1) {
      for (const job of jobs) {
        const sent = performance.now();
        const updated = await server.jobs.updateProgress(job.id, {
          progress: round / (options.rounds + 1),
          stage: `bench-round ${round} sent ${sent.toFixed(3)}`,
        });
        await server.events.publish({ type: 'PROGRESS', job: updated });
      }
      roundsPublished = round;
      await tallies.rounds[round]!.reached(total, remaining()); // one tally per round, 0..rounds
    }
    const deliveryWindow = (tallies.lastArrival - firstSend) / 1000;

    // Finish the jobs; a terminal status ends every jobProgress stream.
    for (const job of jobs) {
      const done = await server.jobs.transition(job.id, 'RUNNING', 'SUCCEEDED', { result: { outputKeys: [] } });
      await server.events.publish({ type: 'STATUS_CHANGED', job: done });
    }
    await tallies.completed.reached(total, remaining());

    for (const subscriber of subscribers) subscriber.finish(roundsPublished);
    const sum = (pick: (s: Subscriber) => number) => subscribers.reduce((acc, s) => acc + pick(s), 0);
    return {
      options,
      subscriptions: total,
      connectSeconds,
      roundsPublished,
      eventsPublished: roundsPublished * options.jobs,
      expectedDeliveries: roundsPublished * total,
      delivered: tallies.latencies.length,
      missing: sum((s) => s.missing),
      outOfOrder: sum((s) => s.outOfOrder),
      errors: sum((s) => (s.failed ? 1 : 0)),
      completed: tallies.completed.count,
      latency: summarize(tallies.latencies),
      deliveredPerSecond: deliveryWindow > 0 ? tallies.latencies.length / deliveryWindow : Number.NaN,
    };
  } finally {
    await Promise.all(subscribers.map((subscriber) => subscriber.client.dispose()));
    for (const client of http) client.close();
    await server.close();
  }
}

/** The result as the table the README quotes. */
export function formatSubscriptionFanout(result: SubscriptionFanoutResult): string {
  const { options } = result;
  const rows: [string, string][] = [
    ['subscriptions (WebSocket connections)', String(result.subscriptions)],
    ['all subscribed after', `${result.connectSeconds.toFixed(2)} s`],
    ['events published', `${result.eventsPublished} (${result.roundsPublished} rounds × ${options.jobs} jobs)`],
    ['deliveries received / expected', `${result.delivered} / ${result.expectedDeliveries}`],
    ['delivery latency p50', `${ms(result.latency.p50)} ms`],
    ['delivery latency p99', `${ms(result.latency.p99)} ms`],
    ['delivery latency max', `${ms(result.latency.max)} ms`],
    ['delivered events / s', result.deliveredPerSecond.toFixed(0)],
    ['missing / out of order (expect 0)', `${result.missing} / ${result.outOfOrder}`],
    ['subscription errors (expect 0)', String(result.errors)],
    ['streams completed on SUCCEEDED', `${result.completed} / ${result.subscriptions}`],
  ];
  return [
    `Subscription fan-out: ${options.jobs} jobs × ${options.subscribers} graphql-ws subscribers (jobProgress), 127.0.0.1`,
    '',
    formatTable(['figure', 'value'], rows),
  ].join('\n');
}

if (require.main === module) {
  const options = parseIntFlags(process.argv.slice(2), { ...DEFAULT_SUBSCRIPTION_FANOUT_OPTIONS });
  runSubscriptionFanout(options)
    .then((result) => console.log(formatSubscriptionFanout(result)))
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
