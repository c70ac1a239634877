/**
 * Model-package parity: random `tiny` weights exported with exportModel, then TF.js (cpu backend,
 * trainer/model.ts pieces) and onnxruntime compared stage by stage: the encoder's latent, the TPFR
 * output rows, the decoder's image, and the chained stylisation against `stylize`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';

import { closeSession, createSession, type OnnxSession } from '../../../functions/engine/onnx-session';
import { presetConfig } from '../../../trainer/config';
import { DECODER_IO, ENCODER_IO, exportModel } from '../../../trainer/export/model-export';
import { decodeModel } from '../../../trainer/export/onnx-proto';
import { GRAPH_FILES, MANIFEST_FORMAT, readManifest } from '../../../trainer/export/package-format';
import { TPFR_IO } from '../../../trainer/export/tpfr-to-onnx';
import { tpfr } from '../../../trainer/layers/tpfr';
import { createModel, styleColour, stylize } from '../../../trainer/model';
import { applyColourHead, withMeanColour } from '../../../functions/engine/colour-head';
import { decode } from '../../../trainer/networks/decoder';
import { encode } from '../../../trainer/networks/encoder';
import type { ParamStore } from '../../../trainer/nn/params';
import { at, defined } from '../../support/checked';
import { maxAbsDiff, randomArray, runOutput, TOLERANCE, useCpuBackend } from '../../support/export-helpers';
import { randomiseStore } from '../../support/random-model';
import { toNchw, toRows } from '../../../trainer/export/parity';

const cfg = presetConfig('tiny');
const total = 12 * cfg.ngf;

let dir: string;
let store: ParamStore;
const sessions: Partial<Record<keyof typeof GRAPH_FILES, OnnxSession>> = {};

beforeAll(async () => {
  await useCpuBackend();
  dir = mkdtempSync(path.join(tmpdir(), 'peerstyle-export-'));
  store = createModel(cfg, 5);
  randomiseStore(store, 11);
  await exportModel(
    { params: store, cfg, preset: 'tiny', training: { dataset: 'random', iterations: 0, trainSeconds: 0 } },
    dir,
    { name: 'parity' },
  );
  for (const [graph, file] of Object.entries(GRAPH_FILES) as [keyof typeof GRAPH_FILES, string][]) {
    sessions[graph] = await createSession(path.join(dir, file), { intraOpThreads: 1 });
  }
});

afterAll(async () => {
  for (const s of Object.values(sessions)) if (s) await closeSession(s);
  store.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('the manifest describes the package and checksums every graph', async () => {
  const manifest = await readManifest(dir);
  expect(manifest.format).toBe(MANIFEST_FORMAT);
  expect(manifest).toMatchObject({ name: 'parity', preset: 'tiny', opset: 17, training: { dataset: 'random' } });
  expect(manifest.config.ngf).toBe(cfg.ngf);
  for (const file of Object.values(GRAPH_FILES)) {
    const entry = defined(manifest.files[file], `the manifest's entry for ${file}`);
    expect(entry.bytes).toBe(readFileSync(path.join(dir, file)).byteLength);
    expect(entry.sha256).toMatch(/^[0-9a-f]{64}$/);
  }
});

test('the distance product is one Gemm without a bias, so no bias row is copied into the N×M output', () => {
  const graph = decodeModel(readFileSync(path.join(dir, GRAPH_FILES.tpfr))).graph!;
  const dist = (graph.node ?? []).filter((n) => n.opType === 'Gemm' && /\.dist$/.test(n.name ?? ''));
  expect(dist.map((n) => n.name)).toEqual(['tpfr.s1.dist', 'tpfr.s2.dist']);
  for (const n of dist) expect(n.input).toHaveLength(2);
});

// A non-square content image and a square style image, so that rows N ≠ peers M.
const contentArr = randomArray([1, 40, 28, 3], 21, 0.5);
const styleArr = randomArray([1, 32, 32, 3], 22, 0.5);

describe('stage by stage against TF.js', () => {
  test('the encoder gives the latent of encode()', async () => {
    const x = tf.tensor4d(contentArr.data, [1, 40, 28, 3]);
    const expected = encode(store, cfg, x);
    const latent = await runOutput(sessions.encoder!, { [ENCODER_IO.image]: toNchw(x) }, ENCODER_IO.latent);
    const want = toNchw(expected.latent);
    expect(latent.dims).toEqual([1, total, 10, 7]);
    expect(maxAbsDiff(latent.data, want.data)).toBeLessThan(TOLERANCE);
    tf.dispose([x, expected.latent, expected.middle]);
  });

  test('TPFR rows and the decoded image match tpfr() and decode()', async () => {
    const x = tf.tensor4d(contentArr.data, [1, 40, 28, 3]);
    const s = tf.tensor4d(styleArr.data, [1, 32, 32, 3]);
    const zc = encode(store, cfg, x);
    const zs = encode(store, cfg, s);
    const { output } = tpfr(store, cfg, zc.latent, zs.latent, { training: false });
    const peers = toRows(zs.latent);
    const peerCount = at(peers.dims, 0);
    const rows = await runOutput(
      sessions.tpfr!,
      {
        [TPFR_IO.content]: toRows(zc.latent),
        [TPFR_IO.peers]: peers,
        [TPFR_IO.peerLogWeight]: { data: new Float32Array(peerCount), dims: [peerCount] },
      },
      TPFR_IO.output,
    );
    expect(rows.dims).toEqual([70, total]);
    expect(maxAbsDiff(rows.data, output.dataSync())).toBeLessThan(TOLERANCE);

    // With colorMean the engine replaces the graph output's mean colour with the style's, which must
    // give TF.js's decode() with the same statistics.
    expect(cfg.colorMean).toBe(true);
    const colour = styleColour(cfg, s, 1);
    const image = decode(store, cfg, 'dec', output, colour);
    const raw = await runOutput(sessions.decoder!, { [DECODER_IO.latent]: toNchw(output) }, DECODER_IO.image);
    expect(raw.dims).toEqual([1, 3, 40, 28]);
    const decoded = withMeanColour({ data: Float32Array.from(raw.data), dims: raw.dims }, [...colour.dataSync()]);
    expect(maxAbsDiff(decoded.data, toNchw(image).data)).toBeLessThan(TOLERANCE);
    // The step is not the identity: the graph's own output differs from the image.
    expect(maxAbsDiff(raw.data, decoded.data)).toBeGreaterThan(0.01);

    // The whole chain agrees with the reference forward pass.
    const reference = stylize(store, cfg, x, s);
    expect(maxAbsDiff(toNchw(reference).data, decoded.data)).toBeLessThan(TOLERANCE);
    tf.dispose([x, s, zc.latent, zc.middle, zs.latent, zs.middle, output, image, reference, colour]);
  });

  test('a constant per-peer log-weight leaves the rows unchanged, a varying one changes them', async () => {
    const rows = randomArray([12, total], 31, 1, 1);
    const peers = randomArray([20, total], 32, 1, 1);
    const feed = async (w: (i: number) => number) => {
      const feeds = {
        [TPFR_IO.content]: { data: rows.data, dims: rows.shape },
        [TPFR_IO.peers]: { data: peers.data, dims: peers.shape },
        [TPFR_IO.peerLogWeight]: { data: Float32Array.from({ length: 20 }, (_, i) => w(i)), dims: [20] },
      };
      return (await runOutput(sessions.tpfr!, feeds, TPFR_IO.output)).data;
    };
    const base = await feed(() => 0);
    const shifted = await feed(() => Math.log(0.3));
    const skewed = await feed((i) => (i % 2 === 0 ? 0 : -3));
    expect(maxAbsDiff(base, shifted)).toBeLessThan(1e-5);
    expect(maxAbsDiff(base, skewed)).toBeGreaterThan(1e-3);
  });
});

describe('a package with the colour head (upsample transpose, as models before colorMean)', () => {
  test('the engine-side head on the decoder graph gives TF.js decode() with its head', async () => {
    const headCfg = { ...cfg, colorHead: true, colorMean: false, upsample: 'transpose' as const };
    const headDir = mkdtempSync(path.join(tmpdir(), 'peerstyle-export-head-'));
    const headStore = createModel(headCfg, 6);
    randomiseStore(headStore, 12);
    try {
      await exportModel(
        {
          params: headStore,
          cfg: headCfg,
          preset: 'tiny',
          training: { dataset: 'random', iterations: 0, trainSeconds: 0 },
        },
        headDir,
        { name: 'parity-head' },
      );
      const manifest = await readManifest(headDir);
      expect(manifest.colourHead).toBeDefined();
      const decoder = await createSession(path.join(headDir, GRAPH_FILES.decoder), { intraOpThreads: 1 });
      const latent = tf.tensor4d(randomArray([1, 6, 5, total], 41, 0.5).data, [1, 6, 5, total]);
      const s = tf.tensor4d(styleArr.data, [1, 32, 32, 3]);
      const colour = styleColour(headCfg, s, 1);
      const image = decode(headStore, headCfg, 'dec', latent, colour);
      const raw = await runOutput(decoder, { [DECODER_IO.latent]: toNchw(latent) }, DECODER_IO.image);
      await closeSession(decoder);
      const decoded = applyColourHead(raw, Array.from(colour.dataSync()), manifest.colourHead!);
      expect(maxAbsDiff(decoded.data, toNchw(image).data)).toBeLessThan(TOLERANCE);
      expect(maxAbsDiff(raw.data, decoded.data)).toBeGreaterThan(0.01);
      tf.dispose([latent, s, colour, image]);
    } finally {
      headStore.dispose();
      rmSync(headDir, { recursive: true, force: true });
    }
  });
});
