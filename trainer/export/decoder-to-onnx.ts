/**
 * The decoder's ONNX graphs. Without `styleModulation` the decoder is its layer list alone. With it,
 * the modulation layers read the latent's style statistics (trainer/layers/style-modulation.ts): the
 * whole-image graph computes them from its input, as the trainer does; a tiled graph sees one tile at a
 * time, so it takes them as the input {@link TILED_STYLE_CONDITION}, which the engine computes from the
 * whole latent (functions/engine/style-condition.ts).
 */
import { latentChannels, type ModelConfig } from '../config';
import { styleConditionChannels } from '../layers/style-modulation';
import { decoderLayers } from '../networks/decoder';
import { attr, DEFAULT_OPSET, GraphBuilder } from './graph-builder';
import { emitLayers, type EmitResult, type InstanceNormMode, type ParamSource } from './layers-to-onnx';
import { DECODER_IO, STYLE_STATISTICS_EPS, TILED_STYLE_CONDITION } from './package-format';

/** The whole-image decoder: latent [B, 12ngf, h, w] → image [B, 3, 4h, 4w] (pre-tanh with the colour head). */
export function decoderToOnnx(params: ParamSource, cfg: ModelConfig, instanceNorm: InstanceNormMode): Uint8Array {
  const { total } = latentChannels(cfg);
  const g = new GraphBuilder('peerstyle-decoder');
  const latent = g.input(DECODER_IO.latent, ['batch', total, 'height', 'width']);
  const condition = cfg.styleModulation ? styleStatisticsOf(g, cfg, latent) : undefined;
  const result = emitLayers(g, params, decoderLayers(cfg, 'dec'), latent, total, { instanceNorm, condition });
  g.output(result.output, ['batch', result.channels, 'out_height', 'out_width'], DECODER_IO.image);
  return g.toBytes({ opset: DEFAULT_OPSET });
}

/**
 * The decoder's layers appended to `g` reading `input`; with `styleModulation`, the graph also gets the
 * input {@link TILED_STYLE_CONDITION} [B, 2·8ngf, 1, 1] for them to read.
 */
export function emitTiledDecoder(g: GraphBuilder, params: ParamSource, cfg: ModelConfig, input: string): EmitResult {
  const condition = cfg.styleModulation
    ? g.input(TILED_STYLE_CONDITION, ['batch', styleConditionChannels(cfg), 1, 1])
    : undefined;
  return emitLayers(g, params, decoderLayers(cfg, 'dec'), input, latentChannels(cfg).total, {
    instanceNorm: 'external',
    condition,
  });
}

/** Per style channel of `latent`, mean and deviation over positions: [B, 2·8ngf, 1, 1], means first. */
function styleStatisticsOf(g: GraphBuilder, cfg: ModelConfig, latent: string): string {
  const { content, total } = latentChannels(cfg);
  const style = g.op(
    'Slice',
    [
      latent,
      g.int64Initializer('style.from', [1], [content]),
      g.int64Initializer('style.to', [1], [total]),
      g.int64Initializer('style.axis', [1], [1]),
    ],
    {},
    'style.codes',
  );
  const reduce = { axes: attr.ints([2, 3]), keepdims: attr.int(1) };
  const mean = g.op('ReduceMean', [style], reduce, 'style.mean');
  const centred = g.op('Sub', [style, mean], {}, 'style.centred');
  const variance = g.op('ReduceMean', [g.op('Mul', [centred, centred], {}, 'style.squared')], reduce, 'style.var');
  const eps = g.floatInitializer('style.eps', [], [STYLE_STATISTICS_EPS]);
  const deviation = g.op('Sqrt', [g.op('Add', [variance, eps], {}, 'style.var_eps')], {}, 'style.std');
  return g.op('Concat', [mean, deviation], { axis: attr.int(1) }, 'style.statistics');
}
