/**
 * Constructors for entries of the plain-data layer lists (trainer/nn/spec.ts), so that the network
 * files read like the official model definitions: `conv(...)`, `norm()`, `relu()`, `resnetBlock(...)`.
 * They build data only; trainer/nn/apply.ts gives it meaning.
 */
import { INSTANCE_NORM_EPS, type Layer, type PadMode } from '../nn/spec';

/** Options of {@link conv}; defaults give a stride-1 convolution with no padding. */
export interface ConvOptions {
  /** @default 1 */
  stride?: number;
  /** Pixels added on each side before convolving. @default 0 */
  padding?: number;
  /** @default 'zero' */
  padMode?: PadMode;
}

/** A k×k convolution with bias, padded first by `padding` with `padMode`. */
export function conv(
  name: string,
  inChannels: number,
  outChannels: number,
  kernel: number,
  opts: ConvOptions = {},
): Layer {
  return {
    kind: 'conv2d',
    name,
    inChannels,
    outChannels,
    kernel,
    stride: opts.stride ?? 1,
    padding: opts.padding ?? 0,
    padMode: opts.padMode ?? 'zero',
  };
}

/** A transposed convolution with bias and PyTorch's output size (in − 1)·stride − 2·padding + kernel. */
export function convTranspose(
  name: string,
  inChannels: number,
  outChannels: number,
  kernel: number,
  stride: number,
  padding: number,
): Layer {
  return { kind: 'convTranspose2d', name, inChannels, outChannels, kernel, stride, padding };
}

/** Instance norm without affine parameters, with PyTorch's eps. */
export function norm(): Layer {
  return { kind: 'instanceNorm', eps: INSTANCE_NORM_EPS };
}

export function relu(): Layer {
  return { kind: 'relu' };
}

export function leakyRelu(alpha: number): Layer {
  return { kind: 'leakyRelu', alpha };
}

/**
 * The official ResnetBlock with reflection padding and a single-slope PReLU:
 * x + [ReflPad1, Conv3×3, IN, PReLU, ReflPad1, Conv3×3, IN](x), with no activation after the sum.
 * Parameters live under `${name}.conv1`, `${name}.act`, `${name}.conv2`. `afterNorm` gives the layers
 * to insert after each norm (the decoders' style modulation, under `${name}.mod1` and `${name}.mod2`).
 */
export function resnetBlock(name: string, channels: number, afterNorm: (name: string) => Layer[] = () => []): Layer {
  const body: Layer[] = [
    conv(`${name}.conv1`, channels, channels, 3, { padding: 1, padMode: 'reflect' }),
    norm(),
    ...afterNorm(`${name}.mod1`),
    { kind: 'prelu', name: `${name}.act` },
    conv(`${name}.conv2`, channels, channels, 3, { padding: 1, padMode: 'reflect' }),
    norm(),
    ...afterNorm(`${name}.mod2`),
  ];
  return { kind: 'residual', body };
}
