/**
 * One-dimensional batch normalisation over rows ([N, F] → [N, F]), as PyTorch's nn.BatchNorm1d, for the
 * attention MLPs of the TPFR layer (the only batch norm in TSPR; every convolution uses instance norm).
 *
 * Training normalises each call with that call's own rows (biased variance) and, when asked, moves the
 * running statistics toward them: running ← (1 − 0.1)·running + 0.1·batch, with the unbiased batch
 * variance for the running variance, exactly PyTorch's rule. Inference normalises with the running
 * statistics and never changes them. Parameters, under a prefix `name`:
 *
 *   `${name}.gamma` [F] trainable scale     `${name}.runningMean` [F] state, starts at 0
 *   `${name}.beta`  [F] trainable shift     `${name}.runningVar`  [F] state, starts at 1
 */
import * as tf from '@tensorflow/tfjs-core';

import type { ParamStore } from '../nn/params';

/** PyTorch's BatchNorm1d default epsilon. */
export const BATCH_NORM_EPS = 1e-5;
/** PyTorch's BatchNorm1d default momentum (weight of the new batch in the running average). */
export const BATCH_NORM_MOMENTUM = 0.1;

/** How a batch-norm call treats statistics. */
export interface BatchNormMode {
  /** true: normalise with the rows' own statistics; false: with the running statistics. */
  training: boolean;
  /** In training, also fold this call's statistics into the running ones. Ignored in inference. */
  updateRunningStats: boolean;
}

/**
 * Registers gamma and beta (trainable) and the running mean and variance (state) under `name`.
 * Gamma starts at 1 and beta at 0: PyTorch's BatchNorm1d defaults, which the official code keeps because
 * its `init_weights` only re-initialises layers whose class name contains "BatchNorm2d".
 */
export function declareBatchNorm1d(store: ParamStore, name: string, features: number): void {
  store.constant(`${name}.gamma`, [features], 1);
  store.constant(`${name}.beta`, [features], 0);
  store.state(`${name}.runningMean`, [features], 0);
  store.state(`${name}.runningVar`, [features], 1);
}

/** (x − mean)/√(var + ε)·gamma + beta, per feature. */
function normalise(
  x: tf.Tensor2D,
  mean: tf.Tensor,
  variance: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
): tf.Tensor2D {
  const scale = tf.mul(tf.rsqrt(tf.add(variance, BATCH_NORM_EPS)), gamma); // [F]
  return tf.add(tf.mul(tf.sub(x, mean), scale), beta); // [N, F]
}

/**
 * Normalises the rows of `x` [N, F] per feature and applies the affine parameters under `name`.
 * Safe inside tf.variableGrads: the running statistics are non-trainable variables updated with
 * `assign`, and they do not feed the training output, so no gradient reaches them.
 */
export function batchNorm1d(store: ParamStore, name: string, x: tf.Tensor2D, mode: BatchNormMode): tf.Tensor2D {
  const gamma = store.get(`${name}.gamma`);
  const beta = store.get(`${name}.beta`);
  const runningMean = store.get(`${name}.runningMean`);
  const runningVar = store.get(`${name}.runningVar`);
  const rows = x.shape[0];
  if (mode.training && rows < 2) {
    // The unbiased variance needs two rows, and one row would normalise to zero (PyTorch refuses too).
    throw new Error(`Batch norm "${name}" needs at least 2 rows in training, got ${rows}.`);
  }
  return tf.tidy(() => {
    if (!mode.training) {
      return normalise(x, runningMean, runningVar, gamma, beta); // [N, F]
    }
    const { mean, variance } = tf.moments(x, 0); // [F], [F] (biased)
    if (mode.updateRunningStats) {
      const m = BATCH_NORM_MOMENTUM;
      const unbiased = tf.mul(variance, rows / (rows - 1));
      runningMean.assign(tf.add(tf.mul(runningMean, 1 - m), tf.mul(mean, m)));
      runningVar.assign(tf.add(tf.mul(runningVar, 1 - m), tf.mul(unbiased, m)));
    }
    return normalise(x, mean, variance, gamma, beta); // [N, F]
  });
}
