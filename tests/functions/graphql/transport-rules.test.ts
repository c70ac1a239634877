/**
 * One set of document rules on every transport, over real HTTP and graphql-ws on loopback: the
 * WebSocket serves subscriptions only (as the AWS WebSocket API does), HTTP serves queries and
 * mutations only, introspection is refused on both unless switched on (and `npm start`'s configuration
 * leaves it off), and no error message guesses at field names on either.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- GraphQL results are untyped JSON read by path. */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../functions/config';
import { startPlatform } from '../../../functions/local/main';
import { collect, startHarness, type Harness } from './harness';

type Errors = { message: string; extensions?: { code?: string } }[];

/** Sends one document over graphql-ws and returns its errors (from an error message or a result). */
async function overWebSocket(h: Harness, query: string): Promise<{ errors?: Errors; data?: any }> {
  const stream = collect(h.wsClient({ apiKey: h.aliceKey }), query);
  const outcome = await Promise.race([stream.done, stream.waitFor(1).then(() => ({ error: undefined }))]);
  stream.unsubscribe();
  if (outcome.error !== undefined) return { errors: outcome.error as Errors };
  return stream.results[0] ?? {};
}

describe('with introspection off (the default)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  test('the WebSocket refuses a query, as the AWS WebSocket does', async () => {
    const { errors, data } = await overWebSocket(h, '{ models { id } }');
    expect(data).toBeUndefined();
    expect(errors?.[0]).toMatchObject({
      message: 'Only subscriptions are served over the WebSocket; send queries and mutations over HTTP.',
      extensions: { code: 'BAD_REQUEST' },
    });
  });

  test('the WebSocket refuses a mutation and runs nothing', async () => {
    const { errors } = await overWebSocket(
      h,
      'mutation { registerStyle(name: "x", uploadKey: "uploads/alice/none") { id } }',
    );
    expect(errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    expect(errors?.[0]?.message).toMatch(/Only subscriptions/);
    const styles = await h.gql(h.aliceKey, '{ styles { items { id } } }');
    expect(styles.body.data?.styles.items).toEqual([]);
  });

  test('HTTP refuses a subscription', async () => {
    const { status, body } = await h.gql(h.aliceKey, 'subscription { myJobs { type } }');
    expect(status).toBe(400);
    expect(body.errors?.[0]).toMatchObject({
      message:
        'Subscriptions are served over the WebSocket (graphql-ws on the same path); send queries and mutations over HTTP.',
      extensions: { code: 'BAD_REQUEST' },
    });
  });

  test('introspection is refused over HTTP and WebSocket alike', async () => {
    const http = await h.gql(h.aliceKey, '{ __schema { queryType { name } } }');
    expect(http.body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    expect(http.body.data ?? null).toBeNull();
    const ws = await overWebSocket(h, '{ __schema { types { name } } }');
    expect(ws.data).toBeUndefined();
    expect(ws.errors?.map((e) => e.message).join(' ')).toMatch(/introspection has been disabled/);
  });

  test('no message suggests a field name, over HTTP or WebSocket', async () => {
    const http = await h.gql(h.aliceKey, '{ models { nam } }');
    expect(http.body.errors?.[0]?.message).toBe('Cannot query field "nam" on type "Model".');
    const ws = await overWebSocket(h, 'subscription { myJobs { typ } }');
    expect(ws.errors?.[0]).toMatchObject({
      message: 'Cannot query field "typ" on type "JobEvent".',
      extensions: { code: 'BAD_REQUEST' },
    });
    const argument = await overWebSocket(h, 'subscription { jobProgress(idd: "x") { type } }');
    expect(JSON.stringify(argument.errors)).not.toMatch(/Did you mean/);
  });

  test('the query limits hold on the WebSocket as over HTTP', async () => {
    const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: type`).join(' ');
    const ws = await overWebSocket(h, `subscription { myJobs { ${aliases} } }`);
    expect(ws.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    expect(ws.errors?.[0]?.message).toMatch(/aliases/i);
  });
});

describe('with --introspection', () => {
  test('HTTP answers introspection; the WebSocket still serves subscriptions only', async () => {
    const h = await startHarness({ introspection: true });
    try {
      const http = await h.gql(h.aliceKey, '{ __schema { queryType { name } } }');
      expect(http.body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
      const ws = await overWebSocket(h, '{ __schema { queryType { name } } }');
      expect(ws.errors?.[0]?.message).toMatch(/Only subscriptions/);
    } finally {
      await h.close();
    }
  });
});

test("npm start's configuration leaves introspection off unless --introspection is given", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'peerstyle-introspection-'));
  const quiet = { info: () => undefined, error: () => undefined };
  try {
    for (const [flags, allowed] of [
      [[], false],
      [['--introspection'], true],
    ] as const) {
      const config = loadConfig(
        ['--port', '0', '--data-dir', path.join(dir, String(allowed)), '--drop-dir=off', '--workers=0', ...flags],
        { NODE_ENV: 'development' },
        dir,
      );
      const platform = await startPlatform({ config, modelDir: null, log: quiet });
      try {
        const response = await fetch(platform.graphqlUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${platform.createdApiKey}` },
          body: JSON.stringify({ query: '{ __schema { queryType { name } } }' }),
        });
        const body = (await response.json()) as { data?: unknown; errors?: Errors };
        expect({ flags, answered: body.data !== undefined && body.data !== null }).toEqual({
          flags,
          answered: allowed,
        });
      } finally {
        await platform.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
