/**
 * The TSPR training losses as pure functions of tensors, each returning a scalar.
 *
 * TSPR (Svoboda, Anoosheh, Osendorfer, Masci, "Two-Stage Peer-Regularized Feature Recombination for
 * Arbitrary Image Style Transfer", CVPR 2020) trains three optimisers per iteration on the terms below;
 * the formulas follow the authors' official code (nnaisense/conditional-style-transfer,
 * models/gan_aux_model.py). Every function here is the unweighted term: the training step multiplies
 * by the λ of its preset (trainer/config.ts), so a loss can be tested on a hand-computed case without
 * knowing the weights.
 *
 * Latents are NHWC. Detaching targets is the caller's job (with `stopGradient`), because which side of
 * a term must not learn depends on the optimiser step, not on the formula.
 */
import * as tf from '@tensorflow/tfjs-core';

export { stopGradient } from './nn/stop-gradient';

function assertSameShape(a: tf.Tensor, b: tf.Tensor, what: string): void {
  // tf.sub would broadcast mismatched shapes into a silently wrong loss, so refuse them instead.
  tf.util.assertShapesMatch(a.shape, b.shape, `${what}: `);
}

function assertNonEmpty(pairs: readonly unknown[], what: string): void {
  if (pairs.length === 0) throw new Error(`${what} needs at least one (output, target) pair, got none.`);
}

/** Mean of equally weighted scalar terms. */
function meanOf(terms: tf.Scalar[]): tf.Scalar {
  return tf.div(tf.addN(terms), terms.length);
}

/**
 * The distance d(u, v) used by every latent loss: SmoothL1 with β = 1 (0.5·x² where |x| < 1, else
 * |x| − 0.5) of u − v, summed over channels and averaged over batch, height and width.
 *
 * Summing over channels (rather than averaging) matches the official code, so the scale of the latent
 * losses grows with the latent width; the λ weights were tuned for that scale.
 *
 * @param u a latent, [B, H, W, C]
 * @param v a latent of the same shape
 */
export function smoothL1Distance(u: tf.Tensor4D, v: tf.Tensor4D): tf.Scalar {
  assertSameShape(u, v, 'smoothL1Distance');
  return tf.tidy(() => {
    const absDiff = tf.abs(tf.sub(u, v)); // [B, H, W, C]
    // Branchless Huber: with q = min(|x|, 1), 0.5·q² + (|x| − q) is 0.5·x² below 1 and |x| − 0.5 above,
    // and its gradient is x clipped to [−1, 1], as PyTorch's SmoothL1. q is written |x| − relu(|x| − 1):
    // the same values and gradient as tf.minimum, whose gradient needs a broadcast LessEqual that is
    // 10× slower on wasm than relu's.
    const quadratic = tf.sub(absDiff, tf.relu(tf.sub(absDiff, 1)));
    const perElement = tf.add(tf.mul(0.5, tf.square(quadratic)), tf.sub(absDiff, quadratic)); // [B, H, W, C]
    const perPosition = tf.sum(perElement, -1); // [B, H, W]
    return tf.mean(perPosition) as tf.Scalar;
  });
}

/** Mean squared error over every element (PyTorch's `MSELoss()` with its default mean reduction). */
export function mse(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  assertSameShape(a, b, 'mse');
  return tf.tidy(() => tf.mean(tf.squaredDifference(a, b)) as tf.Scalar);
}

/**
 * Content feature cycle loss (auxiliary step): mean[d(E(fake_B)_C, z_C(real_A)), d(E(rec_A)_C, z_C(real_A))].
 * The stylised image and the reconstruction must both keep the content code of the photo.
 *
 * The caller must pass `targetContent` through `stopGradient`: only the encoder applied to the
 * outputs learns from this term, not the encoding of the target.
 *
 * @param encodedFakeContent content part of E(fake_B), [B, H, W, Cc]
 * @param encodedRecContent content part of E(rec_A), [B, H, W, Cc]
 * @param targetContent content part of z(real_A), detached, [B, H, W, Cc]
 */
export function contentCycleLoss(
  encodedFakeContent: tf.Tensor4D,
  encodedRecContent: tf.Tensor4D,
  targetContent: tf.Tensor4D,
): tf.Scalar {
  return tf.tidy(() =>
    meanOf([smoothL1Distance(encodedFakeContent, targetContent), smoothL1Distance(encodedRecContent, targetContent)]),
  );
}

/** Style codes of the four images of a batch (global and local style channels of each latent). */
export interface StyleCodes {
  /** z_S(real_A), the content photo. */
  realA: tf.Tensor4D;
  /** z_S(style_A), another photo (same class as real_A). */
  styleA: tf.Tensor4D;
  /** z_S(real_B), a painting of painter c. */
  realB: tf.Tensor4D;
  /** z_S(style_B), another painting by the same painter c. */
  styleB: tf.Tensor4D;
}

/**
 * Metric loss on style codes (auxiliary step): pulls the codes of same-class images together and pushes
 * photos and paintings at least `margin` apart on average.
 *
 * pos = {d(styleB, realB), d(styleA, realA)}, neg = {d(styleA, realB), d(styleB, realA)},
 * L = mean(pos) + max(0, margin − mean(neg)). The hinge acts on the mean of the negatives, not on each
 * negative, as in the official code.
 *
 * @param codes the four style codes, all of one shape
 * @param margin the hinge margin (`metricMargin` in the presets, 1.0 in the official code)
 */
export function metricLoss(codes: StyleCodes, margin: number): tf.Scalar {
  if (!Number.isFinite(margin)) throw new Error(`metricLoss margin must be a finite number, got ${margin}.`);
  return tf.tidy(() => {
    const positive = meanOf([smoothL1Distance(codes.styleB, codes.realB), smoothL1Distance(codes.styleA, codes.realA)]);
    const negative = meanOf([smoothL1Distance(codes.styleA, codes.realB), smoothL1Distance(codes.styleB, codes.realA)]);
    const hinge = tf.relu(tf.sub(margin, negative));
    return tf.add(positive, hinge);
  });
}

/**
 * Latent cycle loss (auxiliary step): the mean of d over (output, target) pairs. The training step passes
 * the reference's five pairs: content and style of E(rec_A_aux) against z(real_A), style of
 * E(rec_style_B_aux) against z(style_B), and the two "middle" (encoder stem) features of the same
 * re-encodings against those of the inputs. Pairs may differ in shape from one another.
 *
 * @param pairs (output, target) latents; each pair of one shape
 */
export function latentCycleLoss(pairs: Array<[tf.Tensor4D, tf.Tensor4D]>): tf.Scalar {
  assertNonEmpty(pairs, 'latentCycleLoss');
  return tf.tidy(() => meanOf(pairs.map(([output, target]) => smoothL1Distance(output, target))));
}

/**
 * Reconstruction loss (auxiliary and main steps): the mean of MSE over (output, target) image pairs,
 * i.e. the reference's ½[MSE(rec_A, real_A) + MSE(rec_style_B, style_B)] for two pairs.
 *
 * @param pairs (reconstruction, original) images; each pair of one shape
 */
export function reconstructionLoss(pairs: Array<[tf.Tensor, tf.Tensor]>): tf.Scalar {
  assertNonEmpty(pairs, 'reconstructionLoss');
  return tf.tidy(() => meanOf(pairs.map(([output, target]) => mse(output, target))));
}

/** E[(pred − E[other] − target)²] over every element: one half of a relativistic-average LSGAN loss. */
function relativisticSquare(pred: tf.Tensor, other: tf.Tensor, target: number): tf.Scalar {
  const relative = tf.sub(pred, tf.mean(other)); // shape of pred
  return tf.mean(tf.square(tf.sub(relative, target))) as tf.Scalar;
}

/**
 * Relativistic-average LSGAN loss of the discriminator, for one (real, fake) group:
 * R = ½[E(C(x_r) − E C(x_f) − 1)² + E(C(x_f) − E C(x_r) + 1)²]. The expectations run over every element,
 * so patch outputs of any shape ([B, h, w, 1]) are accepted.
 *
 * @param predReal discriminator outputs on real images
 * @param predFake discriminator outputs on generated images
 */
export function ralsganDiscriminatorLoss(predReal: tf.Tensor, predFake: tf.Tensor): tf.Scalar {
  return tf.tidy(() =>
    tf.mul(0.5, tf.add(relativisticSquare(predReal, predFake, 1), relativisticSquare(predFake, predReal, -1))),
  );
}

/**
 * Relativistic-average LSGAN loss of the generator, for one (real, fake) group: the discriminator's
 * targets swapped, G = ½[E(C(x_r) − E C(x_f) + 1)² + E(C(x_f) − E C(x_r) − 1)²]. The real outputs are
 * not detached: the relativistic generator loss learns through both expectations.
 *
 * @param predReal discriminator outputs on real images
 * @param predFake discriminator outputs on generated images
 */
export function ralsganGeneratorLoss(predReal: tf.Tensor, predFake: tf.Tensor): tf.Scalar {
  return tf.tidy(() =>
    tf.mul(0.5, tf.add(relativisticSquare(predReal, predFake, -1), relativisticSquare(predFake, predReal, 1))),
  );
}

/**
 * Transfer latent cycle loss (main step): the stylised image must re-encode to the photo's content and
 * the exemplar's style, ½[d(E(fake_B)_C, z_C(real_A)) + d(E(fake_B)_S, z_S(style_B))].
 *
 * In the main step the encoder is frozen, so gradients reach only the TPFR layer and the main decoder
 * through fake_B; the caller detaches the targets and freezes the encoder with `stopGradient`.
 *
 * @param encodedFakeContent content part of E(fake_B), [B, H, W, Cc]
 * @param targetContent content part of z(real_A), detached
 * @param encodedFakeStyle style part of E(fake_B), [B, H', W', Cs]
 * @param targetStyle style part of z(style_B), detached
 */
export function transferCycleLoss(
  encodedFakeContent: tf.Tensor4D,
  targetContent: tf.Tensor4D,
  encodedFakeStyle: tf.Tensor4D,
  targetStyle: tf.Tensor4D,
): tf.Scalar {
  return tf.tidy(() =>
    meanOf([smoothL1Distance(encodedFakeContent, targetContent), smoothL1Distance(encodedFakeStyle, targetStyle)]),
  );
}
