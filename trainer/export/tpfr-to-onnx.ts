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
 * Per stage: distances ‖x‖² − 2x·yᵀ + ‖y‖² (the TF.js order of operations), the K-th smallest distance
 * per row from TopK (largest = 0), mask = dist ≤ kth (ties kept), logits softplus(e) + log-weight, −1e9
 * outside the mask, softmax over peers, α·V. The log-weight lets several style images share the peer
 * set with weights; a constant log-weight cancels in the softmax, so equal weights change nothing.
 */
import { latentChannels, type ModelConfig } from '../config';
import { BATCH_NORM_EPS } from '../layers/batch-norm-1d';
import { NON_NEIGHBOUR_LOGIT } from '../layers/knn-attention';
import { stageWidths, type TpfrStage } from '../layers/tpfr';
import type { NamedArray } from '../nn/params';
import { attr, GraphBuilder, type ModelOptions } from './graph-builder';
import type { ParamSource } from './layers-to-onnx';
import { TPFR_IO } from './package';

export { TPFR_IO };

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
  const emitter = new StageEmitter(g, arrays, cfg, logWeight, axis1);
  const style = cfg.styleTransfer ? emitter.stage('s1', xC, yC, yS) : xS; // Ŝ [N, 8ngf]
  const recombined = cfg.contentTransfer ? emitter.stage('s2', style, yS, yC) : xC; // Ĉ [N, 4ngf]
  const out = g.op('Concat', [recombined, style], { axis: attr.int(1) }, 'recombined'); // [N, 12ngf]
  g.output(out, ['rows', total], TPFR_IO.output);
  return g.toBytes(options);
}

/** Emits one recombination stage; holds the constants its stages share. */
class StageEmitter {
  private readonly zero: string;
  private readonly penalty: string;
  private readonly kth: { starts: string; ends: string };
  private readonly k: string;

  constructor(
    private readonly g: GraphBuilder,
    private readonly arrays: Readonly<Record<string, NamedArray>>,
    private readonly cfg: ModelConfig,
    private readonly logWeight: string,
    private readonly axis1: string,
  ) {
    this.zero = g.floatInitializer('zero', [], [0]);
    this.penalty = g.floatInitializer('non_neighbour', [], [NON_NEIGHBOUR_LOGIT]);
    this.k = g.int64Initializer('knn', [1], [cfg.knn]);
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
    // TopK with largest = 0 sorts ascending, so column K−1 is the K-th smallest distance of each row.
    const [smallest] = g.node(
      'TopK',
      [dist, this.k],
      { largest: attr.int(0), sorted: attr.int(1), axis: attr.int(1) },
      { hint: `${p}.topk`, outputs: 2 },
    );
    const kth = g.op('Slice', [smallest, this.kth.starts, this.kth.ends, this.axis1], {}, `${p}.kth`); // [N, 1]
    const mask = g.op('LessOrEqual', [dist, kth], {}, `${p}.mask`); // [N, M] bool
    const penalty = g.op('Where', [mask, this.zero, this.penalty], {}, `${p}.penalty`); // [N, M]
    const inputLogit = this.head(`${p}.headInput`, this.mlp(stage, keys, 'input')); // [N, 1]
    const peerLogit = g.op('Transpose', [this.head(`${p}.headPeer`, this.mlp(stage, peerKeys, 'peer'))], {
      perm: attr.ints([1, 0]),
    }); // [1, M]
    const logits = g.op('Add', [inputLogit, peerLogit], {}, `${p}.logits`); // [N, M]
    const weighted = g.op('Add', [g.op('Softplus', [logits]), this.logWeight], {}, `${p}.weighted`); // [N, M]
    const masked = g.op('Add', [weighted, penalty], {}, `${p}.masked`);
    const alpha = g.op('Softmax', [masked], { axis: attr.int(1) }, `${p}.attention`); // [N, M]
    return g.op('MatMul', [alpha, values], {}, `${p}.out`); // [N, V]
  }

  /** ‖a_i‖² − 2·a_i·b_j + ‖b_j‖², in the order of pairwiseSquaredDistances. */
  private distances(a: string, b: string, p: string): string {
    const g = this.g;
    const a2 = g.op('ReduceSum', [g.op('Mul', [a, a]), this.axis1], { keepdims: attr.int(1) }, `${p}.a2`); // [N, 1]
    const b2 = g.op(
      'Transpose',
      [g.op('ReduceSum', [g.op('Mul', [b, b]), this.axis1], { keepdims: attr.int(1) })],
      { perm: attr.ints([1, 0]) },
      `${p}.b2`,
    ); // [1, M]
    const ab = g.op('MatMul', [a, g.op('Transpose', [b], { perm: attr.ints([1, 0]) })], {}, `${p}.ab`); // [N, M]
    const twoAb = g.op('Mul', [ab, this.g.floatInitializer(`${p}.two`, [], [2])]);
    return g.op('Add', [g.op('Sub', [a2, twoAb]), b2], {}, `${p}.dist`); // [N, M]
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
      const scale = Array.from(gamma, (gm, j) => gm / Math.sqrt(variance[j] + BATCH_NORM_EPS));
      const weight = new Float32Array(inW * outW);
      for (let i = 0; i < inW; i++) for (let j = 0; j < outW; j++) weight[i * outW + j] = w[i * outW + j] * scale[j];
      const bias = Float32Array.from(scale, (s, j) => (b[j] - mean[j]) * s + beta[j]);
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
