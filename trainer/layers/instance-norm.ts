/**
 * Instance normalisation without affine parameters, as PyTorch's InstanceNorm2d(affine=False,
 * track_running_stats=False) which every TSPR generator and discriminator layer uses. Each sample's
 * channel is normalised over its own H×W with the biased variance, in training and at inference alike,
 * so there is no running state to save.
 *
 * A 1×1 map normalises to all zeros, which would silently erase a feature (the global-style net on a
 * too-small latent does exactly that); PyTorch refuses such input in this mode, and so do we.
 */
import * as tf from '@tensorflow/tfjs-core';

import { fusedInstanceNorm } from '../kernels';
import { INSTANCE_NORM_EPS } from '../nn/spec';

/**
 * Normalises an NHWC tensor to zero mean and unit variance per sample and channel.
 *
 * @param x - [B, H, W, C]
 * @param eps - added to the variance before the square root; PyTorch's default is 1e-5
 * @returns [B, H, W, C]
 */
export function instanceNorm(x: tf.Tensor4D, eps: number = INSTANCE_NORM_EPS): tf.Tensor4D {
  const [, h, w] = x.shape;
  if (h * w < 2) {
    throw new Error(
      `Instance norm needs more than one spatial element per channel, got ${h}×${w}; use a larger input.`,
    );
  }
  // One kernel forward and one backward on cpu and wasm (trainer/kernels); the composite elsewhere.
  const fused = fusedInstanceNorm(x, eps);
  if (fused !== undefined) return fused;
  return tf.tidy(() => {
    // tf.moments divides by N (biased), which is what InstanceNorm2d does too.
    const { mean, variance } = tf.moments(x, [1, 2], true); // [B, 1, 1, C] each
    return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))) as tf.Tensor4D;
  });
}
