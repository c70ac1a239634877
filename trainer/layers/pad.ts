/**
 * Spatial padding of NHWC tensors by the same amount on all four sides, with reflection (PyTorch's
 * ReflectionPad2d, used before every stride-1 convolution of TSPR's residual blocks and 7×7 convs) or
 * zeros (the stride-2 and discriminator convolutions). Keeping padding separate from the convolution
 * lets both modes feed one 'valid' convolution, which behaves the same on every TF.js backend.
 */
import * as tf from '@tensorflow/tfjs-core';

import { fusedReflectPadGrad } from '../kernels';
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
    return reflectPad(x, padding);
  }
  throw new Error(`Unknown pad mode "${String(mode)}". Expected one of: reflect, zero.`);
}

/**
 * Reflection padding with its full gradient. tfjs-core's MirrorPad gradient (4.22) only slices the
 * centre out of dy, dropping what flowed through the mirrored border copies, so the pixels next to every
 * edge of every reflect-padded layer would receive too little gradient; this adds those parts back.
 */
function reflectPad(x: tf.Tensor4D, padding: number): tf.Tensor4D {
  const spec: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [padding, padding],
    [padding, padding],
    [0, 0],
  ];
  const padded = tf.customGrad((...args) => {
    const input = args[0] as tf.Tensor4D;
    return {
      value: tf.mirrorPad(input, spec, 'reflect'),
      gradFunc: (dy: tf.Tensor) =>
        fusedReflectPadGrad(dy as tf.Tensor4D, padding) ??
        foldReflection(foldReflection(dy as tf.Tensor4D, 1, padding), 2, padding),
    };
  });
  return padded(x) as tf.Tensor4D;
}

/**
 * The adjoint of reflection padding along one axis: [.., n + 2p, ..] → [.., n, ..]. Padded index i < p
 * copied source index p − i, and padded index p + n + j copied source index n − 2 − j, so each border
 * strip is reversed and added onto the source rows it came from (1..p and n−1−p..n−2).
 */
function foldReflection(dy: tf.Tensor4D, axis: 1 | 2, p: number): tf.Tensor4D {
  const n = dy.shape[axis] - 2 * p;
  const along = (start: number, size: number): tf.Tensor4D => {
    const begin = [0, 0, 0, 0];
    const sizes = [-1, -1, -1, -1];
    begin[axis] = start;
    sizes[axis] = size;
    return tf.slice(dy, begin, sizes);
  };
  const placeAt = (t: tf.Tensor4D, before: number, after: number): tf.Tensor4D => {
    const spec: [number, number][] = [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ];
    spec[axis] = [before, after];
    return tf.pad(t, spec);
  };
  const centre = along(p, n);
  const first = placeAt(tf.reverse(along(0, p), axis), 1, n - 1 - p);
  const last = placeAt(tf.reverse(along(p + n, p), axis), n - 1 - p, 1);
  return tf.addN([centre, first, last]);
}
