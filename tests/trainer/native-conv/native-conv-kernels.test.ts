/**
 * The native (onnxruntime) convolutions against the cpu backend's reference kernels: the forward
 * convolution and both gradients for every convolution shape the model uses, transposed convolutions
 * with their gradients, with the wasm backend on two threads (its heap is then a SharedArrayBuffer,
 * which the kernels must copy out of), and no leak of tensors, buffers or sessions.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../../trainer/backend';
import {
  installNativeConvKernels,
  nativeConvSessionCount,
  uninstallNativeConvKernels,
} from '../../../trainer/native-conv/native-conv-kernels';
import { at, only } from '../../support/checked';
import {
  CONV_CASES,
  label,
  maxError,
  on,
  PAD1,
  seeded,
  CONV_TRANSPOSE_CASES,
  convTransposeWithGradients,
  layerSizedConvWithGradients,
} from '../support/conv-cases';

let native: boolean | undefined;
beforeAll(async () => {
  native = (await initBackend('wasm', { threads: 2, nativeConv: true })).nativeConv;
});

test('onnxruntime loads here, so the wasm backend trains with native convolutions', () => {
  expect(native).toBe(true);
});

describe.each(CONV_CASES)('native convolutions match cpu', (...conv) => {
  const [xShape, fShape, stride, pad] = conv;

  test(`Conv2D and both gradients, ${label(conv)}`, async () => {
    const run = () => {
      const x = seeded(xShape, 1) as tf.Tensor4D;
      const w = seeded(fShape, 2) as tf.Tensor4D;
      const y = tf.conv2d(x, w, stride, pad);
      const dy = seeded(y.shape, 3);
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), dy)),
      )([x, w]);
      return [y, ...grads];
    };
    const expected = await on('cpu', run);
    const before = nativeConvSessionCount();
    const actual = await on('wasm', run);
    expect(nativeConvSessionCount()).toBeGreaterThan(before); // the native path ran: new shapes, new sessions
    expected.forEach((e, i) => expect(maxError(at(actual, i), e)).toBeLessThan(1e-4));
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

test('a layer-sized convolution matches cpu with its gradients', async () => {
  const expected = await on('cpu', layerSizedConvWithGradients);
  const actual = await on('wasm', layerSizedConvWithGradients);
  expected.forEach((e, i) => expect(maxError(at(actual, i), e)).toBeLessThan(1e-4));
});

test('one session per shape: a repeated convolution reuses its sessions, and nothing leaks', async () => {
  await tf.setBackend('wasm');
  const x = seeded([1, 8, 8, 3], 5);
  const w = seeded([3, 3, 3, 4], 6);
  const step = () => {
    tf.tidy(() => {
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, PAD1)))([x, w]);
    });
  };
  step(); // builds the forward, input-gradient and filter-gradient sessions of this shape
  const sessions = nativeConvSessionCount();
  const tensors = tf.memory().numTensors;
  const buffers = tf.backend().numDataIds();
  for (let i = 0; i < 3; i++) step();
  expect(nativeConvSessionCount()).toBe(sessions);
  expect(tf.memory().numTensors).toBe(tensors);
  expect(tf.backend().numDataIds()).toBe(buffers);
  tf.dispose([x, w]);
});

test('uninstalling puts the wasm kernels back, with the same results, and installing again is idempotent', async () => {
  const nativeKernel = tf.getKernel('Conv2D', 'wasm')?.kernelFunc;
  const run = () =>
    tf.conv2d(seeded([1, 6, 6, 3], 1) as tf.Tensor4D, seeded([3, 3, 3, 2], 2) as tf.Tensor4D, 1, 'same');
  const withNative = only(await on('wasm', run));
  uninstallNativeConvKernels();
  expect(nativeConvSessionCount()).toBe(0);
  expect(tf.getKernel('Conv2D', 'wasm')?.kernelFunc).not.toBe(nativeKernel);
  const withWasm = only(await on('wasm', run));
  expect(maxError(withWasm, withNative)).toBeLessThan(1e-4);
  expect(installNativeConvKernels(1)).toBe(true);
  const again = tf.getKernel('Conv2D', 'wasm')?.kernelFunc;
  expect(installNativeConvKernels(1)).toBe(true);
  expect(tf.getKernel('Conv2D', 'wasm')?.kernelFunc).toBe(again);
});
