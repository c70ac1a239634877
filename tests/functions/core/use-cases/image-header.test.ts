/**
 * The header reader the drop-folder intake uses for pixel dimensions, checked against sharp (libvips)
 * on the real fixture images and on WebP files in each of the three WebP layouts, and on the damaged
 * and cut-short inputs the intake must not mistake for images.
 */

import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { readImageSize } from '../../../../functions/core/use-cases';
import { detectImageType } from '../../../../functions/core/use-cases';

const FIXTURES = path.join(__dirname, '..', '..', '..', 'fixtures', 'images');
type Decodable = 'image/jpeg' | 'image/png' | 'image/webp';

test('every fixture sharp can read has the dimensions sharp reports', async () => {
  let checked = 0;
  for (const name of readdirSync(FIXTURES)) {
    const bytes = readFileSync(path.join(FIXTURES, name));
    const type = detectImageType(bytes);
    if (type === null || type === 'image/gif') continue;
    const meta = await sharp(bytes).metadata();
    expect({ name, size: readImageSize(bytes, type) }).toEqual({
      name,
      size: { width: meta.width, height: meta.height },
    });
    checked += 1;
  }
  expect(checked).toBeGreaterThanOrEqual(12);
});

test('lossy, lossless and extended WebP headers are all read', async () => {
  const base = sharp(readFileSync(path.join(FIXTURES, 'photo-1.jpg'))).resize(77, 45);
  const lossy = await base.clone().webp().toBuffer();
  const lossless = await base.clone().webp({ lossless: true }).toBuffer();
  const extended = await base.clone().ensureAlpha(0.5).webp().toBuffer();
  expect([lossy, lossless, extended].map((b) => String.fromCharCode(...b.subarray(12, 16)))).toEqual([
    'VP8 ',
    'VP8L',
    'VP8X',
  ]);
  for (const bytes of [lossy, lossless, extended])
    expect(readImageSize(bytes, 'image/webp')).toEqual({ width: 77, height: 45 });
});

test('a JPEG whose frame header lies beyond the bytes given reads as unknown, not as a size', async () => {
  // A 40 KB EXIF comment pushes the frame header far from the start.
  const big = await sharp(readFileSync(path.join(FIXTURES, 'photo-2.jpg')))
    .withMetadata({ exif: { IFD0: { ImageDescription: 'x'.repeat(40_000) } } })
    .jpeg()
    .toBuffer();
  expect(readImageSize(big, 'image/jpeg')).toEqual({ width: 80, height: 60 });
  expect(readImageSize(big.subarray(0, 1024), 'image/jpeg')).toBeNull();
  const png = readFileSync(path.join(FIXTURES, 'photo-5.png'));
  expect(readImageSize(png.subarray(0, 20), 'image/png')).toBeNull();
  // The magic bytes of each format followed by garbage.
  for (const [type, head] of [
    ['image/jpeg', [0xff, 0xd8, 0xff, 0x00]],
    ['image/png', [...png.subarray(0, 8)]],
    ['image/webp', [...Buffer.from('RIFF\0\0\0\0WEBPVP8 ')]],
  ] as [Decodable, number[]][]) {
    expect(readImageSize(Buffer.from([...head, ...new Array(40).fill(0x41)]), type)).toBeNull();
  }
});
