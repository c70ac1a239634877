/**
 * TSPR's encoder (Svoboda et al., CVPR 2020; official code models/networks.py,
 * create_encoder_model_multiscale with n_downsampling=2). A stem produces the half-resolution "middle"
 * features, the body takes them to the quarter-resolution latent of 12·ngf channels, and the global-style
 * net (global-style.ts) rewrites the latent's middle third. The final ReLU of the body makes every latent
 * value non-negative, as in the official code.
 */
import * as tf from '@tensorflow/tfjs-core';

import { latentChannels, type ModelConfig } from '../config';
import { conv, norm, relu, resnetBlock } from '../layers/builders';
import { applyLayers, declareLayers } from '../nn/apply';
import type { ParamStore } from '../nn/params';
import type { Layer } from '../nn/spec';
import { applyGlobalStyle, globalStyleLayers } from './global-style';

/** The official model_enc_pre, under `enc.pre.`: image → "middle" features at half resolution. */
export function encoderStemLayers(cfg: ModelConfig): Layer[] {
  const { ngf } = cfg;
  return [
    conv('enc.pre.conv0', 3, ngf, 7, { padding: 3, padMode: 'reflect' }), // [B, H, W, ngf]
    norm(),
    relu(),
    conv('enc.pre.down1', ngf, 2 * ngf, 3, { stride: 2, padding: 1 }), // [B, H/2, W/2, 2ngf]
    norm(),
    relu(),
  ];
}

/** The official model_enc, under `enc.main.`: middle features → raw latent at quarter resolution. */
export function encoderBodyLayers(cfg: ModelConfig): Layer[] {
  const { ngf } = cfg;
  const layers: Layer[] = [
    conv('enc.main.down2', 2 * ngf, 4 * ngf, 3, { stride: 2, padding: 1 }), // [B, H/4, W/4, 4ngf]
    norm(),
    relu(),
  ];
  for (let i = 0; i < cfg.encoderBlocks; i++) layers.push(resnetBlock(`enc.main.block${i}`, 4 * ngf));
  layers.push(
    conv('enc.main.out', 4 * ngf, latentChannels(cfg).total, 1), // [B, H/4, W/4, 12ngf]
    norm(),
    relu(),
  );
  return layers;
}

/** Declares every encoder parameter: stem, body and global-style net (all under `enc.`). */
export function declareEncoder(store: ParamStore, cfg: ModelConfig): void {
  declareLayers(store, encoderStemLayers(cfg));
  declareLayers(store, encoderBodyLayers(cfg));
  declareLayers(store, globalStyleLayers(cfg));
}

/** What the encoder hands to TPFR and the decoders. */
export interface Encoding {
  /** Stem output, [B, H/2, W/2, 2·ngf]. */
  middle: tf.Tensor4D;
  /** [B, H/4, W/4, 12·ngf] = content (4ngf) | global style broadcast over h×w (4ngf) | local style (4ngf). */
  latent: tf.Tensor4D;
}

/**
 * Encodes images in [-1, 1].
 *
 * @param x - [B, H, W, 3]
 */
export function encode(store: ParamStore, cfg: ModelConfig, x: tf.Tensor4D): Encoding {
  if (x.shape[3] !== 3) throw new Error(`The encoder expects RGB images [B, H, W, 3], got [${x.shape}].`);
  const [middle, latent] = tf.tidy(() => {
    const mid = applyLayers(store, encoderStemLayers(cfg), x); // [B, H/2, W/2, 2ngf]
    const raw = applyLayers(store, encoderBodyLayers(cfg), mid); // [B, H/4, W/4, 12ngf]
    return [mid, applyGlobalStyle(store, cfg, raw)]; // [B, H/4, W/4, 12ngf]
  });
  return { middle, latent };
}
