/**
 * `GET /downloads/<key>?expires=…&signature=…`: serves a blob to whoever holds a valid signed URL,
 * as a presigned S3 GET would. The signature names the exact key, so no other path is reachable.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalBlobStore } from './local-blob-store';

/** Streams the object the URL grants; throws DomainErrors (FORBIDDEN, EXPIRED, NOT_FOUND). */
export async function handleDownload(
  request: IncomingMessage,
  response: ServerResponse,
  blobs: LocalBlobStore,
): Promise<void> {
  const key = blobs.verifyDownloadUrl(request.url ?? '');
  const info = await blobs.head(key);
  const stream = await blobs.getStream(key);
  response.writeHead(200, {
    'content-type': info?.contentType ?? 'application/octet-stream',
    ...(info !== null ? { 'content-length': info.size } : {}),
    'cache-control': 'private, no-store',
  });
  for await (const chunk of stream) response.write(chunk);
  response.end();
}
