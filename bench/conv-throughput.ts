/**
 * Measures the wasm backend's 3×3 convolution throughput, forward and forward + filter gradient, at
 * the shapes that dominate training: 64→64 channels on 64×64, and the `small` preset's widths on its
 * feature-map sizes (16 ch at 128 px, 32 ch at 64 px, 64 ch at 32 px). Prints GFLOP/s; never pass/fail.
 * Run: `npx tsx bench/conv-throughput.ts`. The training benchmark reuses `measureWasmConvThroughput`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { must } from '../functions/core/must';
import { initBackend } from '../trainer/backend';

/** One measured shape: input [1, size, size, channels], 3×3 filter, channels → channels, 'same'. */
export interface ConvThroughput {
  size: number;
  channels: number;
  /** Forward convolution, GFLOP/s (2 FLOP per multiply-add). */
  forwardGflops: number;
  /** Forward plus filter gradient (Conv2DBackpropFilter), GFLOP/s over both convolutions' FLOPs. */
  forwardFilterGradGflops: number;
}

const SHAPES: [size: number, channels: number][] = [
  [64, 64],
  [128, 16],
  [64, 32],
  [32, 64],
];

/** Median milliseconds of `fn` after `warmup` unmeasured runs; reading the result forces completion. */
function timeMs(fn: () => tf.Tensor, warmup: number, reps: number): number {
  for (let i = 0; i < warmup; i++) fn().dispose();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    const out = fn();
    out.dataSync();
    times.push(performance.now() - start);
    out.dispose();
  }
  times.sort((a, b) => a - b);
  return must(times[Math.floor(times.length / 2)], 'the median time');
}

/** Initialises wasm (with the training kernels) and measures every shape; figures vary with machine load. */
export async function measureWasmConvThroughput(reps = 7): Promise<ConvThroughput[]> {
  await initBackend('wasm');
  const results: ConvThroughput[] = [];
  for (const [size, channels] of SHAPES) {
    const x = tf.randomNormal([1, size, size, channels]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, channels, channels]) as tf.Tensor4D;
    const flop = 2 * size * size * 9 * channels * channels;
    const forward = timeMs(() => tf.conv2d(x, w, 1, 'same'), 2, reps);
    const withGrad = timeMs(
      () =>
        tf.tidy(() => {
          const y = tf.conv2d(x, w, 1, 'same');
          return tf
            .engine()
            .runKernel(
              'Conv2DBackpropFilter',
              { x, dy: y },
              { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: w.shape },
            ) as tf.Tensor;
        }),
      2,
      reps,
    );
    results.push({
      size,
      channels,
      forwardGflops: flop / forward / 1e6,
      forwardFilterGradGflops: (2 * flop) / withGrad / 1e6,
    });
    tf.dispose([x, w]);
  }
  return results;
}

if (require.main === module) {
  measureWasmConvThroughput()
    .then((rows) => {
      console.log('wasm 3×3 conv, batch 1, median of 7 after 2 warm-ups');
      console.log('input           channels  forward GFLOP/s  fwd+filter-grad GFLOP/s');
      for (const r of rows) {
        console.log(
          `${`${r.size}×${r.size}`.padEnd(16)}${`${r.channels}→${r.channels}`.padEnd(10)}${r.forwardGflops.toFixed(1).padStart(15)}  ${r.forwardFilterGradGflops.toFixed(1).padStart(23)}`,
        );
      }
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
