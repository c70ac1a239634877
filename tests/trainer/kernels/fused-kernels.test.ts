/**
 * The fused layer kernels (trainer/kernels) and the wasm Slice/SplitV/Sum replacements against the cpu
 * backend's composite ops on random inputs: instance norm and reflection padding with their gradients,
 * at odd sizes, batch > 1 and every padding the model uses, on cpu and on wasm (two threads).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../../trainer/backend';
import { forceCompositeLayers, fusedSharedPrelu } from '../../../trainer/kernels';
import { instanceNorm } from '../../../trainer/layers/instance-norm';
import { pad2d } from '../../../trainer/layers/pad';
import { must } from '../../../functions/core/must';
import { at } from '../../support/checked';
import { maxError, type Result } from '../support/conv-cases';

/** Runs `fn` on `backend` (composite ops when `composite`) and copies its tensors out. */
async function on(backend: 'cpu' | 'wasm', composite: boolean, fn: () => tf.Tensor[]): Promise<Result[]> {
  await tf.setBackend(backend);
  forceCompositeLayers(composite);
  try {
    return tf.tidy(() => fn().map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array })));
  } finally {
    forceCompositeLayers(false);
  }
}

const seeded = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

/** Compares `fn` on the fused kernels (cpu, wasm) with the composite on cpu. */
async function expectFusedMatchesComposite(fn: () => tf.Tensor[], tolerance: number): Promise<void> {
  const expected = await on('cpu', true, fn);
  for (const backend of ['cpu', 'wasm'] as const) {
    const actual = await on(backend, false, fn);
    expect(actual).toHaveLength(expected.length);
    actual.forEach((r, i) => expect(maxError(r, at(expected, i))).toBeLessThan(tolerance));
  }
}

beforeAll(async () => {
  await initBackend('wasm', { threads: 2 });
});

const NORM_SHAPES: [number, number, number, number][] = [
  [1, 5, 7, 3], // odd, non-square
  [3, 8, 8, 16],
  [2, 2, 1, 5], // two positions per channel, the smallest allowed
];

test.each(NORM_SHAPES)('instance norm [%i, %i, %i, %i] and its gradient match the composite', async (...shape) => {
  await expectFusedMatchesComposite(() => {
    // An offset and a scale per channel, so the statistics are not trivially 0 and 1.
    const x = tf.add(tf.mul(seeded(shape, 1), 3), seeded([shape[3]], 2)) as tf.Tensor4D;
    const dy = seeded(shape, 3);
    const f = (t: tf.Tensor) => tf.sum(tf.mul(instanceNorm(t as tf.Tensor4D), dy));
    const { value, grad } = tf.valueAndGrad(f)(x);
    return [instanceNorm(x), value, grad];
  }, 1e-4);
});

const PAD_CASES: [number[], number][] = [
  [[1, 5, 5, 2], 1], // residual-block padding, odd size
  [[2, 9, 6, 3], 3], // 7×7 stem/output padding, non-square, batch 2
  [[1, 4, 4, 1], 3], // padding = size − 1, the largest reflection allows
];

test.each(PAD_CASES)('reflection padding of %j by %i and its gradient match the composite', async (shape, p) => {
  await expectFusedMatchesComposite(() => {
    const x = seeded(shape, 4) as tf.Tensor4D;
    const padded = pad2d(x, p, 'reflect');
    const dy = seeded(padded.shape, 5);
    const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(pad2d(t as tf.Tensor4D, p, 'reflect'), dy)))(x);
    return [padded, grad];
  }, 1e-5);
});

/** PReLU with a shared slope as the model applies it: fused where available, tf.prelu otherwise. */
const prelu = (x: tf.Tensor, alpha: tf.Tensor): tf.Tensor => fusedSharedPrelu(x, alpha) ?? tf.prelu(x, alpha);

test.each([
  [[4, 6, 5, 8], 0.25],
  [[1, 3, 7, 3], -0.4], // a negative slope, channels no multiple of four
  [[2, 5, 5, 16], 0],
] as [number[], number][])('PReLU of %j with slope %d and both its gradients match tf.prelu', async (shape, a) => {
  await expectFusedMatchesComposite(() => {
    const x = seeded(shape, 11);
    const alpha = tf.tensor1d([a]);
    const dy = seeded(shape, 12);
    const f = (t: tf.Tensor, s: tf.Tensor) => tf.sum(tf.mul(prelu(t, s), dy));
    const [dx, dAlpha] = tf.grads(f)([x, alpha]);
    return [prelu(x, alpha), must(dx, 'dx'), must(dAlpha, 'the slope gradient')];
  }, 1e-4);
});

test('fused layers leak no tensors', async () => {
  await tf.setBackend('wasm');
  const x = seeded([2, 6, 6, 4], 6) as tf.Tensor4D;
  const step = () =>
    tf.tidy(() => {
      tf.grad((t: tf.Tensor) => tf.sum(tf.square(instanceNorm(pad2d(t as tf.Tensor4D, 1, 'reflect')))))(x);
      tf.grads((t: tf.Tensor, a: tf.Tensor) => tf.sum(tf.square(prelu(t, a))))([x, tf.tensor1d([0.25])]);
      // Only the input's gradient asked for (a frozen slope).
      tf.grad((t: tf.Tensor) => tf.sum(prelu(t, tf.tensor1d([0.1]))))(x);
    });
  step();
  const tensors = tf.memory().numTensors;
  const buffers = tf.backend().numDataIds();
  for (let i = 0; i < 3; i++) step();
  expect(tf.memory().numTensors).toBe(tensors);
  expect(tf.backend().numDataIds()).toBe(buffers);
  x.dispose();
});

// [shape, begin, size]: whole trailing axes (one run), partial innermost axis, rank 1-5, empty.
const SLICE_CASES: [number[], number[], number[]][] = [
  [
    [4, 9, 9, 3],
    [1, 2, 0, 0],
    [2, 5, 9, 3],
  ],
  [
    [2, 7, 5, 6],
    [0, 1, 1, 2],
    [2, 5, 3, 3],
  ],
  [
    [3, 130],
    [1, 7],
    [2, 100],
  ],
  [[20], [3], [11]],
  [
    [2, 3, 4, 5, 6],
    [1, 0, 1, 2, 0],
    [1, 3, 2, 3, 6],
  ],
  [
    [4, 4],
    [1, 1],
    [0, 2],
  ],
];

test.each(SLICE_CASES)('Slice of %j at %j size %j on wasm matches cpu', async (shape, begin, size) => {
  const run = () => {
    const x = seeded(shape, 7);
    return [tf.slice(x, begin, size), tf.slice(tf.cast(tf.mul(x, 10), 'int32'), begin, size)];
  };
  const expected = await on('cpu', false, run);
  const actual = await on('wasm', false, run);
  actual.forEach((r, i) => expect(Array.from(r.values)).toEqual(Array.from(at(expected, i).values)));
});

test.each([
  [[8, 5, 5, 3], 4, 0],
  [[2, 4, 4, 12], [4, 4, 4], 3],
  [[3, 10, 7], [2, 4, 1], 2],
] as [number[], number | number[], number][])(
  'SplitV of %j into %j on axis %i on wasm matches cpu',
  async (shape, parts, axis) => {
    const run = () => tf.split(seeded(shape, 8), parts, axis);
    const expected = await on('cpu', false, run);
    const actual = await on('wasm', false, run);
    expect(actual).toHaveLength(expected.length);
    actual.forEach((r, i) => {
      expect(r.shape).toEqual(at(expected, i).shape);
      expect(Array.from(r.values)).toEqual(Array.from(at(expected, i).values));
    });
  },
);

// [shape, axes, keepDims]: the bias-gradient sums (all but the channels), one leading axis, a column count
// that is no multiple of four, negative and unordered axes, and cases the shipped kernel keeps (inner
// axes, all axes).
test.each([
  [[4, 9, 7, 16], [0, 1, 2], false],
  [[3, 5, 5, 6], [0, 1, 2], true],
  [[6, 10], [0], false],
  [[2, 3, 4, 7], [1, 0], false],
  [[5, 4, 3], [-3, -2], true],
  [[4, 6, 6, 8], [1, 2], false],
  [[4, 6, 8], [0, 1, 2], false],
] as [number[], number[], boolean][])(
  'Sum of %j over %j (keepDims %s) on wasm matches cpu',
  async (shape, axes, keep) => {
    const run = () => {
      const x = seeded(shape, 9);
      return [tf.sum(x, axes, keep), tf.sum(tf.cast(tf.mul(x, 10), 'int32'), axes, keep)];
    };
    const expected = await on('cpu', false, run);
    const actual = await on('wasm', false, run);
    actual.forEach((r, i) => {
      expect(r.shape).toEqual(at(expected, i).shape);
      expect(maxError(r, at(expected, i))).toBeLessThan(1e-4);
    });
  },
);
