/**
 * `colorCov`: each decoder output takes the whole colour covariance of the image it should look like,
 * not only each channel's mean and deviation (`colorMean`, `colorStd`). The output's colours are moved
 * by the linear map that matches one Gaussian to another with the least squared displacement (the
 * Monge–Kantorovich, or optimal transport, map):
 *   A = S^-½ (S^½ T S^½)^½ S^-½,   y = A (x − μ_out) + μ_target,
 * with S the output's covariance (plus a floor on the diagonal) and T the target's. A style whose
 * colours run along one axis of RGB (blue to yellow, grey to white) needs the cross terms: per channel,
 * a grey exemplar still leaves the content's hues in the output.
 *
 * The matrix square roots are coupled Newton–Schulz iterations (matrix products only, so TF.js can
 * differentiate them); the engine's twin (functions/engine/colour-covariance.ts) uses an exact
 * eigendecomposition, and tests/trainer/layers/colour-covariance.test.ts checks that they agree.
 */
import * as tf from '@tensorflow/tfjs-core';
import { COLOUR_STD_FLOOR } from './colour-head';

/** Added to the output covariance's diagonal, so a flat output is not blown up (colorStd's floor, squared). */
export const COVARIANCE_FLOOR = COLOUR_STD_FLOOR ** 2;

/**
 * Newton–Schulz steps. The slowest eigenvalue to converge is the floor's, at about 1e-4 of the trace:
 * it grows 1.5× a step until it is near its root, then converges quadratically; 24 steps reach float32
 * precision for ratios down to 1e-5.
 */
const NEWTON_SCHULZ_STEPS = 24;

/** Keeps a zero matrix (a flat target) from dividing by zero when it is normalised by its trace. */
const TRACE_EPS = 1e-12;

/** Means and covariances of images [B, H, W, 3]: [B, 12] = mean r, g, b, then the 3×3 covariance row by row. */
export function colourGaussians(images: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, h, w] = images.shape;
    const { mean, centred } = centre(images);
    const cov = tf.div(tf.matMul(centred, centred, true, false), h * w); // [B, 3, 3]
    return tf.concat([tf.reshape(mean, [b, 3]), tf.reshape(cov, [b, 9])], 1) as tf.Tensor2D;
  });
}

/**
 * The `colorCov` output step: an image [B, H, W, 3] mapped onto the means and covariances in
 * `gaussians` [B, 12] ({@link colourGaussians}' layout). Like withMeanColour, the result is not
 * clamped; the engine clamps when it writes bytes.
 */
export function withColourCovariance(image: tf.Tensor4D, gaussians: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w] = image.shape;
    const { centred } = centre(image);
    const own = tf.div(tf.matMul(centred, centred, true, false), h * w) as tf.Tensor3D;
    const targetMean = tf.reshape(tf.slice(gaussians, [0, 0], [b, 3]), [b, 1, 3]);
    const targetCov = tf.reshape(tf.slice(gaussians, [0, 3], [b, 9]), [b, 3, 3]) as tf.Tensor3D;
    const a = transportMatrices(own, targetCov);
    // A is symmetric, so each pixel row x·Aᵀ = x·A.
    return tf.reshape(tf.add(tf.matMul(centred, a), targetMean), [b, h, w, 3]) as tf.Tensor4D;
  });
}

/** The transport map's matrices [B, 3, 3] from source covariances to target ones (see the file comment). */
export function transportMatrices(source: tf.Tensor3D, target: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const floored = tf.add(source, tf.mul(identity(source.shape[0]), COVARIANCE_FLOOR)) as tf.Tensor3D;
    const { root, inverseRoot } = squareRoots(floored);
    const middle = squareRoots(tf.matMul(tf.matMul(root, target), root)).root;
    return tf.matMul(tf.matMul(inverseRoot, middle), inverseRoot);
  });
}

/**
 * Square root and inverse square root of symmetric positive semi-definite matrices [B, 3, 3] by the
 * coupled Newton–Schulz iteration on M / trace(M), whose eigenvalues lie in (0, 1] where it converges.
 */
export function squareRoots(m: tf.Tensor3D): { root: tf.Tensor3D; inverseRoot: tf.Tensor3D } {
  return tf.tidy(() => {
    const eye = identity(m.shape[0]);
    const trace = tf.add(tf.sum(tf.mul(m, eye), [1, 2], true), TRACE_EPS);
    let y = tf.div(m, trace) as tf.Tensor3D;
    let z = eye;
    for (let step = 0; step < NEWTON_SCHULZ_STEPS; step++) {
      const t = tf.mul(tf.sub(tf.mul(eye, 3), tf.matMul(z, y)), 0.5) as tf.Tensor3D;
      y = tf.matMul(y, t);
      z = tf.matMul(t, z);
    }
    const scale = tf.sqrt(trace);
    return { root: tf.mul(y, scale) as tf.Tensor3D, inverseRoot: tf.div(z, scale) as tf.Tensor3D };
  });
}

/** Each image's mean [B, 1, 3] and its pixels with the mean removed, [B, H·W, 3]. */
function centre(images: tf.Tensor4D): { mean: tf.Tensor3D; centred: tf.Tensor3D } {
  const [b, h, w] = images.shape;
  const pixels = tf.reshape(images, [b, h * w, 3]) as tf.Tensor3D;
  const mean = tf.mean(pixels, 1, true) as tf.Tensor3D;
  return { mean, centred: tf.sub(pixels, mean) as tf.Tensor3D };
}

function identity(batch: number): tf.Tensor3D {
  return tf.tile(tf.reshape(tf.eye(3), [1, 3, 3]), [batch, 1, 1]) as tf.Tensor3D;
}
