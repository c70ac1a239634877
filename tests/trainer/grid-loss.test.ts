/**
 * The trainer's grid loss (trainer/grid-loss.ts): its peak and ring powers are the evaluation's power
 * spectrum (functions/eval/grid-score.ts) at the same bins; it costs nothing for an output equal to its
 * target, grows with the amplitude of a 2-pixel checkerboard laid over a photo, and descending it on
 * the pixels of such an output brings `peerstyle eval`'s grid score back under its target of 2.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../trainer/backend';
import { GridLoss, TRAINING_GRID_GROUPS } from '../../trainer/grid-loss';
import {
  EIGHT_PIXEL_PEAKS,
  GRID_PEAKS,
  gridScore,
  gridSpectrum,
  peakProminence,
} from '../../functions/eval/grid-score';
import { luminance } from '../../functions/eval/luminance';
import { loadImageAt, type RgbImage } from '../../functions/eval/rgb-image';
import { at } from '../support/checked';

const SIZE = 64;
const PHOTO = path.join(__dirname, '..', 'fixtures', 'images', 'photo-2.jpg');

let grid: GridLoss;
let photo: RgbImage;
beforeAll(async () => {
  await initBackend('cpu');
  grid = new GridLoss();
  const loaded = await loadImageAt(PHOTO, SIZE);
  // A centred SIZE × SIZE crop of the photo, whatever its aspect.
  const left = (loaded.width - SIZE) >> 1;
  const top = (loaded.height - SIZE) >> 1;
  const data = new Uint8Array(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++) {
    data.set(
      loaded.data.subarray(((top + y) * loaded.width + left) * 3, ((top + y) * loaded.width + left + SIZE) * 3),
      y * SIZE * 3,
    );
  }
  photo = { data, width: SIZE, height: SIZE };
});
afterAll(() => grid.dispose());

/**
 * The photo as a [1, N, N, 3] tensor in [-1, 1], plus `amplitude` × a checkerboard of `cell`-pixel
 * squares on every channel (cell 1: the 2-pixel period; cell 4: the 8-pixel one).
 */
function photoWithGrid(amplitude: number, cell = 1): tf.Tensor4D {
  const data = new Float32Array(SIZE * SIZE * 3);
  for (let i = 0; i < SIZE * SIZE; i++) {
    const x = Math.floor((i % SIZE) / cell);
    const y = Math.floor(Math.floor(i / SIZE) / cell);
    const sign = (x + y) % 2 ? -1 : 1;
    for (let c = 0; c < 3; c++) data[i * 3 + c] = at(photo.data, i * 3 + c) / 127.5 - 1 + amplitude * sign;
  }
  return tf.tensor4d(data, [1, SIZE, SIZE, 3]);
}

/** A [1, N, N, 3] tensor in [-1, 1] back to 8-bit RGB, clipped, for the evaluation's functions. */
function toRgb(t: tf.Tensor4D): RgbImage {
  const values = t.dataSync();
  const data = Uint8Array.from(values, (v) => Math.round(Math.min(255, Math.max(0, (v + 1) * 127.5))));
  return { data, width: SIZE, height: SIZE };
}

const value = (t: tf.Scalar) => at(t.dataSync(), 0);

test("the 8-pixel group is the rest of the lattice, one of each conjugate pair, without the score's nine", () => {
  const key = ([u, v]: readonly [number, number]) => `${Math.round(u * 8) % 8},${Math.round(v * 8) % 8}`;
  const mirror = ([u, v]: readonly [number, number]) => key([1 - u, 1 - v]);
  const covered = new Set<string>();
  for (const peak of [...GRID_PEAKS, ...EIGHT_PIXEL_PEAKS]) {
    // Neither a peak nor its mirror twice, across both groups.
    expect(covered.has(key(peak))).toBe(false);
    covered.add(key(peak));
    covered.add(mirror(peak));
  }
  // Together they cover all 63 nonzero multiples of N/8.
  expect(covered.size).toBe(63);
  expect(EIGHT_PIXEL_PEAKS).toHaveLength(24);
});

test('peak and ring powers are the evaluation spectrum at the same bins', () => {
  const image = tf.tensor4d(
    Float32Array.from(photo.data, (v) => v / 127.5 - 1),
    [1, SIZE, SIZE, 3],
  );
  const { peak, background } = grid.peaks(image);
  // The evaluation works in 0..255 luma and subtracts the mean: ×127.5² in power, and the mean only
  // reaches bins next to DC, which no peak or ring touches.
  const spectrum = gridSpectrum(luminance(photo));
  if (!spectrum) throw new Error('the crop is large enough to score');
  const { power, side } = spectrum;
  const scale = 127.5 ** 2;
  const powerAt = (u: number, v: number) =>
    at(power, (((v % side) + side) % side) * side + (((u % side) + side) % side));
  const peaks = peak.dataSync();
  const rings = background.dataSync();
  for (const [p, [fu, fv]] of TRAINING_GRID_GROUPS.flat().entries()) {
    const u = fu * side;
    const v = fv * side;
    expect(at(peaks, p) * scale).toBeCloseTo(powerAt(u, v), -Math.floor(Math.log10(powerAt(u, v))) + 3);
    let ring = 0;
    let count = 0;
    for (let dv = -3; dv <= 3; dv++) {
      for (let du = -3; du <= 3; du++) {
        if (Math.max(Math.abs(du), Math.abs(dv)) < 2) continue;
        ring += powerAt(u + du, v + dv);
        count += 1;
      }
    }
    expect(count).toBe(40);
    expect((at(rings, p) * scale) / (ring / count)).toBeCloseTo(1, 3);
  }
});

test('an output equal to its target costs nothing; a checkerboard costs more the stronger it is', () => {
  const clean = photoWithGrid(0);
  expect(value(grid.loss(clean, clean))).toBe(0);
  const losses = [0.005, 0.02, 0.08].map((a) => value(grid.loss(photoWithGrid(a), clean)));
  expect(losses[0]).toBeGreaterThan(0);
  expect(losses[1]).toBeGreaterThan(at(losses, 0));
  expect(losses[2]).toBeGreaterThan(at(losses, 1));
  // The output's prominence is against its own surroundings: a target of ten times the contrast (a
  // hundred times the ring power) leaves the cost of a softened output's grid about as it was.
  const blurred = tf.avgPool(clean, 3, 1, 'same');
  const gridOnBlurred = tf.add(blurred, tf.sub(photoWithGrid(0.005), clean)) as tf.Tensor4D;
  const againstClean = value(grid.loss(gridOnBlurred, clean));
  expect(againstClean).toBeGreaterThan(0);
  const againstContrasty = value(grid.loss(gridOnBlurred, tf.mul(clean, 10) as tf.Tensor4D));
  expect(Math.abs(againstContrasty / againstClean - 1)).toBeLessThan(0.05);
  // A checkerboard of 4-pixel cells (8-pixel period), which the grid score does not read, costs too.
  expect(value(grid.loss(photoWithGrid(0.04, 4), clean))).toBeGreaterThan(0.5);
});

test("descending it removes a grid that the evaluation's grid score sees", () => {
  const clean = photoWithGrid(0);
  const contentProminence = peakProminence(luminance(photo));
  const start = photoWithGrid(0.06);
  const scoreBefore = gridScore(luminance(toRgb(start)), contentProminence);
  expect(scoreBefore).toBeGreaterThan(4);

  const pixels = tf.variable(start);
  // Plain gradient steps: Adam's per-pixel normalised steps are themselves a high-frequency pattern.
  const optimiser = tf.train.sgd(0.1);
  for (let i = 0; i < 100; i++) optimiser.minimize(() => grid.loss(pixels, clean));
  const scoreAfter = gridScore(luminance(toRgb(pixels)), contentProminence);
  expect(scoreAfter).toBeLessThan(2);
  // The grid went, not the photo: the pixels moved towards the clean photo. The window weights the
  // centre, so that is where most of the checkerboard must be gone.
  const centre = (t: tf.Tensor4D) => tf.slice(t, [0, SIZE / 4, SIZE / 4, 0], [1, SIZE / 2, SIZE / 2, 3]);
  const centreError = (t: tf.Tensor4D) => at(tf.mean(tf.abs(tf.sub(centre(t), centre(clean)))).dataSync(), 0);
  expect(centreError(pixels)).toBeLessThan(0.6 * centreError(start));
});

test('it refuses crops that are not square or too small', () => {
  const wide = tf.zeros([1, 32, 64, 3]) as tf.Tensor4D;
  expect(() => grid.loss(wide, wide)).toThrow(/square crops/);
  const small = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
  expect(() => grid.loss(small, small)).toThrow(/at least 16/);
  const odd = tf.zeros([1, 36, 36, 3]) as tf.Tensor4D;
  expect(() => grid.loss(odd, odd)).toThrow(/multiple of 8/);
});
