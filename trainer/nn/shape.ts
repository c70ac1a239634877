/**
 * Pure arithmetic over a layer list (spec.ts): output shapes, parameter counts and FLOPs, computed
 * without creating a tensor. Tests use it to check the networks against the paper's sizes at 256 px,
 * benchmarks to turn timings into GFLOP/s, and callers to validate an input size before running.
 */
import type { Layer } from './spec';

/** An NHWC shape: [batch, height, width, channels]. */
export type Shape4 = [number, number, number, number];

/**
 * The shape the layers produce from an input of shape `input`, checking channel counts and sizes on the
 * way (the same checks the forward pass would fail on, with the layer named).
 */
export function outputShape(layers: Layer[], input: Shape4): Shape4 {
  let shape: Shape4 = [...input];
  for (const layer of layers) shape = layerOutput(layer, shape);
  return shape;
}

function layerOutput(layer: Layer, [b, h, w, c]: Shape4): Shape4 {
  switch (layer.kind) {
    case 'conv2d': {
      expectChannels(layer.name, layer.inChannels, c);
      if (layer.padMode === 'reflect' && (layer.padding >= h || layer.padding >= w)) {
        throw new Error(`Layer "${layer.name}": reflection padding ${layer.padding} needs more than ${h}×${w} px.`);
      }
      const out = (n: number): number => Math.floor((n + 2 * layer.padding - layer.kernel) / layer.stride) + 1;
      const [oh, ow] = [out(h), out(w)];
      if (oh < 1 || ow < 1) throw new Error(`Layer "${layer.name}": input ${h}×${w} px is too small for its kernel.`);
      return [b, oh, ow, layer.outChannels];
    }
    case 'convTranspose2d': {
      expectChannels(layer.name, layer.inChannels, c);
      const out = (n: number): number => (n - 1) * layer.stride - 2 * layer.padding + layer.kernel;
      return [b, out(h), out(w), layer.outChannels];
    }
    case 'residual': {
      const inner = outputShape(layer.body, [b, h, w, c]);
      if (inner.join('x') !== [b, h, w, c].join('x')) {
        throw new Error(`A residual body maps [${[b, h, w, c]}] to [${inner}]; it must keep the shape.`);
      }
      return [b, h, w, c];
    }
    case 'spatialMean':
      return [b, 1, 1, c];
    case 'upsampleNearest':
      return [b, h * layer.factor, w * layer.factor, c];
    case 'instanceNorm':
      if (h * w < 2) throw new Error(`Instance norm needs more than one spatial element per channel, got ${h}×${w}.`);
      return [b, h, w, c];
    case 'modulate':
      expectChannels(layer.name, layer.channels, c);
      return [b, h, w, c];
    case 'relu':
    case 'leakyRelu':
    case 'prelu':
    case 'tanh':
      return [b, h, w, c];
    default:
      throw unknownKind(layer);
  }
}

/** Number of trainable scalars the layers declare (the same as ParamStore.count after declareLayers). */
export function countParams(layers: Layer[]): number {
  let n = 0;
  for (const layer of layers) {
    if (layer.kind === 'conv2d' || layer.kind === 'convTranspose2d') {
      n += layer.kernel * layer.kernel * layer.inChannels * layer.outChannels + layer.outChannels;
    } else if (layer.kind === 'prelu') {
      n += 1;
    } else if (layer.kind === 'modulate') {
      n += 2 * (layer.conditionChannels + 1) * layer.channels;
    } else if (layer.kind === 'residual') {
      n += countParams(layer.body);
    }
  }
  return n;
}

/**
 * Floating-point operations of the convolutions for one forward pass over `input`, counting a
 * multiply-add as 2. Norms, activations and bias adds are left out: they are a rounding error
 * next to the convolutions and do not show what the hardware sustains.
 */
export function layerFlops(layers: Layer[], input: Shape4): number {
  let flops = 0;
  let shape: Shape4 = [...input];
  for (const layer of layers) {
    const next = layerOutput(layer, shape);
    if (layer.kind === 'conv2d') {
      // Every output pixel sums k·k·Cin products per output channel.
      const [b, oh, ow] = next;
      flops += 2 * b * oh * ow * layer.kernel * layer.kernel * layer.inChannels * layer.outChannels;
    } else if (layer.kind === 'convTranspose2d') {
      // Every input pixel scatters k·k·Cout products per input channel.
      const [b, h, w] = shape;
      flops += 2 * b * h * w * layer.kernel * layer.kernel * layer.inChannels * layer.outChannels;
    } else if (layer.kind === 'residual') {
      flops += layerFlops(layer.body, shape);
    }
    shape = next;
  }
  return flops;
}

/**
 * Elements of every intermediate output the layers produce over `input` (a residual block's body and
 * its sum both count). Training keeps these for the backward pass, so this times the element size is
 * what one forward pass holds until its gradients are taken.
 */
export function activationElements(layers: Layer[], input: Shape4): number {
  let elements = 0;
  let shape: Shape4 = [...input];
  for (const layer of layers) {
    if (layer.kind === 'residual') elements += activationElements(layer.body, shape);
    shape = layerOutput(layer, shape);
    elements += shape[0] * shape[1] * shape[2] * shape[3];
  }
  return elements;
}

function expectChannels(name: string, expected: number, got: number): void {
  if (got !== expected) throw new Error(`Layer "${name}" expects ${expected} input channels, got ${got}.`);
}

/** The error for a layer kind outside the spec, reachable only from data that bypassed the type system. */
export function unknownKind(layer: never): Error {
  const kind = (layer as { kind?: unknown }).kind;
  return new Error(
    `Unknown layer kind "${String(kind)}". Expected one of: conv2d, convTranspose2d, instanceNorm, relu, ` +
      'leakyRelu, prelu, tanh, residual, spatialMean, upsampleNearest, modulate.',
  );
}
