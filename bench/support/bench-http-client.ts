/**
 * `BenchHttpClient`: one simulated API client with its own keep-alive connection.
 *
 * It uses node:http rather than `fetch` because `fetch` shares one global connection pool across the
 * process, so a hundred "clients" would really be one pool. Here each client owns an agent limited to
 * one socket, as a separate program would, and every request carries a timeout so a stuck server ends
 * the run instead of hanging it.
 */

import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';

/** Longest a single request may take before the run treats it as failed. */
const REQUEST_TIMEOUT_MS = 30_000;

/** A GraphQL response over HTTP; the data is untyped JSON read by path. */
export interface GraphQLHttpResult {
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };
}

/** A presigned-POST target as `createUpload` returns it. */
export interface UploadTarget {
  url: string;
  key: string;
  fields: { name: string; value: string }[];
}

/** One API client: an API key and one keep-alive HTTP connection. */
export class BenchHttpClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(
    private readonly origin: string,
    private readonly apiKey: string,
  ) {}

  /** Runs a GraphQL operation; throws on a non-200 status or GraphQL errors, which end a benchmark. */
  async graphql(query: string, variables: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const body = Buffer.from(JSON.stringify({ query, variables }));
    const response = await this.send(`${this.origin}/graphql`, body, {
      'content-type': 'application/json',
      authorization: `Bearer ${this.apiKey}`,
    });
    const parsed = JSON.parse(response.body.toString('utf8')) as GraphQLHttpResult['body'];
    if (response.status !== 200 || parsed.errors !== undefined || parsed.data == null)
      throw new Error(`GraphQL request failed (${response.status}): ${response.body.toString('utf8').slice(0, 500)}`);
    return parsed.data;
  }

  /** Asks for an upload target, then posts `bytes` to it as a browser form would; returns the upload key. */
  async upload(bytes: Buffer, contentType: string): Promise<string> {
    const data = await this.graphql(
      `mutation($t: String!, $n: Int!) { createUpload(contentType: $t, byteSize: $n) { url key fields { name value } } }`,
      { t: contentType, n: bytes.length },
    );
    const target = data.createUpload as UploadTarget;
    const boundary = `peerstyle-bench-${randomBytes(12).toString('hex')}`;
    // S3's presigned POST rules, which the local server follows: text fields first, the file last.
    const parts: Buffer[] = [];
    const field = (name: string, value: string) =>
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
    for (const { name, value } of target.fields) field(name, value);
    field('Content-Type', contentType);
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="image"\r\nContent-Type: ${contentType}\r\n\r\n`,
      ),
      bytes,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    );
    const response = await this.send(target.url, Buffer.concat(parts), {
      'content-type': `multipart/form-data; boundary=${boundary}`,
    });
    if (response.status !== 204)
      throw new Error(`Upload failed (${response.status}): ${response.body.toString('utf8').slice(0, 500)}`);
    return target.key;
  }

  /** Closes the client's keep-alive connection. */
  close(): void {
    this.agent.destroy();
  }

  private send(url: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        { method: 'POST', agent: this.agent, headers: { ...headers, 'content-length': String(body.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`Request to ${url} timed out.`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}
