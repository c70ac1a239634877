/**
 * Style identification (functions/eval/style-identification.ts): colour and contrast count for
 * nothing, another sample of a style’s texture is recognised among other textures, cells larger than
 * the texture net’s field are told apart, and a run with one style has no score.
 */
import type { RgbImage } from '../../../functions/eval/rgb-image';
import { seededRandom } from '../../../functions/eval/seeded-random';
import {
  canIdentify,
  halve,
  identificationScore,
  standardisedGrey,
  textureSignature,
  type TextureSignature,
} from '../../../functions/eval/style-identification';
import { createTextureNet, gramDistance } from '../../../functions/eval/texture-net';

const SIZE = 64;
const net = createTextureNet();

/** A grey pattern `f(x, y)` in -1..1 plus noise from `seed`, drawn with a tint and a contrast. */
function pattern(
  f: (x: number, y: number) => number,
  seed: number,
  tint: [number, number, number] = [1, 1, 1],
  contrast = 60,
): RgbImage {
  const rng = seededRandom(seed);
  const data = new Uint8Array(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const v = 128 + contrast * (f(x, y) + 0.3 * (rng.uniform() * 2 - 1));
      for (let c = 0; c < 3; c++) data[3 * (y * SIZE + x) + c] = Math.max(0, Math.min(255, v * tint[c]!));
    }
  }
  return { data, width: SIZE, height: SIZE };
}

const cells = (side: number) => (x: number, y: number) =>
  (Math.floor(x / side) + Math.floor(y / side)) % 2 ? 0.6 : -0.6;
const stripes = (x: number) => (Math.floor(x / 3) % 2 ? 0.6 : -0.6);
const noise = () => 0;

test('the signature ignores colour, brightness and contrast', () => {
  const a = textureSignature(net, pattern(stripes, 1));
  const b = textureSignature(net, pattern(stripes, 1, [1.3, 0.8, 0.5], 30));
  expect(gramDistance(a, b)).toBeLessThan(0.03);
  // The same pattern against another texture is far.
  expect(gramDistance(a, textureSignature(net, pattern(cells(8), 1)))).toBeGreaterThan(0.2);
});

test('standardisedGrey draws every image at one mean and deviation; a flat one at mid-grey', () => {
  const grey = standardisedGrey(pattern(stripes, 2, [0.5, 0.5, 0.5], 20));
  const values = Array.from({ length: SIZE * SIZE }, (_, i) => grey.data[3 * i]!);
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
  expect(mean).toBeCloseTo(128, 0);
  expect(std).toBeGreaterThan(46);
  expect(std).toBeLessThan(50);
  const flat = standardisedGrey({ data: new Uint8Array(SIZE * SIZE * 3).fill(200), width: SIZE, height: SIZE });
  expect(new Set(flat.data)).toEqual(new Set([128]));
});

test('halve averages 2×2 blocks and drops an odd last row and column', () => {
  const image: RgbImage = { data: Uint8Array.from({ length: 3 * 3 * 3 }, (_, i) => i), width: 3, height: 3 };
  const half = halve(image);
  expect([half.width, half.height]).toEqual([1, 1]);
  // Pixels 0, 1, 3 and 4 of the 3×3 image; red values 0, 3, 9 and 12.
  expect(Array.from(half.data)).toEqual([6, 7, 8]);
});

test('another sample of a style, tinted, is recognised among other textures', () => {
  const styles = new Map<number, TextureSignature>([
    [0, textureSignature(net, pattern(stripes, 10))],
    [1, textureSignature(net, pattern(cells(8), 11))],
    [2, textureSignature(net, pattern(noise, 12))],
  ]);
  for (const [own, f] of [stripes, cells(8), noise].entries()) {
    const output = textureSignature(net, pattern(f, 20 + own, [1.2, 0.9, 0.6], 40));
    expect([own, identificationScore(output, styles, own)]).toEqual([own, 1]);
  }
  // A stripe-textured output paired with the cells style: the cells are not its nearest.
  expect(identificationScore(textureSignature(net, pattern(stripes, 30)), styles, 1)).toBeLessThan(1);
});

test('cells of 16 and 32 px, larger than the net’s field, are told apart', () => {
  const styles = new Map<number, TextureSignature>([
    [0, textureSignature(net, pattern(cells(16), 40))],
    [1, textureSignature(net, pattern(cells(32), 41))],
  ]);
  expect(identificationScore(textureSignature(net, pattern(cells(16), 42)), styles, 0)).toBe(1);
  expect(identificationScore(textureSignature(net, pattern(cells(32), 43)), styles, 1)).toBe(1);
});

test('a run with one style, or a too small image, has no score; the signature refuses a too small image', () => {
  const only = new Map([[0, textureSignature(net, pattern(stripes, 50))]]);
  expect(identificationScore(textureSignature(net, pattern(stripes, 51)), only, 0)).toBeNull();
  const tiny: RgbImage = { data: new Uint8Array(15 * 15 * 3), width: 15, height: 15 };
  expect(canIdentify(tiny)).toBe(false);
  expect(identificationScore(null, only, 0)).toBeNull();
  expect(() => textureSignature(net, tiny)).toThrow('Style identification needs at least 16×16 pixels, got 15×15.');
});
