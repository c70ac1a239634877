/**
 * The TPFR graph's tie-overflow path against the TF.js layer. The graph attends over a window of the
 * K + slack nearest peers and recomputes densely any row whose ties at the K-th distance reach past that
 * window; ordinary images never take that path, so it is forced here with a style image that is flat
 * almost everywhere: its latent repeats one peer row many times over, and content rows nearest to that
 * row tie with every copy of it. The test first shows that the ties really overflow the window (so the
 * comparison exercises the dense path), then compares the package's TPFR session with `tpfr()` in
 * inference mode.
 */
import { rmSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs-core';

import { closeModelPackage, loadModelPackage, type ModelPackage } from '../../../functions/engine';
import type { FloatTensor } from '../../../functions/engine/onnx-session';
import { latentChannels, type ModelConfig } from '../../../trainer/config';
import { TPFR_IO } from '../../../trainer/export/package-format';
// Nearest peers beyond K that the graph's window keeps: ties must exceed K plus this to leave the window.
import { WINDOW_SLACK } from '../../../trainer/export/tpfr-to-onnx';
import { pairwiseSquaredDistances } from '../../../trainer/layers/knn-attention';
import { tpfr } from '../../../trainer/layers/tpfr';
import { encode } from '../../../trainer/networks/encoder';
import type { ParamStore } from '../../../trainer/nn/params';
import { at } from '../../support/checked';
import { maxAbsDiff, randomArray, runOutput, TOLERANCE } from '../../support/export-helpers';
import { exportTinyPackage } from '../../support/tiny-package';

let dir: string;
let store: ParamStore;
let cfg: ModelConfig;
let pkg: ModelPackage;

beforeAll(async () => {
  ({ dir, store, cfg } = await exportTinyPackage(29));
  pkg = await loadModelPackage(dir, { intraOpThreads: 1 });
});

afterAll(async () => {
  await closeModelPackage(pkg);
  store.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** A 64×64 image of one flat colour with a 12×12 patch of noise in one corner, NHWC in [-1, 1]. */
function flatStyle(): tf.Tensor4D {
  const noise = randomArray([1, 64, 64, 3], 31, 0.5);
  const data = new Float32Array(64 * 64 * 3);
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 64; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * 64 + x) * 3 + c;
        data[i] = y < 12 && x < 12 ? at(noise.data, i) : at([0.3, -0.2, 0.1], c);
      }
    }
  }
  return tf.tensor4d(data, [1, 64, 64, 3]);
}

/** NHWC latent → rows [h·w, C], as TPFR flattens it. */
function rowsOf(t: tf.Tensor4D): FloatTensor {
  const [b, h, w, c] = t.shape;
  return { data: Float32Array.from(t.dataSync()), dims: [b * h * w, c] };
}

test('a flat style image makes ties at the K-th distance overflow the window', () => {
  const style = flatStyle();
  const latent = encode(store, cfg, style);
  const { content } = latentChannels(cfg);
  // Stage 1 compares content keys with the peers' content keys; here the content is the style itself,
  // so every flat-area row's nearest peers are the copies of that row.
  const widest = tf.tidy(() => {
    const keys = tf.slice(
      tf.reshape(latent.latent, [-1, latent.latent.shape[3]]),
      [0, 0],
      [-1, content],
    ) as tf.Tensor2D;
    const dist = pairwiseSquaredDistances(keys, keys); // [M, M]
    const kth = tf.neg(tf.slice(tf.topk(tf.neg(dist), cfg.knn).values, [0, cfg.knn - 1], [-1, 1])); // [M, 1]
    return tf.max(tf.sum(tf.cast(tf.lessEqual(dist, kth), 'int32'), 1)).dataSync()[0];
  });
  expect(widest).toBeGreaterThan(cfg.knn + WINDOW_SLACK);
  tf.dispose([style, latent.latent, latent.middle]);
});

test.each([
  ['the style itself', (): tf.Tensor4D => flatStyle()],
  ['random content', (): tf.Tensor4D => tf.tensor4d(randomArray([1, 40, 28, 3], 37, 0.5).data, [1, 40, 28, 3])],
])('TPFR with many identical peers matches tpfr() for %s', async (_name, makeContent) => {
  const x = makeContent();
  const s = flatStyle();
  const zc = encode(store, cfg, x);
  const zs = encode(store, cfg, s);
  const { output } = tpfr(store, cfg, zc.latent, zs.latent, { training: false });
  const peers = rowsOf(zs.latent);
  const content = rowsOf(zc.latent);
  const peerCount = at(peers.dims, 0);
  const got = await runOutput(
    pkg.sessions.tpfr,
    {
      [TPFR_IO.content]: content,
      [TPFR_IO.peers]: peers,
      [TPFR_IO.peerLogWeight]: { data: new Float32Array(peerCount), dims: [peerCount] },
    },
    TPFR_IO.output,
  );
  expect(got.dims).toEqual(content.dims);
  expect(maxAbsDiff(got.data, output.dataSync())).toBeLessThan(TOLERANCE);
  tf.dispose([x, s, zc.latent, zc.middle, zs.latent, zs.middle, output]);
});
