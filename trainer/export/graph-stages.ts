/**
 * Splits a tiled graph (tiled-graphs.ts) into stages at its instance norms, so that the engine can run
 * the network one norm at a time over the whole image and keep each stage's result instead of
 * recomputing the network from its input once per norm.
 *
 * A tiled graph publishes `norm{i}.pre`, the value norm i receives, and takes every norm's statistics
 * as inputs. Stage i holds the nodes needed for `norm{i}.pre` that no earlier stage holds; the last
 * stage ends at `output`. The values a cut passes on are the ones computed before it and read after it
 * (a norm's input, and a residual block's input, which its Add reads later). {@link GraphStages.build}
 * returns an ONNX model for any run of consecutive stages, with those values as its inputs, so the
 * caller may merge stages whose cut would be too large to keep.
 *
 * Geometry comes from the nodes: each value's scale relative to the graph's input (a stride-s conv
 * divides it by s, a transposed conv or an upsampling multiplies it), and each stage's reach, the
 * distance in input pixels an output can see (half a kernel per conv, at that conv's scale), which is
 * the halo its tiles need.
 */
import { must } from '../../functions/core/must';
import {
  decodeModel,
  encodeModel,
  AttributeType,
  DataType,
  type GraphMessage,
  type ModelMessage,
  type NodeMessage,
  type TensorMessage,
} from './onnx-proto';
import { TILED_IO } from './package-format';

/** One stage: the nodes between two cuts. */
export interface GraphStage {
  /** The value this stage ends at: `norm{i}.pre`, or `output` for the last. */
  target: string;
  /** Halo in graph-input pixels an output of this stage needs (not rounded). */
  reach: number;
  /** Multiply-adds of this stage's convolutions per graph-input pixel: what recomputing it costs. */
  macs: number;
}

/** A tiled graph cut at its norms. */
export interface GraphStages {
  stages: GraphStage[];
  /** Scale of each spatial value relative to the graph input (1 for the input itself). */
  scale: ReadonlyMap<string, number>;
  /** Channels of each spatial value. */
  channels: ReadonlyMap<string, number>;
  /** Values computed up to and including stage i that a later stage reads (the state after cut i). */
  carried: string[][];
  /** Statistics inputs (`norm{i}.mean` / `.var`) each stage reads. */
  statistics: string[][];
  /** A target that is an Identity of another value: the value itself, so it is fetched once. */
  source(target: string): string;
  /**
   * An ONNX model for stages `from..to` that returns `outputs` (values computed there). Its inputs are
   * the carried values it reads (named as in the full graph), each whole, with a window `${v}.crop`
   * [y0, x0, y1, x1] (float, in that value's pixels) that selects the tile to compute on, and the
   * statistics it reads. With `sums`, it also returns `sums.sum` and `sums.squares` [C]: the
   * per-channel sums of that output and of its squares over the window given by the input
   * `sums.window` (in that output's pixels, relative to the tile), so that statistics are summed in
   * onnxruntime rather than in JavaScript.
   */
  build(from: number, to: number, outputs: readonly string[], sums?: string): { bytes: Uint8Array; inputs: string[] };
}

/** Cuts `bytes`, a tiled graph with `norms` norms, into `norms + 1` stages. */
export function splitTiledGraph(bytes: Uint8Array, norms: number): GraphStages {
  const model = decodeModel(bytes);
  const graph = model.graph as GraphMessage;
  const nodes = graph.node ?? [];
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name as string));
  const graphInputs = new Set((graph.input ?? []).map((v) => v.name as string));
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => (n.output ?? []).forEach((o) => producer.set(o, i)));
  const nodeAt = (index: number): NodeMessage => must(nodes[index], `node ${index}`);

  // Which stage each node belongs to: the first target whose closure reaches it.
  const targets = [...Array.from({ length: norms }, (_, i) => `norm${i}.pre`), TILED_IO.output];
  const stageOf = new Array<number>(nodes.length).fill(-1);
  targets.forEach((target, s) => {
    const stack = [target];
    while (stack.length > 0) {
      const index = producer.get(stack.pop() as string);
      if (index === undefined || stageOf[index] !== -1) continue;
      stageOf[index] = s;
      for (const input of nodeAt(index).input ?? []) if (input) stack.push(input);
    }
  });

  // Scales, in topological order (the exporter writes nodes in that order).
  const scale = new Map<string, number>([[TILED_IO.input, 1]]);
  const inputDims = graph.input?.find((v) => v.name === TILED_IO.input)?.type?.tensorType?.shape?.dim ?? [];
  const channels = new Map<string, number>([[TILED_IO.input, Number(inputDims[1]?.dimValue ?? 0)]]);
  const weightDims = new Map((graph.initializer ?? []).map((t) => [t.name as string, (t.dims ?? []).map(Number)]));
  const reach = new Array<number>(targets.length).fill(0);
  const macs = new Array<number>(targets.length).fill(0);
  nodes.forEach((node, i) => {
    const spatial = (node.input ?? []).find((v) => scale.has(v));
    if (spatial === undefined) return;
    const s = scale.get(spatial) as number;
    let out = s;
    let outChannels = channels.get(spatial) as number;
    if (node.opType === 'Conv' || node.opType === 'ConvTranspose') {
      const [kernel] = intsAttr(node, 'kernel_shape');
      if (kernel === undefined) throw new Error(`${node.opType} node "${node.name ?? ''}" has no kernel_shape.`);
      const stride = intsAttr(node, 'strides')[0] ?? 1;
      const halfKernel = (kernel - 1) / 2;
      const weight = weightDims.get(node.input?.[1] as string) ?? [];
      // Each weight is used once per output pixel of a conv, once per input pixel of a transposed conv.
      const perPixel = weight.reduce((a, b) => a * b, 1);
      // stageOf has an entry per node; the weight dims come from the exporter's own initializers.
      const stage = stageOf[i]!;
      if (node.opType === 'Conv') {
        reach[stage]! += halfKernel / s;
        out = s / stride;
        outChannels = weight[0]!;
        macs[stage]! += perPixel * out * out;
      } else {
        reach[stage]! += Math.ceil(halfKernel / stride) / s;
        out = s * stride;
        outChannels = weight[1]!;
        macs[stage]! += perPixel * s * s;
      }
    } else if (node.opType === 'Resize') {
      out = s * resizeFactor(graph, node);
    }
    for (const o of node.output ?? []) {
      scale.set(o, out);
      channels.set(o, outChannels);
    }
  });

  // The state after each cut: values produced in stages ≤ i (or the graph input) read in stages > i.
  const readBy = new Map<string, number>(); // value → the last stage reading it
  nodes.forEach((node, i) => {
    for (const input of node.input ?? []) if (input) readBy.set(input, Math.max(readBy.get(input) ?? -1, stageOf[i]!));
  });
  const carried = targets.map((_, cut) => {
    const values = [...readBy.entries()]
      .filter(([value, last]) => {
        if (initializers.has(value) || last <= cut) return false;
        if (value === TILED_IO.input) return true;
        const p = producer.get(value);
        return p !== undefined && stageOf[p]! <= cut;
      })
      .map(([value]) => value);
    return values.sort();
  });
  const statistics = targets.map((_, s) =>
    [...new Set(nodes.flatMap((n, i) => (stageOf[i] === s ? (n.input ?? []) : [])))]
      .filter((v) => graphInputs.has(v) && v !== TILED_IO.input)
      .sort(),
  );

  // The default domain's opset decides how ReduceSumSquare takes its axes; packages are exported at 17.
  const opset = Number(model.opsetImport?.find((o) => !o.domain)?.version ?? 17);

  const source = (target: string): string => {
    const node = nodes[producer.get(target) ?? -1];
    return node?.opType === 'Identity' && node.input?.[0] ? node.input[0] : target;
  };

  const build = (
    from: number,
    to: number,
    outputs: readonly string[],
    sums?: string,
  ): { bytes: Uint8Array; inputs: string[] } => {
    // Only the nodes the outputs need, among stages from..to.
    const keep = new Set<number>();
    const stack = [...outputs, ...(sums === undefined ? [] : [sums])];
    while (stack.length > 0) {
      const index = producer.get(stack.pop() as string);
      if (index === undefined || keep.has(index) || stageOf[index]! < from || stageOf[index]! > to) continue;
      keep.add(index);
      for (const input of nodeAt(index).input ?? []) if (input) stack.push(input);
    }
    const produced = new Set(nodes.flatMap((n, i) => (keep.has(i) ? (n.output ?? []) : [])));
    const read = [...new Set(nodes.flatMap((n, i) => (keep.has(i) ? (n.input ?? []) : [])).filter((v) => v !== ''))];
    const inputs = read.filter((v) => !produced.has(v) && !initializers.has(v)).sort();
    for (const o of outputs) {
      if (!produced.has(o)) throw new Error(`Stages ${from}..${to} do not compute "${o}".`);
    }
    const usedInitializers = new Set(read.filter((v) => initializers.has(v)));
    const extraNodes: NodeMessage[] = [];
    const extraInitializers: TensorMessage[] = [];
    const extraInputs: string[] = [];
    const extraOutputs: string[] = [];
    const int64 = (name: string, values: number[]): string => {
      extraInitializers.push({ name, dataType: DataType.INT64, dims: [values.length], int64Data: values });
      return name;
    };
    const node = (
      opType: string,
      input: string[],
      output: string,
      attribute: NodeMessage['attribute'] = [],
    ): string => {
      extraNodes.push({ opType, input, output: [output], name: output, attribute });
      return output;
    };
    const k0 = int64('stages.k0', [0]);
    const k2 = int64('stages.k2', [2]);
    const k4 = int64('stages.k4', [4]);
    const hw = int64('stages.hw', [2, 3]);
    // A window [4] float (y0, x0, y1, x1) → the part of `value` inside it, by a Slice over axes 2, 3.
    const sliceBy = (value: string, window: string, output: string): string => {
      extraInputs.push(window);
      const bounds = node('Cast', [window], `${window}.bounds`, [
        { name: 'to', type: AttributeType.INT, i: DataType.INT64 },
      ]);
      const starts = node('Slice', [bounds, k0, k2], `${window}.starts`);
      const ends = node('Slice', [bounds, k2, k4], `${window}.ends`);
      return node('Slice', [value, starts, ends, hw], output);
    };
    // Spatial inputs arrive whole, each with its tile's window: onnxruntime copies the tile out of the
    // caller's array, which it reads in place, so no per-tile copy is made in JavaScript.
    const tileOf = new Map<string, string>();
    for (const v of inputs) if (scale.has(v)) tileOf.set(v, sliceBy(v, `${v}.crop`, `${v}.tile`));
    const cropNodes = extraNodes.splice(0);
    const kept = nodes
      .filter((_, i) => keep.has(i))
      .map((n) => (n.input?.some((v) => tileOf.has(v)) ? { ...n, input: n.input.map((v) => tileOf.get(v) ?? v) } : n));
    if (sums !== undefined) {
      const inside = sliceBy(sums, `${sums}.window`, `${sums}.inside`);
      const keep0 = [{ name: 'keepdims', type: AttributeType.INT, i: 0 }];
      extraOutputs.push(node('ReduceSum', [inside, int64(`${sums}.axes`, [0, 2, 3])], `${sums}.sum`, keep0));
      // ReduceSumSquare takes its axes as an attribute before opset 18 and as an input from then on.
      const squares =
        opset < 18
          ? node('ReduceSumSquare', [inside], `${sums}.squares`, [
              ...keep0,
              { name: 'axes', type: AttributeType.INTS, ints: [0, 2, 3] },
            ])
          : node('ReduceSumSquare', [inside, `${sums}.axes`], `${sums}.squares`, keep0);
      extraOutputs.push(squares);
    }
    const valueInfo = (name: string): NonNullable<GraphMessage['input']>[number] => {
      const rank = extraInputs.includes(name) || extraOutputs.includes(name) ? ['n'] : ['n', 'c', 'h', 'w'];
      return {
        name,
        type: {
          tensorType: {
            elemType: DataType.FLOAT,
            shape: { dim: rank.map((d) => ({ dimParam: `${name}.${d}` })) },
          },
        },
      };
    };
    const part: ModelMessage = {
      ...model,
      graph: {
        name: `${graph.name ?? 'tiled'}-stages-${from}-${to}`,
        node: [...cropNodes, ...kept, ...extraNodes],
        initializer: [
          ...(graph.initializer ?? []).filter((t) => usedInitializers.has(t.name as string)),
          ...extraInitializers,
        ],
        input: [...inputs, ...extraInputs].map(valueInfo),
        output: [...outputs, ...extraOutputs].map(valueInfo),
      },
    };
    return { bytes: encodeModel(part), inputs: [...inputs, ...extraInputs] };
  };

  return {
    stages: targets.map((target, i) => ({ target, reach: reach[i]!, macs: macs[i]! })),
    scale,
    channels,
    carried,
    statistics,
    source,
    build,
  };
}

function intsAttr(node: NodeMessage, name: string): number[] {
  const found = (node.attribute ?? []).find((a) => a.name === name);
  return (found?.ints ?? []).map(Number);
}

/** The spatial factor of a Resize whose scales are an initializer [1, 1, f, f]. */
function resizeFactor(graph: GraphMessage, node: NodeMessage): number {
  const name = node.input?.[2];
  const tensor = (graph.initializer ?? []).find((t) => t.name === name);
  let values: number[] = tensor?.floatData ? [...tensor.floatData] : [];
  if (values.length === 0 && tensor?.rawData) {
    const raw = tensor.rawData;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    values = Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getFloat32(4 * i, true));
  }
  const [, , factor, factorX] = values;
  if (values.length !== 4 || factor === undefined || factor !== factorX) {
    throw new Error(`Cannot read the scales of Resize node "${node.name ?? ''}".`);
  }
  return factor;
}
