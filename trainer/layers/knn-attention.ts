/**
 * The graph and attention arithmetic of the TPFR layer, as pure functions of tensors: squared Euclidean
 * distances between two sets of rows, the K-nearest-neighbour mask (ties kept), and the masked softmax of
 * the attention logits. They hold no parameters, so the training forward pass, the chunked inference
 * path and tests share them (official code: models/utils.py PairwiseDistance and the tail of
 * PeerRegularizationLayerAttBidir.recompose_*_features in models/layers.py).
 *
 * The neighbour mask is a constant for differentiation (the official code builds it from torch.topk and a
 * comparison, neither of which passes a gradient), so it is wrapped to return zero gradients: TopK and
 * LessEqual have no gradient in TF.js, and an encoder upstream would otherwise fail its backward pass.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Added to the logits of non-neighbours before the softmax (the official code's constant). */
export const NON_NEIGHBOUR_LOGIT = -1e9;

/** Squared Euclidean distances ‖a_i‖² − 2·a_i·b_j + ‖b_j‖² between rows a [N, D] and b [M, D] → [N, M]. */
export function pairwiseSquaredDistances(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (a.shape[1] !== b.shape[1]) {
    throw new Error(`Distances need rows of one width, got ${a.shape[1]} and ${b.shape[1]} columns.`);
  }
  return tf.tidy(() => {
    const a2 = tf.sum(tf.square(a), 1, true); // [N, 1]
    const b2 = tf.reshape(tf.sum(tf.square(b), 1), [1, b.shape[0]]); // [1, M]
    return tf.add(tf.sub(a2, tf.mul(tf.matMul(a, b, false, true), 2)), b2); // [N, M]
  });
}

function checkK(k: number, peers: number): void {
  if (!Number.isInteger(k) || k < 1 || k > peers) {
    throw new Error(
      `K nearest neighbours must be an integer between 1 and the number of peer rows (${peers}), got ${k}.`,
    );
  }
}

/** The mask without any gradient bookkeeping; callers run it with the tape off. */
function knnMaskRaw(dist: tf.Tensor2D, k: number): tf.Tensor2D {
  return tf.tidy(() => {
    // topk keeps the largest values, so negate to get the K smallest distances, sorted.
    const kth = tf.neg(tf.slice(tf.topk(tf.neg(dist), k, true).values, [0, k - 1], [-1, 1])); // [N, 1]
    // dist ≤ kth exactly when step(dist − kth) is 0 (a − b > 0 whenever a > b in IEEE floats). Written
    // this way because wasm's LessEqual takes a slow broadcasting loop: 60–100 ms on a 1024×1024 matrix
    // against 2 ms for the subtract and step.
    return tf.sub(1, tf.step(tf.sub(dist, kth))) as tf.Tensor2D; // [N, M]
  });
}

/**
 * 1 where dist[i, j] ≤ the K-th smallest value of row i, 0 elsewhere ([N, M] → [N, M]). Ties with the
 * K-th value are all kept, so a row can hold more than K ones (the official `gt(dist, topk[K-1])` rule).
 * Passes a zero gradient to `dist`.
 */
export function knnMask(dist: tf.Tensor2D, k: number): tf.Tensor2D {
  checkK(k, dist.shape[1]);
  const masked = tf.customGrad((...args) => {
    const d = args[0] as tf.Tensor2D;
    return { value: knnMaskRaw(d, k), gradFunc: () => tf.zerosLike(d) };
  });
  return masked(dist);
}

/**
 * The K-nearest-neighbour mask of input rows [N, D] against peer rows [M, D] → [N, M]. Distances are
 * computed inside the gradient-free wrapper, so nothing of size N×M is kept for the backward pass.
 */
export function neighbourMask(inputRows: tf.Tensor2D, peerRows: tf.Tensor2D, k: number): tf.Tensor2D {
  checkK(k, peerRows.shape[0]);
  const masked = tf.customGrad((...args) => {
    const [a, b] = args as [tf.Tensor2D, tf.Tensor2D];
    return {
      value: tf.tidy(() => knnMaskRaw(pairwiseSquaredDistances(a, b), k)),
      gradFunc: () => [tf.zerosLike(a), tf.zerosLike(b)],
    };
  });
  return masked(inputRows, peerRows);
}

/** Dropout on the logits, applied only in training. */
export interface LogitDropout {
  training: boolean;
  /** Probability of zeroing a logit; survivors are scaled by 1/(1 − rate), as torch.nn.Dropout. */
  rate: number;
  /** Seed of the dropout pattern; random when absent. */
  seed?: number;
}

/**
 * α = softmax_j(softplus(dropout(e)) + (−1e9 where mask = 0)), for logits e [N, M] and a 0/1 mask [N, M].
 * Rows sum to 1 and are exactly 0 outside the mask (exp(−1e9) underflows to 0 in float32).
 */
export function maskedAttention(logits: tf.Tensor2D, mask: tf.Tensor2D, dropout: LogitDropout): tf.Tensor2D {
  return tf.tidy(() => {
    const dropped =
      dropout.training && dropout.rate > 0 ? tf.dropout(logits, dropout.rate, undefined, dropout.seed) : logits;
    const penalty = tf.mul(tf.sub(1, mask), NON_NEIGHBOUR_LOGIT); // [N, M]: 0 for neighbours
    return tf.softmax(tf.add(tf.softplus(dropped), penalty)) as tf.Tensor2D; // [N, M]
  });
}
