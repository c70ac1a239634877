/**
 * Emits the TPFR layer (trainer/layers/tpfr.ts) in its inference form as an ONNX graph over rows:
 * content rows [N, 12ngf] and peer rows [M, 12ngf] with a per-peer log-weight [M] → output rows
 * [N, 12ngf] = cat[Ĉ, Ŝ]. It is the exporter's counterpart of `recombineStage` with `training: false`.
 *
 * Inference fixes the batch norm to its running statistics, so each BN1d folds into the Linear before it
 * (W' = W·s, b' = (b − μ)·s + β with s = γ/√(σ² + ε)), computed here in float64. With the batch norm
 * folded every content row is independent of the others, which lets the engine feed chunks of N against
 * all M peers and keep the N×M matrices bounded.
 *
 * Per stage: distances ‖x‖² − 2x·yᵀ + ‖y‖² (the TF.js order of operations, so that ties at the K-th
 * distance are decided by the same roundings), the K-th smallest distance per row from TopK
 * (largest = 0), mask = dist ≤ kth (ties kept), logits softplus(e) + log-weight, −1e9 outside the mask,
 * softmax over peers, α·V. The log-weight lets several style images share the peer set with weights; a
 * constant log-weight cancels in the softmax, so equal weights change nothing.
 *
 * Only the neighbours carry weight (every other peer's exp(−1e9) is exactly 0), so the attention runs
 * on a window of the W = K + slack nearest peers that TopK returns anyway: softplus, softmax and α·V
 * touch N×W entries instead of N×M, and the only N×M work left is the distance product and TopK's scan.
 * The window holds every neighbour unless the ties at the K-th distance reach past it (repeated peer
 * rows, e.g. flat regions of a style image); such rows are detected in the graph and recomputed on the
 * dense N×M path, so the result is the reference's either way.
 */
import { latentChannels, type ModelConfig } from '../config';
import { BATCH_NORM_EPS } from '../layers/batch-norm-1d';
import { NON_NEIGHBOUR_LOGIT } from '../layers/knn-attention';
import { stageWidths, type TpfrStage } from '../layers/tpfr';
import type { NamedArray } from '../nn/params';
import { attr, GraphBuilder, type ModelOptions } from './graph-builder';
import type { ParamSource } from './layers-to-onnx';
import { TPFR_IO } from './package-format';

export { TPFR_IO };

/** Extra nearest peers beyond K that TopK keeps, so that ties at the K-th distance stay in the window. */
export const WINDOW_SLACK = 4;

/** Builds the inference TPFR graph and returns the `.onnx` bytes. */
export function tpfrToOnnx(params: ParamSource, cfg: ModelConfig, options: ModelOptions = {}): Uint8Array {
  const arrays = resolve(params);
  const { content: cw, total } = latentChannels(cfg);
  const g = new GraphBuilder('peerstyle-tpfr');
  const content = g.input(TPFR_IO.content, ['rows', total]);
  const peers = g.input(TPFR_IO.peers, ['peers', total]);
  const logWeight = g.input(TPFR_IO.peerLogWeight, ['peers']);
  const axis1 = g.int64Initializer('axis1', [1], [1]);
  const columns = (x: string, from: number, to: number, hint: string): string =>
    g.op(
      'Slice',
      [x, g.int64Initializer(`${hint}.starts`, [1], [from]), g.int64Initializer(`${hint}.ends`, [1], [to]), axis1],
      {},
      hint,
    );
  const xC = columns(content, 0, cw, 'x_content'); // [N, 4ngf]
  const xS = columns(content, cw, total, 'x_style'); // [N, 8ngf]
  const yC = columns(peers, 0, cw, 'y_content'); // [M, 4ngf]
  const yS = columns(peers, cw, total, 'y_style'); // [M, 8ngf]
  const emitter = new StageEmitter(g, arrays, cfg, logWeight, axis1, g.int64Initializer('axis0', [1], [0]));
  const style = cfg.styleTransfer ? emitter.stage('s1', xC, yC, yS) : xS; // Ŝ [N, 8ngf]
  const recombined = cfg.contentTransfer ? emitter.stage('s2', style, yS, yC) : xC; // Ĉ [N, 4ngf]
  const out = g.op('Concat', [recombined, style], { axis: attr.int(1) }, 'recombined'); // [N, 12ngf]
  g.output(out, ['rows', total], TPFR_IO.output);
  return g.toBytes(options);
}

/** Emits one recombination stage; holds the constants its stages share. */
class StageEmitter {
  private readonly penalty: string;
  private readonly window: string;
  private readonly ones11: string;
  private readonly zero64: string;
  private readonly minusTwo: string;
  private readonly one64: string;
  private readonly two64: string;
  private readonly minusOne64: string;
  private readonly end64: string;
  private readonly kth: { starts: string; ends: string };

  constructor(
    private readonly g: GraphBuilder,
    private readonly arrays: Readonly<Record<string, NamedArray>>,
    private readonly cfg: ModelConfig,
    private readonly logWeight: string,
    private readonly axis1: string,
    private readonly axis0: string,
  ) {
    this.penalty = g.floatInitializer('non_neighbour', [], [NON_NEIGHBOUR_LOGIT]);
    // K nearest plus slack for ties at the K-th distance; a row whose ties go past it is recomputed densely.
    this.window = g.int64Initializer('window', [1], [cfg.knn + WINDOW_SLACK]);
    this.ones11 = g.floatInitializer('ones', [1, 1], [1]);
    this.zero64 = g.int64Initializer('zero', [1], [0]);
    this.minusTwo = g.floatInitializer('minus_two', [], [-2]);
    this.one64 = g.int64Initializer('one', [1], [1]);
    this.two64 = g.int64Initializer('two', [1], [2]);
    this.minusOne64 = g.int64Initializer('last.starts', [1], [-1]);
    this.end64 = g.int64Initializer('last.ends', [1], [Number.MAX_SAFE_INTEGER]);
    this.kth = {
      starts: g.int64Initializer('kth.starts', [1], [cfg.knn - 1]),
      ends: g.int64Initializer('kth.ends', [1], [cfg.knn]),
    };
  }

  /** keys [N, D] searching peers [M, D]; returns α·values, [N, V]. */
  stage(stage: TpfrStage, keys: string, peerKeys: string, values: string): string {
    const g = this.g;
    const p = `tpfr.${stage}`;
    const dist = this.distances(keys, peerKeys, p); // [N, M]
    const peerCount = g.op('Slice', [g.op('Shape', [dist]), this.one64, this.two64], {}, `${p}.peerCount`); // [1]
    const windowSize = g.op('Min', [this.window, peerCount], {}, `${p}.windowSize`); // [1]: W = min(K + slack, M)
    // TopK with largest = 0 sorts ascending: column K−1 is the K-th smallest distance, column W−1 the last
    // one the window holds.
    const [nearest, nearestIdx] = g.node(
      'TopK',
      [dist, windowSize],
      { largest: attr.int(0), sorted: attr.int(1), axis: attr.int(1) },
      { hint: `${p}.topk`, outputs: 2 },
    ); // [N, W] each
    const kth = g.op('Slice', [nearest, this.kth.starts, this.kth.ends, this.axis1], {}, `${p}.kth`); // [N, 1]
    const inputLogit = this.head(`${p}.headInput`, this.mlp(stage, keys, 'input')); // [N, 1]
    const peerLogit = g.op(
      'Squeeze',
      [this.head(`${p}.headPeer`, this.mlp(stage, peerKeys, 'peer')), this.axis1],
      {},
      `${p}.peerLogit`,
    ); // [M]

    // Window rows: every neighbour (distance ≤ K-th, ties included) is among the W nearest, so the
    // softmax over the window's neighbours is the softmax over all M (the others contribute exp(−1e9) = 0).
    const windowMask = g.op('LessOrEqual', [nearest, kth], {}, `${p}.windowMask`); // [N, W] bool
    const windowAlpha = this.attention(
      windowMask,
      g.op('Add', [inputLogit, g.op('Gather', [peerLogit, nearestIdx], { axis: attr.int(0) })]),
      g.op('Gather', [this.logWeight, nearestIdx], { axis: attr.int(0) }),
      `${p}.window`,
    ); // [N, W]
    const gathered = g.op('Gather', [values, nearestIdx], { axis: attr.int(0) }, `${p}.windowValues`); // [N, W, V]
    const windowOut = g.op(
      'Squeeze',
      [g.op('MatMul', [g.op('Unsqueeze', [windowAlpha, this.axis1]), gathered]), this.axis1],
      {},
      `${p}.windowOut`,
    ); // [N, V]

    // Overflow rows: the window's last distance is itself ≤ K-th and peers lie beyond it, so ties may
    // reach past the window. Those rows (none, unless peers repeat) take the dense N×M path.
    const last = g.op('Slice', [nearest, this.minusOne64, this.end64, this.axis1], {}, `${p}.last`); // [N, 1]
    const overflow = g.op(
      'And',
      [g.op('LessOrEqual', [last, kth]), g.op('Less', [windowSize, peerCount])],
      {},
      `${p}.overflow`,
    ); // [N, 1] bool
    const found = g.op('NonZero', [g.op('Squeeze', [overflow, this.axis1])], {}, `${p}.overflowRows`); // [1, B]
    const rows = g.op('Squeeze', [found, this.axis0]); // [B]
    const denseAlpha = this.attention(
      g.op('LessOrEqual', [g.op('Gather', [dist, rows], { axis: attr.int(0) }), g.op('Gather', [kth, rows])]),
      g.op('Add', [g.op('Gather', [inputLogit, rows], { axis: attr.int(0) }), peerLogit]),
      this.logWeight,
      `${p}.dense`,
    ); // [B, M]
    const denseOut = g.op('MatMul', [denseAlpha, values], {}, `${p}.denseOut`); // [B, V]
    const at = g.op('Transpose', [found], { perm: attr.ints([1, 0]) }); // [B, 1]
    return g.op('ScatterND', [windowOut, at, denseOut], {}, `${p}.out`); // [N, V]
  }

  /**
   * α = softmax(softplus(e) + log-weight), −1e9 outside the mask. The reference adds −1e9 to the
   * non-neighbours; setting them to −1e9 outright gives the same softmax (exp underflows to exactly 0
   * either way, and the row maximum is a neighbour's) without building a penalty matrix.
   */
  private attention(mask: string, logits: string, logWeight: string, p: string): string {
    const g = this.g;
    const weighted = g.op('Add', [g.op('Softplus', [logits]), logWeight], {}, `${p}.weighted`);
    const masked = g.op('Where', [mask, weighted, this.penalty], {}, `${p}.masked`);
    return g.op('Softmax', [masked], { axis: attr.int(1) }, `${p}.attention`);
  }

  /**
   * ‖a_i‖² − 2·a_i·b_j + ‖b_j‖², in the order of operations of pairwiseSquaredDistances: which peers tie
   * at the K-th distance is decided by the roundings, so the order must not change. One product computes
   * it in a single pass over N×M: [a, ‖a‖², 1]·[−2b, 1, ‖b‖²]ᵀ accumulates the products in order, then adds
   * ‖a‖², then ‖b‖² (scaling by −2 and by 1 is exact, so that is fl(fl(‖a‖² − 2a·b) + ‖b‖²)). ‖b‖² rides
   * in the product rather than in a Gemm bias because onnxruntime's Gemm first copies a bias row into
   * every row of the N×M output, and then reads it back: two more passes over the largest tensor of the
   * graph.
   */
  private distances(a: string, b: string, p: string): string {
    const g = this.g;
    const sumSquares = (x: string): string =>
      g.op('ReduceSum', [g.op('Mul', [x, x]), this.axis1], { keepdims: attr.int(1) });
    const onesLike = (x: string): string =>
      g.op('Expand', [
        this.ones11,
        g.op('Concat', [g.op('Slice', [g.op('Shape', [x]), this.zero64, this.one64]), this.one64], {
          axis: attr.int(0),
        }),
      ]); // [rows of x, 1]
    const rowSide = g.op('Concat', [a, sumSquares(a), onesLike(a)], { axis: attr.int(1) }, `${p}.rowSide`); // [N, D+2]
    const peerSide = g.op(
      'Concat',
      [g.op('Mul', [b, this.minusTwo]), onesLike(b), sumSquares(b)],
      { axis: attr.int(1) },
      `${p}.peerSide`,
    ); // [M, D+2]
    return g.op('Gemm', [rowSide, peerSide], { transB: attr.int(1) }, `${p}.dist`); // [N, M]
  }

  /** Linear+BN folded, ReLU, Linear+BN folded, ReLU; [R, in] → [R, out]. */
  private mlp(stage: TpfrStage, rows: string, who: string): string {
    const { in: inW, hidden, out } = stageWidths(this.cfg, stage);
    const p = `tpfr.${stage}.mlp`;
    const h1 = this.foldedLinear(rows, `${p}.fc1`, `${p}.bn1`, inW, hidden, who); // [R, hidden]
    const h2 = this.foldedLinear(this.g.op('Relu', [h1]), `${p}.fc2`, `${p}.bn2`, hidden, out, who); // [R, out]
    return this.g.op('Relu', [h2]);
  }

  private readonly folded = new Map<string, { weight: string; bias: string }>();

  private foldedLinear(x: string, fc: string, bn: string, inW: number, outW: number, who: string): string {
    let fold = this.folded.get(fc);
    if (!fold) {
      const w = this.param(`${fc}.weight`, [inW, outW]).data;
      const b = this.param(`${fc}.bias`, [outW]).data;
      const gamma = this.param(`${bn}.gamma`, [outW]).data;
      const beta = this.param(`${bn}.beta`, [outW]).data;
      const mean = this.param(`${bn}.runningMean`, [outW]).data;
      const variance = this.param(`${bn}.runningVar`, [outW]).data;
      const scale = Array.from(gamma, (gm, j) => gm / Math.sqrt(variance[j]! + BATCH_NORM_EPS));
      const weight = new Float32Array(inW * outW);
      for (let i = 0; i < inW; i++) for (let j = 0; j < outW; j++) weight[i * outW + j] = w[i * outW + j]! * scale[j]!;
      const bias = Float32Array.from(scale, (s, j) => (b[j]! - mean[j]!) * s + beta[j]!);
      fold = {
        weight: this.g.floatInitializer(`${fc}.weight`, [inW, outW], weight),
        bias: this.g.floatInitializer(`${fc}.bias`, [outW], bias),
      };
      this.folded.set(fc, fold);
    }
    return this.g.op('Add', [this.g.op('MatMul', [x, fold.weight]), fold.bias], {}, `${fc}.${who}`);
  }

  private head(name: string, features: string): string {
    const w = this.param(`${name}.weight`, [this.arrayLength(`${name}.weight`)]);
    const weight = this.g.floatInitializer(`${name}.weight`, [w.data.length, 1], w.data);
    const bias = this.g.floatInitializer(`${name}.bias`, [1], this.param(`${name}.bias`, [1]).data);
    return this.g.op('Add', [this.g.op('MatMul', [features, weight]), bias], {}, name); // [R, 1]
  }

  private arrayLength(name: string): number {
    return this.param(name).data.length;
  }

  private param(name: string, shape?: readonly number[]): NamedArray {
    const p = this.arrays[name];
    if (!p) throw new Error(`The TPFR export needs parameter "${name}", which the weights do not contain.`);
    if (shape && p.shape.join('x') !== shape.join('x')) {
      throw new Error(
        `Parameter "${name}" has shape [${p.shape.join(', ')}]; the TPFR export needs [${shape.join(', ')}].`,
      );
    }
    return p;
  }
}

function resolve(params: ParamSource): Readonly<Record<string, NamedArray>> {
  return 'toNamedArrays' in params && typeof params.toNamedArrays === 'function'
    ? params.toNamedArrays()
    : (params as Readonly<Record<string, NamedArray>>);
}
