/**
 * Conv2DBackpropFilter for the wasm backend, which ships without it.
 *
 * Needed by the gradient of tf.conv2d (the filter's gradient) and by the gradient of
 * tf.conv2dTranspose (the Conv2DBackpropInput kernel, whose filter gradient is the same computation
 * with the roles of image and output gradient swapped): every convolution in the encoder, decoder and
 * discriminator, so this is the hot path of training.
 *
 * The filter gradient is a correlation, dW[a, b, c, o] = Σ_{n,i,j} x[n, i·s + a, j·s + b, c] · dy[n, i, j, o].
 * Two formulations, both built from kernels wasm has:
 *
 * - im2col: one strided slice of the padded image per kernel tap gives the patch matrix
 *   [kh·kw·Cin, N·Ho·Wo], and one plain matrix product with dy [N·Ho·Wo, Cout] gives dW. XNNPACK's
 *   matrix product is used at full speed, so this is the faster path when the channels fill its tiles.
 * - correlation: the backend's forward convolution (XNNPACK) on transposed tensors: the image becomes a
 *   batch of Cin single images with N channels ([Cin, H, W, N]), the output gradient becomes the filter
 *   ([Ho, Wo, N, Cout]), and the forward stride becomes the dilation. It needs no kh·kw-fold copy of the
 *   image, so it stays the path for narrow and strided layers, where im2col gains nothing or loses.
 *
 * `useIm2col` chooses between them (the correlation whenever the wasm backend has a thread pool); the
 * figures behind its rule are next to it.
 */
import {
  backend_util,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type KernelBackend,
  type KernelConfig,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { callKernel, disposeIntermediate } from './call-kernel';

type Run = (name: string, ins: Record<string, TensorInfo> | TensorInfo[], at: object) => TensorInfo;

/** Which formulation to use; exported for the benchmark that sets the rule. */
export type FilterGradPath = 'im2col' | 'correlation';

let forcedPath: FilterGradPath | undefined;

/** Forces one formulation for every shape (undefined restores the rule), so both can be measured and tested. */
export function forceFilterGradPath(path: FilterGradPath | undefined): void {
  forcedPath = path;
}

/**
 * The rule: im2col for stride 1 and at least 64 output channels, the width of the matrix product's
 * result, which decides how well XNNPACK's tiles are filled. Measured on wasm, batch 1, 'same'
 * (filter-gradient GFLOP/s, correlation → im2col): 3×3 64→64 @ 64 px 16.4 → 26.7, 16→64 @ 64 px
 * 12.0 → 26.2, 32→64 @ 64 px 14.7 → 33.8, 64→128 @ 32 px 16.5 → 33.1, 192→192 @ 32 px 18.1 → 35.5,
 * 7×7 3→64 @ 128 px 10.6 → 25.8; but 64→16 @ 64 px 16.9 → 11.1, 7×7 3→16 14.9 → 9.4, and no gain at
 * 32→32 (14.8 → 15.1) or 16→16 (13.7 → 13.5). With stride 2, wasm's StridedSlice (a generic element
 * loop) makes im2col 10 to 50 times slower, so strided layers keep the correlation.
 */
export function useIm2col(info: backend_util.Conv2DInfo, threads = 1): boolean {
  if (forcedPath !== undefined) return forcedPath === 'im2col';
  // With a thread pool the correlation's one XNNPACK convolution is split across the threads, and the
  // im2col copies are not: on two threads, for the shapes of a `small` step (batch 4), the correlation
  // took 14.5 ms against 17.3 (3×3 64→64 @ 32 px) and 40.4 against 47.6 (4×4 64→128 @ 35 px), where on
  // one thread the two were level (20.5/20.0, 57.1/56.8).
  if (threads > 1) return false;
  return info.strideHeight === 1 && info.strideWidth === 1 && info.outChannels >= 64;
}

/** Threads of the wasm backend's pool (1 before it starts, or on another backend). */
function poolThreads(): number {
  try {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as { getThreadsCount(): number };
    return wasm.getThreadsCount();
  } catch {
    return 1;
  }
}

/** dW by the transposed forward convolution; returns [kh, kw, Cin, Cout]. */
function correlationPath(
  run: Run,
  kb: KernelBackend,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const xT = run('Transpose', { x }, { perm: [3, 1, 2, 0] }); // [Cin, H, W, N]
  const dyT = run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }); // [Ho, Wo, N, Cout]
  const { top, bottom, left, right } = info.padInfo;
  const corr = run(
    'Conv2D',
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      // The forward stride spaces the output-gradient taps over the image, i.e. it is a dilation.
      dilations: [info.strideHeight, info.strideWidth],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
    },
  ); // [Cin, ≥kh, ≥kw, Cout]: larger when the stride does not divide the padded size
  disposeIntermediate(kb, xT);
  disposeIntermediate(kb, dyT);

  const { filterHeight: kh, filterWidth: kw, inChannels: cin, outChannels: cout } = info;
  let cropped = corr;
  if (corr.shape[1] !== kh || corr.shape[2] !== kw) {
    cropped = run('Slice', { x: corr }, { begin: [0, 0, 0, 0], size: [cin, kh, kw, cout] }); // [Cin, kh, kw, Cout]
    disposeIntermediate(kb, corr);
  }
  const dW = run('Transpose', { x: cropped }, { perm: [1, 2, 0, 3] }); // [kh, kw, Cin, Cout]
  disposeIntermediate(kb, cropped);
  return dW;
}

/** dW by im2col and one matrix product; returns [kh, kw, Cin, Cout]. */
function im2colPath(
  run: Run,
  kb: KernelBackend,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize: n, inChannels: cin, outChannels: cout, outHeight: ho, outWidth: wo } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, bottom, left, right } = info.padInfo;
  // Channels first, so that each tap's slice is one contiguous block and the concatenation is kh·kw copies.
  const xT = run('Transpose', { x }, { perm: [3, 0, 1, 2] }); // [Cin, N, H, W]
  let xp = xT;
  if (top + bottom + left + right > 0) {
    xp = run(
      'PadV2',
      { x: xT },
      {
        paddings: [
          [0, 0],
          [0, 0],
          [top, bottom],
          [left, right],
        ],
        constantValue: 0,
      },
    ); // [Cin, N, Hp, Wp]
    disposeIntermediate(kb, xT);
  }
  const taps: TensorInfo[] = [];
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      // Tap (a, b) sees x at rows a, a + s, …, a + (Ho − 1)·s; 'valid'/'same' padding can leave spare rows beyond.
      const tap =
        sh === 1 && sw === 1
          ? run('Slice', { x: xp }, { begin: [0, 0, a, b], size: [cin, n, ho, wo] })
          : run(
              'StridedSlice',
              { x: xp },
              {
                begin: [0, 0, a, b],
                end: [cin, n, a + (ho - 1) * sh + 1, b + (wo - 1) * sw + 1],
                strides: [1, 1, sh, sw],
                beginMask: 0,
                endMask: 0,
                ellipsisMask: 0,
                newAxisMask: 0,
                shrinkAxisMask: 0,
              },
            ); // [Cin, N, Ho, Wo]
      taps.push(tap);
    }
  }
  disposeIntermediate(kb, xp);
  const [single] = taps;
  const patches = taps.length === 1 && single !== undefined ? single : run('Concat', taps, { axis: 0 }); // [kh·kw·Cin, N, Ho, Wo]
  if (taps.length > 1) taps.forEach((t) => disposeIntermediate(kb, t));
  const rows = n * ho * wo;
  const a3 = run('Reshape', { x: patches }, { shape: [1, kh * kw * cin, rows] }); // [1, kh·kw·Cin, N·Ho·Wo]
  disposeIntermediate(kb, patches);
  const b3 = run('Reshape', { x: dy }, { shape: [1, rows, cout] }); // [1, N·Ho·Wo, Cout]
  const prod = run('BatchMatMul', { a: a3, b: b3 }, { transposeA: false, transposeB: false }); // [1, kh·kw·Cin, Cout]
  disposeIntermediate(kb, a3);
  disposeIntermediate(kb, b3);
  const dW = run('Reshape', { x: prod }, { shape: [kh, kw, cin, cout] }); // [kh, kw, Cin, Cout]
  disposeIntermediate(kb, prod);
  return dW;
}

/** Builds the kernel config for `backendName` (the backend needs Conv2D, Transpose, Slice, StridedSlice, PadV2, Concat, Reshape, BatchMatMul). */
export function conv2dBackpropFilterConfig(backendName: string): KernelConfig {
  return {
    kernelName: Conv2DBackpropFilter,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
      if (dataFormat !== undefined && dataFormat !== 'NHWC') {
        throw new Error(`Conv2DBackpropFilter on ${backendName} supports dataFormat NHWC only, got ${dataFormat}.`);
      }
      const info = backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filterShape,
        strides,
        1,
        pad,
        dimRoundingMode,
      );
      const kb = backend as KernelBackend;
      const run: Run = (name, ins, at) =>
        callKernel(backendName, kb, name, ins as Record<string, TensorInfo>, at as NamedAttrMap);
      return useIm2col(info, poolThreads()) ? im2colPath(run, kb, x, dy, info) : correlationPath(run, kb, x, dy, info);
    },
  };
}
