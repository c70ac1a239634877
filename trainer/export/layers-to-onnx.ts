/**
 * Emits a layer list (trainer/nn/spec.ts) with its trained weights as ONNX operators: the second
 * consumer of the one description of each network, next to the TF.js forward pass (trainer/nn/apply.ts).
 * The export parity tests run both on the same weights and compare.
 *
 * Layout. ONNX convolutions are NCHW, so the graph is NCHW inside. Layout changes in exactly two places:
 * (1) weights, transposed once here at export time from TF.js filter layouts to ONNX's, and (2) the
 * graph boundary, which is NCHW by default (what an image decoder's planar output needs) and can be
 * NHWC on request, in which case one Transpose follows the input and one precedes the output.
 *
 * Instance norm comes in three forms, chosen per export:
 * - `builtin`: ONNX InstanceNormalization with scale 1 and bias 0, the fastest kernel on CPU and CUDA;
 * - `explicit`: ReduceMean/Sub/Mul/Sqrt/Div, which can also publish each layer's mean and variance as
 *   graph outputs;
 * - `external`: mean and variance are graph inputs. The engine stylizes large images in tiles; a tile's
 *   own statistics differ from the whole image's and would show as seams, so it first runs an `explicit`
 *   graph that publishes the statistics (on the whole image, or a downscaled copy), then feeds them to
 *   every tile of an `external` graph. Both forms name the statistics alike (`norm0.mean`, `norm0.var`,
 *   … in depth-first layer order), so one pass's outputs are the next pass's inputs.
 */
import type { NamedArray } from '../nn/params';
import type { Layer } from '../nn/spec';
import { CONDITION_VARIANCE_FLOOR } from '../layers/style-modulation';
import { attr, GraphBuilder, type Dim, type ModelOptions } from './graph-builder';

/** How instance norm layers are written; see the file header. */
export type InstanceNormMode = 'builtin' | 'explicit' | 'external';

/** Where the weights come from: a ParamStore, or the plain map a checkpoint holds. */
export type ParamSource = Readonly<Record<string, NamedArray>> | { toNamedArrays(): Record<string, NamedArray> };

/** Options for {@link emitLayers}. */
export interface EmitOptions {
  /** @default 'builtin' */
  instanceNorm?: InstanceNormMode;
  /** With `instanceNorm: 'explicit'`, publish every norm's mean and variance as graph outputs. @default false */
  exposeStatistics?: boolean;
  /** Prepended to statistic names, to keep them apart when several networks share a graph. @default '' */
  statisticsPrefix?: string;
  /** Name of the value [B, conditionChannels, 1, 1] that `modulate` layers read (style-modulation.ts). */
  condition?: string;
}

/** One instance norm layer's statistics, each of shape [batch, channels, 1, 1]. */
export interface NormStatistics {
  /** Graph input or output name of the per-channel mean. */
  mean: string;
  /** Graph input or output name of the per-channel biased variance. */
  variance: string;
  channels: number;
}

/** What {@link emitLayers} produced. */
export interface EmitResult {
  /** Name of the value holding the last layer's output (NCHW). */
  output: string;
  /** Channels of that output. */
  channels: number;
  /** The statistics inputs (`external`) or outputs (`explicit` + `exposeStatistics`), in layer order. */
  statistics: NormStatistics[];
}

/**
 * Appends the layers to `graph`, reading `input` (an NCHW value with `inChannels` channels).
 *
 * @throws Error naming the parameter when a weight is missing or has the wrong shape
 */
export function emitLayers(
  graph: GraphBuilder,
  params: ParamSource,
  layers: readonly Layer[],
  input: string,
  inChannels: number,
  options: EmitOptions = {},
): EmitResult {
  const emitter = new LayerEmitter(graph, resolveParams(params), options);
  const { value, channels } = emitter.emitAll(layers, input, inChannels);
  return { output: value, channels, statistics: emitter.statistics };
}

/** Options for {@link layersToOnnx}. */
export interface ExportOptions extends EmitOptions, ModelOptions {
  /** Channels of the network's input (3 for an RGB image). */
  inChannels: number;
  /** @default 'input' */
  inputName?: string;
  /** @default 'output' */
  outputName?: string;
  /** Layout of the graph's input and output; the inside is always NCHW. @default 'nchw' */
  layout?: 'nchw' | 'nhwc';
  /** @default 'peerstyle' */
  graphName?: string;
}

/** A whole network as a standalone model. */
export interface ExportedNetwork {
  /** The `.onnx` file contents. */
  bytes: Uint8Array;
  inputName: string;
  outputName: string;
  statistics: NormStatistics[];
}

/**
 * Exports one network as a model with a single image-like input and output; batch, height and width
 * are left symbolic so one file serves every image size.
 */
export function layersToOnnx(params: ParamSource, layers: readonly Layer[], options: ExportOptions): ExportedNetwork {
  const inputName = options.inputName ?? 'input';
  const outputName = options.outputName ?? 'output';
  const nhwc = options.layout === 'nhwc';
  const graph = new GraphBuilder(options.graphName ?? 'peerstyle');
  const input = graph.input(
    inputName,
    nhwc ? ['batch', 'height', 'width', options.inChannels] : ['batch', options.inChannels, 'height', 'width'],
  );
  const nchwInput = nhwc ? graph.op('Transpose', [input], { perm: attr.ints([0, 3, 1, 2]) }, 'to_nchw') : input;
  const result = emitLayers(graph, params, layers, nchwInput, options.inChannels, options);
  const out = nhwc
    ? graph.op('Transpose', [result.output], { perm: attr.ints([0, 2, 3, 1]) }, 'to_nhwc')
    : result.output;
  const outDims: Dim[] = nhwc
    ? ['batch', 'out_height', 'out_width', result.channels]
    : ['batch', result.channels, 'out_height', 'out_width'];
  graph.output(out, outDims, outputName);
  return {
    bytes: graph.toBytes({ opset: options.opset, producerName: options.producerName, docString: options.docString }),
    inputName,
    outputName,
    statistics: result.statistics,
  };
}

/**
 * Reorders a 4-D row-major array: output axis i is input axis `perm[i]`.
 *
 * @param shape - the input's shape
 */
export function transpose4d(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const inStrides = [shape[1]! * shape[2]! * shape[3]!, shape[2]! * shape[3]!, shape[3], 1];
  const outShape = perm.map((p) => shape[p]);
  const s = perm.map((p) => inStrides[p]); // input stride of each output axis
  const out = new Float32Array(data.length);
  let o = 0;
  for (let a = 0; a < outShape[0]!; a++) {
    for (let b = 0; b < outShape[1]!; b++) {
      for (let c = 0; c < outShape[2]!; c++) {
        const base = a * s[0]! + b * s[1]! + c * s[2]!;
        for (let d = 0; d < outShape[3]!; d++) out[o++] = data[base + d * s[3]!]!;
      }
    }
  }
  return out;
}

function resolveParams(params: ParamSource): Readonly<Record<string, NamedArray>> {
  return 'toNamedArrays' in params && typeof params.toNamedArrays === 'function'
    ? params.toNamedArrays()
    : (params as Readonly<Record<string, NamedArray>>);
}

/** TF.js filter [kh, kw, a, b] → ONNX [b, a, kh, kw]; right for Conv ([kh,kw,in,out] → [out,in,kh,kw]) and ConvTranspose ([kh,kw,out,in] → [in,out,kh,kw]). */
const TF_FILTER_TO_ONNX = [3, 2, 0, 1] as const;
const SPATIAL_AXES = [2, 3] as const;

/** Walks a layer list, keeping the state that outlives one layer: shared constants and statistics. */
class LayerEmitter {
  readonly statistics: NormStatistics[] = [];
  private normIndex = 0;
  private readonly constants = new Map<string, string>();
  private readonly mode: InstanceNormMode;

  constructor(
    private readonly graph: GraphBuilder,
    private readonly params: Readonly<Record<string, NamedArray>>,
    private readonly options: EmitOptions,
  ) {
    this.mode = options.instanceNorm ?? 'builtin';
    if (options.exposeStatistics && this.mode !== 'explicit') {
      throw new Error(`exposeStatistics needs instanceNorm: 'explicit', got '${this.mode}'.`);
    }
  }

  emitAll(layers: readonly Layer[], value: string, channels: number): { value: string; channels: number } {
    let state = { value, channels };
    for (const layer of layers) state = this.emit(layer, state.value, state.channels);
    return state;
  }

  private emit(layer: Layer, x: string, channels: number): { value: string; channels: number } {
    const g = this.graph;
    switch (layer.kind) {
      case 'conv2d': {
        expectChannels(layer.name, layer.inChannels, channels);
        const { kernel: k, inChannels: cin, outChannels: cout, padding: p } = layer;
        const weight = this.weight(`${layer.name}.weight`, [k, k, cin, cout], layer.name);
        const bias = this.bias(`${layer.name}.bias`, cout);
        // Reflection needs its own Pad node; zeros fold into the Conv's pads attribute.
        const reflect = layer.padMode === 'reflect' && p > 0;
        const padded = reflect
          ? g.op('Pad', [x, this.pads(p)], { mode: attr.string('reflect') }, `${layer.name}.pad`)
          : x;
        const convPad = reflect ? 0 : p;
        const y = g.op(
          'Conv',
          [padded, weight, bias],
          {
            kernel_shape: attr.ints([k, k]),
            strides: attr.ints([layer.stride, layer.stride]),
            pads: attr.ints([convPad, convPad, convPad, convPad]),
          },
          layer.name,
        );
        return { value: y, channels: cout };
      }
      case 'convTranspose2d': {
        expectChannels(layer.name, layer.inChannels, channels);
        const { kernel: k, inChannels: cin, outChannels: cout, padding: p } = layer;
        const weight = this.weight(`${layer.name}.weight`, [k, k, cout, cin], layer.name);
        const bias = this.bias(`${layer.name}.bias`, cout);
        // ONNX pads on ConvTranspose crop the full output exactly as PyTorch's padding does:
        // out = stride·(in − 1) + kernel − 2·padding.
        const y = g.op(
          'ConvTranspose',
          [x, weight, bias],
          {
            kernel_shape: attr.ints([k, k]),
            strides: attr.ints([layer.stride, layer.stride]),
            pads: attr.ints([p, p, p, p]),
          },
          layer.name,
        );
        return { value: y, channels: cout };
      }
      case 'instanceNorm':
        return { value: this.instanceNorm(x, channels, layer.eps), channels };
      case 'relu':
        return { value: g.op('Relu', [x]), channels };
      case 'leakyRelu':
        return { value: g.op('LeakyRelu', [x], { alpha: attr.float(layer.alpha) }), channels };
      case 'prelu': {
        // A slope of shape [1] broadcasts over NCHW the same way it does over NHWC.
        const slope = this.param(`${layer.name}.alpha`, [1], layer.name);
        return {
          value: g.op('PRelu', [x, g.floatInitializer(`${layer.name}.alpha`, [1], slope.data)], {}, layer.name),
          channels,
        };
      }
      case 'tanh':
        return { value: g.op('Tanh', [x]), channels };
      case 'residual': {
        const body = this.emitAll(layer.body, x, channels);
        if (body.channels !== channels) {
          throw new Error(`A residual body maps ${channels} channels to ${body.channels}; it must keep them.`);
        }
        return { value: g.op('Add', [x, body.value], {}, 'residual'), channels };
      }
      case 'spatialMean':
        return {
          value: g.op('ReduceMean', [x], { axes: attr.ints(SPATIAL_AXES), keepdims: attr.int(1) }, 'spatial_mean'),
          channels,
        };
      case 'upsampleNearest': {
        // Resize with integer scales, 'asymmetric' coordinates and 'floor' rounding copies each pixel into
        // a factor × factor block, as the TF.js broadcast and PyTorch's nn.Upsample(mode='nearest') do.
        const f = layer.factor;
        const scales = g.floatInitializer(`upsample${f}.scales`, [4], [1, 1, f, f]);
        return {
          value: g.op(
            'Resize',
            [x, '', scales],
            {
              mode: attr.string('nearest'),
              coordinate_transformation_mode: attr.string('asymmetric'),
              nearest_mode: attr.string('floor'),
            },
            'upsample',
          ),
          channels,
        };
      }
      case 'modulate':
        expectChannels(layer.name, layer.channels, channels);
        return { value: this.modulate(layer, x), channels };
      default: {
        const unknown: never = layer;
        throw new Error(`Cannot export layer kind "${(unknown as { kind: string }).kind}".`);
      }
    }
  }

  private instanceNorm(x: string, channels: number, eps: number): string {
    const g = this.graph;
    const index = this.normIndex++;
    const hint = `norm${index}`;
    if (this.mode === 'builtin') {
      return g.op(
        'InstanceNormalization',
        [x, this.filled('ones', channels, 1), this.filled('zeros', channels, 0)],
        { epsilon: attr.float(eps) },
        hint,
      );
    }
    const reduce = { axes: attr.ints(SPATIAL_AXES), keepdims: attr.int(1) };
    const names = {
      mean: `${this.options.statisticsPrefix ?? ''}${hint}.mean`,
      variance: `${this.options.statisticsPrefix ?? ''}${hint}.var`,
    };
    const statDims: Dim[] = ['batch', channels, 1, 1];
    let mean: string;
    let centred: string;
    let variance: string;
    if (this.mode === 'external') {
      mean = g.input(names.mean, statDims);
      variance = g.input(names.variance, statDims);
      centred = g.op('Sub', [x, mean], {}, `${hint}.centred`);
    } else {
      mean = g.op('ReduceMean', [x], reduce, `${hint}.mean_of`);
      centred = g.op('Sub', [x, mean], {}, `${hint}.centred`);
      // Two-pass variance (mean of squared deviations): the form that matches PyTorch and tf.moments.
      const squared = g.op('Mul', [centred, centred], {}, `${hint}.squared`);
      variance = g.op('ReduceMean', [squared], reduce, `${hint}.var_of`);
    }
    const std = g.op('Sqrt', [g.op('Add', [variance, this.scalar(eps)], {}, `${hint}.var_eps`)], {}, `${hint}.std`);
    const y = g.op('Div', [centred, std], {}, hint);
    if (this.mode === 'external' || this.options.exposeStatistics) {
      if (this.mode === 'explicit') {
        g.output(mean, statDims, names.mean);
        g.output(variance, statDims, names.variance);
      }
      this.statistics.push({ ...names, channels });
    }
    return y;
  }

  /**
   * x · (1 + γ) + β with γ, β = standardised condition · weight + bias, each a 1×1 Conv of the
   * condition [B, K, 1, 1] giving [B, C, 1, 1]: no value of another shape appears, so a tiled graph cut
   * into stages (graph-stages.ts) carries nothing but spatial values between them. The running
   * statistics that standardise the condition, and the 1 of the scale, are folded into the Conv's
   * weights and bias here: w'[k, j] = w[k, j]/σ_k and b'[j] = b[j] − Σ_k w[k, j]·μ_k/σ_k.
   */
  private modulate(layer: Extract<Layer, { kind: 'modulate' }>, x: string): string {
    const g = this.graph;
    const condition = this.options.condition;
    if (condition === undefined) {
      throw new Error(`Layer "${layer.name}" modulates by style statistics, but the graph has no condition value.`);
    }
    const { name, conditionChannels: k, channels: c } = layer;
    // Weights saved before the condition was standardised have no statistics: identity.
    const mean = this.params[`${layer.statistics}.mean`]?.data ?? new Float32Array(k);
    const variance = this.params[`${layer.statistics}.var`]?.data ?? new Float32Array(k).fill(1);
    if (mean.length !== k || variance.length !== k) {
      throw new Error(`The statistics "${layer.statistics}" of layer "${name}" must have ${k} values each.`);
    }
    const deviation = Array.from(variance, (v) => Math.sqrt(Math.max(v, CONDITION_VARIANCE_FLOOR)));
    const affine = (part: 'scale' | 'shift'): string => {
      const weight = this.param(`${name}.${part}.weight`, [k, c], name).data; // [K, C]
      const filter = new Float32Array(c * k); // [C, K, 1, 1]
      const bias = Float64Array.from(this.param(`${name}.${part}.bias`, [c], name).data, (v) =>
        part === 'scale' ? v + 1 : v,
      );
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < c; j++) {
          const w = weight[i * c + j]! / deviation[i]!;
          filter[j * k + i] = w;
          bias[j]! -= w * mean[i]!;
        }
      }
      return g.op(
        'Conv',
        [
          condition,
          g.floatInitializer(`${name}.${part}.weight`, [c, k, 1, 1], filter),
          g.floatInitializer(`${name}.${part}.bias`, [c], Float32Array.from(bias)),
        ],
        { kernel_shape: attr.ints([1, 1]) },
        `${name}.${part}`,
      );
    };
    return g.op('Add', [g.op('Mul', [x, affine('scale')], {}, `${name}.scaled`), affine('shift')], {}, name);
  }

  /** A parameter, checked against the shape the layer needs. */
  private param(name: string, shape: readonly number[], layerName: string): NamedArray {
    const p = this.params[name];
    if (!p) throw new Error(`Layer "${layerName}" needs parameter "${name}", which the weights do not contain.`);
    if (p.shape.join('x') !== shape.join('x')) {
      throw new Error(
        `Parameter "${name}" has shape [${p.shape.join(', ')}]; layer "${layerName}" needs [${shape.join(', ')}].`,
      );
    }
    return p;
  }

  private weight(name: string, tfShape: readonly number[], layerName: string): string {
    const p = this.param(name, tfShape, layerName);
    const onnxShape = TF_FILTER_TO_ONNX.map((axis) => tfShape[axis]!); // param() checked the rank
    return this.graph.floatInitializer(name, onnxShape, transpose4d(p.data, tfShape, TF_FILTER_TO_ONNX));
  }

  private bias(name: string, channels: number): string {
    const p = this.param(name, [channels], name.replace(/\.bias$/, ''));
    return this.graph.floatInitializer(name, [channels], p.data);
  }

  /** Pad amounts for NCHW, shared by every Pad of the same size: begins [N, C, H, W], then ends. */
  private pads(p: number): string {
    return this.shared(`pads${p}`, () => this.graph.int64Initializer(`pads${p}`, [8], [0, 0, p, p, 0, 0, p, p]));
  }

  private filled(kind: 'ones' | 'zeros', channels: number, value: number): string {
    return this.shared(`${kind}${channels}`, () =>
      this.graph.floatInitializer(`${kind}${channels}`, [channels], new Float32Array(channels).fill(value)),
    );
  }

  private scalar(value: number): string {
    return this.shared(`eps${value}`, () => this.graph.floatInitializer('eps', [], [value]));
  }

  private shared(key: string, create: () => string): string {
    let name = this.constants.get(key);
    if (name === undefined) {
      name = create();
      this.constants.set(key, name);
    }
    return name;
  }
}

function expectChannels(name: string, expected: number, actual: number): void {
  if (expected !== actual)
    throw new Error(`Layer "${name}" expects ${expected} input channels, but receives ${actual}.`);
}
