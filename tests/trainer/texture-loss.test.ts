/**
 * The trainer's texture loss (trainer/texture-loss.ts): zero for an output equal to its exemplar, bounded
 * by 2 (two terms of at most 1 each) whatever the images, including a flat exemplar against a busy
 * output, where a loss relative to the exemplar's own magnitude blows up; and descending it moves an
 * output's texture statistics towards the exemplar's. With a pyramid (textureScales) each level is the
 * single-level loss of the images pooled by 2, averaged, and cells larger than the net's 17 px field,
 * which the single level hardly tells apart, weigh in.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../trainer/backend';
import { Mulberry32 } from '../../trainer/rng';
import { TextureLoss } from '../../trainer/texture-loss';
import { at } from '../support/checked';

const SIZE = 32;

function noise(seed: number, amplitude = 1): tf.Tensor4D {
  const rng = new Mulberry32(seed);
  return tf.tensor4d(
    Float32Array.from({ length: SIZE * SIZE * 3 }, () => (rng.next() * 2 - 1) * amplitude),
    [1, SIZE, SIZE, 3],
  );
}

/** Vertical stripes, 4 px wide: a texture the noise does not have. */
function stripes(): tf.Tensor4D {
  const data = new Float32Array(SIZE * SIZE * 3);
  for (let i = 0; i < SIZE * SIZE; i++) data.fill(Math.floor((i % SIZE) / 4) % 2 ? 0.8 : -0.8, i * 3, i * 3 + 3);
  return tf.tensor4d(data, [1, SIZE, SIZE, 3]);
}

/** A checkerboard of `cell` px squares (±0.4) under fine noise: structure larger than the net's field. */
function cells(size: number, cell: number, seed: number): tf.Tensor4D {
  const rng = new Mulberry32(seed);
  const data = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = ((Math.floor(x / cell) + Math.floor(y / cell)) % 2 ? 0.4 : -0.4) + (rng.next() * 2 - 1) * 0.3;
      data.fill(v, (y * size + x) * 3, (y * size + x) * 3 + 3);
    }
  }
  return tf.tensor4d(data, [1, size, size, 3]);
}

let texture: TextureLoss;
beforeAll(async () => {
  await initBackend('cpu');
  texture = new TextureLoss();
});
afterAll(() => texture.dispose());

const value = (t: tf.Scalar) => at(t.dataSync(), 0);

test('an output equal to its exemplar costs nothing', () => {
  const img = noise(1);
  expect(value(texture.loss(img, img))).toBeLessThan(1e-4);
});

test('a flat exemplar against a busy output stays bounded', () => {
  const flat = tf.fill([1, SIZE, SIZE, 3], 0.01) as tf.Tensor4D;
  const loss = value(texture.loss(noise(2), flat));
  expect(loss).toBeGreaterThan(0.5);
  expect(loss).toBeLessThanOrEqual(2);
});

test('two batch elements are scored each against its own exemplar, and averaged', () => {
  const a = noise(3);
  const b = stripes();
  const both = value(texture.loss(tf.concat([a, a]), tf.concat([a, b])));
  expect(both).toBeCloseTo(value(texture.loss(a, b)) / 2, 4);
});

test('gradient descent on the loss moves an output towards the exemplar’s texture', () => {
  const target = stripes();
  const output = tf.variable(noise(4, 0.5));
  const start = value(texture.loss(output as tf.Tensor4D, target));
  const optimiser = tf.train.adam(0.05);
  for (let i = 0; i < 25; i++) optimiser.minimize(() => texture.loss(output as tf.Tensor4D, target));
  const end = value(texture.loss(output as tf.Tensor4D, target));
  expect(end).toBeLessThan(start * 0.6);
});

describe('over an image pyramid', () => {
  let pyramid: TextureLoss;
  beforeAll(() => {
    pyramid = new TextureLoss(undefined, 3);
  });
  afterAll(() => pyramid.dispose());

  const halve = (t: tf.Tensor4D) => tf.avgPool(t, 2, 2, 'valid');

  test('is the mean of the single-level loss at full, half and quarter size', () => {
    const a = noise(5);
    const b = stripes();
    const levels = [value(texture.loss(a, b)), value(texture.loss(halve(a), halve(b)))];
    levels.push(value(texture.loss(halve(halve(a)), halve(halve(b)))));
    expect(value(pyramid.loss(a, b))).toBeCloseTo((levels[0]! + levels[1]! + levels[2]!) / 3, 4);
  });

  test('tells cells larger than the net’s field apart where one level hardly does', () => {
    const small = cells(64, 16, 1);
    const large = cells(64, 32, 2);
    const single = value(texture.loss(small, large));
    const coarse = value(pyramid.loss(small, large));
    expect(coarse).toBeGreaterThan(1.5 * single);
    // Same cells, other noise: still close at every level.
    expect(value(pyramid.loss(small, cells(64, 16, 3)))).toBeLessThan(0.2 * coarse);
  });

  test('refuses a level count that is not a positive whole number', () => {
    expect(() => new TextureLoss(undefined, 0)).toThrow('scales must be a positive integer, got 0');
  });
});
