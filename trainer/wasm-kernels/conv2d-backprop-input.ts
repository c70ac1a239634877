/**
 * Conv2DBackpropInput for the wasm backend, replacing the backend's own version for speed.
 *
 * Needed by the gradient of tf.conv2d (the input's gradient, at every convolution) and by the forward
 * pass of tf.conv2dTranspose (the decoder's upsampling), whose gradient then calls tf.conv2d and
 * Conv2DBackpropFilter. The backend ships this kernel as a direct loop that runs about ten times slower
 * than its XNNPACK forward convolution, which made it the slowest part of a training step.
 *
 * The input gradient is a full correlation of the output gradient with the spatially flipped filter
 * whose in/out channels are swapped. For stride s > 1 the output gradient is first spread onto an
 * s-times finer grid with zeros in between (a reshape and a zero pad), so the work becomes one stride-1
 * forward convolution. That spends s² times the necessary multiplications on zeros, which still beats
 * the direct loop by a wide margin at s = 2, the only stride the model uses.
 */
import {
  backend_util,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type KernelBackend,
  type KernelConfig,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { callKernel, disposeIntermediate } from './call-kernel';

/** Builds the kernel config for `backendName` (the backend must have Conv2D, Reverse, Transpose, Reshape, PadV2 and Slice). */
export function conv2dBackpropInputConfig(backendName: string): KernelConfig {
  return {
    kernelName: Conv2DBackpropInput,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
      const { inputShape, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as Conv2DBackpropInputAttrs;
      if (dataFormat !== undefined && dataFormat !== 'NHWC') {
        throw new Error(`Conv2DBackpropInput on ${backendName} supports dataFormat NHWC only, got ${dataFormat}.`);
      }
      const info = backend_util.computeConv2DInfo(
        inputShape,
        filter.shape as [number, number, number, number],
        strides,
        1,
        pad,
        dimRoundingMode,
      );
      const kb = backend as KernelBackend;
      const run = (name: string, ins: Record<string, TensorInfo>, at: object): TensorInfo =>
        callKernel(backendName, kb, name, ins, at as NamedAttrMap);
      const [n, h, w, cin] = inputShape;
      const [, ho, wo, cout] = dy.shape;
      const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;

      // Flip the filter in space and swap its channel roles: [kh, kw, Cin, Cout] → [kh, kw, Cout, Cin].
      const flipped = run('Reverse', { x: filter }, { dims: [0, 1] });
      const backFilter = run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] });
      disposeIntermediate(kb, flipped);

      // Spread dy onto the stride grid: [N, Ho, Wo, Cout] → [N, Ho·sh, Wo·sw, Cout], zeros between samples.
      let spread = dy;
      if (sh > 1 || sw > 1) {
        const split = run('Reshape', { x: dy }, { shape: [n, ho, 1, wo, 1, cout] });
        const padded = run(
          'PadV2',
          { x: split },
          {
            paddings: [
              [0, 0],
              [0, 0],
              [0, sh - 1],
              [0, 0],
              [0, sw - 1],
              [0, 0],
            ],
            constantValue: 0,
          },
        ); // [N, Ho, sh, Wo, sw, Cout]
        disposeIntermediate(kb, split);
        spread = run('Reshape', { x: padded }, { shape: [n, ho * sh, wo * sw, cout] });
        disposeIntermediate(kb, padded);
      }

      // Full correlation: the forward pass's top padding p leaves kh − 1 − p rows of overhang before row 0;
      // the bottom overhang is whatever makes the result at least H rows (extra rows are cropped below).
      const top = kh - 1 - info.padInfo.top;
      const left = kw - 1 - info.padInfo.left;
      const bottom = Math.max(0, h + kh - 1 - top - ho * sh);
      const right = Math.max(0, w + kw - 1 - left - wo * sw);
      if (top < 0 || left < 0) {
        throw new Error(
          `Conv2DBackpropInput on ${backendName} does not support padding larger than the filter (pad ${JSON.stringify(pad)}).`,
        );
      }
      const full = run(
        'Conv2D',
        { x: spread, filter: backFilter },
        {
          strides: [1, 1],
          dilations: [1, 1],
          pad: [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ],
          dataFormat: 'NHWC',
        },
      ); // [N, ≥H, ≥W, Cin]
      if (spread !== dy) disposeIntermediate(kb, spread);
      disposeIntermediate(kb, backFilter);

      if (full.shape[1] === h && full.shape[2] === w) return full;
      const dx = run('Slice', { x: full }, { begin: [0, 0, 0, 0], size: [n, h, w, cin] }); // [N, H, W, Cin]
      disposeIntermediate(kb, full);
      return dx;
    },
  };
}
