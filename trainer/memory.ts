/**
 * An estimate of the memory one TSPR training iteration needs, to refuse a request that could never fit
 * before it is queued (the platform's training budget) rather than when the trainer runs out.
 *
 * Counted in float32: the parameters four times over (weights, gradients, Adam's two moments), the
 * activations every forward pass of the iteration keeps for its backward pass (the same passes
 * trainer/flops.ts counts: 9 encodings, 5 decodings, 8 discriminator passes per image of the batch),
 * and the TPFR layer's N × M matrices (distances, kNN mask, attention; per stage). Backends add
 * workspace on top, so this is a lower bound that grows as the real need does: width², depth, crop² and
 * batch all enter it the way they enter the real allocation.
 */
import type { TrainConfig } from './config';
import { latentChannels } from './config';
import { activationElements, countParams } from './nn/shape';
import { encoderBodyLayers, encoderStemLayers } from './networks/encoder';
import { globalStyleLayers } from './networks/global-style';
import { decoderLayers } from './networks/decoder';
import { discriminatorLayers } from './networks/discriminator';

const FLOAT_BYTES = 4;

/** The parts of the estimate, in bytes. */
export interface IterationMemory {
  /** Weights, gradients and Adam's two moments. */
  parameters: number;
  /** Activations the forward passes keep for the backward pass. */
  activations: number;
  /** TPFR's content × peer matrices. */
  tpfr: number;
  total: number;
}

/** Estimates the memory of one training iteration of `cfg`. */
export function iterationMemory(cfg: TrainConfig): IterationMemory {
  const s = cfg.cropSize;
  const h = s / 4;
  const { total: latent } = latentChannels(cfg);
  const encoder = [...encoderStemLayers(cfg), ...encoderBodyLayers(cfg)];
  const style = globalStyleLayers(cfg);
  const decoder = decoderLayers(cfg, 'dec');
  const discriminator = discriminatorLayers(cfg);
  const params = countParams(encoder) + countParams(style) + 2 * countParams(decoder) + countParams(discriminator);

  const encoderActs =
    activationElements(encoderStemLayers(cfg), [1, s, s, 3]) +
    activationElements(encoderBodyLayers(cfg), [1, s / 2, s / 2, 2 * cfg.ngf]) +
    activationElements(style, [1, h, h, 4 * cfg.ngf]);
  const decoderActs = activationElements(decoder, [1, h, h, latent]);
  const discriminatorActs = activationElements(discriminator, [1, s, s, 6]);
  const decodes = cfg.lambdaTextureCodes > 0 ? 6 : 5; // the texture loss on the style codes decodes once more
  const perImage = 9 * encoderActs + decodes * decoderActs + 8 * discriminatorActs;

  const rows = cfg.batchSize * h * h;
  const tpfrElements = 2 * 3 * rows * rows; // two stages × (distances, mask, attention)

  const parameters = 4 * params * FLOAT_BYTES;
  const activations = cfg.batchSize * perImage * FLOAT_BYTES;
  const tpfr = tpfrElements * FLOAT_BYTES;
  return { parameters, activations, tpfr, total: parameters + activations + tpfr };
}
