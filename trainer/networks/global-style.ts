/**
 * TSPR's global-style sub-network (Svoboda et al., CVPR 2020; official code models/networks.py,
 * create_encoder_global_model and encode_style_global_local). The middle third of the raw latent,
 * style_glob, is squeezed by stride-2 convs and averaged over space into one vector per image, which then
 * replaces style_glob at every position. The latent thus carries an image-wide style code next to the
 * local one, and the metric loss compares images by it.
 */
import * as tf from '@tensorflow/tfjs-core';

import { latentChannels, type ModelConfig } from '../config';
import { conv, norm, relu } from '../layers/builders';
import { applyLayers } from '../nn/apply';
import type { ParamStore } from '../nn/params';
import type { Layer } from '../nn/spec';

/**
 * globalStyleConvs × [Conv3×3 s2 zero-pad 1, IN, ReLU] at 4·ngf channels, then the spatial mean,
 * under `enc.global.`.
 */
export function globalStyleLayers(cfg: ModelConfig): Layer[] {
  const c = latentChannels(cfg).globalStyle;
  const layers: Layer[] = [];
  for (let i = 0; i < cfg.globalStyleConvs; i++) {
    // [B, h, w, 4ngf] → [B, ⌈h/2⌉, ⌈w/2⌉, 4ngf]
    layers.push(conv(`enc.global.conv${i}`, c, c, 3, { stride: 2, padding: 1 }), norm(), relu());
  }
  layers.push({ kind: 'spatialMean' }); // [B, 1, 1, 4ngf]
  return layers;
}

/**
 * Replaces channels [4·ngf, 8·ngf) of the raw latent with the global style vector computed from them,
 * broadcast over h×w; content and local style pass through unchanged.
 *
 * @param rawLatent - [B, h, w, 12·ngf] straight from the encoder body
 * @returns [B, h, w, 12·ngf] = content | global style (spatially constant) | local style
 */
export function applyGlobalStyle(store: ParamStore, cfg: ModelConfig, rawLatent: tf.Tensor4D): tf.Tensor4D {
  const { content, globalStyle, localStyle, total } = latentChannels(cfg);
  const [, h, w, channels] = rawLatent.shape;
  if (channels !== total) {
    throw new Error(`The global-style net expects a ${total}-channel latent (12·ngf), got ${channels}.`);
  }
  return tf.tidy(() => {
    const [zContent, zGlobal, zLocal] = tf.split(rawLatent, [content, globalStyle, localStyle], 3) as [
      tf.Tensor4D,
      tf.Tensor4D,
      tf.Tensor4D,
    ]; // [B, h, w, 4ngf] each
    const vector = applyLayers(store, globalStyleLayers(cfg), zGlobal); // [B, 1, 1, 4ngf]
    // A broadcasting add rather than tf.tile: tile's gradient adds up one slice per repetition (h·w
    // slices), the add's is one sum over h and w.
    const broadcast = tf.add(tf.zeros([vector.shape[0], h, w, globalStyle]), vector); // [B, h, w, 4ngf]
    return tf.concat([zContent, broadcast, zLocal], 3) as tf.Tensor4D; // [B, h, w, 12ngf]
  });
}
