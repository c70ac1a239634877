/**
 * The identity with a zero gradient. tfjs-core has no stopGradient op, and TSPR needs one in two
 * places: loss targets that the official code `.detach()`es, and the encoder frozen during the main
 * step (its `requires_grad=False`).
 */
import * as tf from '@tensorflow/tfjs-core';

const blockGradient = tf.customGrad((x: tf.Tensor) => ({
  value: x.clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

export function stopGradient<T extends tf.Tensor>(x: T): T {
  return blockGradient(x) as T;
}
