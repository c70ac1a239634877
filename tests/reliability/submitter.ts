/**
 * `Submitter`: one owner's client submitting stylize jobs one after another, each under its own
 * idempotency key, the way a well-behaved program uses the API while the server is restarted under it.
 *
 * Every refusal it can expect is answered by sending the same request again with the same key, so no
 * retry can make a second job: QUOTA_EXCEEDED (the owner is at its cap of queued and running jobs) waits
 * for one of its jobs to finish, RATE_LIMITED waits `retry-after`, and a server that cannot be reached
 * (killed, stopping, starting) or answers UNAVAILABLE is tried again shortly. Any other error is a
 * failure of the run.
 */

import { type ApiClient, errorCode, ServerUnreachable, sleep } from './api-client';
import type { JobEventFeed } from './job-events';
import type { KeyRecord } from './verdict';

const STYLIZE = 'mutation($input: StylizeInput!) { stylize(input: $input) { id status } }';

/** Longest a client at its cap waits for a finish event before asking again (events sent while the socket was down are lost). */
const QUOTA_WAIT_MS = 2_000;
/** Wait before trying an unreachable server again. */
const UNREACHABLE_WAIT_MS = 250;

/** What the submitter sends for job `i`. */
export interface JobRequest {
  content: string;
  styles: { styleId: string }[];
}

/** How often each kind of retry happened, for the report. */
export interface RetryCounts {
  quotaExceeded: number;
  rateLimited: number;
  unreachable: number;
}

/** Submits `count` jobs for one owner. */
export class Submitter {
  /** One record per key, in submission order; `answeredIds` grows as the API answers. */
  readonly records: KeyRecord[] = [];
  readonly retries: RetryCounts = { quotaExceeded: 0, rateLimited: 0, unreachable: 0 };

  constructor(
    private readonly owner: string,
    private readonly client: ApiClient,
    private readonly feed: JobEventFeed,
    private readonly keyPrefix: string,
  ) {}

  /** Keys the API has answered so far. */
  get accepted(): number {
    return this.records.filter((record) => record.answeredIds.length > 0).length;
  }

  /** Submits jobs 0 … count-1 in order, each until the API accepts it. */
  async submitAll(count: number, request: (i: number) => JobRequest): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      const record: KeyRecord = { owner: this.owner, key: `${this.keyPrefix}-${i}`, answeredIds: [] };
      this.records.push(record);
      await this.submit(record, request(i));
    }
  }

  /** Sends every key's request once more (same key, same request) and records the job id answered. */
  async resubmitAll(request: (i: number) => JobRequest): Promise<void> {
    for (const [i, record] of this.records.entries()) await this.submit(record, request(i));
  }

  private async submit(record: KeyRecord, request: JobRequest): Promise<void> {
    const input = { ...request, idempotencyKey: record.key };
    for (;;) {
      let answer;
      try {
        answer = await this.client.request(STYLIZE, { input });
      } catch (error) {
        if (!(error instanceof ServerUnreachable)) throw error;
        this.retries.unreachable += 1;
        await sleep(UNREACHABLE_WAIT_MS);
        continue;
      }
      const code = errorCode(answer);
      if (code === undefined) {
        record.answeredIds.push(answer.data.stylize.id as string);
        return;
      }
      if (code === 'QUOTA_EXCEEDED') {
        this.retries.quotaExceeded += 1;
        await this.feed.nextFinish(QUOTA_WAIT_MS);
      } else if (code === 'RATE_LIMITED') {
        this.retries.rateLimited += 1;
        await sleep((answer.retryAfterSeconds ?? 1) * 1000);
      } else if (code === 'UNAVAILABLE') {
        this.retries.unreachable += 1;
        await sleep(UNREACHABLE_WAIT_MS);
      } else {
        throw new Error(`stylize ${record.key} for ${this.owner} failed: ${JSON.stringify(answer.errors)}`);
      }
    }
  }
}
