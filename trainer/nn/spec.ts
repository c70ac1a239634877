/**
 * A plain-data description of the convolutional networks, shared by their two consumers: the TF.js
 * forward pass (trainer/nn/apply.ts) and the ONNX exporter. A change to a network is a change to its
 * layer list, so training and inference cannot drift apart silently; the export parity test proves it.
 *
 * Layout is NHWC throughout. Parameter names are `${layer.name}.${param}`:
 * - conv2d:          weight [kh, kw, in, out] (TF.js filter layout), bias [out]
 * - convTranspose2d: weight [kh, kw, out, in] (TF.js conv2dTranspose filter layout), bias [out]
 * - prelu:           alpha [1] (one shared slope, as PyTorch's nn.PReLU())
 * - modulate:        scale.weight, shift.weight [conditionChannels, channels]; scale.bias, shift.bias [channels]
 */

export type PadMode = 'reflect' | 'zero';

export type Layer =
  /** Pads by `padding` on each side with `padMode`, then convolves with no further padding. */
  | {
      kind: 'conv2d';
      name: string;
      inChannels: number;
      outChannels: number;
      kernel: number;
      stride: number;
      padding: number;
      padMode: PadMode;
    }
  /** PyTorch ConvTranspose2d(kernel, stride, padding) semantics: out = (in − 1)·stride − 2·padding + kernel. */
  | {
      kind: 'convTranspose2d';
      name: string;
      inChannels: number;
      outChannels: number;
      kernel: number;
      stride: number;
      padding: number;
    }
  /** Instance norm without affine parameters: per sample and channel over H and W, biased variance. */
  | { kind: 'instanceNorm'; eps: number }
  | { kind: 'relu' }
  | { kind: 'leakyRelu'; alpha: number }
  | { kind: 'prelu'; name: string }
  | { kind: 'tanh' }
  /** x + body(x), with no activation after the sum. */
  | { kind: 'residual'; body: Layer[] }
  /** Mean over H and W, keeping them as size 1: [B, H, W, C] → [B, 1, 1, C]. */
  | { kind: 'spatialMean' }
  /**
   * Nearest-neighbour upsampling by an integer factor: each pixel becomes a factor × factor block
   * ([B, H, W, C] → [B, fH, fW, C]; PyTorch's nn.Upsample(mode='nearest'), ONNX Resize nearest/floor).
   */
  | { kind: 'upsampleNearest'; factor: number }
  /**
   * Per-sample, per-channel affine map x·(1 + γ) + β with γ = c·scale.weight + scale.bias and
   * β = c·shift.weight + shift.bias, where c [B, conditionChannels] is the condition the network is run
   * with (trainer/layers/style-modulation.ts), standardised first by the running statistics
   * `${statistics}.mean` and `${statistics}.var` [conditionChannels]. Every weight starts at zero: the
   * layer starts as identity.
   */
  | { kind: 'modulate'; name: string; conditionChannels: number; channels: number; statistics: string };

/** PyTorch's InstanceNorm2d default. */
export const INSTANCE_NORM_EPS = 1e-5;
