/**
 * TSPR's conditional patch discriminator (Svoboda et al., CVPR 2020; official code models/networks.py,
 * NLayerMultiDiscriminatorNoisy, selected by --netD disc_noisy). It judges an image together with the
 * style exemplar it should match, stacked on channels, with Gaussian noise on the input to keep the
 * discriminator from overfitting. Five 4×4 convs with zero padding 2 produce one logit per patch
 * (68×68 for 256 px); there is no sigmoid, the loss applies its own.
 */
import * as tf from '@tensorflow/tfjs-core';

import type { ModelConfig } from '../config';
import { conv, leakyRelu, norm } from '../layers/builders';
import { applyLayers, declareLayers } from '../nn/apply';
import type { ParamStore } from '../nn/params';
import type { Layer } from '../nn/spec';

/** Negative slope of the discriminator's leaky ReLUs. */
const SLOPE = 0.2;

/** The five discriminator convs under `disc.`: [B, H, W, 6] → [B, H/4 + 4, W/4 + 4, 1]. */
export function discriminatorLayers(cfg: ModelConfig): Layer[] {
  const { ndf } = cfg;
  const k4 = (name: string, cin: number, cout: number, stride: number): Layer =>
    conv(`disc.${name}`, cin, cout, 4, { stride, padding: 2 });
  // Shape comments assume H and W are multiples of 4 (every crop size is).
  return [
    k4('conv0', 6, ndf, 2), // [B, H/2 + 1, W/2 + 1, ndf]
    leakyRelu(SLOPE),
    k4('conv1', ndf, 2 * ndf, 2), // [B, H/4 + 1, W/4 + 1, 2ndf]
    norm(),
    leakyRelu(SLOPE),
    k4('conv2', 2 * ndf, 4 * ndf, 1), // [B, H/4 + 2, W/4 + 2, 4ndf]
    norm(),
    leakyRelu(SLOPE),
    k4('conv3', 4 * ndf, 8 * ndf, 1), // [B, H/4 + 3, W/4 + 3, 8ndf]
    norm(),
    leakyRelu(SLOPE),
    k4('conv4', 8 * ndf, 1, 1), // [B, H/4 + 4, W/4 + 4, 1]
  ];
}

/** Declares the discriminator parameters under `disc.`. */
export function declareDiscriminator(store: ParamStore, cfg: ModelConfig): void {
  declareLayers(store, discriminatorLayers(cfg));
}

/**
 * Patch logits for images judged against style exemplars.
 *
 * @param image - [B, H, W, 3], real or generated, in [-1, 1]
 * @param exemplar - [B, H, W, 3], or [1, H, W, 3] to judge the whole batch against one exemplar
 * @param noise - optional [B, H, W, 6] added to the stacked input; the caller draws it (randn · discriminatorNoise)
 *   so that the training loop owns the random stream
 * @returns [B, h, w, 1] logits
 */
export function discriminate(
  store: ParamStore,
  cfg: ModelConfig,
  image: tf.Tensor4D,
  exemplar: tf.Tensor4D,
  noise?: tf.Tensor4D,
): tf.Tensor4D {
  const [b, h, w, c] = image.shape;
  const [eb, eh, ew, ec] = exemplar.shape;
  if (c !== 3 || ec !== 3 || eh !== h || ew !== w || (eb !== b && eb !== 1)) {
    throw new Error(
      `The discriminator expects an image [B, H, W, 3] and an exemplar [B or 1, H, W, 3]; got [${image.shape}] and [${exemplar.shape}].`,
    );
  }
  if (noise && noise.shape.join('x') !== [b, h, w, 6].join('x')) {
    throw new Error(`Discriminator noise must have shape [${[b, h, w, 6]}], got [${noise.shape}].`);
  }
  return tf.tidy(() => {
    const ex = eb === b ? exemplar : tf.tile(exemplar, [b, 1, 1, 1]); // [B, H, W, 3]
    let input = tf.concat([image, ex], 3); // [B, H, W, 6]
    if (noise) input = tf.add(input, noise);
    return applyLayers(store, discriminatorLayers(cfg), input);
  });
}
