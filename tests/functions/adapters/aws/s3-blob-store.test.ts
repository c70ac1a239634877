/**
 * S3BlobStore behaviour beyond the shared contract, against s3rver on loopback: browser uploads through
 * the presigned POST, keys that need URL encoding, streamed multipart uploads, and presigned downloads.
 *
 * s3rver accepts POST uploads but does not evaluate the POST policy (its `policy` field is ignored), so
 * it cannot show S3 refusing an oversize file or a non-image type. Those refusals are S3's job; here
 * the signed policy document is decoded and its conditions checked, which is what S3 enforces.
 */

import { createS3Client, S3BlobStore } from '../../../../functions/adapters/aws';
import { ErrorCode } from '../../../../functions/core';
import { expectDomainError } from '../../../support/expect-domain-error';
import { LOCAL_CREDENTIALS, startS3, type S3Emulator } from '../../../support/emulators';
import { defined } from '../../../support/checked';

let s3: S3Emulator;
let store: S3BlobStore;
let bucket: string;

beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.stop();
});
beforeEach(async () => {
  bucket = await s3.newBucket();
  store = new S3BlobStore({ client: s3.client, bucket });
});

/** The 67-byte 1×1 transparent PNG, the smallest real image. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

async function postUpload(target: { url: string; fields: Record<string, string> }, type: string, body: Uint8Array) {
  const form = new FormData();
  for (const [name, value] of Object.entries(target.fields)) form.append(name, value);
  form.append('Content-Type', type);
  form.append('file', new Blob([Buffer.from(body)], { type }), 'upload');
  return fetch(target.url, { method: 'POST', body: form });
}

describe('presigned POST upload targets', () => {
  test('a browser-style form POST of an image within the limit is stored under the key', async () => {
    const target = await store.createUploadTarget({
      key: 'drop/u1/photo.png',
      contentTypePrefix: 'image/',
      maxBytes: 1024,
      expiresInSeconds: 300,
    });
    const response = await postUpload(target, 'image/png', PNG);
    expect(response.status).toBeLessThan(300);
    expect(Buffer.from(await store.get('drop/u1/photo.png')).equals(PNG)).toBe(true);
    expect((await store.head('drop/u1/photo.png'))?.size).toBe(PNG.length);
  });

  test('the signed policy pins the bucket and key and carries the size range, type prefix and expiry', async () => {
    const before = Date.now();
    const target = await store.createUploadTarget({
      key: 'drop/u1/big.jpg',
      contentTypePrefix: 'image/',
      maxBytes: 5_000_000,
      expiresInSeconds: 120,
    });
    expect(target.fields.key).toBe('drop/u1/big.jpg');
    expect(target.fields['X-Amz-Signature']).toMatch(/^[0-9a-f]{64}$/);
    const policy = JSON.parse(
      Buffer.from(defined(target.fields.Policy, 'the Policy field'), 'base64').toString('utf8'),
    ) as {
      expiration: string;
      conditions: unknown[];
    };
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        { bucket },
        { key: 'drop/u1/big.jpg' },
        ['content-length-range', 1, 5_000_000],
        ['starts-with', '$Content-Type', 'image/'],
      ]),
    );
    const expiration = Date.parse(policy.expiration);
    // The SDK writes the expiry in whole seconds, from its clock corrected by the server's Date header
    // (also whole seconds), so it may stand up to two seconds short of the test's own clock.
    expect(expiration).toBeGreaterThanOrEqual(before + 118_000);
    expect(expiration).toBeLessThanOrEqual(Date.now() + 121_000);
    expect(Math.abs(Date.parse(target.expiresAt) - expiration)).toBeLessThan(2_000);
  });
});

describe('keys that need URL encoding', () => {
  const keys = [
    'drop/u1/my photo (1).png',
    'drop/u1/ünïcødé-写真.png',
    'drop/u1/a+b&c=d?.png',
    'drop/u1/100%25 literal.png',
  ];

  test.each(keys)('%j round-trips through put, head, get, list and a presigned download', async (key) => {
    await store.put(key, PNG, { contentType: 'image/png' });
    expect(await store.head(key)).toMatchObject({ key, size: PNG.length, contentType: 'image/png' });
    expect(Buffer.from(await store.get(key)).equals(PNG)).toBe(true);
    expect((await store.list({ prefix: 'drop/u1/' })).items.map((item) => item.key)).toEqual([key]);
    const response = await fetch(await store.createDownloadUrl(key, 60));
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(PNG)).toBe(true);
  });
});

describe('large and streamed objects', () => {
  test('a 12 MiB stream is uploaded in parts and reads back byte for byte', async () => {
    const size = 12 * 1024 * 1024;
    const source = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4) source.writeUInt32LE(i, i);
    async function* chunks(): AsyncIterable<Uint8Array> {
      for (let offset = 0; offset < size; offset += 1024 * 1024) yield source.subarray(offset, offset + 1024 * 1024);
    }
    // A client of its own, so that recording the commands it sends sees only this upload.
    const client = createS3Client({ region: 'us-east-1', endpoint: s3.endpoint, credentials: LOCAL_CREDENTIALS });
    const commands: string[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        commands.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
    const info = await new S3BlobStore({ client, bucket }).put('out/large.bin', chunks(), {
      contentType: 'application/octet-stream',
    });
    client.destroy();
    expect(info.size).toBe(size);
    // 12 MiB in 5 MiB parts is three parts: 5 + 5 + 2.
    expect(commands.filter((name) => name === 'UploadPartCommand')).toHaveLength(3);
    expect(commands).toContain('CompleteMultipartUploadCommand');
    expect(commands).not.toContain('PutObjectCommand');
    expect(Buffer.from(await store.get('out/large.bin')).equals(source)).toBe(true);
  });

  test('a presigned download URL stops working once it expires', async () => {
    await store.put('out/short.png', PNG);
    const url = await store.createDownloadUrl('out/short.png', 1);
    expect((await fetch(url)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await fetch(url)).status).toBe(403);
  });

  test('a missing bucket is a deployment error (INTERNAL), not a missing object', async () => {
    const missing = new S3BlobStore({ client: s3.client, bucket: 'no-such-bucket-here' });
    const error = await expectDomainError(missing.put('a.png', PNG), ErrorCode.INTERNAL);
    expect(error.message).toContain('NoSuchBucket');
    await expectDomainError(missing.get('a.png'), ErrorCode.INTERNAL);
  });
});
