/**
 * Measures GraphQL request latency on the embedded API server under concurrent clients: p50/p99 of the
 * `stylize` mutation and of the `job(id)` query, and requests per second for each.
 *
 * Every client has its own API key and its own keep-alive HTTP connection to 127.0.0.1, uploads one
 * image through its presigned-POST target, then sends its mutations one after another while all the
 * other clients do the same; the queries follow as a second phase. The engine is a no-op for this run:
 * no worker is started, so jobs are only validated, stored and queued, which isolates the API's own
 * cost (resolvers, SQLite, HTTP) from stylization. Clients and server share one process and the
 * machine's cores, so the figures include the clients' own work; compare runs on the same machine.
 *
 * Prints figures only; it never passes or fails on time. Every loop is bounded by a request count and
 * a time limit, and stops by itself.
 * Run: `npx tsx bench/api-latency.ts [--clients=100] [--mutations=20] [--queries=20] [--seconds=120]`.
 */

import { BenchHttpClient } from './support/bench-http-client';
import { benchImage, startBenchServer, type BenchServer } from './support/bench-server';
import { formatTable, ms, parseIntFlags, summarize, type LatencySummary } from './support/stats';

/** Scale of one run. */
export interface ApiLatencyOptions {
  /** Concurrent clients, each with its own connection and API key. */
  clients: number;
  /** `stylize` mutations each client sends. */
  mutations: number;
  /** `job(id)` queries each client sends. */
  queries: number;
  /** Time limit per phase, in seconds; a phase that reaches it stops and reports what it completed. */
  seconds: number;
}

/** The full-scale run quoted in the README. */
export const DEFAULT_API_LATENCY_OPTIONS: ApiLatencyOptions = {
  clients: 100,
  mutations: 20,
  queries: 20,
  seconds: 120,
};

/** One measured phase: many clients sending one kind of request. */
export interface PhaseResult {
  operation: string;
  /** Requests the phase meant to send. */
  planned: number;
  /** Latency of the requests that completed, in milliseconds. */
  latency: LatencySummary;
  /** Completed requests divided by the phase's wall-clock time. */
  requestsPerSecond: number;
}

/** What `runApiLatency` measured. */
export interface ApiLatencyResult {
  options: ApiLatencyOptions;
  /** How jobs were handled during the run, for the output's heading. */
  engine: string;
  mutation: PhaseResult;
  query: PhaseResult;
  /** Jobs waiting in the queue at the end; with the no-op engine, every job submitted. */
  jobsQueued: number;
}

const STYLIZE = `mutation($input: StylizeInput!) { stylize(input: $input) { id status } }`;
const JOB = `query($id: ID!) { job(id: $id) { id status progress stage } }`;
const ENGINE = 'no-op (no worker runs: each stylize job is validated, stored and queued, never executed)';

interface Client {
  http: BenchHttpClient;
  upload: string;
  jobIds: string[];
}

/**
 * Runs `perClient(client, i)` for request i = 0, 1, … on every client at once, each client sending
 * sequentially, until `count` requests or the deadline; returns the phase's figures. A failed request
 * fails the phase, but only after every client has stopped, so no request outlives the run.
 */
async function runPhase(
  operation: string,
  clients: readonly Client[],
  count: number,
  seconds: number,
  perClient: (client: Client, i: number) => Promise<void>,
): Promise<PhaseResult> {
  const samples: number[] = [];
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const settled = await Promise.allSettled(
    clients.map(async (client) => {
      for (let i = 0; i < count && performance.now() < deadline; i += 1) {
        const sent = performance.now();
        await perClient(client, i);
        samples.push(performance.now() - sent);
      }
    }),
  );
  const elapsedSeconds = (performance.now() - start) / 1000;
  const failure = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
  return {
    operation,
    planned: clients.length * count,
    latency: summarize(samples),
    requestsPerSecond: samples.length / elapsedSeconds,
  };
}

/** Starts a server, runs both phases and shuts everything down, also on failure. */
export async function runApiLatency(options: ApiLatencyOptions): Promise<ApiLatencyResult> {
  const server: BenchServer = await startBenchServer();
  const clients: Client[] = [];
  try {
    const image = benchImage();
    for (let i = 0; i < options.clients; i += 1) {
      const key = await server.createKey(`bench-client-${i}`);
      clients.push({ http: new BenchHttpClient(server.origin, key), upload: '', jobIds: [] });
    }
    // Once per client, concurrently: a first request that also opens each client's connection.
    await Promise.all(
      clients.map(async (client) => {
        client.upload = await client.http.upload(image, 'image/jpeg');
      }),
    );
    const stylize = async (client: Client) => {
      const data = await client.http.graphql(STYLIZE, {
        input: { content: client.upload, styles: [{ uploadKey: client.upload, weight: 1 }], options: { size: 256 } },
      });
      client.jobIds.push((data.stylize as { id: string }).id);
    };
    // One unmeasured round of each request, so the first samples do not carry the JIT's warm-up.
    await Promise.all(clients.map(stylize));
    await Promise.all(clients.map((client) => client.http.graphql(JOB, { id: client.jobIds[0] })));

    const mutation = await runPhase('stylize (mutation)', clients, options.mutations, options.seconds, stylize);
    const query = await runPhase('job(id) (query)', clients, options.queries, options.seconds, async (client, i) => {
      const data = await client.http.graphql(JOB, { id: client.jobIds[i % client.jobIds.length] });
      if ((data.job as { status: string } | null)?.status !== 'QUEUED')
        throw new Error(`Expected a QUEUED job (the engine is a no-op), got ${JSON.stringify(data.job)}.`);
    });
    const jobsQueued = (await server.queue.stats()).visible;
    return { options, engine: ENGINE, mutation, query, jobsQueued };
  } finally {
    for (const client of clients) client.http.close();
    await server.close();
  }
}

/** The result as the table the README quotes. */
export function formatApiLatency(result: ApiLatencyResult): string {
  const { options } = result;
  const rows = [result.mutation, result.query].map((phase) => [
    phase.operation,
    `${phase.latency.count}/${phase.planned}`,
    ms(phase.latency.p50),
    ms(phase.latency.p99),
    ms(phase.latency.max),
    phase.requestsPerSecond.toFixed(0),
  ]);
  return [
    `API latency: ${options.clients} concurrent clients, one keep-alive HTTP connection each, 127.0.0.1`,
    `engine: ${result.engine}; ${result.jobsQueued} jobs left queued`,
    '',
    formatTable(['operation', 'done/planned', 'p50 ms', 'p99 ms', 'max ms', 'req/s'], rows),
  ].join('\n');
}

if (require.main === module) {
  const options = parseIntFlags(process.argv.slice(2), { ...DEFAULT_API_LATENCY_OPTIONS });
  runApiLatency(options)
    .then((result) => console.log(formatApiLatency(result)))
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
