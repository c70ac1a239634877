/**
 * The TPFR layer: two-stage peer-regularized feature recombination (Svoboda et al., "Two-Stage
 * Peer-Regularized Feature Recombination for Arbitrary Image Style Transfer", CVPR 2020), following the
 * official code's PeerRegularizationLayerAttBidir (nnaisense/conditional-style-transfer, models/layers.py).
 * Layout is NHWC; the latent's channels are content (4·ngf) | style (8·ngf).
 *
 * Every spatial position is a row, pooled over the batch: content rows X = [X_C | X_S] (B·h·w of them),
 * peer rows Y = [Y_C | Y_S] from the style images (B'·h'·w'). Each stage builds a K-nearest-neighbour graph
 * from squared Euclidean distances and recombines peer vectors with GAT-style additive attention:
 *
 *   stage 1 (style):   neighbours of X_C among Y_C, logits a1·f(x_i)+b1 + a2·f(y_j)+b2,  Ŝ = α·Y_S
 *   stage 2 (content): neighbours of Ŝ among Y_S,   logits from g(Ŝ_i) and g(y_{S,j}),  Ĉ = α'·Y_C
 *   output: cat[Ĉ, Ŝ]
 *
 * with α = softmax_j(softplus(dropout(e)) − 1e9 outside the K nearest). `styleTransfer: false` skips stage 1
 * (Ŝ = X_S, so stage 2 searches from X_S); `contentTransfer: false` skips stage 2 (Ĉ = X_C). The official
 * code instead always runs both stages and substitutes afterwards, so with style transfer off its stage 2
 * still searches from the discarded Ŝ; skipping is the ablation the switch names.
 *
 * Parameter names (read by the ONNX exporter), for stage s ∈ {s1, s2} with widths
 * s1: 4ngf → 2ngf → ngf (f), s2: 8ngf → 4ngf → 2ngf (g), and W = the MLP's output width:
 *
 *   tpfr.<s>.mlp.fc1.weight [in, hidden]   tpfr.<s>.mlp.fc1.bias [hidden]     Linear, y = x·W + b
 *   tpfr.<s>.mlp.bn1.{gamma,beta}          tpfr.<s>.mlp.bn1.{runningMean,runningVar}   [hidden]
 *   tpfr.<s>.mlp.fc2.weight [hidden, W]    tpfr.<s>.mlp.fc2.bias [W]
 *   tpfr.<s>.mlp.bn2.{gamma,beta}          tpfr.<s>.mlp.bn2.{runningMean,runningVar}   [W]
 *   tpfr.<s>.headInput.weight [W]          tpfr.<s>.headInput.bias [1]        a1, b1 (Conv1d(1,1,k=W))
 *   tpfr.<s>.headPeer.weight [W]           tpfr.<s>.headPeer.bias [1]         a2, b2
 *
 * The MLP is Linear, BN1d, ReLU, Linear, BN1d, ReLU and is shared by the input and the peer rows; the
 * running statistics are non-trainable state (see batch-norm-1d.ts for the update rule).
 */
import * as tf from '@tensorflow/tfjs-core';

import { latentChannels, type ModelConfig } from '../config';
import type { ParamStore } from '../nn/params';
import { batchNorm1d, declareBatchNorm1d, type BatchNormMode } from './batch-norm-1d';
import { maskedAttention, neighbourMask } from './knn-attention';

/** The two recombination stages: s1 recombines style, s2 recombines content. */
export type TpfrStage = 's1' | 's2';

/** Widths of a stage's MLP: in → hidden → out (out is also the heads' length). */
export function stageWidths(cfg: ModelConfig, stage: TpfrStage): { in: number; hidden: number; out: number } {
  const base = stage === 's1' ? 4 * cfg.ngf : 8 * cfg.ngf;
  return { in: base, hidden: base / 2, out: base / 4 };
}

/** Registers both stages' MLPs and attention heads: Linear and head weights N(0, 0.02), biases 0. */
export function declareTpfr(store: ParamStore, cfg: ModelConfig): void {
  for (const stage of ['s1', 's2'] as const) {
    const { in: inW, hidden, out } = stageWidths(cfg, stage);
    const p = `tpfr.${stage}`;
    store.normal(`${p}.mlp.fc1.weight`, [inW, hidden]);
    store.constant(`${p}.mlp.fc1.bias`, [hidden], 0);
    declareBatchNorm1d(store, `${p}.mlp.bn1`, hidden);
    store.normal(`${p}.mlp.fc2.weight`, [hidden, out]);
    store.constant(`${p}.mlp.fc2.bias`, [out], 0);
    declareBatchNorm1d(store, `${p}.mlp.bn2`, out);
    for (const head of ['headInput', 'headPeer']) {
      store.normal(`${p}.${head}.weight`, [out]);
      store.constant(`${p}.${head}.bias`, [1], 0);
    }
  }
}

/** Options of one stage. */
export interface StageOptions {
  /** Batch statistics and logit dropout when true; running statistics and no dropout when false. */
  training: boolean;
  /**
   * In training, fold each batch-norm call's statistics into the running ones (two calls per stage:
   * input rows, then peer rows, the official order). Never happens in inference.
   * @default true
   */
  updateRunningStats?: boolean;
  /** Seed of the logit dropout pattern; random when absent. */
  dropoutSeed?: number;
  /** Also return the attention matrix [N, M]. */
  returnAttention?: boolean;
}

/** The rows one stage works on. */
export interface StageRows {
  /** Rows that search for neighbours and feed the MLP: X_C (stage 1) or Ŝ (stage 2), [N, D]. */
  inputKeys: tf.Tensor2D;
  /** The peers' rows in the same space: Y_C or Y_S, [M, D]. */
  peerKeys: tf.Tensor2D;
  /** What is recombined: Y_S (stage 1) or Y_C (stage 2), [M, V]. */
  peerValues: tf.Tensor2D;
}

function batchNormMode(opts: StageOptions): BatchNormMode {
  return { training: opts.training, updateRunningStats: opts.training && opts.updateRunningStats !== false };
}

/** f or g: Linear, BN1d, ReLU, Linear, BN1d, ReLU; [R, in] → [R, out]. */
function stageMlp(store: ParamStore, stage: TpfrStage, rows: tf.Tensor2D, mode: BatchNormMode): tf.Tensor2D {
  const p = `tpfr.${stage}.mlp`;
  return tf.tidy(() => {
    const h1 = tf.add(
      tf.matMul(rows, store.get(`${p}.fc1.weight`) as tf.Tensor2D),
      store.get(`${p}.fc1.bias`),
    ) as tf.Tensor2D; // [R, hidden]
    const a1 = tf.relu(batchNorm1d(store, `${p}.bn1`, h1, mode));
    const h2 = tf.add(
      tf.matMul(a1, store.get(`${p}.fc2.weight`) as tf.Tensor2D),
      store.get(`${p}.fc2.bias`),
    ) as tf.Tensor2D; // [R, out]
    return tf.relu(batchNorm1d(store, `${p}.bn2`, h2, mode));
  });
}

/** A head's dot product plus bias, one logit per row: [R, W] → [R, 1]. */
function headLogits(store: ParamStore, name: string, features: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const weight = tf.reshape(store.get(`${name}.weight`), [-1, 1]) as tf.Tensor2D; // [W, 1]
    return tf.add(tf.matMul(features, weight), store.get(`${name}.bias`)); // [R, 1]
  });
}

/**
 * Runs one stage on rows: Ŝ = α·Y_S (stage 1) or Ĉ = α'·Y_C (stage 2), output [N, V].
 *
 * In inference every input row is independent of the others (batch norm uses running statistics), so
 * calling this on chunks of `inputKeys` and concatenating gives the result of one call on all rows; the
 * engine relies on that to bound the N×M matrices. In training the input rows' batch statistics couple
 * them, so chunks would differ.
 */
export function recombineStage(
  store: ParamStore,
  cfg: ModelConfig,
  stage: TpfrStage,
  rows: StageRows,
  opts: StageOptions,
): { output: tf.Tensor2D; attention?: tf.Tensor2D } {
  const { inputKeys, peerKeys, peerValues } = rows;
  const width = stageWidths(cfg, stage).in;
  if (inputKeys.shape[1] !== width || peerKeys.shape[1] !== width) {
    throw new Error(
      `TPFR stage ${stage} expects ${width}-wide keys (ngf=${cfg.ngf}), got inputs ${inputKeys.shape[1]} and peers ${peerKeys.shape[1]}.`,
    );
  }
  if (peerValues.shape[0] !== peerKeys.shape[0]) {
    throw new Error(
      `TPFR stage ${stage} needs one value row per peer, got ${peerValues.shape[0]} values for ${peerKeys.shape[0]} peers.`,
    );
  }
  const mode = batchNormMode(opts);
  return tf.tidy(() => {
    const mask = neighbourMask(inputKeys, peerKeys, cfg.knn); // [N, M]
    // Input rows before peer rows: the order of the official code, which the running statistics record.
    const inputLogit = headLogits(store, `tpfr.${stage}.headInput`, stageMlp(store, stage, inputKeys, mode)); // [N, 1]
    const peerLogit = headLogits(store, `tpfr.${stage}.headPeer`, stageMlp(store, stage, peerKeys, mode)); // [M, 1]
    const logits = tf.add(inputLogit, tf.reshape(peerLogit, [1, -1])) as tf.Tensor2D; // [N, M]
    const attention = maskedAttention(logits, mask, {
      training: opts.training,
      rate: cfg.attentionDropout,
      seed: opts.dropoutSeed,
    });
    const output = tf.matMul(attention, peerValues) as tf.Tensor2D; // [N, V]
    return opts.returnAttention ? { output, attention } : { output };
  });
}

/** Options of the whole layer. */
export interface TpfrOptions {
  /** Batch statistics, running-statistics updates and logit dropout when true; running statistics otherwise. */
  training: boolean;
  /** Seed of the logit dropout (stage 2 uses seed + 1); random when absent. */
  dropoutSeed?: number;
  /** Also return each stage's attention matrix (absent for a stage that is switched off). */
  returnAttention?: boolean;
  /**
   * In training, update the batch-norm running statistics (two updates per stage per call).
   * @default true
   */
  updateRunningStats?: boolean;
}

/** The layer's output and, on request, the attention of stage 1 (`style`) and stage 2 (`content`). */
export interface TpfrResult {
  /** [B, h, w, 12ngf] = cat[Ĉ (4ngf), Ŝ (8ngf)]. */
  output: tf.Tensor4D;
  attention?: { style?: tf.Tensor2D; content?: tf.Tensor2D };
}

/** Flattens a latent [B, h, w, C] to rows [B·h·w, C] and splits content | style. */
function toRows(latent: tf.Tensor4D, contentWidth: number): { content: tf.Tensor2D; style: tf.Tensor2D } {
  const rows = tf.reshape(latent, [-1, latent.shape[3]]) as tf.Tensor2D; // [B·h·w, C]
  return {
    content: tf.slice(rows, [0, 0], [-1, contentWidth]), // [B·h·w, 4ngf]
    style: tf.slice(rows, [0, contentWidth], [-1, -1]), // [B·h·w, 8ngf]
  };
}

/**
 * Recombines the content latents with their peers (the style latents): [B, h, w, 12ngf] and
 * [B', h', w', 12ngf] → [B, h, w, 12ngf]. Every content position may draw on every peer position of every
 * style image, as in the official code's batch pooling.
 */
export function tpfr(
  store: ParamStore,
  cfg: ModelConfig,
  content: tf.Tensor4D,
  peers: tf.Tensor4D,
  opts: TpfrOptions,
): TpfrResult {
  const { content: contentWidth, total } = latentChannels(cfg);
  if (content.shape[3] !== total || peers.shape[3] !== total) {
    throw new Error(
      `TPFR expects latents with 12·ngf = ${total} channels (ngf=${cfg.ngf}), got content ${content.shape[3]} and peers ${peers.shape[3]}.`,
    );
  }
  const [batch, height, width] = content.shape;
  const stageOpts = (offset: number): StageOptions => ({
    training: opts.training,
    updateRunningStats: opts.updateRunningStats,
    dropoutSeed: opts.dropoutSeed === undefined ? undefined : opts.dropoutSeed + offset,
    returnAttention: opts.returnAttention,
  });
  return tf.tidy(() => {
    const x = toRows(content, contentWidth); // X_C [N, 4ngf], X_S [N, 8ngf]
    const y = toRows(peers, contentWidth); // Y_C [M, 4ngf], Y_S [M, 8ngf]
    const style = cfg.styleTransfer
      ? recombineStage(
          store,
          cfg,
          's1',
          { inputKeys: x.content, peerKeys: y.content, peerValues: y.style },
          stageOpts(0),
        )
      : { output: x.style }; // Ŝ [N, 8ngf]
    const recombined = cfg.contentTransfer
      ? recombineStage(
          store,
          cfg,
          's2',
          { inputKeys: style.output, peerKeys: y.style, peerValues: y.content },
          stageOpts(1),
        )
      : { output: x.content }; // Ĉ [N, 4ngf]
    const output = tf.reshape(tf.concat([recombined.output, style.output], 1), [
      batch,
      height,
      width,
      total,
    ]) as tf.Tensor4D;
    if (!opts.returnAttention) return { output };
    const attention: { style?: tf.Tensor2D; content?: tf.Tensor2D } = {};
    if ('attention' in style && style.attention) attention.style = style.attention;
    if ('attention' in recombined && recombined.attention) attention.content = recombined.attention;
    return { output, attention };
  });
}
