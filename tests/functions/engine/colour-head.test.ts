/**
 * The engine's colour statistics: pooling several images with weights, the strength blend, and the head
 * against TF.js's (trainer/layers/colour-head.ts) on the same numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { applyColourHead, blendStats, colourMoments, pooledStats } from '../../../functions/engine/colour-head';
import type { RgbImage } from '../../../functions/engine/image-io';
import { applyColourHead as applyInTfjs, colourStats, declareColourHead } from '../../../trainer/layers/colour-head';
import { ParamStore } from '../../../trainer/nn/params';
import { at, defined } from '../../support/checked';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function image(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return { width, height, data };
}

function toTensor(img: RgbImage): tf.Tensor4D {
  return tf.tensor4d(
    Float32Array.from(img.data, (v) => v / 127.5 - 1),
    [1, img.height, img.width, 3],
  );
}

test('one image gives its own mean and standard deviation, as TF.js computes them', () => {
  const img = image(9, 7, 1);
  const stats = pooledStats([{ moments: colourMoments(img), weight: 1 }]);
  const expected = Array.from(colourStats(toTensor(img)).dataSync());
  stats.forEach((v, i) => expect(v).toBeCloseTo(at(expected, i), 5));
});

test('a weight of 2 counts an image twice; a weight of 0 leaves it out', () => {
  const a = image(8, 8, 2);
  const b = image(5, 6, 3);
  const weighted = pooledStats([
    { moments: colourMoments(a), weight: 2 },
    { moments: colourMoments(b), weight: 1 },
  ]);
  // The same pixels with a listed twice, pooled as one image.
  const twice: RgbImage = { width: 1, height: 64 + 64 + 30, data: new Uint8Array([...a.data, ...a.data, ...b.data]) };
  const pooled = pooledStats([{ moments: colourMoments(twice), weight: 1 }]);
  weighted.forEach((v, i) => expect(v).toBeCloseTo(at(pooled, i), 6));
  const withoutB = pooledStats([
    { moments: colourMoments(a), weight: 1 },
    { moments: colourMoments(b), weight: 0 },
  ]);
  expect(withoutB).toEqual(pooledStats([{ moments: colourMoments(a), weight: 1 }]));
  expect(() => pooledStats([{ moments: colourMoments(a), weight: 0 }])).toThrow(/positive weight/);
});

test('the strength blend goes from the content statistics (0) to the style statistics (1)', () => {
  expect(blendStats([0, 1], [1, 3], 0)).toEqual([0, 1]);
  expect(blendStats([0, 1], [1, 3], 1)).toEqual([1, 3]);
  expect(blendStats([0, 1], [1, 3], 0.25)).toEqual([0.25, 1.5]);
});

test('the head matches TF.js on a pre-tanh output with trained-looking weights', () => {
  const store = new ParamStore(4);
  declareColourHead(store, 'dec');
  // Move the weights off their initial values so every term of the affine maps is exercised.
  for (const name of store.names()) {
    const v = store.get(name);
    tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', name.length))));
  }
  const preTanh = tf.randomNormal([1, 6, 5, 3], 0.2, 1.5, 'float32', 9) as tf.Tensor4D;
  const stats = [0.1, -0.3, 0.5, 0.4, 0.2, 0.6];
  const expected = applyInTfjs(store, 'dec', preTanh, tf.tensor2d([stats])).dataSync();
  const arrays = store.toNamedArrays();
  const values = (name: string) => Array.from(defined(arrays[name], `array ${name}`).data);
  const head = {
    eps: 1e-5,
    scaleWeight: values('dec.colour.scaleWeight'),
    scaleBias: values('dec.colour.scaleBias'),
    shiftWeight: values('dec.colour.shiftWeight'),
    shiftBias: values('dec.colour.shiftBias'),
  };
  const nchw = tf.transpose(preTanh, [0, 3, 1, 2]);
  const got = applyColourHead({ data: Float32Array.from(nchw.dataSync()), dims: [1, 3, 6, 5] }, stats, head);
  const gotNhwc = tf.transpose(tf.tensor4d(got.data, [1, 3, 6, 5]), [0, 2, 3, 1]).dataSync();
  let worst = 0;
  expected.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - at(gotNhwc, i)))));
  expect(worst).toBeLessThan(1e-5);
  store.dispose();
});
