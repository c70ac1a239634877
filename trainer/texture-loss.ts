/**
 * The texture loss: Peerstyle's addition to TSPR's losses, a direct style signal for fake_B.
 *
 * Why: in the reference, what makes fake_B look like the style is the discriminator and the latent
 * cycle through the encoder's learned style codes. Both need a long training run on thousands of
 * paintings before they say anything about brush strokes; trained on two CPU cores for hours, the main
 * decoder learns to reconstruct and renders recombined style codes as little more than a tint. A fixed
 * random-weight conv net's Gram matrices describe texture well with no training at all (Ustyuzhaninov et
 * al. 2016, "Texture synthesis using shallow convolutional networks with random filters"), so matching
 * them between fake_B and the style exemplar gives the decoder a texture target from the first
 * iteration. No pretrained network is involved.
 *
 * The net: conv5×5 3→32, ReLU → avgpool 2 → conv3×3 32→64, ReLU → avgpool 2 → conv3×3 64→96, ReLU;
 * zero padding, no bias, He-normal weights from a fixed seed (the same net in every run and on every
 * machine). It is deliberately not the net `peerstyle eval` scores with (functions/eval/texture-net.ts:
 * other seed, widths and first kernel), so the evaluation's Gram distance is not the very quantity
 * training minimised.
 *
 * Optionally over an image pyramid (`scales` levels, each the previous average-pooled by 2, the same net
 * at every level): the net sees 17 px at once, which is grain; at a quarter of the side it sees 68 px of
 * the image, the size of a crackle cell or a cobble in a 128 px training crop.
 *
 * The loss, per layer and image: ‖Go − Gs‖ / (‖Go‖ + ‖Gs‖) of the centred Gram matrices (channel
 * covariances), plus the same of the channel means, Frobenius norms; averaged over the three layers and
 * the batch. Each term lies in [0, 1] whatever the scale of the features: a squared error divided by the
 * exemplar's own magnitude was tried first and is unbounded where the exemplar is nearly flat (values of
 * 20 and more on plain backdrops and line drawings), which swamped the reconstruction loss and kept the
 * decoder from learning to reconstruct at all.
 */
import * as tf from '@tensorflow/tfjs-core';
import { must } from '../functions/core/must';
import { Mulberry32 } from './rng';

/** Seed of the texture net's weights. Changing it changes what every run trained against. */
export const TEXTURE_LOSS_SEED = 0x7e27;

const LAYERS = [
  { kernel: 5, cin: 3, cout: 32 },
  { kernel: 3, cin: 32, cout: 64 },
  { kernel: 3, cin: 64, cout: 96 },
] as const;

/** Guards the normalisation against an exemplar with (near-)constant features. */
const EPS = 1e-12;

/** A fixed random-weight conv net and the loss built on it; {@link dispose} releases its filters. */
export class TextureLoss {
  private readonly filters: tf.Tensor4D[];

  /** `scales`: how many pyramid levels are compared (1: the images alone). */
  constructor(
    seed = TEXTURE_LOSS_SEED,
    readonly scales = 1,
  ) {
    if (!Number.isInteger(scales) || scales < 1)
      throw new RangeError(`scales must be a positive integer, got ${scales}`);
    const rng = new Mulberry32(seed);
    this.filters = LAYERS.map(({ kernel, cin, cout }) => {
      const std = Math.sqrt(2 / (kernel * kernel * cin));
      const data = new Float32Array(kernel * kernel * cin * cout);
      for (let i = 0; i < data.length; i++) data[i] = std * gaussian(rng);
      return tf.keep(tf.tensor4d(data, [kernel, kernel, cin, cout]));
    });
  }

  /** Feature maps of images [B, H, W, 3] in [-1, 1], one per layer. */
  features(images: tf.Tensor4D): tf.Tensor4D[] {
    const maps: tf.Tensor4D[] = [];
    let h = images;
    for (const [i, filter] of this.filters.entries()) {
      if (i > 0) h = tf.avgPool(h, 2, 2, 'valid');
      h = tf.relu(tf.conv2d(h, filter, 1, 'same'));
      maps.push(h);
    }
    return maps;
  }

  /**
   * The loss between outputs and exemplars (both [B, H, W, 3] in [-1, 1], paired by batch index).
   * Gradients flow into `outputs` only.
   */
  loss(outputs: tf.Tensor4D, exemplars: tf.Tensor4D): tf.Scalar {
    return tf.tidy(() => {
      const terms: tf.Scalar[] = [];
      let out = outputs;
      let ref = exemplars;
      for (let level = 0; level < this.scales; level++) {
        if (level > 0) {
          out = tf.avgPool(out, 2, 2, 'valid');
          ref = tf.avgPool(ref, 2, 2, 'valid');
        }
        terms.push(...this.levelTerms(out, ref));
      }
      return tf.div(tf.addN(terms), terms.length) as tf.Scalar;
    });
  }

  /** One term per layer of the net: the distance of the Gram matrices plus that of the channel means. */
  private levelTerms(outputs: tf.Tensor4D, exemplars: tf.Tensor4D): tf.Scalar[] {
    // The exemplars are data, not variables: no gradient reaches them.
    const target = this.features(exemplars).map(statistics);
    return this.features(outputs).map((f, i) => {
      const own = statistics(f);
      const reference = must(target[i], `the exemplars' statistics at layer ${i}`);
      return tf.add(boundedDistance(own.gram, reference.gram), boundedDistance(own.mean, reference.mean));
    });
  }

  dispose(): void {
    tf.dispose(this.filters);
  }
}

/** Channel means [B, C] and centred Gram matrices [B, C, C] (covariances over positions) of features. */
function statistics(features: tf.Tensor4D): { mean: tf.Tensor; gram: tf.Tensor } {
  const [b, h, w, c] = features.shape;
  const flat = tf.reshape(features, [b, h * w, c]); // [B, hw, C]
  const mean = tf.mean(flat, 1, true); // [B, 1, C]
  const centred = tf.sub(flat, mean);
  const gram = tf.div(tf.matMul(centred, centred, true, false), h * w); // [B, C, C]
  return { mean, gram };
}

/** ‖a − b‖ / (‖a‖ + ‖b‖ + ε) per batch element (the first axis), averaged: 0 when equal, at most 1. */
function boundedDistance(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  const norm = (t: tf.Tensor) => tf.sqrt(tf.add(tf.sum(tf.square(tf.reshape(t, [t.shape[0], -1])), 1), EPS));
  return tf.mean(tf.div(norm(tf.sub(a, b)), tf.add(tf.add(norm(a), norm(b)), EPS))) as tf.Scalar;
}

/** A standard normal draw (Box–Muller) from a uniform generator. */
function gaussian(rng: Mulberry32): number {
  const u = Math.max(rng.next(), 1e-12);
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
