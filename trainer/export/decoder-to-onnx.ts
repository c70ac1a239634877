/**
 * The decoder's ONNX graphs. Without `styleModulation` the decoder is its layer list alone. With it,
 * the modulation layers read the latent's style statistics (trainer/layers/style-modulation.ts), and
 * both graphs take them as the input {@link TILED_STYLE_CONDITION}, which the engine computes
 * (functions/engine/style-condition.ts): a tile cannot compute them alone, and a package may read them
 * from another copy of the content than the one it renders (`defaults.conditionSide`).
 */
import { latentChannels, type ModelConfig } from '../config';
import { styleConditionChannels } from '../layers/style-modulation';
import { decoderLayers } from '../networks/decoder';
import { DEFAULT_OPSET, GraphBuilder } from './graph-builder';
import { emitLayers, type EmitResult, type InstanceNormMode, type ParamSource } from './layers-to-onnx';
import { DECODER_IO, TILED_STYLE_CONDITION } from './package-format';

/** The whole-image decoder: latent [B, 12ngf, h, w] → image [B, 3, 4h, 4w] (pre-tanh with the colour head). */
export function decoderToOnnx(params: ParamSource, cfg: ModelConfig, instanceNorm: InstanceNormMode): Uint8Array {
  const { total } = latentChannels(cfg);
  const g = new GraphBuilder('peerstyle-decoder');
  const latent = g.input(DECODER_IO.latent, ['batch', total, 'height', 'width']);
  const condition = cfg.styleModulation ? conditionInput(g, cfg) : undefined;
  const result = emitLayers(g, params, decoderLayers(cfg, 'dec'), latent, total, { instanceNorm, condition });
  g.output(result.output, ['batch', result.channels, 'out_height', 'out_width'], DECODER_IO.image);
  return g.toBytes({ opset: DEFAULT_OPSET });
}

/** The input {@link TILED_STYLE_CONDITION}: per style channel its mean, then its deviation, [B, 2·8ngf, 1, 1]. */
function conditionInput(g: GraphBuilder, cfg: ModelConfig): string {
  return g.input(TILED_STYLE_CONDITION, ['batch', styleConditionChannels(cfg), 1, 1]);
}

/**
 * The decoder's layers appended to `g` reading `input`; with `styleModulation`, the graph also gets the
 * input {@link TILED_STYLE_CONDITION} for them to read.
 */
export function emitTiledDecoder(g: GraphBuilder, params: ParamSource, cfg: ModelConfig, input: string): EmitResult {
  const condition = cfg.styleModulation ? conditionInput(g, cfg) : undefined;
  return emitLayers(g, params, decoderLayers(cfg, 'dec'), input, latentChannels(cfg).total, {
    instanceNorm: 'external',
    condition,
  });
}
