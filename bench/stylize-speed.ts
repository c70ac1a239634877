/**
 * Stylisation speed: one 512×512 content with one 512×512 style, on onnxruntime (the engine, through
 * the model package) and on the TF.js wasm backend (trainer/model.ts's forward pass) with the same
 * weights, in one run so that the ratio does not depend on how busy the machine is. Also counts the
 * forward pass's FLOPs to report the GFLOP/s onnxruntime achieves, next to what it reaches on a single
 * 3×3 convolution measured in the same run. Prints figures; never passes or fails.
 *
 *   npx tsx bench/stylize-speed.ts [--size 512] [--style-size 512] [--reps 3] [--threads 2] [--random]
 *
 * The model is models/default when it exists (and its weights are beside it, for the TF.js side),
 * otherwise a `small` package exported from random weights; the output says which. The TF.js side runs
 * the TPFR layer in strips of content rows: at 512² its dense N×M matrices are 1 GiB each and do not fit
 * in wasm memory, and in inference every content row is independent of the others, so the strips give
 * exactly `stylize`'s result (the engine does the same).
 */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';

import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';

import { createEngine } from '../functions/engine';
import { initBackend } from '../trainer/backend';
import { latentChannels, type ModelConfig } from '../trainer/config';
import { WINDOW_SLACK } from '../trainer/export/tpfr-to-onnx';
import { tpfr } from '../trainer/layers/tpfr';
import { createModel, styleColour } from '../trainer/model';
import { decode } from '../trainer/networks/decoder';
import { encode } from '../trainer/networks/encoder';
import type { ParamStore } from '../trainer/nn/params';
import { measureOnnxConvThroughput } from './support/onnx-conv-throughput';
import { timeStages, type StageTimes } from './support/stage-timer';
import { flag } from './support/flag';
import { stylizeFlops } from './support/stylize-flops';
import { benchModel, DEFAULT_MODEL_DIR, median, syntheticImage } from './support/stylize-fixture';

/** Content rows per TF.js TPFR strip: the engine's default chunk (≈16M-entry N×M matrices). */
const STRIP_ENTRIES = 16_000_000;

/** Times of the TF.js forward pass, in seconds. */
interface TfTimes {
  encode: number;
  tpfr: number;
  decode: number;
  total: number;
  image: Uint8Array;
}

/** PNG → [1, H, W, 3] in [-1, 1], the engine's own preprocessing. */
async function toTensor(png: Buffer): Promise<tf.Tensor4D> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const values = Float32Array.from(data, (v) => v / 127.5 - 1);
  return tf.tensor4d(values, [1, info.height, info.width, 3]);
}

/** trainer/model.ts `stylize`, split into its stages and with TPFR in strips of latent rows. */
function stylizeOnTf(store: ParamStore, cfg: ModelConfig, content: tf.Tensor4D, style: tf.Tensor4D): TfTimes {
  const seconds = (from: number): number => (performance.now() - from) / 1000;
  const t0 = performance.now();
  const zc = encode(store, cfg, content);
  const zs = encode(store, cfg, style);
  zc.latent.dataSync();
  zs.latent.dataSync();
  const encodeTime = seconds(t0);
  const t1 = performance.now();
  const [, h, w] = zc.latent.shape;
  const peers = zs.latent.shape[1] * zs.latent.shape[2];
  const stripRows = Math.max(1, Math.floor(STRIP_ENTRIES / peers / w));
  const strips: tf.Tensor4D[] = [];
  for (let y = 0; y < h; y += stripRows) {
    const rows = Math.min(stripRows, h - y);
    const strip = tf.tidy(() => {
      const part = tf.slice(zc.latent, [0, y, 0, 0], [1, rows, w, latentChannels(cfg).total]);
      return tpfr(store, cfg, part, zs.latent, { training: false }).output;
    });
    strip.dataSync();
    strips.push(strip);
  }
  const recombined = tf.concat(strips, 1);
  const tpfrTime = seconds(t1);
  const t2 = performance.now();
  const image = tf.tidy(() =>
    tf.cast(
      tf.clipByValue(
        tf.round(tf.mul(tf.add(decode(store, cfg, 'dec', recombined, styleColour(cfg, style, 1)), 1), 127.5)),
        0,
        255,
      ),
      'int32',
    ),
  );
  const pixels = Uint8Array.from(image.dataSync());
  const decodeTime = seconds(t2);
  tf.dispose([zc.latent, zc.middle, zs.latent, zs.middle, recombined, image, ...strips]);
  return { encode: encodeTime, tpfr: tpfrTime, decode: decodeTime, total: seconds(t0), image: pixels };
}

function medianStages(runs: StageTimes[]): StageTimes {
  const pick = (k: keyof StageTimes): number => median(runs.map((r) => r[k]));
  return {
    read: pick('read'),
    encode: pick('encode'),
    tpfr: pick('tpfr'),
    decode: pick('decode'),
    write: pick('write'),
    total: pick('total'),
    tpfrCalls: pick('tpfrCalls'),
  };
}

async function main(): Promise<void> {
  const size = Number(flag('size', '512'));
  const styleSize = Number(flag('style-size', '512'));
  const reps = Number(flag('reps', '3'));
  const threads = Number(flag('threads', '2'));
  const backend = await initBackend('wasm');
  const model = await benchModel({ forceRandom: process.argv.includes('--random') });
  const contentPng = await syntheticImage(size, size, 1);
  const stylePng = await syntheticImage(styleSize, styleSize, 2);
  console.log(`model: ${model.origin}`);
  console.log(`content ${size}×${size}, style ${styleSize}×${styleSize}; onnxruntime with ${threads} intra-op threads`);

  // onnxruntime through the engine: one warm-up (session start, allocator growth), then the median of reps.
  const engine = await createEngine({ modelDir: model.dir, intraOpThreads: threads });
  // Render scale 1, so that both sides do the same work whatever the package recommends.
  const request = { content: contentPng, styles: [{ image: stylePng }], styleSize, renderScale: 1 };
  await engine.stylize(request);
  const runs: StageTimes[] = [];
  for (let i = 0; i < reps; i++) runs.push(await timeStages(engine, request));
  const ort = medianStages(runs);
  const ortImage = await sharp((await engine.stylize(request)).image)
    .raw()
    .toBuffer();
  await engine.close();
  // The bundled model on onnxruntime alone, when it is not the one measured above (no weights for TF.js).
  let bundled: StageTimes | undefined;
  // And at the render scale its package recommends, when that is not 1.
  let bundledScaled: { scale: number; times: StageTimes } | undefined;
  if (existsSync(path.join(DEFAULT_MODEL_DIR, 'manifest.json'))) {
    const own = await createEngine({ modelDir: DEFAULT_MODEL_DIR, intraOpThreads: threads });
    await own.stylize(request);
    if (model.dir !== DEFAULT_MODEL_DIR) {
      const ownRuns: StageTimes[] = [];
      for (let i = 0; i < reps; i++) ownRuns.push(await timeStages(own, request));
      bundled = medianStages(ownRuns);
    }
    const scale = own.manifest.defaults?.renderScale ?? 1;
    if (scale !== 1) {
      const scaled = { ...request, renderScale: scale };
      const scaledRuns: StageTimes[] = [];
      for (let i = 0; i < reps; i++) scaledRuns.push(await timeStages(own, scaled));
      bundledScaled = { scale, times: medianStages(scaledRuns) };
    }
    await own.close();
  }

  // TF.js wasm with the same weights: a small warm-up compiles the kernels, then one measured run.
  const store = createModel(model.cfg, 1);
  store.load({ ...model.params });
  const content = await toTensor(contentPng);
  const style = await toTensor(stylePng);
  const warm = tf.tidy(() => tf.slice(content, [0, 0, 0, 0], [1, 64, 64, 3]));
  stylizeOnTf(store, model.cfg, warm, warm);
  warm.dispose();
  const tfTimes = stylizeOnTf(store, model.cfg, content, style);
  tf.dispose([content, style]);
  store.dispose();
  let maxDiff = 0;
  let sumDiff = 0;
  let far = 0;
  for (let i = 0; i < ortImage.length; i++) {
    const d = Math.abs(ortImage[i]! - tfTimes.image[i]!);
    maxDiff = Math.max(maxDiff, d);
    sumDiff += d;
    if (d > 8) far++;
  }

  const conv = await measureOnnxConvThroughput(threads);
  const flops = stylizeFlops(
    model.cfg,
    { height: size, width: size },
    { height: styleSize, width: styleSize },
    ort.tpfrCalls,
    model.cfg.knn + WINDOW_SLACK,
  );
  const gf = (f: number, s: number): string => (f / s / 1e9).toFixed(1);
  const col = (x: string | number, n = 10): string => String(x).padStart(n);
  const convsOrt = ort.encode + ort.decode;
  const convFlops = flops.encoderContent + flops.encoderStyle + flops.decoder;

  console.log(`TF.js backend: ${backend.detail}`);
  console.log('');
  console.log(`stage        ${col('ORT s')}${col('wasm s')}${col('ratio')}${col('GFLOP')}${col('ORT GF/s')}`);
  const row = (name: string, a: number, b: number, f: number): void =>
    console.log(
      `${name.padEnd(13)}${col(a.toFixed(2))}${col(b.toFixed(2))}${col(`${(b / a).toFixed(1)}×`)}${col((f / 1e9).toFixed(1))}${col(gf(f, a))}`,
    );
  row('encode ×2', ort.encode, tfTimes.encode, flops.encoderContent + flops.encoderStyle);
  row('TPFR', ort.tpfr, tfTimes.tpfr, flops.tpfrExecuted);
  row('decode', ort.decode, tfTimes.decode, flops.decoder);
  row('whole', ort.total, tfTimes.total, flops.executed);
  console.log('');
  console.log(
    `FLOPs of the forward pass: ${(flops.model / 1e9).toFixed(1)} G as the model defines it (TPFR ${(flops.tpfrModel / 1e9).toFixed(1)} G, convolutions ${(convFlops / 1e9).toFixed(1)} G); ` +
      `${(flops.executed / 1e9).toFixed(1)} G as the exported graph executes it (TPFR ${(flops.tpfrExecuted / 1e9).toFixed(1)} G in ${ort.tpfrCalls} calls)`,
  );
  console.log(
    `onnxruntime whole request: ${gf(flops.executed, ort.total)} GFLOP/s executed, ${gf(flops.model, ort.total)} GFLOP/s model-equivalent; ` +
      `convolutions alone (encode + decode stages): ${gf(convFlops, convsOrt)} GFLOP/s`,
  );
  for (const c of conv) {
    console.log(
      `onnxruntime single Conv 3×3 ${c.channels}→${c.channels} @ ${c.size}×${c.size}: ${c.milliseconds.toFixed(1)} ms, ${c.gflops.toFixed(1)} GFLOP/s`,
    );
  }
  const best = Math.max(...conv.map((c) => c.gflops));
  console.log(
    `share of the best single-Conv throughput: whole request ${((100 * flops.executed) / ort.total / 1e9 / best).toFixed(0)}% executed ` +
      `(${((100 * flops.model) / ort.total / 1e9 / best).toFixed(0)}% model-equivalent), convolution stages ${((100 * convFlops) / convsOrt / 1e9 / best).toFixed(0)}%`,
  );
  console.log(`speed ratio onnxruntime vs TF.js wasm, whole request: ${(tfTimes.total / ort.total).toFixed(1)}×`);
  if (bundled) {
    console.log(
      `models/default on onnxruntime (median of ${reps}): encode ${bundled.encode.toFixed(2)} s, TPFR ${bundled.tpfr.toFixed(2)} s, ` +
        `decode ${bundled.decode.toFixed(2)} s, whole ${bundled.total.toFixed(2)} s`,
    );
  }
  if (bundledScaled) {
    const t = bundledScaled.times;
    console.log(
      `models/default at its default render scale ${bundledScaled.scale} (median of ${reps}): encode ${t.encode.toFixed(2)} s, ` +
        `TPFR ${t.tpfr.toFixed(2)} s, decode ${t.decode.toFixed(2)} s, whole ${t.total.toFixed(2)} s`,
    );
  }
  console.log(
    `same weights check: output values differ by at most ${maxDiff} of 255 (mean ${(sumDiff / ortImage.length).toFixed(3)}; ` +
      `${far} of ${ortImage.length} by more than 8)`,
  );
  if (model.temporary) rmSync(model.dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
