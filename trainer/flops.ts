/**
 * Floating-point operations of one TSPR training iteration, for throughput benchmarks.
 *
 * Counted: the multiply-adds (×2) of every convolution and transposed convolution (trainer/nn/shape.ts)
 * and of the TPFR layer's dense products (distances, MLPs, attention·values), for the forward passes the
 * iteration makes (trainer/train-step.ts); the backward pass is counted as twice the forward, the usual
 * estimate (one product for the input gradient, one for the weight gradient). Norms, activations and
 * element-wise losses are left out: they are a few percent of the total.
 */
import type { TrainConfig } from './config';
import { latentChannels } from './config';
import { layerFlops } from './nn/shape';
import { encoderBodyLayers, encoderStemLayers } from './networks/encoder';
import { globalStyleLayers } from './networks/global-style';
import { decoderLayers } from './networks/decoder';
import { discriminatorLayers } from './networks/discriminator';
import { stageWidths } from './layers/tpfr';

export interface IterationFlops {
  encoderPerImage: number;
  decoderPerImage: number;
  discriminatorPerImage: number;
  tpfr: number;
  /** Forward FLOPs of one iteration. */
  forward: number;
  /** Forward + backward FLOPs of one iteration. */
  total: number;
}

export function iterationFlops(cfg: TrainConfig): IterationFlops {
  const b = cfg.batchSize;
  const s = cfg.cropSize;
  const h = s / 4;
  const { total: latent } = latentChannels(cfg);
  const stem = encoderStemLayers(cfg);
  const encoderPerImage =
    layerFlops(stem, [1, s, s, 3]) +
    layerFlops(encoderBodyLayers(cfg), [1, s / 2, s / 2, 2 * cfg.ngf]) +
    layerFlops(globalStyleLayers(cfg), [1, h, h, 4 * cfg.ngf]);
  const decoderPerImage = layerFlops(decoderLayers(cfg, 'dec'), [1, h, h, latent]);
  const discriminatorPerImage = layerFlops(discriminatorLayers(cfg), [1, s, s, 6]);

  // TPFR: N content rows against M peer rows, both stages.
  const n = b * h * h;
  const m = b * h * h;
  let tpfr = 0;
  for (const stage of ['s1', 's2'] as const) {
    const w = stageWidths(cfg, stage);
    const keyWidth = w.in;
    const valueWidth = stage === 's1' ? 8 * cfg.ngf : 4 * cfg.ngf;
    tpfr += 2 * n * m * keyWidth; // distances
    tpfr += 2 * (n + m) * (w.in * w.hidden + w.hidden * w.out); // the MLP on inputs and peers
    tpfr += 2 * n * m * valueWidth; // attention · values
  }

  // Per iteration (train-step.ts): encoder on 4 inputs + 4 re-encodings + 1 frozen re-encoding; main
  // decoder on 3 latents, auxiliary decoder on 2; discriminator on 4 images in each of the G and D steps.
  // The texture loss on the style codes decodes the transfer once more, through TPFR again.
  const codes = cfg.lambdaTextureCodes > 0 ? 1 : 0;
  const forward =
    b * (9 * encoderPerImage + (5 + codes) * decoderPerImage + 8 * discriminatorPerImage) + (1 + codes) * tpfr;
  return { encoderPerImage, decoderPerImage, discriminatorPerImage, tpfr, forward, total: 3 * forward };
}
