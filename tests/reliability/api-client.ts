/**
 * `ApiClient`: one owner's GraphQL client over plain HTTP, as a program using the API would write it.
 *
 * The reliability run restarts the server under it, so the client separates what it must survive from
 * what is a real failure: a refused or reset connection, a timeout, or a 5xx answer while the server
 * stops or starts is `ServerUnreachable` (the caller waits and sends the same request again); a GraphQL
 * error comes back as data with its `extensions.code`, for the caller to decide (QUOTA_EXCEEDED and
 * RATE_LIMITED are retried later, anything else ends the run).
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- GraphQL results are untyped JSON read by path. */

/** Longest one request may take; a server that hangs must not hang the run. */
const REQUEST_TIMEOUT_MS = 30_000;

/** The server could not be reached or did not answer; the request may or may not have been applied. */
export class ServerUnreachable extends Error {}

/** One GraphQL error as the API sends it. */
export interface ApiError {
  message: string;
  extensions?: { code?: string };
}

/** A GraphQL answer: data, or errors with codes, plus the `retry-after` header when there is one. */
export interface ApiAnswer {
  status: number;
  data: any;
  errors: ApiError[];
  retryAfterSeconds: number | undefined;
}

/** The first error code of an answer, or undefined when it has none. */
export const errorCode = (answer: ApiAnswer): string | undefined => answer.errors[0]?.extensions?.code;

/** A GraphQL client for one API key against one origin. */
export class ApiClient {
  constructor(
    readonly origin: string,
    private readonly apiKey: string,
  ) {}

  /** Sends one operation; throws `ServerUnreachable` when no GraphQL answer came back. */
  async request(query: string, variables: Record<string, unknown> = {}): Promise<ApiAnswer> {
    let response: Response;
    let body: { data?: any; errors?: ApiError[] };
    try {
      response = await fetch(`${this.origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.apiKey}` },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (response.status >= 500) throw new ServerUnreachable(`HTTP ${response.status}`);
      body = (await response.json()) as typeof body;
    } catch (error) {
      if (error instanceof ServerUnreachable) throw error;
      throw new ServerUnreachable(error instanceof Error ? error.message : String(error));
    }
    const retryAfter = response.headers.get('retry-after');
    return {
      status: response.status,
      data: body.data ?? null,
      errors: body.errors ?? [],
      retryAfterSeconds: retryAfter === null ? undefined : Number(retryAfter),
    };
  }

  /**
   * Sends one operation and returns its data, waiting out RATE_LIMITED as `retry-after` says; any other
   * GraphQL error throws. For setup and read-only queries.
   */
  async data(query: string, variables: Record<string, unknown> = {}): Promise<any> {
    for (;;) {
      const answer = await this.request(query, variables);
      if (errorCode(answer) === 'RATE_LIMITED') {
        await sleep((answer.retryAfterSeconds ?? 1) * 1000);
        continue;
      }
      if (answer.errors.length > 0) throw new Error(`GraphQL error: ${JSON.stringify(answer.errors)}`);
      return answer.data;
    }
  }

  /** createUpload, then the presigned POST a browser would send; returns the upload key. */
  async upload(bytes: Buffer, contentType: string): Promise<string> {
    const data = await this.data(
      'mutation($t: String!, $n: Int!) { createUpload(contentType: $t, byteSize: $n) { url key fields { name value } } }',
      { t: contentType, n: bytes.length },
    );
    const target = data.createUpload as { url: string; key: string; fields: { name: string; value: string }[] };
    const form = new FormData();
    for (const { name, value } of target.fields) form.append(name, value);
    form.append('Content-Type', contentType);
    form.append('file', new Blob([new Uint8Array(bytes)], { type: contentType }), 'image');
    const response = await fetch(target.url, {
      method: 'POST',
      body: form,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (response.status !== 204) throw new Error(`upload failed: ${response.status} ${await response.text()}`);
    return target.key;
  }
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `read` until it gets an answer, waiting out restarts (`ServerUnreachable`) for up to `withinMs`.
 * For the reads the run makes while the server may be down.
 */
export async function untilReachable<T>(read: () => Promise<T>, withinMs: number): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof ServerUnreachable) || Date.now() > deadline) throw error;
      await sleep(250);
    }
  }
}
