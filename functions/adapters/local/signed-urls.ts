/**
 * HMAC-signed upload policies and download URLs for the filesystem blob store.
 *
 * They play the part of S3's presigned POST and presigned GET on one machine: the store signs, the
 * local HTTP server verifies, and the secret never leaves the process. The upload policy is base64 JSON
 * naming the key, content-type prefix, size range and expiry, as S3's is, so browser code that posts to
 * S3 posts here unchanged. Signatures are compared in constant time so a forger learns nothing from
 * response timing.
 */

import { createHmac, timingSafeEqual } from 'node:crypto';
import { assertBlobKey, DomainError, ErrorCode } from '../../core';

/** What an upload policy allows. */
export interface UploadPolicy {
  key: string;
  contentTypePrefix: string;
  /** The content-length-range condition, inclusive. */
  minBytes: number;
  maxBytes: number;
  /** ISO-8601. */
  expiresAt: string;
}

/** Form field names of a local upload target. */
export const UPLOAD_FIELDS = { key: 'key', policy: 'policy', signature: 'signature' } as const;

const sign = (secret: string | Uint8Array, payload: string): string =>
  createHmac('sha256', secret).update(payload, 'utf8').digest('base64url');

function sameSignature(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Encodes and signs `policy` into the form fields a client posts with its file. */
export function signUploadPolicy(policy: UploadPolicy, secret: string | Uint8Array): Record<string, string> {
  const encoded = Buffer.from(JSON.stringify(policy), 'utf8').toString('base64');
  return {
    [UPLOAD_FIELDS.key]: policy.key,
    [UPLOAD_FIELDS.policy]: encoded,
    [UPLOAD_FIELDS.signature]: sign(secret, `upload\n${encoded}`),
  };
}

function parsePolicy(encoded: string): UploadPolicy | null {
  try {
    const value = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as Partial<UploadPolicy>;
    const ok =
      typeof value.key === 'string' &&
      typeof value.contentTypePrefix === 'string' &&
      typeof value.minBytes === 'number' &&
      typeof value.maxBytes === 'number' &&
      typeof value.expiresAt === 'string';
    return ok ? (value as UploadPolicy) : null;
  } catch {
    return null;
  }
}

/**
 * Checks an upload against its signed policy and returns the key to store it under. Throws
 * FORBIDDEN for a missing, tampered or mismatched policy, EXPIRED after its expiry, UNSUPPORTED_FORMAT
 * for a content type outside the allowed prefix, TOO_LARGE above the size limit, EMPTY for a file of no
 * bytes and BAD_REQUEST below the policy's minimum. `now` is milliseconds since the epoch.
 */
export function verifyUploadPolicy(
  fields: Record<string, string | undefined>,
  contentType: string,
  byteLength: number,
  now: number,
  secret: string | Uint8Array,
): UploadPolicy {
  const encoded = fields[UPLOAD_FIELDS.policy];
  const signature = fields[UPLOAD_FIELDS.signature];
  const key = fields[UPLOAD_FIELDS.key];
  if (encoded === undefined || signature === undefined || key === undefined) {
    throw new DomainError(
      ErrorCode.FORBIDDEN,
      `Upload form is missing policy fields; expected: ${Object.values(UPLOAD_FIELDS).join(', ')}.`,
    );
  }
  if (!sameSignature(sign(secret, `upload\n${encoded}`), signature)) {
    throw new DomainError(ErrorCode.FORBIDDEN, 'Upload policy signature does not match; request a new upload target.');
  }
  const policy = parsePolicy(encoded);
  if (policy === null) throw new DomainError(ErrorCode.FORBIDDEN, 'Upload policy is not readable.');
  if (key !== policy.key) {
    throw new DomainError(
      ErrorCode.FORBIDDEN,
      `Upload key "${key}" is not the key the policy allows ("${policy.key}").`,
    );
  }
  assertBlobKey(policy.key);
  if (now >= Date.parse(policy.expiresAt)) {
    throw new DomainError(
      ErrorCode.EXPIRED,
      `Upload policy expired at ${policy.expiresAt}; request a new upload target.`,
    );
  }
  if (!contentType.toLowerCase().startsWith(policy.contentTypePrefix.toLowerCase())) {
    throw new DomainError(
      ErrorCode.UNSUPPORTED_FORMAT,
      `Content type "${contentType}" is not allowed; expected ${policy.contentTypePrefix}*.`,
      { contentType, allowed: `${policy.contentTypePrefix}*` },
    );
  }
  if (byteLength > policy.maxBytes) {
    throw new DomainError(ErrorCode.TOO_LARGE, `Upload is ${byteLength} bytes; the limit is ${policy.maxBytes}.`, {
      byteLength,
      maxBytes: policy.maxBytes,
    });
  }
  if (byteLength === 0) throw new DomainError(ErrorCode.EMPTY, 'The uploaded file is empty (0 bytes).');
  if (byteLength < policy.minBytes) {
    throw new DomainError(
      ErrorCode.BAD_REQUEST,
      `Upload is ${byteLength} bytes; at least ${policy.minBytes} are needed.`,
    );
  }
  return policy;
}

/** Encodes a key for a URL path, keeping "/" between segments readable. */
const encodeKeyPath = (key: string): string => key.split('/').map(encodeURIComponent).join('/');

/** Builds a download URL for `key` under `baseUrl`, valid until `expiresAt` (ms since the epoch). */
export function signDownloadUrl(baseUrl: string, key: string, expiresAt: number, secret: string | Uint8Array): string {
  const expires = Math.floor(expiresAt / 1000);
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}/${encodeKeyPath(key)}`);
  url.searchParams.set('expires', String(expires));
  url.searchParams.set('signature', sign(secret, `download\n${key}\n${expires}`));
  return url.toString();
}

/**
 * Checks a download URL made by `signDownloadUrl` and returns the key it grants. Throws FORBIDDEN for a
 * URL outside `baseUrl` or with a wrong signature, EXPIRED once its time has passed.
 */
export function verifyDownloadUrl(url: string, baseUrl: string, now: number, secret: string | Uint8Array): string {
  const parsed = new URL(url, baseUrl);
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '') + '/';
  if (!parsed.pathname.startsWith(basePath)) {
    throw new DomainError(ErrorCode.FORBIDDEN, `Download URL is not under ${basePath}.`);
  }
  let key: string;
  try {
    key = parsed.pathname.slice(basePath.length).split('/').map(decodeURIComponent).join('/');
  } catch {
    throw new DomainError(ErrorCode.FORBIDDEN, 'Download URL path is not valid percent-encoding.');
  }
  const expires = parsed.searchParams.get('expires') ?? '';
  const signature = parsed.searchParams.get('signature') ?? '';
  if (!/^\d+$/.test(expires) || !sameSignature(sign(secret, `download\n${key}\n${expires}`), signature)) {
    throw new DomainError(ErrorCode.FORBIDDEN, 'Download URL signature does not match; request a new URL.');
  }
  if (now >= Number(expires) * 1000) {
    throw new DomainError(
      ErrorCode.EXPIRED,
      `Download URL expired at ${new Date(Number(expires) * 1000).toISOString()}.`,
    );
  }
  assertBlobKey(key);
  return key;
}
