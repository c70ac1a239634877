/**
 * Local-only behaviour of `FsBlobStore`: verifying signed upload policies and download URLs (which the
 * local HTTP server calls, and S3 does itself on AWS), and what lands on disk.
 */

import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '../../../../functions/core';
import { FsBlobStore, verifyUploadPolicy } from '../../../../functions/adapters/local';
import { expectDomainError } from '../../../support/expect-domain-error';
import { defined } from '../../../support/checked';

const NOW = Date.parse('2030-01-01T00:00:00Z');
let root: string;
let store: FsBlobStore;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'peerstyle-fs-'));
  store = new FsBlobStore({
    root,
    signingSecret: 'unit-secret',
    uploadUrl: 'http://127.0.0.1:4000/uploads',
    downloadBaseUrl: 'http://127.0.0.1:4000/blobs',
    clock: () => NOW,
  });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const target = () =>
  store.createUploadTarget({ key: 'drop/u1/a.jpg', contentTypePrefix: 'image/', maxBytes: 1000, expiresInSeconds: 60 });

describe('upload policies', () => {
  test('a matching upload is accepted and names its key', async () => {
    const { fields, url, expiresAt } = await target();
    expect(url).toBe('http://127.0.0.1:4000/uploads');
    expect(expiresAt).toBe('2030-01-01T00:01:00.000Z');
    expect(store.verifyUploadPolicy(fields, 'image/jpeg', 1000, NOW + 59_000).key).toBe('drop/u1/a.jpg');
  });

  test('expired, oversize, empty and non-image uploads are refused with their own codes', async () => {
    const { fields } = await target();
    await expectDomainError(() => store.verifyUploadPolicy(fields, 'image/jpeg', 10, NOW + 60_000), ErrorCode.EXPIRED);
    const big = await expectDomainError(
      () => store.verifyUploadPolicy(fields, 'image/png', 1001, NOW),
      ErrorCode.TOO_LARGE,
    );
    expect(big.message).toBe('Upload is 1001 bytes; the limit is 1000.');
    // An empty file has the image code the engine and the drop folder give it.
    await expectDomainError(() => store.verifyUploadPolicy(fields, 'image/png', 0, NOW), ErrorCode.EMPTY);
    const type = await expectDomainError(
      () => store.verifyUploadPolicy(fields, 'text/html', 10, NOW),
      ErrorCode.UNSUPPORTED_FORMAT,
    );
    expect(type.message).toContain('expected image/*');
  });

  test('tampering with the policy, the key or the signature is FORBIDDEN', async () => {
    const { fields } = await target();
    const policy = JSON.parse(Buffer.from(defined(fields.policy, 'the policy field'), 'base64').toString('utf8')) as {
      maxBytes: number;
    };
    const widened = Buffer.from(JSON.stringify({ ...policy, maxBytes: 10 ** 9 })).toString('base64');
    await expectDomainError(
      () => store.verifyUploadPolicy({ ...fields, policy: widened }, 'image/png', 5000, NOW),
      ErrorCode.FORBIDDEN,
    );
    await expectDomainError(
      () => store.verifyUploadPolicy({ ...fields, key: 'drop/u2/a.jpg' }, 'image/png', 5, NOW),
      ErrorCode.FORBIDDEN,
    );
    await expectDomainError(
      () => store.verifyUploadPolicy({ ...fields, signature: 'AAAA' }, 'image/png', 5, NOW),
      ErrorCode.FORBIDDEN,
    );
    await expectDomainError(
      () => store.verifyUploadPolicy({ key: fields.key }, 'image/png', 5, NOW),
      ErrorCode.FORBIDDEN,
    );
    await expectDomainError(
      () => verifyUploadPolicy(fields, 'image/png', 5, NOW, 'another-secret'),
      ErrorCode.FORBIDDEN,
    );
  });
});

describe('download URLs', () => {
  test('a fresh URL grants its key until it expires', async () => {
    const url = await store.createDownloadUrl('out/u1/result image.png', 30);
    expect(url.startsWith('http://127.0.0.1:4000/blobs/out/u1/result%20image.png?')).toBe(true);
    expect(store.verifyDownloadUrl(url, NOW + 29_000)).toBe('out/u1/result image.png');
    await expectDomainError(() => store.verifyDownloadUrl(url, NOW + 30_000), ErrorCode.EXPIRED);
  });

  test('changing the key or the expiry breaks the signature', async () => {
    const url = new URL(await store.createDownloadUrl('out/u1/a.png', 30));
    const otherKey = url.toString().replace('/out/u1/a.png', '/out/u2/a.png');
    await expectDomainError(() => store.verifyDownloadUrl(otherKey, NOW), ErrorCode.FORBIDDEN);
    url.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600));
    await expectDomainError(() => store.verifyDownloadUrl(url.toString(), NOW), ErrorCode.FORBIDDEN);
    await expectDomainError(
      () => store.verifyDownloadUrl('http://127.0.0.1:4000/elsewhere/x', NOW),
      ErrorCode.FORBIDDEN,
    );
  });
});

describe('on disk', () => {
  test('objects live under objects/, and failed writes leave no temporary files', async () => {
    await store.put('a/b.png', new Uint8Array([1, 2, 3]), { contentType: 'image/png' });
    expect(existsSync(join(root, 'objects', 'a', 'b.png'))).toBe(true);
    async function* failing(): AsyncIterable<Uint8Array> {
      yield new Uint8Array([1]);
      throw new Error('broken pipe');
    }
    await expect(store.put('a/c.png', failing())).rejects.toThrow('broken pipe');
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    expect(readdirSync(root).sort()).toEqual(['meta', 'objects', 'tmp']);
  });

  test('a key cannot be both an object and a prefix on disk: CONFLICT, not a crash', async () => {
    await store.put('x', new Uint8Array([1]));
    await expectDomainError(store.put('x/y', new Uint8Array([2])), ErrorCode.CONFLICT);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  });
});
