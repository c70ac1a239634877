/**
 * The TF.js meaning of a layer list (spec.ts): `declareLayers` creates its parameters in a ParamStore
 * with the official initialisation, and `applyLayers` runs it forward. The ONNX exporter reads the same
 * list, so training and inference share one description of each network.
 *
 * Initialisation follows the official code's init_weights('normal'): conv weights N(0, 0.02), biases 0;
 * PReLU slopes keep PyTorch's default 0.25 (the official init touches only Conv/Linear/BatchNorm).
 */
import * as tf from '@tensorflow/tfjs-core';

import { conv2dPadded, convTranspose2dTorch } from '../layers/conv';
import { instanceNorm } from '../layers/instance-norm';
import { applyModulation, declareModulation } from '../layers/style-modulation';
import { fusedSharedPrelu } from '../kernels';
import type { ParamStore } from './params';
import { unknownKind } from './shape';
import type { Layer } from './spec';

/** Standard deviation of the official normal initialisation of conv weights. */
export const INIT_STD = 0.02;
/** PyTorch's nn.PReLU() initial slope. */
export const PRELU_INIT = 0.25;

/** Registers every parameter of the layers (including those inside residual bodies) in the store. */
export function declareLayers(store: ParamStore, layers: Layer[]): void {
  for (const layer of layers) {
    switch (layer.kind) {
      case 'conv2d':
        store.normal(
          `${layer.name}.weight`,
          [layer.kernel, layer.kernel, layer.inChannels, layer.outChannels],
          INIT_STD,
        );
        store.constant(`${layer.name}.bias`, [layer.outChannels], 0);
        break;
      case 'convTranspose2d':
        // TF.js keeps transposed-conv filters as [k, k, out, in].
        store.normal(
          `${layer.name}.weight`,
          [layer.kernel, layer.kernel, layer.outChannels, layer.inChannels],
          INIT_STD,
        );
        store.constant(`${layer.name}.bias`, [layer.outChannels], 0);
        break;
      case 'prelu':
        store.constant(`${layer.name}.alpha`, [1], PRELU_INIT);
        break;
      case 'residual':
        declareLayers(store, layer.body);
        break;
      case 'modulate':
        declareModulation(store, layer);
        break;
      case 'instanceNorm':
      case 'relu':
      case 'leakyRelu':
      case 'tanh':
      case 'spatialMean':
      case 'upsampleNearest':
        break;
      default:
        throw unknownKind(layer);
    }
  }
}

/**
 * Receives the input of every activation layer (relu, leakyRelu, prelu) that `applyLayers` runs while
 * a trace is active: the layer list it belongs to (a residual body is a list of its own), the layer's
 * index in it, and the tensor, which lives only until the enclosing tidy ends (copy what you keep).
 */
export type ActivationTracer = (layers: readonly Layer[], index: number, input: tf.Tensor4D) => void;

let activationTracer: ActivationTracer | undefined;

/**
 * Runs `fn` with `onInput` called for every activation input, then stops tracing. For numerical
 * checks against other implementations: where an activation's input lies within float32 rounding of
 * 0, two correct implementations can take different sides of the kink, and so different gradients
 * (bench/reference-parity compares gradients at Peerstyle's own activation inputs for that reason).
 */
export function traceActivationInputs<T>(onInput: ActivationTracer, fn: () => T): T {
  const previous = activationTracer;
  activationTracer = onInput;
  try {
    return fn();
  } finally {
    activationTracer = previous;
  }
}

/** What a layer list may be run with besides its input. */
export interface LayerContext {
  /** The condition of `modulate` layers, [B, conditionChannels]. */
  condition?: tf.Tensor2D;
}

/**
 * Runs the layers on `x` with the store's current weights. Intermediates are released inside a tidy,
 * so only the returned tensor survives; gradients flow to every variable through tf.variableGrads.
 *
 * @param x - [B, H, W, C] with C equal to the first layer's input channels
 */
export function applyLayers(
  store: ParamStore,
  layers: Layer[],
  x: tf.Tensor4D,
  context: LayerContext = {},
): tf.Tensor4D {
  return tf.tidy(() => {
    let h = x;
    layers.forEach((layer, i) => {
      if (activationTracer && (layer.kind === 'relu' || layer.kind === 'leakyRelu' || layer.kind === 'prelu')) {
        activationTracer(layers, i, h);
      }
      h = applyLayer(store, layer, h, context);
    });
    return h;
  });
}

function applyLayer(store: ParamStore, layer: Layer, x: tf.Tensor4D, context: LayerContext): tf.Tensor4D {
  switch (layer.kind) {
    case 'conv2d':
      checkChannels(layer.name, layer.inChannels, x);
      return conv2dPadded(
        x,
        store.get(`${layer.name}.weight`) as tf.Tensor as tf.Tensor4D,
        store.get(`${layer.name}.bias`) as tf.Tensor as tf.Tensor1D,
        layer.stride,
        layer.padding,
        layer.padMode,
      );
    case 'convTranspose2d':
      checkChannels(layer.name, layer.inChannels, x);
      return convTranspose2dTorch(
        x,
        store.get(`${layer.name}.weight`) as tf.Tensor as tf.Tensor4D,
        store.get(`${layer.name}.bias`) as tf.Tensor as tf.Tensor1D,
        layer.stride,
        layer.padding,
      );
    case 'instanceNorm':
      return instanceNorm(x, layer.eps);
    case 'relu':
      return tf.relu(x);
    case 'leakyRelu':
      return tf.leakyRelu(x, layer.alpha);
    case 'prelu': {
      // One shared slope of shape [1], broadcast over every channel like PyTorch's nn.PReLU(); one fused
      // kernel each way on cpu and wasm (trainer/kernels).
      const alpha = store.get(`${layer.name}.alpha`);
      return fusedSharedPrelu(x, alpha) ?? (tf.prelu<tf.Tensor>(x, alpha) as tf.Tensor4D);
    }
    case 'tanh':
      return tf.tanh(x);
    case 'residual':
      return tf.add(x, applyLayers(store, layer.body, x, context));
    case 'spatialMean':
      return tf.mean(x, [1, 2], true);
    case 'upsampleNearest':
      return upsampleNearest(x, layer.factor);
    case 'modulate':
      return applyModulation(store, layer, x, context.condition);
    default:
      throw unknownKind(layer);
  }
}

/**
 * Nearest-neighbour upsampling written as a broadcast product: [B, H, 1, W, 1, C] × ones[1, 1, f, 1, f, 1].
 * Its gradient is a sum over the broadcast axes, which every backend has fast; tf.image's
 * resizeNearestNeighbor has no gradient kernel on wasm.
 */
export function upsampleNearest(x: tf.Tensor4D, factor: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const blocks = tf.mul(tf.reshape(x, [b, h, 1, w, 1, c]), tf.ones([1, 1, factor, 1, factor, 1]));
    return tf.reshape(blocks, [b, h * factor, w * factor, c]) as tf.Tensor4D;
  });
}

function checkChannels(name: string, expected: number, x: tf.Tensor4D): void {
  if (x.shape[3] !== expected) {
    throw new Error(`Layer "${name}" expects ${expected} input channels, got ${x.shape[3]} (input [${x.shape}]).`);
  }
}
