/**
 * The wasm training kernels against the cpu backend's reference kernels, one case per stride, padding,
 * parity of size and batch size the model uses, and tf.variableGrads of a composite of every op TSPR
 * uses, compared between wasm and cpu. The composite also proves no kernel is missing on wasm.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../../trainer/backend';
import { registerWasmGradientKernels } from '../../../trainer/wasm-kernels';
import { forceFilterGradPath, useIm2col } from '../../../trainer/wasm-kernels/conv2d-backprop-filter';
import { forceInputGradSpread } from '../../../trainer/wasm-kernels/conv2d-backprop-input';
import { at, defined, only } from '../../support/checked';
import {
  CONV_CASES,
  label,
  maxError,
  on,
  PAD1,
  PAD2,
  seeded,
  type Pad,
  type Shape4,
  CONV_TRANSPOSE_CASES,
  convTransposeWithGradients,
  layerSizedConvWithGradients,
} from '../support/conv-cases';

/** Conv2DBackpropFilter on wasm against cpu for one convolution's shapes. */
async function expectFilterGradientMatchesCpu(xShape: Shape4, fShape: Shape4, stride: number, pad: Pad): Promise<void> {
  const run = () => {
    const x = seeded(xShape, 1);
    const y = tf.conv2d(x as tf.Tensor4D, tf.zeros(fShape) as tf.Tensor4D, stride, pad);
    const dy = seeded(y.shape, 2);
    return tf
      .engine()
      .runKernel(
        'Conv2DBackpropFilter',
        { x, dy },
        { strides: stride, pad, dataFormat: 'NHWC', filterShape: fShape },
      ) as tf.Tensor;
  };
  const expected = only(await on('cpu', run));
  const actual = only(await on('wasm', run));
  expect(actual.shape).toEqual(fShape);
  expect(maxError(actual, expected)).toBeLessThan(1e-4);
}

let wasmThreads = 0;
beforeAll(async () => {
  // Two threads, so every comparison below also covers the threaded build (trainer/wasm-threads.ts);
  // the wasm convolutions, not onnxruntime's (tests/trainer/native-conv covers those).
  wasmThreads = (await initBackend('wasm', { threads: 2, nativeConv: false })).threads;
});

test('the wasm backend runs on the two threads it was asked for', () => {
  expect(wasmThreads).toBe(2);
});

test('a layer-sized convolution, split across the thread pool, matches cpu with its gradients', async () => {
  const expected = await on('cpu', layerSizedConvWithGradients);
  const actual = await on('wasm', layerSizedConvWithGradients);
  expected.forEach((e, i) => expect(maxError(at(actual, i), e)).toBeLessThan(1e-4));
});

test('registerWasmGradientKernels is idempotent and names its kernels', () => {
  const first = registerWasmGradientKernels();
  const kernel = tf.getKernel('Conv2DBackpropFilter', 'wasm');
  expect(registerWasmGradientKernels()).toEqual(first);
  expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBe(kernel);
  expect(first).toEqual([
    'BatchMatMul',
    'Conv2DBackpropFilter',
    'Conv2DBackpropInput',
    'Identity',
    'Slice',
    'SplitV',
    'Sum',
  ]);
});

// [a shape, b shape, transposeA, transposeB]: the attention's products and their gradients.
const MATMUL_CASES: [number[], number[], boolean, boolean][] = [
  [[7, 5], [9, 5], false, true], // distances a·bᵀ
  [[7, 5], [7, 9], true, false], // gradient Aᵀ·dY
  [[5, 7], [9, 5], true, true],
  [[7, 5], [5, 9], false, false],
  [[2, 7, 5], [2, 9, 5], false, true], // batched
];

test.each(MATMUL_CASES)(
  'BatchMatMul %j·%j (transposeA %s, transposeB %s) matches cpu',
  async (aShape, bShape, ta, tb) => {
    const run = () => tf.matMul(seeded(aShape, 3) as tf.Tensor2D, seeded(bShape, 4) as tf.Tensor2D, ta, tb);
    const expected = only(await on('cpu', run));
    const actual = only(await on('wasm', run));
    expect(maxError(actual, expected)).toBeLessThan(1e-5);
  },
);

describe.each(CONV_CASES)('conv kernels match cpu', (...conv) => {
  const [xShape, fShape, stride, pad] = conv;
  test(`Conv2DBackpropFilter, ${label(conv)}`, async () => {
    await expectFilterGradientMatchesCpu(xShape, fShape, stride, pad);
  });

  test(`Conv2DBackpropInput, ${label(conv)}`, async () => {
    const run = () => {
      const y = tf.conv2d(tf.zeros(xShape) as tf.Tensor4D, tf.zeros(fShape) as tf.Tensor4D, stride, pad);
      const dy = seeded(y.shape, 3);
      const filter = seeded(fShape, 4);
      return tf
        .engine()
        .runKernel(
          'Conv2DBackpropInput',
          { dy, filter },
          { inputShape: xShape, strides: stride, pad, dataFormat: 'NHWC' },
        ) as tf.Tensor;
    };
    const expected = only(await on('cpu', run));
    const actual = only(await on('wasm', run));
    expect(actual.shape).toEqual(xShape);
    expect(maxError(actual, expected)).toBeLessThan(1e-4);
  });
});

// Strided input gradients run as s² phase convolutions; these shapes reach every phase geometry: odd and
// even sizes, 'same'/'valid'/explicit padding, kernels 1 (a phase without taps: the spread path), 3, 4
// and 7, stride 3, and the decoder's transposed convs.
const PHASE_CASES: [Shape4, Shape4, number, Pad][] = [
  [[2, 11, 11, 3], [4, 4, 3, 5], 2, PAD2], // discriminator conv0/conv1, odd
  [[1, 12, 9, 4], [4, 4, 4, 3], 2, PAD1],
  [[1, 7, 7, 2], [1, 1, 2, 3], 2, 'valid'], // a phase with no taps
  [[2, 10, 11, 3], [3, 3, 3, 4], 3, 'same'],
  [[1, 13, 13, 2], [7, 7, 2, 3], 2, PAD2],
  [[1, 8, 8, 2], [5, 5, 2, 3], 3, 'valid'],
];

describe.each([
  ['phases', false],
  ['spread', true],
] as const)('strided Conv2DBackpropInput by %s matches cpu', (_, spread) => {
  afterEach(() => forceInputGradSpread(false));
  test.each(PHASE_CASES.map((c) => [label(c), c] as const))('%s', async (_name, [xShape, fShape, stride, pad]) => {
    forceInputGradSpread(spread);
    const run = () => {
      const y = tf.conv2d(tf.zeros(xShape) as tf.Tensor4D, tf.zeros(fShape) as tf.Tensor4D, stride, pad);
      const dy = seeded(y.shape, 13);
      const filter = seeded(fShape, 14);
      return tf
        .engine()
        .runKernel(
          'Conv2DBackpropInput',
          { dy, filter },
          { inputShape: xShape, strides: stride, pad, dataFormat: 'NHWC' },
        ) as tf.Tensor;
    };
    const expected = only(await on('cpu', run));
    const actual = only(await on('wasm', run));
    expect(maxError(actual, expected)).toBeLessThan(1e-4);
  });
});

test.each(CONV_TRANSPOSE_CASES)(
  'convTranspose2dTorch of %j (k %i, s %i, p %i) and its gradients match cpu',
  async (xShape, k, s, p) => {
    const expected = await on('cpu', convTransposeWithGradients(xShape, k, s, p));
    const actual = await on('wasm', convTransposeWithGradients(xShape, k, s, p));
    expected.forEach((e, i) => expect(maxError(at(actual, i), e)).toBeLessThan(1e-4));
  },
);

test('Identity shares its input buffer on wasm; each reference frees on its own', async () => {
  await tf.setBackend('wasm');
  const x = seeded([64, 64], 11);
  const dataIds = tf.backend().numDataIds();
  const copy = tf.clone(x);
  // A clone is a new tensor over the same data: no new buffer.
  expect(tf.backend().numDataIds()).toBe(dataIds);
  const expected = Array.from(x.dataSync());
  x.dispose();
  expect(Array.from(copy.dataSync())).toEqual(expected);
  // A gradient through clone (whose backward saves and clones) is still exact.
  const w = seeded([8], 12);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.clone(t), tf.clone(t))))(w);
  const twice = tf.mul(w, 2);
  expect(
    maxError(
      { shape: g.shape, values: g.dataSync() as Float32Array },
      { shape: w.shape, values: twice.dataSync() as Float32Array },
    ),
  ).toBeLessThan(1e-6);
  tf.dispose([w, g, twice]);
  // The shared buffer goes with its last reference.
  expect(tf.backend().numDataIds()).toBe(dataIds);
  copy.dispose();
  expect(tf.backend().numDataIds()).toBe(dataIds - 1);
});

test('the kernels leak no memory on wasm', async () => {
  await tf.setBackend('wasm');
  const x = seeded([1, 8, 8, 3], 5);
  const w = seeded([3, 3, 3, 4], 6);
  const step = () => {
    tf.tidy(() => {
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, PAD1)))([x, w]);
    });
  };
  step(); // burn-in
  const tensors = tf.memory().numTensors;
  // The composite kernels' intermediates never become engine tensors, so count the backend's buffers too.
  const buffers = tf.backend().numDataIds();
  for (let i = 0; i < 3; i++) step();
  expect(tf.memory().numTensors).toBe(tensors);
  expect(tf.backend().numDataIds()).toBe(buffers);
  tf.dispose([x, w]);
});

/**
 * A small network made of every op a TSPR training step uses, returning a scalar loss. Masks are drawn
 * from seeded noise, never compared against values that depend on the variables, because TF.js has no
 * gradient for Greater/Less.
 */
function composite(v: CompositeVariables, x: tf.Tensor4D): tf.Scalar {
  const reflect = (t: tf.Tensor4D, p: number) =>
    tf.mirrorPad(
      t,
      [
        [0, 0],
        [p, p],
        [p, p],
        [0, 0],
      ],
      'reflect',
    );
  const instanceNorm = (t: tf.Tensor4D) => {
    const { mean, variance } = tf.moments(t, [1, 2], true);
    return tf.div(tf.sub(t, mean), tf.sqrt(tf.add(variance, 1e-5))) as tf.Tensor4D;
  };
  let h = tf.relu(instanceNorm(tf.conv2d(reflect(x, 3), v.c7 as tf.Tensor4D, 1, 'valid'))); // [2, 9, 9, 4]
  const r = tf.prelu<tf.Tensor>(instanceNorm(tf.conv2d(reflect(h, 1), v.c3 as tf.Tensor4D, 1, 'valid')), v.alpha); // [2, 9, 9, 4]
  h = tf.add(h, r);
  h = tf.conv2d(h, v.c3s2 as tf.Tensor4D, 2, PAD1); // [2, 5, 5, 6]
  const latent = tf.relu(tf.conv2d(h, v.c1 as tf.Tensor4D, 1, 'valid')); // [2, 5, 5, 6]
  const halves = tf.split(latent, 2, 3); // 2 × [2, 5, 5, 3]
  const [content, style] = [at(halves, 0), at(halves, 1)];
  const glob = tf.broadcastTo(tf.mean(style, [1, 2], true), style.shape); // [2, 5, 5, 3]
  const rows = tf.reshape(tf.concat([content, glob], 3), [-1, 6]); // [50, 6]
  const drop = tf.cast(tf.greater(tf.randomUniform([50, 50], 0, 1, 'float32', 7), 0.2), 'float32');
  const logits = tf.mul(tf.softplus(tf.matMul(tf.matMul(rows, v.m), rows, false, true)), drop); // [50, 50]
  const mixed = tf.matMul(tf.softmax(logits), rows); // [50, 6]
  const squareFn = (t: tf.Tensor, save: tf.GradSaveFunc) => {
    save([t]);
    return {
      value: tf.square(t),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.mul(at(saved, 0), 2)),
    };
  };
  const square = tf.customGrad(squareFn as unknown as Parameters<typeof tf.customGrad>[0]);
  const z = tf.reshape(
    tf.add(mixed, tf.sum(tf.matMul(rows, tf.matMul(square(rows) as tf.Tensor2D, v.m, false, true), true, false))),
    [2, 5, 5, 6],
  ) as tf.Tensor4D;
  const up1 = tf.conv2dTranspose(z, v.t1 as tf.Tensor4D, [2, 10, 10, 4], 2, 'same'); // [2, 10, 10, 4]
  const up2 = tf.slice(
    tf.conv2dTranspose(z, v.t2 as tf.Tensor4D, [2, 12, 12, 4], 2, 'valid'),
    [0, 1, 1, 0],
    [2, 10, 10, 4],
  );
  const out = tf.tanh(tf.conv2d(tf.leakyRelu(tf.add(up1, up2) as tf.Tensor4D, 0.2), v.d4 as tf.Tensor4D, 1, PAD2)); // [2, 11, 11, 1]
  const target = tf.slice(tf.tile(tf.slice(x, [0, 0, 0, 0], [2, 9, 9, 1]), [1, 2, 2, 1]), [0, 0, 0, 0], [2, 11, 11, 1]);
  // SmoothL1 without comparisons on the variables: 0.5·min(|d|,1)² + (|d| − min(|d|,1)).
  const d = tf.abs(tf.sub(out, target));
  const small = tf.minimum(d, 1);
  const smoothL1 = tf.mean(tf.add(tf.mul(tf.square(small), 0.5), tf.sub(d, small)));
  const hinge = tf.mean(tf.maximum(tf.sub(1, tf.rsqrt(tf.add(tf.squaredDifference(content, 0.5), 1))), 0));
  const flip = tf.less(tf.randomUniform(out.shape, 0, 1, 'float32', 8), 0.5);
  const masked = tf.mean(tf.where(flip, out, tf.neg(out)));
  return tf.add(tf.add(smoothL1, hinge), tf.add(masked, tf.sum(tf.square(tf.div(out, 10))))) as tf.Scalar;
}

const VARIABLE_SHAPES = {
  c7: [7, 7, 3, 4],
  c3: [3, 3, 4, 4],
  alpha: [1],
  c3s2: [3, 3, 4, 6],
  c1: [1, 1, 6, 6],
  m: [6, 6],
  t1: [4, 4, 4, 6],
  t2: [4, 4, 4, 6],
  d4: [4, 4, 4, 1],
} satisfies Record<string, number[]>;

type CompositeVariables = Record<keyof typeof VARIABLE_SHAPES, tf.Variable>;

test('tf.variableGrads of a composite of all TSPR ops matches cpu on wasm', async () => {
  const run = (): tf.Tensor[] => {
    let seed = 10;
    // One variable per key of VARIABLE_SHAPES, so the record has every key the composite reads.
    const vars = Object.fromEntries(
      Object.entries(VARIABLE_SHAPES).map(([name, shape]) => [
        name,
        tf.variable(tf.mul(seeded(shape, seed++), 0.3), true, `composite_${name}_${tf.getBackend()}`),
      ]),
    ) as CompositeVariables;
    const x = seeded([2, 9, 9, 3], 9) as tf.Tensor4D;
    const { value, grads } = tf.variableGrads(() => composite(vars, x), Object.values(vars));
    const result = [value, ...Object.values(vars).map((v) => defined(grads[v.name], `the gradient of ${v.name}`))];
    Object.values(vars).forEach((t) => t.dispose());
    return result;
  };
  const expected = await on('cpu', run);
  const actual = await on('wasm', run);
  expect(actual).toHaveLength(Object.keys(VARIABLE_SHAPES).length + 1);
  actual.forEach((result, i) => {
    expect(result.values.some((value) => value !== 0)).toBe(true);
    expect(maxError(result, at(expected, i))).toBeLessThan(1e-4);
  });
});

// Conv2DBackpropFilter has two formulations (im2col for stride 1 and ≥ 64 output channels, the
// transposed correlation otherwise): the rule's own choice at 64 output channels, then every conv case
// with each formulation forced, so both are exact whatever the rule picks.
const WIDE_CASES: [Shape4, Shape4, number, Pad][] = [
  [[1, 7, 7, 3], [3, 3, 3, 64], 1, 'same'], // odd size
  [[2, 6, 5, 8], [3, 3, 8, 64], 1, 'valid'], // batch 2, non-square
  [[1, 9, 9, 4], [4, 4, 4, 64], 1, PAD2], // explicit padding, even kernel
  [[2, 5, 5, 6], [1, 1, 6, 64], 1, 'valid'], // 1×1
  [[1, 9, 9, 4], [3, 3, 4, 64], 2, PAD1], // strided: the rule keeps the correlation
];

describe.each([
  ['rule', undefined, WIDE_CASES],
  ['im2col', 'im2col', [...CONV_CASES, ...WIDE_CASES]],
  ['correlation', 'correlation', WIDE_CASES],
] as const)('Conv2DBackpropFilter by %s matches cpu', (_, path, cases) => {
  afterEach(() => forceFilterGradPath(undefined));
  test.each(cases.map((c) => [label(c), c] as const))('%s', async (_name, [xShape, fShape, stride, pad]) => {
    forceFilterGradPath(path);
    await expectFilterGradientMatchesCpu(xShape, fShape, stride, pad);
  });
});

test('the filter-gradient rule: im2col for wide stride-1 layers on one thread, the correlation otherwise', () => {
  const info = (channels: number, stride: number) =>
    tf.backend_util.computeConv2DInfo([4, 34, 34, 64], [3, 3, 64, channels], stride, 1, 'valid');
  expect(useIm2col(info(64, 1), 1)).toBe(true);
  expect(useIm2col(info(32, 1), 1)).toBe(false);
  expect(useIm2col(info(64, 2), 1)).toBe(false);
  expect(useIm2col(info(64, 1), 2)).toBe(false);
});

test('the im2col formulation leaks no memory on wasm', async () => {
  await tf.setBackend('wasm');
  forceFilterGradPath('im2col');
  const x = seeded([1, 8, 8, 3], 5);
  const w = seeded([3, 3, 3, 4], 6);
  const step = (stride: number) => {
    tf.tidy(() => {
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, PAD1)))([
        x,
        w,
      ]);
    });
  };
  step(1); // burn-in
  step(2);
  const tensors = tf.memory().numTensors;
  const buffers = tf.backend().numDataIds();
  for (let i = 0; i < 3; i++) [1, 2].forEach(step);
  expect(tf.memory().numTensors).toBe(tensors);
  expect(tf.backend().numDataIds()).toBe(buffers);
  tf.dispose([x, w]);
  forceFilterGradPath(undefined);
});
