/**
 * `POST /uploads`: the local stand-in for S3's presigned-POST endpoint.
 *
 * The form's signed policy decides everything: the key (chosen by the server when the target was
 * made), the content-type prefix, the size range and the expiry, all checked by the blob store's
 * `verifyUploadPolicy`. The body is buffered only up to the server-wide upload limit plus room for the
 * form fields, and the bytes must start like an image, so nothing else is ever stored.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { DomainError, ErrorCode } from '../../core';
import { detectImageType } from '../../core/use-cases';
import type { LocalBlobStore } from './local-blob-store';
import { multipartBoundary, parseMultipart } from './multipart';
import { readBody } from './http-io';

/** Room for the policy and other form fields on top of the file itself. */
const FORM_OVERHEAD_BYTES = 64 * 1024;

/** Handles one upload; throws DomainErrors for the caller to send. */
export async function handleUpload(
  request: IncomingMessage,
  response: ServerResponse,
  blobs: LocalBlobStore,
  maxUploadBytes: number,
): Promise<void> {
  const boundary = multipartBoundary(request.headers['content-type']);
  const body = await readBody(request, maxUploadBytes + FORM_OVERHEAD_BYTES);
  const form = parseMultipart(body, boundary);
  if (form.file === null)
    throw new DomainError(ErrorCode.BAD_REQUEST, 'The upload form has no file part; send the file last.');
  // S3 takes the type from the Content-Type form field; fall back to the file part's own header.
  const contentType = form.fields['Content-Type'] ?? form.file.contentType ?? '';
  const policy = blobs.verifyUploadPolicy(form.fields, contentType, form.file.data.length);
  const detected = detectImageType(form.file.data);
  if (detected === null) {
    throw new DomainError(ErrorCode.INVALID_IMAGE, 'The file is not a JPEG, PNG, WebP or GIF image.');
  }
  await blobs.put(policy.key, form.file.data, { contentType: detected });
  // S3's default success_action_status.
  response.writeHead(204, { location: policy.key });
  response.end();
}
