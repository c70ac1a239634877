/**
 * Floating-point operations of one stylisation (inference forward pass), so that the speed benchmark
 * can turn seconds into GFLOP/s and compare them with what a single convolution reaches on the same
 * machine. Convolutions come from the layer lists through `layerFlops` (2 FLOP per multiply-add); the
 * TPFR layer adds its dense products, counted per stage as in trainer/flops.ts.
 *
 * Two TPFR counts are kept apart on purpose. The model's count is the layer as the paper and the TF.js
 * forward pass compute it (α·V over all M peers). The exported graph multiplies α·V only over the
 * window of nearest peers (every other α is exactly 0) but runs the peer-side MLP once per chunk of
 * content rows, so the FLOPs onnxruntime executes differ; GFLOP/s against the hardware use that count.
 */
import { latentChannels, type ModelConfig } from '../../trainer/config';
import { stageWidths } from '../../trainer/layers/tpfr';
import { decoderLayers } from '../../trainer/networks/decoder';
import { encoderBodyLayers, encoderStemLayers } from '../../trainer/networks/encoder';
import { globalStyleLayers } from '../../trainer/networks/global-style';
import { layerFlops } from '../../trainer/nn/shape';

/** FLOPs of one stylisation, by part. */
export interface StylizeFlops {
  encoderContent: number;
  encoderStyle: number;
  decoder: number;
  /** TPFR as the model defines it (dense attention over all peers). */
  tpfrModel: number;
  /** TPFR as the exported graph executes it (windowed α·V, peer MLP once per call). */
  tpfrExecuted: number;
  /** Encoders + decoder + tpfrModel. */
  model: number;
  /** Encoders + decoder + tpfrExecuted. */
  executed: number;
}

/** Convolution FLOPs of the encoder (stem, body, global-style net) on an H×W image. */
export function encoderFlops(cfg: ModelConfig, height: number, width: number): number {
  return (
    layerFlops(encoderStemLayers(cfg), [1, height, width, 3]) +
    layerFlops(encoderBodyLayers(cfg), [1, height / 2, width / 2, 2 * cfg.ngf]) +
    layerFlops(globalStyleLayers(cfg), [1, height / 4, width / 4, 4 * cfg.ngf])
  );
}

/**
 * FLOPs of stylising an H×W content with one h×w style (both multiples of 4).
 *
 * @param tpfrCalls - how many chunks the engine split the content rows into (for the executed count)
 * @param window - peers per row the exported graph's attention keeps (K + slack)
 */
export function stylizeFlops(
  cfg: ModelConfig,
  content: { height: number; width: number },
  style: { height: number; width: number },
  tpfrCalls: number,
  window: number,
): StylizeFlops {
  const n = (content.height / 4) * (content.width / 4);
  const m = (style.height / 4) * (style.width / 4);
  let tpfrModel = 0;
  let tpfrExecuted = 0;
  // A stage the config switches off (styleTransfer, contentTransfer) is skipped by both consumers.
  const stages = [...(cfg.styleTransfer ? ['s1' as const] : []), ...(cfg.contentTransfer ? ['s2' as const] : [])];
  for (const stage of stages) {
    const w = stageWidths(cfg, stage);
    const values = stage === 's1' ? 8 * cfg.ngf : 4 * cfg.ngf;
    const mlpPerRow = 2 * (w.in * w.hidden + w.hidden * w.out);
    const distances = 2 * n * m * w.in;
    tpfrModel += distances + (n + m) * mlpPerRow + 2 * n * m * values;
    tpfrExecuted += distances + (n + tpfrCalls * m) * mlpPerRow + 2 * n * Math.min(window, m) * values;
  }
  const encoderContent = encoderFlops(cfg, content.height, content.width);
  const encoderStyle = encoderFlops(cfg, style.height, style.width);
  const decoder = layerFlops(decoderLayers(cfg, 'dec'), [
    1,
    content.height / 4,
    content.width / 4,
    latentChannels(cfg).total,
  ]);
  const convs = encoderContent + encoderStyle + decoder;
  return {
    encoderContent,
    encoderStyle,
    decoder,
    tpfrModel,
    tpfrExecuted,
    model: convs + tpfrModel,
    executed: convs + tpfrExecuted,
  };
}
