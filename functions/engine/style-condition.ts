/**
 * The style statistics a modulated decoder reads (trainer/layers/style-modulation.ts), computed from a
 * whole latent for the tiled decoder, whose tiles cannot compute them alone. Summed in float64, then
 * stored as float32 like the trainer's and the whole-image graph's.
 */
import { latentChannels, type ModelConfig } from '../../trainer/config';
import { STYLE_STATISTICS_EPS } from '../../trainer/export/package-format';
import { nchw, type FloatTensor } from './onnx-session';

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
