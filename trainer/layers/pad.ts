/**
 * Spatial padding of NHWC tensors by the same amount on all four sides, with reflection (PyTorch's
 * ReflectionPad2d, used before every stride-1 convolution of TSPR's residual blocks and 7×7 convs) or
 * zeros (the stride-2 and discriminator convolutions). Keeping padding separate from the convolution
 * lets both modes feed one 'valid' convolution, which behaves the same on every TF.js backend.
 */
import * as tf from '@tensorflow/tfjs-core';

import type { PadMode } from '../nn/spec';

/**
 * Pads H and W by `padding` pixels on each side.
 *
 * Reflection excludes the edge pixel ([a b c] padded by 1 is [b a b c b]), so it needs
 * `padding < H` and `padding < W`, the same limit PyTorch enforces.
 *
 * @param x - [B, H, W, C]
 * @returns [B, H + 2·padding, W + 2·padding, C]
 */
export function pad2d(x: tf.Tensor4D, padding: number, mode: PadMode): tf.Tensor4D {
  if (padding === 0) return x;
  const [, h, w] = x.shape;
  const spec: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [padding, padding],
    [padding, padding],
    [0, 0],
  ];
  if (mode === 'zero') return tf.pad(x, spec);
  if (mode === 'reflect') {
    if (padding >= h || padding >= w) {
      throw new Error(`Reflection padding ${padding} needs an input larger than ${padding} px; got ${h}×${w}.`);
    }
    return tf.mirrorPad(x, spec, 'reflect');
  }
  throw new Error(`Unknown pad mode "${String(mode)}". Expected one of: reflect, zero.`);
}
