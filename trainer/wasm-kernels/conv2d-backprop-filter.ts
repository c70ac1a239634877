/**
 * Conv2DBackpropFilter for the wasm backend, which ships without it.
 *
 * Needed by the gradient of tf.conv2d (the filter's gradient) and by the gradient of
 * tf.conv2dTranspose (the Conv2DBackpropInput kernel, whose filter gradient is the same computation
 * with the roles of image and output gradient swapped): every convolution in the encoder, decoder and
 * discriminator, so this is the hot path of training.
 *
 * The filter gradient is itself a correlation, dW[a, b, c, o] = Σ_{n,i,j} x[n, i·s + a, j·s + b, c] · dy[n, i, j, o],
 * so it is computed with the backend's fast forward convolution (XNNPACK) on transposed tensors:
 * the image becomes a batch of Cin single images with N channels ([Cin, H, W, N]), the output gradient
 * becomes the filter ([Ho, Wo, N, Cout]), and the forward stride becomes the dilation. The result has
 * spatial size ≥ [kh, kw] (larger when stride does not divide the padded size), so it is sliced and
 * transposed back to the filter layout [kh, kw, Cin, Cout].
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

/** Builds the kernel config for `backendName` (the backend must have Conv2D, Transpose and Slice). */
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
      const run = (name: string, ins: Record<string, TensorInfo>, at: object): TensorInfo =>
        callKernel(backendName, kb, name, ins, at as NamedAttrMap);

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
      ); // [Cin, ≥kh, ≥kw, Cout]
      disposeIntermediate(kb, xT);
      disposeIntermediate(kb, dyT);

      const [kh, kw, cin, cout] = filterShape;
      let cropped = corr;
      if (corr.shape[1] !== kh || corr.shape[2] !== kw) {
        cropped = run('Slice', { x: corr }, { begin: [0, 0, 0, 0], size: [cin, kh, kw, cout] }); // [Cin, kh, kw, Cout]
        disposeIntermediate(kb, corr);
      }
      const dW = run('Transpose', { x: cropped }, { perm: [1, 2, 0, 3] }); // [kh, kw, Cin, Cout]
      disposeIntermediate(kb, cropped);
      return dW;
    },
  };
}
