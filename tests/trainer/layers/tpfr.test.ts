/**
 * Tests of the TPFR layer (trainer/layers/tpfr.ts) and its helpers (knn-attention.ts, batch-norm-1d.ts) on
 * the cpu backend with the tiny preset and small random latents: the neighbour graph, the attention's
 * shape and convexity, gradients, the ablation switches, train/inference behaviour of batch norm and
 * dropout, chunked inference, that nothing leaks, and that the wasm backend computes the same numbers.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';

import { registerCoreGradients } from '../../../trainer/backend';
import { PRESETS, type ModelConfig } from '../../../trainer/config';
import { ParamStore } from '../../../trainer/nn/params';
import { BATCH_NORM_MOMENTUM } from '../../../trainer/layers/batch-norm-1d';
import { knnMask, pairwiseSquaredDistances } from '../../../trainer/layers/knn-attention';
import { declareTpfr, recombineStage, stageWidths, tpfr, type TpfrStage } from '../../../trainer/layers/tpfr';
import { at, defined } from '../../support/checked';

const tiny: ModelConfig = { ...PRESETS.tiny };
const CHANNELS = 12 * tiny.ngf; // 48
const CONTENT = 4 * tiny.ngf; // 16

beforeAll(async () => {
  // tfjs-core ships its gradient functions apart from the ops; training registers them the same way.
  registerCoreGradients();
  await tf.setBackend('cpu');
});

function makeStore(cfg: ModelConfig = tiny, seed = 3): ParamStore {
  const store = new ParamStore(seed);
  declareTpfr(store, cfg);
  return store;
}

/** Non-negative like the encoder's ReLU output; seeded so every run sees the same rows. */
function latent(shape: [number, number, number, number], seed: number): tf.Tensor4D {
  return tf.randomUniform(shape, 0, 1, 'float32', seed);
}

function rows(t: tf.Tensor, width: number): number[][] {
  return tf.tidy(() => tf.reshape(t, [-1, width]).arraySync() as number[][]);
}

function snapshot(store: ParamStore, name: string): number[] {
  return Array.from(store.get(name).dataSync());
}

/** Runs fn and checks that the number of live tensors is the same afterwards. */
function withoutLeaks<T>(fn: () => T): T {
  const before = tf.memory().numTensors;
  const result = fn();
  expect(tf.memory().numTensors).toBe(before);
  return result;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => at(tf.max(tf.abs(tf.sub(a, b))).dataSync(), 0));
}

describe('declareTpfr', () => {
  it('registers both stages with the documented names, shapes and initial values', () => {
    const store = makeStore();
    const s1 = stageWidths(tiny, 's1');
    const s2 = stageWidths(tiny, 's2');
    expect([s1.in, s1.hidden, s1.out]).toEqual([16, 8, 4]);
    expect([s2.in, s2.hidden, s2.out]).toEqual([32, 16, 8]);
    expect(store.get('tpfr.s1.mlp.fc1.weight').shape).toEqual([16, 8]);
    expect(store.get('tpfr.s1.mlp.fc2.weight').shape).toEqual([8, 4]);
    expect(store.get('tpfr.s2.mlp.fc1.weight').shape).toEqual([32, 16]);
    expect(store.get('tpfr.s2.headInput.weight').shape).toEqual([8]);
    expect(store.get('tpfr.s2.headPeer.bias').shape).toEqual([1]);
    expect(store.isTrainable('tpfr.s1.mlp.bn1.gamma')).toBe(true);
    expect(store.isTrainable('tpfr.s1.mlp.bn1.runningMean')).toBe(false);
    expect(store.isTrainable('tpfr.s2.mlp.bn2.runningVar')).toBe(false);
    expect(snapshot(store, 'tpfr.s1.mlp.bn1.runningVar')).toEqual(Array(8).fill(1));
    expect(snapshot(store, 'tpfr.s1.mlp.bn1.gamma')).toEqual(Array(8).fill(1));
    const w = snapshot(store, 'tpfr.s2.mlp.fc1.weight');
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(0.015);
    expect(std).toBeLessThan(0.025);
    expect(store.names().filter((n) => n.startsWith('tpfr.')).length).toBe(2 * (2 + 4 + 2 + 4 + 4));
    store.dispose();
  });

  it('gives the paper config about 0.207 M trainable parameters', () => {
    const paper: ModelConfig = { ...PRESETS.paper };
    const store = makeStore(paper);
    // Per stage: two Linear layers with bias, two BN1d (gamma, beta), two heads of W weights + 1 bias.
    const expected = (['s1', 's2'] as const)
      .map((s) => stageWidths(paper, s))
      .reduce((n, { in: i, hidden: h, out: o }) => n + (i * h + h) + 2 * h + (h * o + o) + 2 * o + 2 * (o + 1), 0);
    expect(expected).toBe(206_916); // 41,666 for stage 1 + 165,250 for stage 2
    expect(store.count(['tpfr.'])).toBe(expected);
    expect(Math.abs(store.count(['tpfr.']) - 207_000) / 207_000).toBeLessThan(0.01);
    store.dispose();
  });
});

describe('pairwiseSquaredDistances and knnMask', () => {
  it('match brute-force JavaScript, ties included', () => {
    withoutLeaks(() => {
      const a = tf.randomUniform([5, 3], -1, 1, 'float32', 11) as tf.Tensor2D;
      const b = tf.randomUniform([7, 3], -1, 1, 'float32', 12) as tf.Tensor2D;
      const d = pairwiseSquaredDistances(a, b);
      const ar = a.arraySync();
      const br = b.arraySync();
      const dr = d.arraySync();
      expect([ar.length, br.length]).toEqual([5, 7]);
      for (const [i, aRow] of ar.entries()) {
        for (const [j, bRow] of br.entries()) {
          const brute = aRow.reduce((s, v, c) => s + (v - at(bRow, c)) ** 2, 0);
          expect(dr[i]?.[j]).toBeCloseTo(brute, 5);
        }
      }
      tf.dispose([a, b, d]);

      // A coarse grid of values makes ties with the K-th smallest common.
      const grid = tf.tidy(() =>
        tf.div(tf.round(tf.mul(tf.randomUniform([6, 8], 0, 1, 'float32', 13), 4)), 4),
      ) as tf.Tensor2D;
      const g = grid.arraySync();
      let tiesSeen = 0;
      for (let k = 1; k <= 5; k++) {
        const mask = knnMask(grid, k);
        const m = mask.arraySync();
        mask.dispose();
        for (const [i, row] of g.entries()) {
          const kth = at(
            [...row].sort((x, y) => x - y),
            k - 1,
          );
          const brute = row.map((v) => (v <= kth ? 1 : 0));
          expect(m[i]).toEqual(brute);
          if (brute.reduce((s: number, v) => s + v, 0) > k) tiesSeen++;
        }
      }
      expect(tiesSeen).toBeGreaterThan(0);
      grid.dispose();
    });
  });

  it('keeps every tie with the K-th smallest distance', () => {
    withoutLeaks(() => {
      const dist = tf.tensor2d([
        [0.1, 0.3, 0.3, 0.9],
        [0.5, 0.2, 0.7, 0.1],
      ]);
      const mask = knnMask(dist, 2);
      expect(mask.arraySync()).toEqual([
        [1, 1, 1, 0],
        [0, 1, 0, 1],
      ]);
      tf.dispose([dist, mask]);
    });
  });

  it('rejects a K larger than the number of peers, naming the valid range', () => {
    const dist = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => knnMask(dist, 4)).toThrow('between 1 and the number of peer rows (3), got 4');
    dist.dispose();
  });
});

/** Counts the non-zero entries of each row and checks that each row sums to 1. */
function nonZerosPerRow(attention: tf.Tensor2D): number[] {
  const a = attention.arraySync();
  for (const row of a) expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
  return a.map((row) => row.filter((v) => v !== 0).length);
}

describe('tpfr', () => {
  let store: ParamStore;
  let content: tf.Tensor4D;
  let peers: tf.Tensor4D;

  beforeEach(() => {
    store = makeStore();
    content = latent([1, 4, 4, CHANNELS], 1);
    peers = latent([1, 5, 5, CHANNELS], 2);
  });

  afterEach(() => {
    tf.dispose([content, peers]);
    store.dispose();
  });

  it('gives each attention row exactly K neighbours whose weights sum to 1, in both modes', () => {
    withoutLeaks(() => {
      for (const training of [false, true]) {
        const { output, attention } = tpfr(store, tiny, content, peers, {
          training,
          returnAttention: true,
          dropoutSeed: 5,
        });
        expect(output.shape).toEqual([1, 4, 4, CHANNELS]);
        expect(attention?.style?.shape).toEqual([16, 25]);
        expect(attention?.content?.shape).toEqual([16, 25]);
        expect(nonZerosPerRow(attention!.style!)).toEqual(Array(16).fill(tiny.knn));
        expect(nonZerosPerRow(attention!.content!)).toEqual(Array(16).fill(tiny.knn));
        tf.dispose([output, attention?.style, attention?.content]);
      }
    });
  });

  it('keeps tied peers: with every peer row duplicated, K = 3 keeps 4 neighbours', () => {
    withoutLeaks(() => {
      const doubled = tf.concat([peers, peers], 2) as tf.Tensor4D; // [1, 5, 10, C]: each row twice
      const { output, attention } = tpfr(store, tiny, content, doubled, { training: false, returnAttention: true });
      expect(nonZerosPerRow(attention!.style!)).toEqual(Array(16).fill(4));
      expect(nonZerosPerRow(attention!.content!)).toEqual(Array(16).fill(4));
      tf.dispose([doubled, output, attention?.style, attention?.content]);
    });
  });

  it('outputs convex combinations of the peers: Ŝ = α·Y_S and Ĉ = α′·Y_C', () => {
    withoutLeaks(() => {
      const { output, attention } = tpfr(store, tiny, content, peers, { training: false, returnAttention: true });
      const out = rows(output, CHANNELS);
      const peerRows = rows(peers, CHANNELS);
      const alpha = attention!.style!.arraySync();
      const alphaC = attention!.content!.arraySync();
      for (let c = 0; c < CHANNELS; c++) {
        const column = peerRows.map((r) => at(r, c));
        const lo = Math.min(...column);
        const hi = Math.max(...column);
        // Channels < 16 are Ĉ (stage 2 weights), the rest Ŝ (stage 1 weights).
        const weights = c < CONTENT ? alphaC : alpha;
        for (const [i, row] of out.entries()) {
          const expected = at(weights, i).reduce((s, a, j) => s + a * at(column, j), 0);
          const value = at(row, c);
          expect(value).toBeCloseTo(expected, 5);
          expect(value).toBeGreaterThanOrEqual(lo - 1e-6);
          expect(value).toBeLessThanOrEqual(hi + 1e-6);
        }
      }
      tf.dispose([output, attention?.style, attention?.content]);
    });
  });

  it('passes gradients to every trainable tpfr parameter and updates running stats inside variableGrads', () => {
    const trainable = store.trainable(['tpfr.']);
    const names = store.names().filter((n) => store.isTrainable(n));
    const projection = tf.randomNormal([1, 4, 4, CHANNELS], 0, 1, 'float32', 9);
    const gradNorms = (training: boolean): Map<string, number> =>
      withoutLeaks(() => {
        const { value, grads } = tf.variableGrads(() => {
          const { output } = tpfr(store, tiny, content, peers, { training, dropoutSeed: 4 });
          return tf.sum(tf.mul(output, projection));
        }, trainable);
        expect(Object.keys(grads).length).toBe(trainable.length);
        const norms = new Map<string, number>();
        for (const [i, v] of trainable.entries()) {
          const g = grads[v.name];
          norms.set(at(names, i), g ? tf.tidy(() => at(tf.max(tf.abs(g)).dataSync(), 0)) : 0);
        }
        tf.dispose([value, ...Object.values(grads)]);
        return norms;
      });

    const meanBefore = snapshot(store, 'tpfr.s2.mlp.bn2.runningMean');
    const train = gradNorms(true);
    expect(snapshot(store, 'tpfr.s2.mlp.bn2.runningMean')).not.toEqual(meanBefore);
    // In training, batch norm subtracts the batch mean, which cancels a Linear bias right before it: those
    // two biases get (numerically) zero gradient, as in PyTorch. Every other parameter gets a real one.
    const cancelled = (n: string): boolean => /\.mlp\.fc[12]\.bias$/.test(n);
    const largest = Math.max(...train.values());
    for (const [name, norm] of train) {
      if (cancelled(name)) expect(norm).toBeLessThan(1e-5 * largest);
      else expect(norm).toBeGreaterThan(1e-4 * largest);
    }
    // With running statistics (inference) nothing cancels the biases, so they learn too. Warm the running
    // statistics up first so that inference normalises about as training does and gradients are comparable.
    for (let i = 0; i < 40; i++)
      tf.dispose(tpfr(store, tiny, content, peers, { training: true, dropoutSeed: i }).output);
    const infer = gradNorms(false);
    const largestInfer = Math.max(...infer.values());
    for (const [name, norm] of infer) if (cancelled(name)) expect(norm).toBeGreaterThan(1e-2 * largestInfer);
    projection.dispose();
  });

  it('passes gradients through to both latents, so an encoder upstream can learn (the kNN mask is constant)', () => {
    withoutLeaks(() => {
      const lossOf = tf.grads((c: tf.Tensor, p: tf.Tensor) =>
        tf.sum(
          tf.square(tpfr(store, tiny, c as tf.Tensor4D, p as tf.Tensor4D, { training: true, dropoutSeed: 2 }).output),
        ),
      );
      const gradients = lossOf([content, peers]);
      expect(gradients).toHaveLength(2);
      const [dContent, dPeers] = [at(gradients, 0), at(gradients, 1)];
      expect(dContent.shape).toEqual(content.shape);
      expect(dPeers.shape).toEqual(peers.shape);
      // Ĉ and Ŝ are recombined peers, so the peers get most of the gradient; the content latent still gets
      // some through the attention logits f(X_C) and g(Ŝ).
      expect(tf.tidy(() => at(tf.max(tf.abs(dPeers)).dataSync(), 0))).toBeGreaterThan(1e-3);
      expect(tf.tidy(() => at(tf.max(tf.abs(dContent)).dataSync(), 0))).toBeGreaterThan(1e-6);
      tf.dispose([dContent, dPeers]);
    });
  });

  it('styleTransfer=false keeps X_S exactly; contentTransfer=false keeps X_C exactly', () => {
    withoutLeaks(() => {
      const x = rows(content, CHANNELS);
      for (const [flag, from, to] of [
        ['styleTransfer', CONTENT, CHANNELS],
        ['contentTransfer', 0, CONTENT],
      ] as const) {
        const cfg: ModelConfig = { ...tiny, [flag]: false };
        const { output, attention } = tpfr(store, cfg, content, peers, { training: true, returnAttention: true });
        const out = rows(output, CHANNELS);
        for (const [i, row] of out.entries()) expect(row.slice(from, to)).toEqual(at(x, i).slice(from, to));
        // The other part is still recombined, so it differs from the input.
        const [otherFrom, otherTo] = from === 0 ? [CONTENT, CHANNELS] : [0, CONTENT];
        expect(at(out, 0).slice(otherFrom, otherTo)).not.toEqual(at(x, 0).slice(otherFrom, otherTo));
        expect(flag === 'styleTransfer' ? attention?.style : attention?.content).toBeUndefined();
        tf.dispose([output, attention?.style, attention?.content]);
      }
    });
  });

  it('inference is deterministic, uses running stats and does not depend on the rest of the batch', () => {
    withoutLeaks(() => {
      // Move the running statistics away from 0/1 first so that using them is visible.
      tf.dispose(tpfr(store, tiny, content, peers, { training: true }).output);
      const stats = snapshot(store, 'tpfr.s1.mlp.bn1.runningMean');
      const a = tpfr(store, tiny, content, peers, { training: false }).output;
      const b = tpfr(store, tiny, content, peers, { training: false }).output;
      expect(maxAbsDiff(a, b)).toBe(0);
      expect(snapshot(store, 'tpfr.s1.mlp.bn1.runningMean')).toEqual(stats);

      const other = latent([1, 4, 4, CHANNELS], 7);
      const both = tf.concat([content, other], 0) as tf.Tensor4D;
      const batched = tpfr(store, tiny, both, peers, { training: false }).output;
      const first = tf.slice(batched, [0, 0, 0, 0], [1, -1, -1, -1]);
      expect(maxAbsDiff(first, a)).toBeLessThan(1e-6);

      // Inference reads the running statistics: changing one changes the output.
      const runningVar = store.get('tpfr.s1.mlp.bn1.runningVar');
      const saved = tf.clone(runningVar);
      tf.tidy(() => runningVar.assign(tf.mul(runningVar, 4)));
      const rescaled = tpfr(store, tiny, content, peers, { training: false }).output;
      expect(maxAbsDiff(rescaled, a)).toBeGreaterThan(1e-6);
      runningVar.assign(saved);
      tf.dispose([saved, rescaled]);

      // In training, the batch statistics couple the rows, so the same image changes with its batch.
      const t1 = tpfr(store, tiny, content, peers, {
        training: true,
        dropoutSeed: 1,
        updateRunningStats: false,
      }).output;
      const t2 = tpfr(store, tiny, both, peers, { training: true, dropoutSeed: 1, updateRunningStats: false }).output;
      const t2first = tf.slice(t2, [0, 0, 0, 0], [1, -1, -1, -1]);
      expect(maxAbsDiff(t2first, t1)).toBeGreaterThan(1e-6);
      expect(snapshot(store, 'tpfr.s1.mlp.bn1.runningMean')).toEqual(stats);
      tf.dispose([a, b, other, both, batched, first, t1, t2, t2first]);
    });
  });

  it('moves the running statistics toward each call’s batch statistics with momentum 0.1', () => {
    withoutLeaks(() => {
      const w = store.get('tpfr.s1.mlp.fc1.weight');
      const bias = store.get('tpfr.s1.mlp.fc1.bias');
      // Pre-BN activations of stage 1's first layer for the input rows, then the peer rows.
      const batchStats = (latentRows: tf.Tensor4D): { mean: number[]; unbiased: number[] } =>
        tf.tidy(() => {
          const x = tf.slice(tf.reshape(latentRows, [-1, CHANNELS]), [0, 0], [-1, CONTENT]) as tf.Tensor2D;
          const h = rows(tf.add(tf.matMul(x, w as tf.Tensor2D), bias), 8);
          const mean = at(h, 0).map((_, c) => h.reduce((s, r) => s + at(r, c), 0) / h.length);
          const unbiased = mean.map((m, c) => h.reduce((s, r) => s + (at(r, c) - m) ** 2, 0) / (h.length - 1));
          return { mean, unbiased };
        });
      const inp = batchStats(content);
      const peer = batchStats(peers);
      const m = BATCH_NORM_MOMENTUM;
      const mean0 = snapshot(store, 'tpfr.s1.mlp.bn1.runningMean');
      const var0 = snapshot(store, 'tpfr.s1.mlp.bn1.runningVar');
      tf.dispose(tpfr(store, tiny, content, peers, { training: true }).output);
      const mean1 = snapshot(store, 'tpfr.s1.mlp.bn1.runningMean');
      const var1 = snapshot(store, 'tpfr.s1.mlp.bn1.runningVar');
      for (let c = 0; c < 8; c++) {
        // Two updates per forward: the input rows first, then the peer rows.
        const expMean = (1 - m) * ((1 - m) * at(mean0, c) + m * at(inp.mean, c)) + m * at(peer.mean, c);
        const expVar = (1 - m) * ((1 - m) * at(var0, c) + m * at(inp.unbiased, c)) + m * at(peer.unbiased, c);
        expect(mean1[c]).toBeCloseTo(expMean, 5);
        expect(var1[c]).toBeCloseTo(expVar, 5);
      }
      // Stage 2 learns its statistics too, and updateRunningStats: false leaves them alone.
      const s2 = snapshot(store, 'tpfr.s2.mlp.bn1.runningVar');
      expect(s2).not.toEqual(Array(16).fill(1));
      tf.dispose(tpfr(store, tiny, content, peers, { training: true, updateRunningStats: false }).output);
      expect(snapshot(store, 'tpfr.s2.mlp.bn1.runningVar')).toEqual(s2);
    });
  });

  it('applies dropout on the logits in training only', () => {
    withoutLeaks(() => {
      const heavy: ModelConfig = { ...tiny, attentionDropout: 0.5 };
      const none: ModelConfig = { ...tiny, attentionDropout: 0 };
      const run = (cfg: ModelConfig, training: boolean, seed: number): tf.Tensor4D =>
        tpfr(store, cfg, content, peers, { training, dropoutSeed: seed, updateRunningStats: false }).output;
      const infHeavy = run(heavy, false, 1);
      const infNone = run(none, false, 1);
      expect(maxAbsDiff(infHeavy, infNone)).toBe(0);
      const trHeavy = run(heavy, true, 1);
      const trHeavyAgain = run(heavy, true, 1);
      const trHeavyOtherSeed = run(heavy, true, 2);
      const trNone = run(none, true, 1);
      expect(maxAbsDiff(trHeavy, trNone)).toBeGreaterThan(1e-4);
      expect(maxAbsDiff(trHeavy, trHeavyAgain)).toBe(0);
      expect(maxAbsDiff(trHeavy, trHeavyOtherSeed)).toBeGreaterThan(1e-4);
      tf.dispose([infHeavy, infNone, trHeavy, trHeavyAgain, trHeavyOtherSeed, trNone]);
    });
  });

  it('gives the same inference result when content rows are processed in chunks', () => {
    tf.dispose(tpfr(store, tiny, content, peers, { training: true }).output); // non-trivial running stats
    withoutLeaks(() => {
      const x = tf.reshape(content, [-1, CHANNELS]) as tf.Tensor2D;
      const y = tf.reshape(peers, [-1, CHANNELS]) as tf.Tensor2D;
      const cut = (t: tf.Tensor2D, from: number, to: number): tf.Tensor2D => tf.slice(t, [0, from], [-1, to - from]);
      const cases: [TpfrStage, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D][] = [
        ['s1', cut(x, 0, CONTENT), cut(y, 0, CONTENT), cut(y, CONTENT, CHANNELS)],
        ['s2', cut(x, CONTENT, CHANNELS), cut(y, CONTENT, CHANNELS), cut(y, 0, CONTENT)],
      ];
      for (const [stage, inputKeys, peerKeys, peerValues] of cases) {
        const whole = recombineStage(
          store,
          tiny,
          stage,
          { inputKeys, peerKeys, peerValues },
          { training: false },
        ).output;
        const parts = (
          [
            [0, 5],
            [5, 11],
            [11, 16],
          ] as const
        ).map(([from, to]) => {
          const chunk = tf.slice(inputKeys, [from, 0], [to - from, -1]);
          const out = recombineStage(
            store,
            tiny,
            stage,
            { inputKeys: chunk, peerKeys, peerValues },
            { training: false },
          ).output;
          chunk.dispose();
          return out;
        });
        const joined = tf.concat(parts, 0);
        expect(whole.shape).toEqual([16, stage === 's1' ? 2 * CONTENT : CONTENT]);
        expect(maxAbsDiff(whole, joined)).toBeLessThan(1e-5);
        tf.dispose([whole, joined, ...parts]);
      }
      tf.dispose([x, y, ...cases.flatMap(([, a, b, c]) => [a, b, c])]);
    });
  });

  it('rejects latents of the wrong width and too few peers, saying what it expected', () => {
    const narrow = latent([1, 2, 2, CHANNELS - 4], 3);
    expect(() => tpfr(store, tiny, narrow, peers, { training: false })).toThrow(
      'TPFR expects latents with 12·ngf = 48 channels (ngf=4), got content 44 and peers 48.',
    );
    const fewPeers = latent([1, 1, 2, CHANNELS], 3);
    expect(() => tpfr(store, tiny, content, fewPeers, { training: false })).toThrow('number of peer rows (2), got 3');
    tf.dispose([narrow, fewPeers]);
  });
});

describe('backends', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('computes the same output and gradients on wasm as on cpu', async () => {
    const results: Float32Array[][] = [];
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      // Weights and latents are seeded, so both backends start from the same numbers.
      const store = makeStore();
      const content = latent([1, 4, 4, CHANNELS], 1);
      const peers = latent([1, 5, 5, CHANNELS], 2);
      const inference = tpfr(store, tiny, content, peers, { training: false }).output;
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.square(tpfr(store, tiny, content, peers, { training: true, dropoutSeed: 3 }).output)),
        store.trainable(['tpfr.']),
      );
      const w = defined(grads[store.get('tpfr.s1.mlp.fc1.weight').name], 'the gradient of tpfr.s1.mlp.fc1.weight');
      const runningVar = store.get('tpfr.s2.mlp.bn2.runningVar');
      results.push([inference, value, w, runningVar].map((t) => Float32Array.from(t.dataSync())));
      tf.dispose([inference, value, content, peers, ...Object.values(grads)]);
      store.dispose();
    }
    const [cpuResults, wasmResults] = [at(results, 0), at(results, 1)];
    for (const [i, cpu] of cpuResults.entries()) {
      const wasm = at(wasmResults, i);
      const scale = Math.max(1e-3, ...cpu.map(Math.abs));
      const maxDiff = cpu.reduce((m, v, j) => Math.max(m, Math.abs(v - at(wasm, j))), 0);
      expect(maxDiff / scale).toBeLessThan(1e-4);
    }
  });
});
