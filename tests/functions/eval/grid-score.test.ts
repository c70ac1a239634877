/**
 * The grid score (functions/eval/grid-score.ts): a 2- or 4-pixel pattern added to a photo scores far
 * above 1, an output without one about 1, the prominence ignores contrast, and the definition's
 * details (centred power-of-two crop, median of the wrapped 7×7 neighbourhood) hold on built cases.
 */
import path from 'node:path';
import {
  EIGHT_PIXEL_PEAKS,
  gridCropSide,
  gridScore,
  peakProminence,
  peakProminences,
} from '../../../functions/eval/grid-score';
import { luminance, type GreyImage } from '../../../functions/eval/luminance';
import { reinhardTransfer } from '../../../functions/eval/reinhard';
import { loadImageAt } from '../../../functions/eval/rgb-image';
import { seededRandom } from '../../../functions/eval/seeded-random';
import { at } from '../../support/checked';
import { grey, SAMPLE } from './images';

const SIDE = 128; // the crop is then the whole image
const photos = ['chelsea.jpg', 'astronaut.jpg', 'mossy-bark.jpg', 'trees-above.jpg'];
const loadPhoto = (name: string) => loadImageAt(path.join(SAMPLE, 'content', name), SIDE);

/** `image` plus `f(x, y)` at every pixel. */
function plus(image: GreyImage, f: (x: number, y: number) => number): GreyImage {
  return grey(image.width, image.height, (x, y) => at(image.data, y * image.width + x) + f(x, y));
}

/** A smooth synthetic scene: a few seeded low-frequency waves and sensor-like noise of σ 2. */
function smoothScene(noiseSeed: number): GreyImage {
  const waves = seededRandom(3);
  const terms = Array.from({ length: 6 }, () => ({
    fx: waves.uniform() * 0.05,
    fy: waves.uniform() * 0.05,
    phase: waves.uniform() * 2 * Math.PI,
    amplitude: 10 + waves.uniform() * 20,
  }));
  const noise = seededRandom(noiseSeed);
  return grey(SIDE, SIDE, (x, y) =>
    terms.reduce(
      (s, t) => s + t.amplitude * Math.cos(2 * Math.PI * (t.fx * x + t.fy * y) + t.phase),
      128 + 2 * noise.normal(),
    ),
  );
}

describe('gridScore', () => {
  it('is far above 1 for a photo with a faint 2-pixel checkerboard added, and for a 4-pixel one', async () => {
    for (const name of photos) {
      const content = luminance(await loadPhoto(name));
      const prominence = peakProminence(content);
      // ±2 grey levels: hard to see, easy to measure.
      const checker = plus(content, (x, y) => ((x + y) % 2 ? 2 : -2));
      expect(gridScore(checker, prominence)).toBeGreaterThan(50);
      // A 4-pixel period across and down, as two ×2 upsamplings can leave. Photos have more power at
      // that period than at 2 pixels, and this pattern lights 2 of the 9 peaks: ±5 levels here.
      const coarse = plus(content, (x, y) => (Math.floor(x / 2) % 2 ? 5 : -5) + (Math.floor(y / 2) % 2 ? 5 : -5));
      expect(gridScore(coarse, prominence)).toBeGreaterThan(5);
    }
  });

  it('sees a checkerboard of 4-pixel cells on the 8-pixel peaks, which the nine do not read', async () => {
    for (const name of photos) {
      const content = luminance(await loadPhoto(name));
      // Cells of 4×4 pixels: one latent cell of a decoder that upsamples ×4.
      const cells = plus(content, (x, y) => ((Math.floor(x / 4) + Math.floor(y / 4)) % 2 ? 4 : -4));
      expect(gridScore(cells, peakProminence(content, EIGHT_PIXEL_PEAKS), EIGHT_PIXEL_PEAKS)).toBeGreaterThan(3);
      expect(gridScore(cells, peakProminence(content))).toBeLessThan(1.5);
    }
  });

  it('is about 1 for a smooth image against another draw of the same scene', () => {
    const content = smoothScene(1);
    const scores = [2, 3, 4, 5].map((seed) => gridScore(smoothScene(seed), peakProminence(content))!);
    const mean = scores.reduce((s, x) => s + x, 0) / scores.length;
    expect(mean).toBeGreaterThan(0.7);
    expect(mean).toBeLessThan(1.4);
    // The same scene with a checkerboard is not.
    expect(
      gridScore(
        plus(smoothScene(2), (x, y) => ((x + y) % 2 ? 2 : -2)),
        peakProminence(content),
      ),
    ).toBeGreaterThan(20);
  });

  it('is about 1 for Reinhard’s recolouring of photos, which adds no pattern', async () => {
    const style = await loadImageAt(path.join(SAMPLE, 'style', 'pattern-herringbone-4.jpg'), SIDE);
    const scores: number[] = [];
    for (const name of photos) {
      const photo = await loadPhoto(name);
      scores.push(gridScore(luminance(reinhardTransfer(photo, style)), peakProminence(luminance(photo)))!);
    }
    for (const s of scores) expect(s).toBeGreaterThan(0.5);
    const mean = scores.reduce((s, x) => s + x, 0) / scores.length;
    expect(mean).toBeGreaterThan(0.75);
    expect(mean).toBeLessThan(1.33);
  });

  it('is exactly 1 for the content itself, and undefined for a flat or too small image', async () => {
    const content = luminance(await loadPhoto('chelsea.jpg'));
    expect(gridScore(content, peakProminence(content))).toBe(1);
    const flat = grey(64, 64, () => 100);
    expect(gridScore(content, peakProminence(flat))).toBeUndefined();
    expect(
      gridScore(
        grey(40, 31, (x) => x),
        1,
      ),
    ).toBeUndefined();
  });
});

describe('peakProminence', () => {
  it('does not change when the contrast is scaled or the brightness shifted', async () => {
    const content = luminance(await loadPhoto('mossy-bark.jpg'));
    const p = peakProminence(content)!;
    const scaled = { ...content, data: content.data.map((v) => 0.3 * v + 40) };
    expect(peakProminence(scaled)! / p).toBeCloseTo(1, 9);
    const stretched = { ...content, data: content.data.map((v) => 4 * v - 200) };
    expect(peakProminence(stretched)! / p).toBeCloseTo(1, 9);
  });

  it('uses the largest centred power-of-two square, and nothing outside it', () => {
    expect(gridCropSide(100, 70)).toBe(64);
    expect(gridCropSide(256, 256)).toBe(256);
    expect(gridCropSide(300, 31)).toBeUndefined();
    expect(peakProminence(grey(31, 300, (x, y) => x * y))).toBeUndefined();
    // A 100 × 70 image is cropped at (18, 3): a checkerboard outside that 64 × 64 square is not seen.
    const base = smoothScene(1);
    const wide = grey(100, 70, (x, y) => at(base.data, (y % SIDE) * SIDE + (x % SIDE)));
    const outside = grey(
      100,
      70,
      (x, y) => at(wide.data, y * 100 + x) + (x < 18 || x >= 82 ? ((x + y) % 2 ? 9 : -9) : 0),
    );
    expect(peakProminence(outside)).toBe(peakProminence(wide));
  });

  it('divides each peak by the median of its wrapped 7×7 neighbourhood, peak excluded', () => {
    const n = 32;
    const power = new Float64Array(n * n).fill(1);
    const at = (u: number, v: number) => ((v + n) % n) * n + ((u + n) % n);
    // Around (N/2, 0): the 21 bins of rows −1..−3 (wrapped to 31..29) and 3 bins of row 0 set to 5, the
    // other 24 left at 1, so the median of the 48 is (1 + 5) / 2 = 3.
    for (let dv = -3; dv <= -1; dv++) for (let du = -3; du <= 3; du++) power[at(n / 2 + du, dv)] = 5;
    for (let du = -3; du <= -1; du++) power[at(n / 2 + du, 0)] = 5;
    power[at(n / 2, 0)] = 12;
    // (N/4, N/4) on a background of ones: its prominence is its power.
    power[at(n / 4, n / 4)] = 7;
    const prominences = peakProminences(power, n);
    expect(prominences[0]).toBe(12 / 3);
    expect(prominences[5]).toBe(7);
    expect(prominences).toHaveLength(9);
  });
});
