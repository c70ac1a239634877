/**
 * The contract every `BlobStore` adapter must pass: filesystem today, S3 (against s3rver) later.
 *
 * The suite uses only the port, with fresh stores from the factory, so it holds nothing that is true of
 * one backend alone. Upload-policy verification and signed-URL checks are served by different programs
 * per backend (our HTTP server locally, S3 itself on AWS), so they are tested per adapter instead.
 */

import { ErrorCode, type BlobStore } from '../../functions/core';
import { expectDomainError } from '../support/expect-domain-error';

/** Builds a fresh, empty store and a way to dispose of it. */
export type BlobStoreFactory = () => Promise<{ store: BlobStore; close: () => Promise<void> }>;

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

async function collect(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return text(Buffer.concat(chunks));
}

/** Registers the blob store contract tests under `name`. */
export function describeBlobStoreContract(name: string, makeStore: BlobStoreFactory): void {
  describe(`BlobStore contract: ${name}`, () => {
    let store: BlobStore;
    let close: () => Promise<void>;

    beforeEach(async () => {
      ({ store, close } = await makeStore());
    });
    afterEach(async () => {
      await close();
    });

    test('put then get, getStream and head return what was written', async () => {
      const info = await store.put('styles/u1/a.png', bytes('hello'), { contentType: 'image/png' });
      expect(info).toMatchObject({ key: 'styles/u1/a.png', size: 5, contentType: 'image/png' });
      expect(text(await store.get('styles/u1/a.png'))).toBe('hello');
      expect(await collect(await store.getStream('styles/u1/a.png'))).toBe('hello');
      const head = await store.head('styles/u1/a.png');
      expect(head).toMatchObject({ key: 'styles/u1/a.png', size: 5, contentType: 'image/png' });
      expect(Number.isNaN(Date.parse(head?.lastModified ?? ''))).toBe(false);
    });

    test('put accepts a stream of chunks', async () => {
      async function* chunks(): AsyncIterable<Uint8Array> {
        yield bytes('ab');
        yield bytes('cd');
      }
      const info = await store.put('out/stream.bin', chunks());
      expect(info.size).toBe(4);
      expect(text(await store.get('out/stream.bin'))).toBe('abcd');
    });

    test('overwriting replaces the object', async () => {
      await store.put('k', bytes('first'));
      await store.put('k', bytes('second!'));
      expect(text(await store.get('k'))).toBe('second!');
      expect((await store.head('k'))?.size).toBe(7);
    });

    test('copy makes an independent object with the same bytes and content type', async () => {
      await store.put('uploads/u1/a', bytes('original'), { contentType: 'image/png' });
      const info = await store.copy('uploads/u1/a', 'saved-styles/u1/b');
      expect(info).toMatchObject({ key: 'saved-styles/u1/b', size: 8, contentType: 'image/png' });
      // Replacing or deleting the source later leaves the copy as it was.
      await store.put('uploads/u1/a', bytes('replaced!'), { contentType: 'image/jpeg' });
      expect(text(await store.get('saved-styles/u1/b'))).toBe('original');
      await store.delete('uploads/u1/a');
      expect(await store.head('saved-styles/u1/b')).toMatchObject({ size: 8, contentType: 'image/png' });
    });

    test('copying a missing object is NOT_FOUND and creates nothing', async () => {
      await expectDomainError(store.copy('uploads/u1/none', 'saved-styles/u1/c'), ErrorCode.NOT_FOUND);
      expect(await store.head('saved-styles/u1/c')).toBeNull();
    });

    test('missing objects: get and getStream are NOT_FOUND, head is null, delete is harmless', async () => {
      await expectDomainError(store.get('nope/x'), ErrorCode.NOT_FOUND);
      await expectDomainError(store.getStream('nope/x'), ErrorCode.NOT_FOUND);
      expect(await store.head('nope/x')).toBeNull();
      await expect(store.delete('nope/x')).resolves.toBeUndefined();
    });

    test('delete removes the object', async () => {
      await store.put('d/1', bytes('x'));
      await store.delete('d/1');
      expect(await store.head('d/1')).toBeNull();
      await expectDomainError(store.get('d/1'), ErrorCode.NOT_FOUND);
    });

    test.each([
      '../x',
      '/etc/passwd',
      'a/../../b',
      '%2e%2e/x',
      'a\\b',
      'a/./b',
      'a//b',
      'nul\u0000byte',
      '%252e%252e/x',
      '',
    ])('rejects the escaping or malformed key %j everywhere with BAD_REQUEST', async (key) => {
      await expectDomainError(store.put(key, bytes('x')), ErrorCode.BAD_REQUEST);
      await expectDomainError(store.get(key), ErrorCode.BAD_REQUEST);
      await expectDomainError(store.head(key), ErrorCode.BAD_REQUEST);
      await expectDomainError(store.delete(key), ErrorCode.BAD_REQUEST);
      await expectDomainError(store.createDownloadUrl(key, 60), ErrorCode.BAD_REQUEST);
      await expectDomainError(
        store.createUploadTarget({ key, contentTypePrefix: 'image/', maxBytes: 10, expiresInSeconds: 60 }),
        ErrorCode.BAD_REQUEST,
      );
    });

    test('a failed streaming write leaves no object, and keeps the previous one intact', async () => {
      async function* failing(): AsyncIterable<Uint8Array> {
        yield bytes('partial');
        throw new Error('client went away');
      }
      await expect(store.put('fresh', failing())).rejects.toThrow('client went away');
      expect(await store.head('fresh')).toBeNull();

      await store.put('kept', bytes('original'));
      await expect(store.put('kept', failing())).rejects.toThrow('client went away');
      expect(text(await store.get('kept'))).toBe('original');
    });

    test('nothing is visible under the final key while a write is still streaming', async () => {
      let finish!: () => void;
      const gate = new Promise<void>((resolve) => {
        finish = resolve;
      });
      async function* slow(): AsyncIterable<Uint8Array> {
        yield bytes('first half ');
        await gate;
        yield bytes('second half');
      }
      const writing = store.put('slow', slow());
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await store.head('slow')).toBeNull();
      finish();
      await writing;
      expect(text(await store.get('slow'))).toBe('first half second half');
    });

    test('list pages through a prefix in key order with no duplicates or gaps', async () => {
      const keys = ['p/a', 'p/b', 'p/c/d', 'p/c/e', 'p/f', 'q/outside', 'pp/near-miss'];
      for (const key of keys) await store.put(key, bytes(key));
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list({ prefix: 'p/', limit: 2, cursor });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((item) => item.key));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor !== undefined && pages < 10);
      expect(seen).toEqual(['p/a', 'p/b', 'p/c/d', 'p/c/e', 'p/f']);
      const sizes = (await store.list({ prefix: 'p/c/' })).items.map((item) => item.size);
      expect(sizes).toEqual([5, 5]);
    });

    test('list of an empty prefix returns an empty last page', async () => {
      const page = await store.list({ prefix: 'empty/' });
      expect(page.items).toEqual([]);
      expect(page.nextCursor).toBeUndefined();
    });

    test('a forged list cursor is BAD_REQUEST', async () => {
      await expectDomainError(store.list({ prefix: '', cursor: '!!not-a-cursor' }), ErrorCode.BAD_REQUEST);
    });

    test('upload targets have the presigned-POST shape and a future expiry', async () => {
      const before = Date.now();
      const target = await store.createUploadTarget({
        key: 'drop/u1/photo.jpg',
        contentTypePrefix: 'image/',
        maxBytes: 1_000_000,
        expiresInSeconds: 300,
      });
      expect(() => new URL(target.url)).not.toThrow();
      expect(target.fields.key).toBe('drop/u1/photo.jpg');
      expect(Object.keys(target.fields).length).toBeGreaterThan(1);
      for (const value of Object.values(target.fields)) expect(typeof value).toBe('string');
      const expires = Date.parse(target.expiresAt);
      expect(expires).toBeGreaterThan(before + 200_000);
      expect(expires).toBeLessThanOrEqual(Date.now() + 301_000);
    });

    test('upload targets reject nonsense limits', async () => {
      await expectDomainError(
        store.createUploadTarget({ key: 'a', contentTypePrefix: 'image/', maxBytes: 0, expiresInSeconds: 60 }),
        ErrorCode.BAD_REQUEST,
      );
      await expectDomainError(
        store.createUploadTarget({ key: 'a', contentTypePrefix: 'image/', maxBytes: 10, expiresInSeconds: 0 }),
        ErrorCode.BAD_REQUEST,
      );
    });

    test('download URLs are absolute and differ per key', async () => {
      await store.put('out/1.png', bytes('1'));
      await store.put('out/2.png', bytes('2'));
      const one = await store.createDownloadUrl('out/1.png', 60);
      const two = await store.createDownloadUrl('out/2.png', 60);
      expect(new URL(one).protocol).toMatch(/^https?:$/);
      expect(one).not.toBe(two);
    });
  });
}
