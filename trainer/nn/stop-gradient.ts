/**
 * The identity in the forward pass with a zero gradient: PyTorch's `.detach()`. tfjs-core has no such
 * op, so it is a custom gradient. TSPR needs it for loss targets that the official code detaches and for
 * the encoder frozen during the main step (its `requires_grad=False`).
 */
import * as tf from '@tensorflow/tfjs-core';

export function stopGradient<T extends tf.Tensor>(x: T): T {
  // Built per call so that importing this module touches no engine state.
  const detached = tf.customGrad<T>(() => ({
    // A clone shares the data buffer, so this copies nothing; it gives the op an output of its own.
    value: x.clone(),
    gradFunc: (dy: T) => tf.zerosLike(dy),
  }));
  return detached(x);
}
