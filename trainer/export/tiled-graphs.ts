/**
 * Graphs for stylising large images in tiles with exact whole-image instance-norm statistics.
 *
 * At full resolution the encoder's and decoder's activations are what limits the image size, so the
 * engine runs them tile by tile. Instance norm needs each layer's statistics over the whole image, and a
 * layer's statistics depend on every earlier layer's, so the engine makes one pass over the tiles per
 * norm layer: pass p feeds the exact statistics of norms 0..p−1 and sums the pre-norm values of norm p
 * over each tile's interior; a last pass produces the output. The graphs here make that possible:
 *
 * - the network in the `external` instance-norm form (statistics are inputs `norm{i}.mean` / `norm{i}.var`),
 * - plus one output `norm{i}.pre` per norm: the value the norm receives, which the engine accumulates.
 *
 * Tiles overlap by a halo at least as wide as the network's receptive radius ({@link receptiveRadius}),
 * so a tile's interior is computed exactly as on the whole image. The global-style net runs on the
 * whole latent's global-style channels (a quarter of the resolution in each direction, so they fit), as
 * its own graph that returns only the style vector: the engine writes the vector over those channels in
 * place, so onnxruntime never holds a copy of the whole latent, nor the split, broadcast and
 * concatenated copies a latent-to-latent graph would make (~3 GB at 4096 px).
 */
import { latentChannels, type ModelConfig } from '../config';
import type { Layer } from '../nn/spec';
import { decoderLayers } from '../networks/decoder';
import { encoderBodyLayers, encoderStemLayers } from '../networks/encoder';
import { globalStyleLayers } from '../networks/global-style';
import { DEFAULT_OPSET, GraphBuilder } from './graph-builder';
import { emitTiledDecoder } from './decoder-to-onnx';
import { emitLayers, type EmitResult, type ParamSource } from './layers-to-onnx';
import { TILED_IO } from './package-format';

/** The tiled graphs of a package and the halo each needs, in its input's pixels. */
export interface TiledGraphs {
  encoderTiled: Uint8Array;
  global: Uint8Array;
  decoderTiled: Uint8Array;
  /** Halos rounded up to a multiple of 4 so that tiles stay aligned with the stride-2 convs. */
  halo: { encoder: number; decoder: number };
  /** Channels of each norm, in statistics order (`norm0`, `norm1`, …). */
  norms: { encoder: number[]; decoder: number[] };
}

/** Builds the tiled encoder (stem + body), the global-style graph and the tiled decoder. */
export function buildTiledGraphs(params: ParamSource, cfg: ModelConfig): TiledGraphs {
  const encoder = [...encoderStemLayers(cfg), ...encoderBodyLayers(cfg)];
  const decoder = decoderLayers(cfg, 'dec');
  const enc = tiledNetwork(params, encoder, 3, 'peerstyle-encoder-tiled');
  const dec = tiledNetwork(params, decoder, latentChannels(cfg).total, 'peerstyle-decoder-tiled', (g, input) =>
    emitTiledDecoder(g, params, cfg, input),
  );
  return {
    encoderTiled: enc.bytes,
    global: globalToOnnx(params, cfg),
    decoderTiled: dec.bytes,
    halo: { encoder: roundUp4(receptiveRadius(encoder)), decoder: roundUp4(receptiveRadius(decoder)) },
    norms: { encoder: enc.norms, decoder: dec.norms },
  };
}

/**
 * How far, in input pixels, an output value can see: the half-width of the receptive field. Each k×k
 * conv adds (k − 1)/2 of its input's pixels; a stride-s conv makes later pixels s input pixels wide; a
 * transposed conv with stride s, or an upsampling by s, makes them 1/s as wide (a transposed conv's
 * reach is rounded up).
 */
export function receptiveRadius(layers: readonly Layer[]): number {
  let radius = 0;
  let pixel = 1; // input pixels per pixel of the current layer
  const walk = (list: readonly Layer[]): void => {
    for (const layer of list) {
      if (layer.kind === 'conv2d') {
        radius += ((layer.kernel - 1) / 2) * pixel;
        pixel *= layer.stride;
      } else if (layer.kind === 'convTranspose2d') {
        radius += Math.ceil((layer.kernel - 1) / 2 / layer.stride) * pixel;
        pixel /= layer.stride;
      } else if (layer.kind === 'upsampleNearest') {
        pixel /= layer.factor;
      } else if (layer.kind === 'residual') {
        walk(layer.body);
      }
    }
  };
  walk(layers);
  return Math.ceil(radius);
}

/**
 * The network with external statistics and every norm's input published as `norm{i}.pre`; `emit`
 * appends the layers (the decoder's adds its style condition input).
 */
function tiledNetwork(
  params: ParamSource,
  layers: readonly Layer[],
  inChannels: number,
  name: string,
  emit: (g: GraphBuilder, input: string) => EmitResult = (g, input) =>
    emitLayers(g, params, layers, input, inChannels, { instanceNorm: 'external' }),
): { bytes: Uint8Array; norms: number[] } {
  const g = new GraphBuilder(name);
  const input = g.input(TILED_IO.input, ['batch', inChannels, 'height', 'width']);
  const result = emit(g, input);
  g.output(result.output, ['batch', result.channels, 'out_height', 'out_width'], TILED_IO.output);
  // The external form centres each norm's input as Sub(x, norm{i}.mean): x is the value to publish.
  const nodes = g.toModel().graph?.node ?? [];
  for (const stat of result.statistics) {
    const centre = nodes.find((n) => n.opType === 'Sub' && n.input?.[1] === stat.mean);
    const pre = centre?.input?.[0];
    if (!pre) throw new Error(`Cannot find the input of the norm with statistics "${stat.mean}" in ${name}.`);
    g.output(pre, ['batch', stat.channels, 'h', 'w'], stat.mean.replace(/\.mean$/, '.pre'));
  }
  return { bytes: g.toBytes({ opset: DEFAULT_OPSET }), norms: result.statistics.map((st) => st.channels) };
}

/** Name of the global-style graph's output, the style vector [B, 4ngf, 1, 1]. */
export const GLOBAL_VECTOR_OUTPUT = 'global_style';

/**
 * The raw latent's global-style channels [B, 4ngf, h, w] (channels [4ngf, 8ngf) of the raw latent) →
 * the global-style vector [B, 4ngf, 1, 1], which replaces those channels at every position.
 */
function globalToOnnx(params: ParamSource, cfg: ModelConfig): Uint8Array {
  const { globalStyle } = latentChannels(cfg);
  const g = new GraphBuilder('peerstyle-global-style');
  const zGlobal = g.input(TILED_IO.input, ['batch', globalStyle, 'latent_height', 'latent_width']); // [B, 4ngf, h, w]
  const vector = emitLayers(g, params, globalStyleLayers(cfg), zGlobal, globalStyle).output; // [B, 4ngf, 1, 1]
  g.output(vector, ['batch', globalStyle, 1, 1], GLOBAL_VECTOR_OUTPUT);
  return g.toBytes({ opset: DEFAULT_OPSET });
}

function roundUp4(v: number): number {
  return Math.ceil(v / 4) * 4;
}
