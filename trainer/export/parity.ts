/**
 * Stage-by-stage parity of an exported package with the TF.js model it came from, on real images: the
 * encoder's latent, the TPFR rows and the decoded image, TF.js (cpu backend, the reference forward pass
 * of trainer/model.ts) against onnxruntime on the same weights. `peerstyle export --verify` runs it on
 * the trained checkpoint, so parity is checked for the weights that ship, not only for random ones.
 */
import * as tf from '@tensorflow/tfjs-core';
import path from 'node:path';
import { latentChannels, type ModelConfig } from '../config';
import { pairwiseSquaredDistances } from '../layers/knn-attention';
import { decodeImage } from '../data/decode-image';
import { DECODER_IO, ENCODER_IO, GRAPH_FILES, TPFR_IO } from './package-format';
import { tpfr } from '../layers/tpfr';
import { decode } from '../networks/decoder';
import { colourHeadWeights } from '../layers/colour-head';
import { styleColour } from '../model';
import { applyColourHead, withMeanColour } from '../../functions/engine/colour-head';
import { transportColours, type Matrix3 } from '../../functions/engine/colour-covariance';
import { encode } from '../networks/encoder';
import type { ParamStore } from '../nn/params';
import { closeSession, createSession, run, type FloatTensor } from '../../functions/engine/onnx-session';
import { must } from '../../functions/core/must';
import { decoderFeeds } from '../../functions/engine/style-condition';

/** Largest absolute difference per stage. */
export interface ParityReport {
  encoder: number;
  /** Over the content rows whose K nearest peers are unambiguous (see `ambiguousRows`). */
  tpfr: number;
  decoder: number;
  /**
   * Rows whose K-th and (K+1)-th nearest distances differ by less than the rounding error of the
   * distance itself, in either stage: which peer is the K-th there depends on the order of floating-point
   * additions, so two correct implementations may choose differently. They are counted, not compared.
   */
  ambiguousRows: number;
  rows: number;
}

/**
 * Rows of `dist` [N, M] whose K-th and (K+1)-th smallest values are closer than the rounding error of
 * a squared distance computed as ‖x‖² − 2x·y + ‖y‖² in float32 (taken as 1e-6 of ‖x‖² + max ‖y‖²).
 */
function ambiguous(dist: tf.Tensor2D, rows: tf.Tensor2D, peers: tf.Tensor2D, k: number): boolean[] {
  if (dist.shape[1] <= k) return new Array<boolean>(dist.shape[0]).fill(false);
  const nearest = tf.tidy(() => tf.neg(tf.topk(tf.neg(dist), k + 1).values).arraySync() as number[][]);
  const rowNorms = tf.tidy(() => tf.sum(tf.square(rows), 1).arraySync() as number[]);
  const peerNorm = tf.tidy(() => tf.max(tf.sum(tf.square(peers), 1)).arraySync() as number);
  return nearest.map((d, i) => d[k]! - d[k - 1]! <= 1e-6 * (rowNorms[i]! + peerNorm));
}

/** NHWC TF.js tensor → NCHW plain tensor. */
export function toNchw(t: tf.Tensor4D): FloatTensor {
  return tf.tidy(() => {
    const [b, h, w, c] = t.shape;
    return { data: Float32Array.from(tf.transpose(t, [0, 3, 1, 2]).dataSync() as Float32Array), dims: [b, c, h, w] };
  });
}

/** NHWC latent → rows [h·w, C], as TPFR flattens it. */
export function toRows(t: tf.Tensor4D): FloatTensor {
  const [b, h, w, c] = t.shape;
  return { data: Float32Array.from(t.dataSync() as Float32Array), dims: [b * h * w, c] };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`Parity check: ${a.length} values against ${b.length}.`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** An image as NHWC in [-1, 1], resized to `side`×`side`. */
async function loadImage(file: string, side: number): Promise<tf.Tensor4D> {
  const { data, width, height } = await decodeImage(file);
  return tf.tidy(() => {
    const img = tf.tensor3d(Float32Array.from(data), [height, width, 3]);
    const resized = tf.image.resizeBilinear(img, [side, side], true);
    return tf.expandDims(tf.sub(tf.div(resized, 127.5), 1), 0) as tf.Tensor4D;
  });
}

/**
 * Runs both implementations on a content and a style image (resized to `side` px, a multiple of 4) and
 * returns the largest difference at each stage; the caller holds the TF.js backend (cpu for exactness).
 */
export async function checkParity(
  packageDir: string,
  store: ParamStore,
  cfg: ModelConfig,
  contentFile: string,
  styleFile: string,
  side = 64,
): Promise<ParityReport> {
  const sessions = {
    encoder: await createSession(path.join(packageDir, GRAPH_FILES.encoder), { intraOpThreads: 1 }),
    tpfr: await createSession(path.join(packageDir, GRAPH_FILES.tpfr), { intraOpThreads: 1 }),
    decoder: await createSession(path.join(packageDir, GRAPH_FILES.decoder), { intraOpThreads: 1 }),
  };
  const x = await loadImage(contentFile, side);
  const s = await loadImage(styleFile, side);
  try {
    const zc = encode(store, cfg, x);
    const zs = encode(store, cfg, s);
    const encoded = await run(sessions.encoder, { [ENCODER_IO.image]: toNchw(x) });
    const encoder = maxAbsDiff(must(encoded[ENCODER_IO.latent], 'the encoder output').data, toNchw(zc.latent).data);

    const { output } = tpfr(store, cfg, zc.latent, zs.latent, { training: false });
    const peers = toRows(zs.latent);
    const peerCount = must(peers.dims[0], 'the peer count');
    const rows = await run(sessions.tpfr, {
      [TPFR_IO.content]: toRows(zc.latent),
      [TPFR_IO.peers]: peers,
      [TPFR_IO.peerLogWeight]: { data: new Float32Array(peerCount), dims: [peerCount] },
    });
    // Which rows have an ambiguous K-th neighbour, in stage 1 (content codes) or stage 2 (the new style
    // code against the peers' style codes)?
    const { content: cw, total } = latentChannels(cfg);
    const flags = tf.tidy(() => {
      const x = tf.reshape(zc.latent, [-1, total]) as tf.Tensor2D;
      const y = tf.reshape(zs.latent, [-1, total]) as tf.Tensor2D;
      const out = tf.reshape(output, [-1, total]) as tf.Tensor2D;
      const xc = tf.slice(x, [0, 0], [-1, cw]) as tf.Tensor2D;
      const yc = tf.slice(y, [0, 0], [-1, cw]) as tf.Tensor2D;
      const sNew = tf.slice(out, [0, cw], [-1, total - cw]) as tf.Tensor2D;
      const ys = tf.slice(y, [0, cw], [-1, total - cw]) as tf.Tensor2D;
      const one = ambiguous(pairwiseSquaredDistances(xc, yc), xc, yc, cfg.knn);
      const two = ambiguous(pairwiseSquaredDistances(sNew, ys), sNew, ys, cfg.knn);
      return one.map((a, i) => a || two[i]!);
    });
    const reference = output.dataSync() as Float32Array;
    const got = must(rows[TPFR_IO.output], 'the TPFR output').data;
    let tpfrDiff = 0;
    for (let r = 0; r < flags.length; r++) {
      if (flags[r]) continue;
      for (let c = r * total; c < (r + 1) * total; c++)
        tpfrDiff = Math.max(tpfrDiff, Math.abs(got[c]! - reference[c]!));
    }

    // The decoder is fed the TF.js rows, so its figure measures the decoder alone (with the colour head
    // the engine's head on the graph's output, against TF.js's decoder with its head).
    const colour = styleColour(cfg, s, 1);
    const image = decode(store, cfg, 'dec', output, colour);
    const decoderOutputs = await run(sessions.decoder, decoderFeeds(sessions.decoder, cfg, toNchw(output)));
    let decoded = must(decoderOutputs[DECODER_IO.image], 'the decoder output');
    if (cfg.colorHead) {
      const stats = Array.from(colour.dataSync());
      decoded = applyColourHead(decoded, stats, colourHeadWeights(store.toNamedArrays(), 'dec'));
    } else if (cfg.colorCov) {
      const g = Array.from(colour.dataSync());
      const [, , h, w] = decoded.dims;
      transportColours(decoded.data, h! * w!, { mean: [g[0]!, g[1]!, g[2]!], cov: g.slice(3) as Matrix3 });
    } else if (cfg.colorMean) {
      decoded = withMeanColour(decoded, Array.from(colour.dataSync()), cfg.colorStd);
    }
    colour.dispose();
    const decoder = maxAbsDiff(decoded.data, toNchw(image).data);
    tf.dispose([zc.latent, zc.middle, zs.latent, zs.middle, output, image]);
    return { encoder, tpfr: tpfrDiff, decoder, ambiguousRows: flags.filter(Boolean).length, rows: flags.length };
  } finally {
    tf.dispose([x, s]);
    for (const session of Object.values(sessions)) await closeSession(session);
  }
}
