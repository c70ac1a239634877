/**
 * Revoking an API key while WebSocket connections made with it are open, over real sockets on
 * loopback and the real SQLite key store: the next subscribe on such a socket is refused and the
 * socket closed with 4403, the periodic re-check closes idle ones, and connections made with another
 * key of the same owner carry on.
 */

import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { collect, startHarness, type Harness } from '../../graphql/harness';

const MY_JOBS = `subscription { myJobs { type job { id } } }`;
const REVOKED_CLOSE = { code: 4403, reason: 'API key revoked' };

interface Closed {
  code: number;
  reason: string;
}

/** Resolves with the first close of `client`'s socket. */
function firstClose(client: Client): Promise<Closed> {
  return new Promise((resolve) => {
    client.on('closed', (event) => {
      const { code, reason } = event as Closed;
      resolve({ code, reason });
    });
  });
}

/** Rejects when `promise` has not settled within `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 10 ms for up to two seconds. */
async function eventually(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i += 1) await sleep(10);
  if (!condition()) throw new Error(`${what} did not happen`);
}

/** Creates a job for alice and announces it, as the API does. */
async function newAliceJob(h: Harness): Promise<string> {
  const { job } = await h.deps.jobs.create({ owner: 'alice', kind: 'STYLIZE', input: {} });
  await h.events.publish({ type: 'CREATED', job });
  return job.id;
}

/**
 * Waits until the server holds `remaining` event subscriptions. A subscription waiting for events
 * notices that its socket closed at its next event, so events are announced until it lets go.
 */
async function expectReleased(h: Harness, remaining: number): Promise<void> {
  for (let i = 0; i < 50 && h.events.subscriberCount() > remaining; i += 1) {
    await newAliceJob(h);
    await sleep(20);
  }
  expect(h.events.subscriberCount()).toBe(remaining);
}

describe('on the next subscribe', () => {
  let h: Harness;
  beforeAll(async () => {
    // The default re-check interval (30 s) is far beyond this test, so only the subscribe check acts.
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  test('a socket whose key was revoked is refused with UNAUTHENTICATED and closed with 4403; another key of the owner carries on', async () => {
    const leaked = await h.apiKeys.create('alice', 'leaked');
    const kept = await h.apiKeys.create('alice', 'kept');
    const leakedClient = h.wsClient({ apiKey: leaked.key });
    const keptClient = h.wsClient({ apiKey: kept.key });
    const leakedClosed = firstClose(leakedClient);
    let leakedSockets = 0;
    leakedClient.on('connected', () => {
      leakedSockets += 1;
    });
    let keptClosed = false;
    keptClient.on('closed', () => {
      keptClosed = true;
    });

    const leakedFeed = collect(leakedClient, MY_JOBS);
    const keptFeed = collect(keptClient, MY_JOBS);
    await eventually(() => h.events.subscriberCount() === 2, 'both subscriptions');
    const first = await newAliceJob(h);
    await leakedFeed.waitFor(1);
    await keptFeed.waitFor(1);
    expect(leakedFeed.results[0]?.data.myJobs.job.id).toBe(first);

    await h.apiKeys.revoke(leaked.id, 'alice');
    const refused = collect(leakedClient, MY_JOBS);
    const { error } = await within(refused.done, 2000, 'the refusal');
    expect(error).toEqual([{ message: 'The API key is unknown or revoked.', extensions: { code: 'UNAUTHENTICATED' } }]);
    expect(await within(leakedClosed, 2000, 'the close')).toEqual(REVOKED_CLOSE);
    // The refusal came on the socket the first subscription opened, not on a new one.
    expect(leakedSockets).toBe(1);
    // The subscription made before the revocation ended with the socket.
    expect(((await within(leakedFeed.done, 2000, 'the end of the feed')).error as { code?: number }).code).toBe(4403);

    const second = await newAliceJob(h);
    await keptFeed.waitFor(2);
    expect(keptFeed.results.map((result) => result.data.myJobs.job.id)).toEqual([first, second]);
    expect(leakedFeed.results).toHaveLength(1);
    expect(keptClosed).toBe(false);
    // Server side, the revoked socket's subscription ended too: only the kept one is left.
    await expectReleased(h, 1);
    keptFeed.unsubscribe();
  });
});

describe('the periodic re-check', () => {
  let h: Harness;
  const ownClients: Client[] = [];
  beforeAll(async () => {
    h = await startHarness({ keyRecheckMs: 100 });
  });
  afterAll(async () => {
    await Promise.all(ownClients.map((client) => client.dispose()));
    await h.close();
  });

  /** A client that connects at once and stays connected with no subscription: an idle socket. */
  function idleClient(key: string): Client {
    const client = createClient({
      url: `${h.origin.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { apiKey: key },
      retryAttempts: 0,
      lazy: false,
      // The close is asserted through the `closed` event; the default handler would log it.
      onNonLazyError: () => undefined,
    });
    ownClients.push(client);
    return client;
  }

  test('closes idle and subscribed sockets of a revoked key with 4403, and leaves another key of the owner open', async () => {
    const leaked = await h.apiKeys.create('alice', 'leaked');
    const kept = await h.apiKeys.create('alice', 'kept');
    const idle = idleClient(leaked.key);
    const idleClosed = firstClose(idle);
    let idleOpen = true;
    idle.on('closed', () => {
      idleOpen = false;
    });
    await within(new Promise((resolve) => idle.on('connected', resolve)), 2000, 'the idle connection');
    const subscribedClient = h.wsClient({ apiKey: leaked.key });
    const subscribedClosed = firstClose(subscribedClient);
    const leakedFeed = collect(subscribedClient, MY_JOBS);
    const keptClient = h.wsClient({ apiKey: kept.key });
    let keptClosed = false;
    keptClient.on('closed', () => {
      keptClosed = true;
    });
    const keptFeed = collect(keptClient, MY_JOBS);
    await eventually(() => h.events.subscriberCount() === 2, 'both subscriptions');

    // Several sweeps pass over working keys without closing anything.
    await sleep(350);
    expect(idleOpen).toBe(true);

    await h.apiKeys.revoke(leaked.id, 'alice');
    const revokedAt = Date.now();
    expect(await within(idleClosed, 1500, 'closing the idle socket')).toEqual(REVOKED_CLOSE);
    expect(await within(subscribedClosed, 1500, 'closing the subscribed socket')).toEqual(REVOKED_CLOSE);
    expect(Date.now() - revokedAt).toBeLessThan(1500);
    expect(((await leakedFeed.done).error as { code?: number }).code).toBe(4403);

    // More sweeps pass; the kept key's socket stays open and still receives events.
    await sleep(250);
    const jobId = await newAliceJob(h);
    await within(keptFeed.waitFor(1), 2000, 'the event on the kept key');
    expect(keptFeed.results[0]?.data.myJobs.job.id).toBe(jobId);
    expect(leakedFeed.results).toEqual([]);
    expect(keptClosed).toBe(false);
    await expectReleased(h, 1);
    keptFeed.unsubscribe();
  });
});
