/**
 * The embedded API server as the benchmarks run it: real SQLite in a fresh temporary folder, blobs on
 * disk, the in-process event bus, listening on 127.0.0.1 with an ephemeral port.
 *
 * It differs from the production composition root in two deliberate ways. No worker is started, so a
 * submitted job is queued and never executed: the benchmarks measure the API, not the engine. And the
 * per-owner request limit is raised far above any benchmark's volume, because the default limit exists
 * to stop abuse and would otherwise turn a latency figure into a count of refusals.
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FsBlobStore,
  InProcessJobEvents,
  openSqliteDatabase,
  SqliteApiKeyStore,
  SqliteJobQueue,
  SqliteJobStore,
  SqliteModelRegistry,
  SqliteStyleStore,
} from '../../functions/adapters/local';
import { DEFAULT_LIMITS } from '../../functions/core/use-cases';
import { createApiServer, localBlobUrls } from '../../functions/local/http';
import { TRAINER_RULES } from '../../trainer/training-rules';

/** Loopback only: the benchmarks never listen on, or connect to, anything else. */
export const BENCH_HOST = '127.0.0.1';

/** Requests per minute per owner; far above what any benchmark sends (see the file header). */
const UNLIMITED_REQUESTS_PER_MINUTE = 10_000_000;

/** A running benchmark server and direct access to the ports a worker would use. */
export interface BenchServer {
  /** e.g. "http://127.0.0.1:43121". */
  origin: string;
  jobs: SqliteJobStore;
  queue: SqliteJobQueue;
  events: InProcessJobEvents;
  /** Creates an API key for `owner` and returns the secret a client sends. */
  createKey(owner: string): Promise<string>;
  /** Stops the server and deletes its database and blobs. */
  close(): Promise<void>;
}

/** Starts a benchmark server; always `close` it, even when the run fails. */
export async function startBenchServer(): Promise<BenchServer> {
  const dir = mkdtempSync(join(tmpdir(), 'peerstyle-bench-'));
  const db = openSqliteDatabase(join(dir, 'peerstyle.db'));
  const apiKeys = new SqliteApiKeyStore(db);
  const jobs = new SqliteJobStore(db);
  const queue = new SqliteJobQueue(db);
  const events = new InProcessJobEvents();
  const server = createApiServer({
    ports: {
      jobs,
      queue,
      events,
      styles: new SqliteStyleStore(db),
      models: new SqliteModelRegistry(db),
      apiKeys,
      trainingRules: TRAINER_RULES,
    },
    blobs: (origin) =>
      new FsBlobStore({ root: join(dir, 'blobs'), signingSecret: 'bench-secret', ...localBlobUrls(origin) }),
    config: {
      limits: DEFAULT_LIMITS,
      requestsPerMinute: UNLIMITED_REQUESTS_PER_MINUTE,
      // An unexpected error is a broken run, not noise: keep it visible.
      log: (error) => console.error('server error:', error),
    },
  });
  let origin: string;
  try {
    origin = await server.listen(0, BENCH_HOST);
  } catch (error) {
    db.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    origin,
    jobs,
    queue,
    events,
    createKey: async (owner) => (await apiKeys.create(owner, 'bench')).key,
    close: async () => {
      await server.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The benchmark's content and style image: a small real JPEG from the test fixtures. */
export function benchImage(): Buffer {
  return readFileSync(join(__dirname, '..', '..', 'tests', 'fixtures', 'images', 'photo-1.jpg'));
}
