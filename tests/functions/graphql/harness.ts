/**
 * A real API server for the GraphQL tests: SQLite in a fresh temporary folder, blobs on disk, the
 * in-process event bus, two API keys (alice and bob), listening on 127.0.0.1 with an ephemeral port.
 *
 * Helpers speak to it as a client would: `fetch` for HTTP, graphql-ws over `ws` for subscriptions, a
 * multipart form built by `FormData` for uploads. `advanceBlobClock` moves the blob store's clock so
 * expiry is tested without sleeping.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- GraphQL results are untyped JSON that the tests read by path. */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import {
  FsBlobStore,
  InProcessJobEvents,
  openSqliteDatabase,
  SqliteApiKeyStore,
  SqliteJobQueue,
  SqliteJobStore,
  SqliteModelRegistry,
  SqliteStyleStore,
} from '../../../functions/adapters/local';
import { DEFAULT_LIMITS, type UseCaseDeps, type UseCaseLimits } from '../../../functions/core/use-cases';
import type { Clock } from '../../../functions/core/ports/clock';
import { createApiServer, localBlobUrls, type ApiServerConfig } from '../../../functions/local/http';
import { TRAINER_RULES } from '../../../trainer/training-rules';

/** A fixture image's bytes. */
export const fixture = (name: string): Buffer => readFileSync(join(__dirname, '..', '..', 'fixtures', 'images', name));

/** Limits small enough to test. */
export const TEST_LIMITS: UseCaseLimits = {
  ...DEFAULT_LIMITS,
  maxUploadBytes: 64 * 1024,
  maxTrainingSteps: 1000,
  datasetFolders: ['sample'],
};

/** A GraphQL HTTP response. */
export interface GqlResponse {
  status: number;
  body: {
    data?: Record<string, any> | null;
    errors?: { message: string; extensions?: { code?: string; reason?: string } }[];
  };
}

/** A running server and clients for it. */
export interface Harness {
  origin: string;
  aliceKey: string;
  bobKey: string;
  deps: UseCaseDeps;
  /** The server's key store, to create and revoke keys as the CLI does. */
  apiKeys: SqliteApiKeyStore;
  events: InProcessJobEvents;
  queue: SqliteJobQueue;
  models: SqliteModelRegistry;
  /** Runs a GraphQL operation over HTTP with `key` (null sends no Authorization header). */
  gql(key: string | null, query: string, variables?: Record<string, unknown>): Promise<GqlResponse>;
  /** createUpload, then POST the bytes to the target; returns the key. */
  upload(key: string, bytes: Buffer, contentType?: string, group?: string): Promise<string>;
  /** Posts a file to an upload target as a browser would. */
  postForm(
    target: { url: string; fields: { name: string; value: string }[] },
    bytes: Buffer,
    contentType: string,
  ): Promise<Response>;
  /** A graphql-ws client authenticated with `payload`. */
  wsClient(payload: Record<string, unknown>): Client;
  advanceBlobClock(ms: number): void;
  close(): Promise<void>;
}

/** Starts a harness; call `close` in afterEach/afterAll. */
export async function startHarness(
  config: Partial<ApiServerConfig> = {},
  /** The server's clock (the rate limiter's and the jobs'); a fixed one keeps token refills out of a test. */
  clock?: Clock,
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'peerstyle-graphql-'));
  const db = openSqliteDatabase(join(dir, 'peerstyle.db'));
  const apiKeys = new SqliteApiKeyStore(db);
  const jobs = new SqliteJobStore(db);
  const queue = new SqliteJobQueue(db);
  const styles = new SqliteStyleStore(db);
  const models = new SqliteModelRegistry(db);
  const events = new InProcessJobEvents();
  let blobOffset = 0;
  let blobs: FsBlobStore | undefined;
  const clients: Client[] = [];
  const server = createApiServer({
    ports: { jobs, queue, events, styles, models, apiKeys, trainingRules: TRAINER_RULES, ...(clock ? { clock } : {}) },
    blobs: (origin) => {
      blobs = new FsBlobStore({
        root: join(dir, 'blobs'),
        signingSecret: 'test-secret',
        clock: () => Date.now() + blobOffset,
        ...localBlobUrls(origin),
      });
      return blobs;
    },
    config: { limits: TEST_LIMITS, requestsPerMinute: 600, introspection: false, log: () => undefined, ...config },
  });
  const origin = await server.listen(0, '127.0.0.1');
  const aliceKey = (await apiKeys.create('alice', 'test')).key;
  const bobKey = (await apiKeys.create('bob', 'test')).key;
  const deps: UseCaseDeps = {
    blobs: blobs as FsBlobStore,
    jobs,
    queue,
    events,
    styles,
    models,
    clock: Date.now,
    limits: TEST_LIMITS,
    trainingRules: TRAINER_RULES,
  };

  const gql: Harness['gql'] = async (key, query, variables) => {
    const response = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key !== null ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as GqlResponse['body'] };
  };
  const postForm: Harness['postForm'] = async (target, bytes, contentType) => {
    const form = new FormData();
    for (const { name, value } of target.fields) form.append(name, value);
    form.append('Content-Type', contentType);
    form.append('file', new Blob([new Uint8Array(bytes)], { type: contentType }), 'image');
    return fetch(target.url, { method: 'POST', body: form });
  };
  const upload: Harness['upload'] = async (key, bytes, contentType = 'image/jpeg', group) => {
    const { body } = await gql(
      key,
      `mutation($t: String!, $n: Int!, $g: String) { createUpload(contentType: $t, byteSize: $n, group: $g) { url key fields { name value } } }`,
      { t: contentType, n: bytes.length, g: group },
    );
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    const target = body.data!.createUpload;
    const response = await postForm(target, bytes, contentType);
    if (response.status !== 204) throw new Error(`upload failed: ${response.status} ${await response.text()}`);
    return target.key as string;
  };
  const wsClient: Harness['wsClient'] = (payload) => {
    const client = createClient({
      url: `${origin.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: payload,
      retryAttempts: 0,
      lazy: true,
    });
    clients.push(client);
    return client;
  };
  return {
    origin,
    aliceKey,
    bobKey,
    deps,
    apiKeys,
    events,
    queue,
    models,
    gql,
    upload,
    postForm,
    wsClient,
    advanceBlobClock: (ms) => {
      blobOffset += ms;
    },
    close: async () => {
      await Promise.all(clients.map((client) => client.dispose()));
      await server.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Collects a subscription's results until it completes or errors. */
export function collect(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const results: { data?: any; errors?: any[] }[] = [];
  let resolveDone: (value: { error?: unknown }) => void = () => undefined;
  const done = new Promise<{ error?: unknown }>((resolve) => {
    resolveDone = resolve;
  });
  const waiters: { count: number; resolve: () => void }[] = [];
  const unsubscribe = client.subscribe(
    { query, variables },
    {
      next: (value) => {
        results.push(value as { data?: any; errors?: any[] });
        for (const waiter of waiters.filter((w) => results.length >= w.count)) waiter.resolve();
      },
      error: (error) => resolveDone({ error }),
      complete: () => resolveDone({}),
    },
  );
  /** Resolves once `count` results have arrived. */
  const waitFor = (count: number) =>
    results.length >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve }));
  return { results, done, waitFor, unsubscribe };
}
