/**
 * SSIM and the Sobel edge map: exact values on hand-computed cases, the identity and symmetry
 * properties, and a monotone drop with noise on a real photo.
 */
import path from 'node:path';
import { edgeMap, luminance, sobelMagnitude, SOBEL_MAX } from '../../../functions/eval/luminance';
import { loadImage, type RgbImage } from '../../../functions/eval/rgb-image';
import { ssim } from '../../../functions/eval/ssim';
import { at } from '../../support/checked';
import { FIXTURES, grey, withNoise } from './images';

describe('ssim', () => {
  let photo: RgbImage;
  beforeAll(async () => {
    photo = await loadImage(path.join(FIXTURES, 'photo-1.jpg'), 96);
  });

  it('is 1 for an image and itself, on luma and on edges', () => {
    expect(ssim(luminance(photo), luminance(photo))).toBe(1);
    expect(ssim(edgeMap(photo), edgeMap(photo))).toBe(1);
  });

  it('drops as noise grows', () => {
    const clean = luminance(photo);
    const light = ssim(luminance(withNoise(photo, 5)), clean);
    const heavy = ssim(luminance(withNoise(photo, 30)), clean);
    expect(light).toBeLessThan(1);
    expect(heavy).toBeLessThan(light - 0.1);
    expect(heavy).toBeGreaterThan(0);
  });

  it('is symmetric', () => {
    const a = luminance(photo);
    const b = luminance(withNoise(photo, 20));
    expect(ssim(a, b)).toBeCloseTo(ssim(b, a), 12);
  });

  it('matches the formula on two flat images, where only the luminance term is left', () => {
    // Flat: every σ and the covariance are 0, so SSIM = (2·μa·μb + C1) / (μa² + μb² + C1), C1 = 2.55².
    const a = grey(11, 11, () => 100);
    const b = grey(11, 11, () => 110);
    expect(ssim(a, b)).toBeCloseTo((2 * 100 * 110 + 6.5025) / (100 ** 2 + 110 ** 2 + 6.5025), 10);
  });

  it('matches the formula when one image is a scaled copy of the other', () => {
    // A horizontal ramp x and its double 2x, on one 11×11 window: with the Gaussian's symmetry the
    // weighted mean of x is 5 and its weighted variance is Σ w(i)(i − 5)² = σ² of the truncated kernel.
    const a = grey(11, 11, (x) => x);
    const b = grey(11, 11, (x) => 2 * x);
    const w = Array.from({ length: 11 }, (_, i) => Math.exp(-((i - 5) ** 2) / (2 * 1.5 ** 2)));
    const sum = w.reduce((s, v) => s + v, 0);
    const v = w.reduce((s, wi, i) => s + (wi / sum) * (i - 5) ** 2, 0);
    const [c1, c2] = [6.5025, 58.5225];
    const expected = ((2 * 5 * 10 + c1) * (2 * 2 * v + c2)) / ((25 + 100 + c1) * (v + 4 * v + c2));
    expect(ssim(a, b)).toBeCloseTo(expected, 10);
  });

  it('refuses images of different sizes', () => {
    expect(() =>
      ssim(
        grey(11, 11, () => 0),
        grey(12, 11, () => 0),
      ),
    ).toThrow(/one size/);
  });
});

describe('sobelMagnitude', () => {
  it('is 4 × the step on both sides of a vertical step edge and 0 elsewhere, borders included', () => {
    const step = grey(8, 6, (x) => (x < 4 ? 0 : 100));
    const { data } = sobelMagnitude(step);
    for (let y = 0; y < 6; y++) {
      const row = Array.from(data.subarray(y * 8, y * 8 + 8));
      expect(row).toEqual([0, 0, 0, 400, 400, 0, 0, 0]);
    }
  });

  it('is √2 · 4 × the step at a diagonal corner of a flat region', () => {
    // A single bright pixel's lower-right neighbour sees it only through the corner weight 1 of both kernels.
    const dot = grey(5, 5, (x, y) => (x === 2 && y === 2 ? 10 : 0));
    expect(sobelMagnitude(dot).data[3 * 5 + 3]).toBeCloseTo(10 * Math.SQRT2, 12);
  });

  it('reaches its bound √20 · 255 on the strongest 8-bit edge, which the edge map scales to 255', () => {
    const white = 255;
    const corner: RgbImage = { width: 3, height: 3, data: new Uint8Array(27) };
    // Bright right column and bottom-centre pixel: Gx = 4 · 255, Gy = 2 · 255 at the centre.
    for (const [x, y] of [
      [2, 0],
      [2, 1],
      [2, 2],
      [1, 2],
    ] as const)
      corner.data.fill(white, (y * 3 + x) * 3, (y * 3 + x) * 3 + 3);
    const centre = at(sobelMagnitude(luminance(corner)).data, 4);
    expect(centre).toBeCloseTo(Math.hypot(4 * 255, 2 * 255), 9);
    expect(SOBEL_MAX).toBeCloseTo(centre, 9);
    expect(edgeMap(corner).data[4]).toBeCloseTo(255, 6);
  });
});
