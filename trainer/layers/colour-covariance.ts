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
 * A is computed exactly, in float64, by the engine's code (functions/engine/colour-covariance.ts), and
 * enters the graph as a constant: the gradient flows through x − μ_out only. Differentiating A itself
 * was tried and failed: its square roots by Newton–Schulz iterations (matrix products, which TF.js can
 * differentiate) blew up on near-singular targets, since a grey exemplar has two zero eigenvalues,
 * taking a fine-tune to a reconstruction loss of 1e8 within 20 iterations and to NaN by 120; and an
 * eigendecomposition's gradient is undefined at repeated eigenvalues. With A held, the decoder still
 * learns its contrast: too flat an output is amplified by A, and the loss then pulls on x through Aᵀ.
 */
import * as tf from '@tensorflow/tfjs-core';
import { transportMatrix, type Matrix3 } from '../../functions/engine/colour-covariance';

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
    const own = tf.div(tf.matMul(centred, centred, true, false), h * w).dataSync(); // [B, 3, 3], no gradient
    const target = gaussians.dataSync();
    const maps: number[] = [];
    for (let i = 0; i < b; i++) {
      const source = Array.from(own.subarray(9 * i, 9 * i + 9)) as Matrix3;
      maps.push(...transportMatrix(source, Array.from(target.subarray(12 * i + 3, 12 * i + 12)) as Matrix3));
    }
    const targetMean = tf.reshape(tf.slice(gaussians, [0, 0], [b, 3]), [b, 1, 3]);
    // A is symmetric, so each pixel row x·Aᵀ = x·A.
    const mapped = tf.matMul(centred, tf.tensor3d(maps, [b, 3, 3]));
    return tf.reshape(tf.add(mapped, targetMean), [b, h, w, 3]) as tf.Tensor4D;
  });
}

/** Each image's mean [B, 1, 3] and its pixels with the mean removed, [B, H·W, 3]. */
function centre(images: tf.Tensor4D): { mean: tf.Tensor3D; centred: tf.Tensor3D } {
  const [b, h, w] = images.shape;
  const pixels = tf.reshape(images, [b, h * w, 3]) as tf.Tensor3D;
  const mean = tf.mean(pixels, 1, true) as tf.Tensor3D;
  return { mean, centred: tf.sub(pixels, mean) as tf.Tensor3D };
}
