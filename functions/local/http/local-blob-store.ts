/**
 * What the local server needs from its blob store beyond the port: checking the signed upload policies
 * and download URLs it hands out. `FsBlobStore` provides both; the paths below are where the server
 * serves them, so the composition root builds the store's URLs with `localBlobUrls`.
 */

import type { BlobStore } from '../../core';

/** A blob store whose signed URLs this server verifies. */
export interface LocalBlobStore extends BlobStore {
  verifyUploadPolicy(
    fields: Record<string, string | undefined>,
    contentType: string,
    byteLength: number,
  ): { key: string };
  verifyDownloadUrl(url: string): string;
}

/** Route of presigned-POST uploads. */
export const UPLOADS_PATH = '/uploads';
/** Route prefix of signed downloads. */
export const DOWNLOADS_PATH = '/downloads';

/** The `uploadUrl` and `downloadBaseUrl` to give `FsBlobStore` for a server at `origin`. */
export function localBlobUrls(origin: string): { uploadUrl: string; downloadBaseUrl: string } {
  const base = origin.replace(/\/+$/, '');
  return { uploadUrl: `${base}${UPLOADS_PATH}`, downloadBaseUrl: `${base}${DOWNLOADS_PATH}` };
}
