/**
 * The style statistics a modulated decoder reads (trainer/layers/style-modulation.ts), computed from a
 * whole latent for the decoder graphs, which take them as an input. Summed in float64, then stored as
 * float32 like the trainer's.
 */
import { DECODER_IO, STYLE_STATISTICS_EPS, TILED_STYLE_CONDITION } from '../../trainer/export/package-format';
import { latentChannels, type ModelConfig } from '../../trainer/config';
import { nchw, type FloatTensor, type OnnxSession } from './onnx-session';

/**
 * The whole-image decoder's feeds for `latent`: with a modulated decoder that takes the condition as an
 * input, `condition`, else the latent's own statistics. A package exported before the whole-image
 * graph took it computes them itself, from `latent` only.
 */
export function decoderFeeds(
  decoder: OnnxSession,
  cfg: ModelConfig,
  latent: FloatTensor,
  condition?: FloatTensor,
): Record<string, FloatTensor> {
  if (!decoder.inputNames.includes(TILED_STYLE_CONDITION)) return { [DECODER_IO.latent]: latent };
  return { [DECODER_IO.latent]: latent, [TILED_STYLE_CONDITION]: condition ?? styleCondition(cfg, latent) };
}

/** Latent [1, 12ngf, h, w] → per style channel its mean, then per style channel its deviation: [1, 2·8ngf, 1, 1]. */
export function styleCondition(cfg: ModelConfig, latent: FloatTensor): FloatTensor {
  const [batch, , h, w] = nchw(latent);
  if (batch !== 1)
    throw new Error(`The style condition is computed for one latent at a time, got a batch of ${batch}.`);
  const { content, total } = latentChannels(cfg);
  const styleChannels = total - content;
  const n = h * w;
  const data = new Float32Array(2 * styleChannels);
  for (let c = 0; c < styleChannels; c++) {
    const offset = (content + c) * n;
    let sum = 0;
    for (let p = 0; p < n; p++) sum += latent.data[offset + p]!;
    const mean = sum / n;
    let squares = 0;
    for (let p = 0; p < n; p++) squares += (latent.data[offset + p]! - mean) ** 2;
    data[c] = mean;
    data[styleChannels + c] = Math.sqrt(squares / n + STYLE_STATISTICS_EPS);
  }
  return { data, dims: [1, 2 * styleChannels, 1, 1] };
}
