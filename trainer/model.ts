/**
 * The TSPR model assembled from its networks: one ParamStore holding the encoder (with its global-style
 * net), the main and auxiliary merge + decoders, the TPFR layer and the discriminator, and the
 * stylisation forward pass used for inference and export checks.
 *
 * Follows models/gan_aux_model.py of the official code (nnaisense/conditional-style-transfer).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from './config';
import { latentChannels } from './config';
import { ParamStore } from './nn/params';
import { declareEncoder, encode } from './networks/encoder';
import { declareDecoder, decode, decoderColour } from './networks/decoder';
import { declareDiscriminator } from './networks/discriminator';
import { declareTpfr, tpfr } from './layers/tpfr';

/** Declares every parameter of the model, seeded by `seed`. */
export function createModel(cfg: ModelConfig, seed: number): ParamStore {
  const store = new ParamStore(seed);
  declareEncoder(store, cfg);
  declareDecoder(store, cfg, 'dec');
  declareDecoder(store, cfg, 'decAux');
  declareTpfr(store, cfg);
  declareDiscriminator(store, cfg);
  return store;
}

/** Splits a latent [B, h, w, 12ngf] into its content part (4ngf) and its style part (8ngf: global | local). */
export function splitLatent(cfg: ModelConfig, latent: tf.Tensor4D): { content: tf.Tensor4D; style: tf.Tensor4D } {
  const { content, total } = latentChannels(cfg);
  const [b, h, w] = latent.shape;
  return {
    content: tf.slice(latent, [0, 0, 0, 0], [b, h, w, content]),
    style: tf.slice(latent, [0, 0, 0, content], [b, h, w, total - content]),
  };
}

/**
 * Inference: content image(s) [B, H, W, 3] and style image(s) [B', H', W', 3] in [-1, 1] → the stylised
 * image(s) [B, H, W, 3]; the style images' positions are pooled as peers.
 */
export function stylize(store: ParamStore, cfg: ModelConfig, content: tf.Tensor4D, style: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const zContent = encode(store, cfg, content).latent;
    const zStyle = encode(store, cfg, style).latent;
    const { output } = tpfr(store, cfg, zContent, zStyle, { training: false });
    return decode(store, cfg, 'dec', output, styleColour(cfg, style, content.shape[0]));
  });
}

/**
 * The colour statistics a stylised output takes: those of the style images' pixels pooled (the peers
 * pool their positions the same way), one row per content image.
 */
export function styleColour(cfg: ModelConfig, style: tf.Tensor4D, contents: number): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, h, w, c] = style.shape;
    const pooled = decoderColour(cfg, tf.reshape(style, [1, b * h, w, c]) as tf.Tensor4D); // [1, 6] or [1, 12]
    return tf.tile(pooled, [contents, 1]) as tf.Tensor2D;
  });
}
