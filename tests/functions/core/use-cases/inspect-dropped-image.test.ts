/**
 * The drop-folder check shared by the local watcher and the AWS intake, on an in-memory source that
 * records every read: the size is judged before any byte is read, dimensions come from the header
 * bytes alone, and a file that passes is read no further than the check needs.
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import {
  HEADER_BYTES,
  inspectDroppedImage,
  WHOLE_READ_BYTES,
  type DroppedImageSource,
} from '../../../../functions/core/use-cases';

const IMAGES = path.join(__dirname, '..', '..', '..', 'fixtures', 'images');

/** A source over `bytes` that may claim another size (as a stat of a sparse file would), logging reads. */
function recordingSource(bytes: Buffer, claimedSize = bytes.length): DroppedImageSource & { reads: number[] } {
  const reads: number[] = [];
  return {
    reads,
    size: async () => claimedSize,
    readStart: async (length) => {
      reads.push(length);
      return bytes.subarray(0, length);
    },
  };
}

function pngClaiming(width: number, height: number, totalBytes: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2], 8);
  const body = Buffer.concat([Buffer.from('IHDR', 'ascii'), ihdr]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  const head = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), body, crc]);
  return Buffer.concat([head, Buffer.alloc(totalBytes - head.length)]);
}

test('a file over the byte limit is refused from its size, before anything is read', async () => {
  const source = recordingSource(Buffer.alloc(0), 3 * 1024 ** 3);
  expect(await inspectDroppedImage(source)).toEqual({
    ok: false,
    code: 'TOO_LARGE',
    reason: `The file is ${3 * 1024 ** 3} bytes; the drop folder accepts at most ${20 * 1024 * 1024} bytes.`,
  });
  expect(source.reads).toEqual([]);
});

test('a pixel bomb is refused from its header, reading only the header bytes', async () => {
  const bomb = pngClaiming(16000, 16000, 2 * WHOLE_READ_BYTES);
  const source = recordingSource(bomb);
  expect(await inspectDroppedImage(source)).toMatchObject({
    ok: false,
    code: 'TOO_LARGE',
    reason: expect.stringMatching(/^The image is 16000×16000 pixels; /),
  });
  expect(source.reads).toEqual([HEADER_BYTES]);
});

test('a file that is gone is reported as such, without a read', async () => {
  const source: DroppedImageSource & { reads: number[] } = {
    ...recordingSource(Buffer.alloc(0)),
    size: async () => null,
  };
  expect(await inspectDroppedImage(source)).toEqual({ ok: 'gone' });
  expect(source.reads).toEqual([]);
});

test('a small image passes with its type and stored dimensions, read once', async () => {
  const jpeg = readFileSync(path.join(IMAGES, 'exif-orientation-6.jpg'));
  const source = recordingSource(jpeg);
  expect(await inspectDroppedImage(source)).toEqual({
    ok: true,
    contentType: 'image/jpeg',
    size: jpeg.length,
    width: 80,
    height: 60,
  });
  expect(source.reads).toEqual([jpeg.length]);
});
