/**
 * The two convolutions of the TSPR networks in NHWC with PyTorch's arithmetic: a padded, biased
 * Conv2d and a biased ConvTranspose2d whose output size is (in − 1)·stride − 2·padding + kernel.
 * Both call only ops that the cpu and wasm backends implement (pad/mirrorPad, conv2d 'valid',
 * conv2dTranspose with numeric padding), so one forward pass serves both.
 */
import * as tf from '@tensorflow/tfjs-core';

import type { PadMode } from '../nn/spec';
import { pad2d } from './pad';

/**
 * Pads, convolves with no further padding, and adds the bias.
 *
 * @param x - [B, H, W, Cin]
 * @param weight - [k, k, Cin, Cout]
 * @param bias - [Cout]
 * @returns [B, ⌊(H + 2p − k)/s⌋ + 1, ⌊(W + 2p − k)/s⌋ + 1, Cout]
 */
export function conv2dPadded(
  x: tf.Tensor4D,
  weight: tf.Tensor4D,
  bias: tf.Tensor1D,
  stride: number,
  padding: number,
  padMode: PadMode,
): tf.Tensor4D {
  return tf.tidy(() => {
    const padded = pad2d(x, padding, padMode);
    return tf.add(tf.conv2d(padded, weight, stride, 'valid'), bias) as tf.Tensor4D;
  });
}

/**
 * Transposed convolution with PyTorch's ConvTranspose2d(kernel, stride, padding) semantics.
 *
 * TF.js defines conv2dTranspose as the input-gradient of a forward conv2d; that forward conv, with the
 * same kernel, stride and numeric padding, maps our output size back to the input size exactly when
 * out = (in − 1)·stride − 2·padding + kernel, which is why the output shape is passed explicitly.
 *
 * @param x - [B, H, W, Cin]
 * @param weight - [k, k, Cout, Cin] (TF.js conv2dTranspose filter layout)
 * @param bias - [Cout]
 * @returns [B, (H − 1)·s − 2p + k, (W − 1)·s − 2p + k, Cout]
 */
export function convTranspose2dTorch(
  x: tf.Tensor4D,
  weight: tf.Tensor4D,
  bias: tf.Tensor1D,
  stride: number,
  padding: number,
): tf.Tensor4D {
  const [b, h, w] = x.shape;
  const k = weight.shape[0];
  const outChannels = weight.shape[2];
  const outH = (h - 1) * stride - 2 * padding + k;
  const outW = (w - 1) * stride - 2 * padding + k;
  return tf.tidy(
    () => tf.add(tf.conv2dTranspose(x, weight, [b, outH, outW, outChannels], stride, padding), bias) as tf.Tensor4D,
  );
}
