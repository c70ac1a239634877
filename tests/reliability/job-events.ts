/**
 * `JobEventFeed`: one owner's `myJobs` subscription over the graphql-ws WebSocket, kept open across
 * server restarts (the client reconnects and subscribes again on its own). A client at its job cap
 * waits on it for one of its jobs to finish instead of polling; since events sent while the socket was
 * down are not replayed, every wait also has a time limit, after which the caller simply tries again.
 */

import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

const MY_JOBS = 'subscription { myJobs { type job { id status } } }';
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/** The owner's job events, with counts for the report. */
export class JobEventFeed {
  private readonly client: Client;
  private readonly stopSubscription: () => void;
  private waiters: (() => void)[] = [];
  /** Events received. */
  events = 0;
  /** Connections opened (1 + reconnects after restarts). */
  connections = 0;

  constructor(origin: string, apiKey: string) {
    this.client = createClient({
      url: `${origin.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${apiKey}` },
      // The server goes away on purpose during the run: keep reconnecting, quickly.
      retryAttempts: Number.MAX_SAFE_INTEGER,
      shouldRetry: () => true,
      retryWait: () => new Promise((resolve) => setTimeout(resolve, 250)),
      on: { connected: () => (this.connections += 1) },
    });
    this.stopSubscription = this.client.subscribe<{ myJobs: { type: string; job: { id: string; status: string } } }>(
      { query: MY_JOBS },
      {
        next: (event) => {
          this.events += 1;
          const status = event.data?.myJobs.job.status;
          if (status !== undefined && TERMINAL.has(status)) this.wake();
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
  }

  /** Resolves at the owner's next terminal job event, or after `timeoutMs`, whichever comes first. */
  nextFinish(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.push(done);
    });
  }

  /** Closes the subscription and the socket; safe to call twice. */
  async close(): Promise<void> {
    this.stopSubscription();
    // Disposing while a reconnect is under way settles that attempt with its close event; nothing to report.
    await Promise.resolve(this.client.dispose()).catch(() => undefined);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}
