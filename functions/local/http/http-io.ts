/**
 * Small helpers shared by the local server's routes: reading a bounded request body and answering
 * with a DomainError as JSON with the matching HTTP status.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { DomainError, ErrorCode, isDomainError } from '../../core';

/** The HTTP status that goes with each error code. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  [ErrorCode.BAD_REQUEST]: 400,
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  // S3 answers an expired presigned request with 403 too; clients treat both as "ask for a new one".
  [ErrorCode.EXPIRED]: 403,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.CONFLICT]: 409,
  [ErrorCode.ILLEGAL_TRANSITION]: 409,
  [ErrorCode.CANCELLED]: 409,
  [ErrorCode.TOO_LARGE]: 413,
  [ErrorCode.UNSUPPORTED_FORMAT]: 415,
  [ErrorCode.INVALID_IMAGE]: 422,
  [ErrorCode.TRUNCATED]: 422,
  [ErrorCode.EMPTY]: 422,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.QUOTA_EXCEEDED]: 429,
  [ErrorCode.BUDGET_EXCEEDED]: 429,
  [ErrorCode.IDEMPOTENCY_CONFLICT]: 409,
  [ErrorCode.RETRIES_EXHAUSTED]: 500,
  [ErrorCode.INTERNAL]: 500,
  [ErrorCode.UNAVAILABLE]: 503,
};

/**
 * Reads the whole body, refusing (TOO_LARGE) as soon as it passes `maxBytes`, so a client cannot make
 * the server buffer more than the limit however it frames the request.
 */
export async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new DomainError(ErrorCode.TOO_LARGE, `Request body is ${declared} bytes; the limit is ${maxBytes}.`, {
      maxBytes,
    });
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > maxBytes) {
      throw new DomainError(ErrorCode.TOO_LARGE, `Request body exceeds the limit of ${maxBytes} bytes.`, { maxBytes });
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Sends `body` as JSON. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

/**
 * Answers with `{ error: { code, message } }`. Unexpected errors are logged and masked; the connection
 * is closed after a refused body so the client stops sending bytes nobody will read.
 */
export function sendError(
  response: ServerResponse,
  error: unknown,
  log: (message: string, error: unknown) => void,
): void {
  const domain = isDomainError(error) ? error : undefined;
  if (domain === undefined) log('Unexpected error in HTTP route', error);
  const code = domain?.code ?? ErrorCode.INTERNAL;
  const message = domain?.message ?? 'Internal error.';
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.setHeader('connection', 'close');
  sendJson(response, HTTP_STATUS[code], { error: { code, message } });
}
