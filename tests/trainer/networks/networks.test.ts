/**
 * Shapes, value ranges, parameter counts and gradient flow of the TSPR networks built from their layer
 * lists: the encoder with its global-style net, the two decoders and the discriminator. Forward passes
 * run on the cpu backend at 32 px (tiny) and 64 px (small); the paper's 256 px sizes are checked through
 * shape inference, which needs no tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core ships its gradients apart from the ops; the training backend registers them the same way.
import { registerCoreGradients } from '../../../trainer/backend';

import { latentChannels, presetConfig, type ModelConfig } from '../../../trainer/config';
import { decode, declareDecoder, decoderLayers } from '../../../trainer/networks/decoder';
import { declareDiscriminator, discriminate, discriminatorLayers } from '../../../trainer/networks/discriminator';
import { declareEncoder, encode, encoderBodyLayers, encoderStemLayers } from '../../../trainer/networks/encoder';
import { applyGlobalStyle, globalStyleLayers } from '../../../trainer/networks/global-style';
import { colourStats } from '../../../trainer/layers/colour-head';
import { applyLayers } from '../../../trainer/nn/apply';
import { ParamStore } from '../../../trainer/nn/params';
import { countParams, layerFlops, outputShape, type Shape4 } from '../../../trainer/nn/shape';
import { defined } from '../../support/checked';

beforeAll(async () => {
  registerCoreGradients();
  await tf.setBackend('cpu');
});

/** A store holding every convolutional network of the model. */
function fullStore(cfg: ModelConfig): ParamStore {
  const store = new ParamStore(1);
  declareEncoder(store, cfg);
  declareDecoder(store, cfg, 'dec');
  declareDecoder(store, cfg, 'decAux');
  declareDiscriminator(store, cfg);
  return store;
}

/** Colour statistics of `batch` random images, for decoders with the colour head. */
const colourOf = (batch: number, seed: number): tf.Tensor2D =>
  colourStats(tf.randomUniform([batch, 8, 8, 3], -1, 1, 'float32', seed) as tf.Tensor4D);

const encoderLayers = (cfg: ModelConfig) => [...encoderStemLayers(cfg), ...encoderBodyLayers(cfg)];

// small needs a 64 px input to its encoder: at 32 px its third global-style conv would leave a 1×1 map
// for instance norm. The decoders and the discriminator have no such limit and run at 32 px to stay fast.
describe.each([
  ['tiny', 32, 2],
  ['small', 64, 1],
] as const)('%s preset, encoder at %i px, batch %i', (preset, size, batch) => {
  const cfg = presetConfig(preset);
  const { ngf } = cfg;
  const side = 32;
  let store: ParamStore;
  let image: tf.Tensor4D;

  beforeAll(() => {
    store = fullStore(cfg);
    image = tf.randomUniform([batch, size, size, 3], -1, 1, 'float32', 4) as tf.Tensor4D;
  });
  afterAll(() => {
    image.dispose();
    store.dispose();
  });

  test('the encoder gives middle features at H/2 and a latent at H/4 whose global style is one vector per image', () => {
    const { middle, latent } = encode(store, cfg, image);
    expect(middle.shape).toEqual([batch, size / 2, size / 2, 2 * ngf]);
    expect(latent.shape).toEqual([batch, size / 4, size / 4, 12 * ngf]);
    expect(outputShape(encoderStemLayers(cfg), [batch, size, size, 3])).toEqual(middle.shape);
    expect(outputShape(encoderLayers(cfg), [batch, size, size, 3])).toEqual(latent.shape);
    expect(outputShape(globalStyleLayers(cfg), [batch, size / 4, size / 4, 4 * ngf])).toEqual([batch, 1, 1, 4 * ngf]);

    const { content, globalStyle } = latentChannels(cfg);
    const [lowest, spread, peak, unchanged] = tf.tidy(() => {
      const raw = applyLayers(store, encoderBodyLayers(cfg), middle); // [B, h, w, 12ngf] before the global-style net
      const g = tf.slice(latent, [0, 0, 0, content], [-1, -1, -1, globalStyle]); // [B, h, w, 4ngf]
      const keep = (t: tf.Tensor4D): tf.Tensor =>
        tf.concat(
          [
            tf.slice(t, [0, 0, 0, 0], [-1, -1, -1, content]),
            tf.slice(t, [0, 0, 0, content + globalStyle], [-1, -1, -1, -1]),
          ],
          3,
        );
      return [
        // The body ends in a ReLU and the global vector is a mean of ReLU outputs.
        tf.min(latent),
        // Distance of every position from the top-left one: zero when spatially constant.
        tf.max(tf.abs(tf.sub(g, tf.slice(g, [0, 0, 0, 0], [-1, 1, 1, -1])))),
        tf.max(g),
        // Content and local style are the body's output untouched.
        tf.max(tf.abs(tf.sub(keep(raw), keep(latent)))),
      ].map((t) => t.dataSync()[0]);
    });
    expect(lowest).toBeGreaterThanOrEqual(0);
    expect(spread).toBe(0);
    expect(peak).toBeGreaterThan(0);
    expect(unchanged).toBe(0);
    expect(() => applyGlobalStyle(store, cfg, middle)).toThrow(
      `expects a ${12 * ngf}-channel latent (12·ngf), got ${2 * ngf}`,
    );
    tf.dispose([middle, latent]);
  });

  test.each(['dec', 'decAux'] as const)('the %s decoder inverts the encoder resolution into a tanh image', (prefix) => {
    const latent = tf.randomUniform([batch, side / 4, side / 4, 12 * ngf], 0, 2, 'float32', 6) as tf.Tensor4D;
    const out = decode(store, cfg, prefix, latent, colourOf(batch, 7));
    expect(out.shape).toEqual([batch, side, side, 3]);
    expect(outputShape(decoderLayers(cfg, prefix), latent.shape)).toEqual(out.shape);
    const [lo, hi, variance] = tf.tidy(() =>
      [tf.min(out), tf.max(out), tf.moments(out).variance].map((t) => t.dataSync()[0]),
    );
    expect(lo).toBeGreaterThanOrEqual(-1);
    expect(hi).toBeLessThanOrEqual(1);
    expect(variance).toBeGreaterThan(0);
    tf.dispose([latent, out]);
  });

  test('the discriminator maps an image and its exemplar to an (H/4 + 4)² patch map', () => {
    const judged = tf.randomUniform([batch, side, side, 3], -1, 1, 'float32', 10) as tf.Tensor4D;
    const exemplar = tf.randomUniform([1, side, side, 3], -1, 1, 'float32', 8) as tf.Tensor4D;
    const expected: Shape4 = [batch, side / 4 + 4, side / 4 + 4, 1];
    const shared = discriminate(store, cfg, judged, exemplar);
    expect(shared.shape).toEqual(expected);
    expect(outputShape(discriminatorLayers(cfg), [batch, side, side, 6])).toEqual(expected);
    // A batch-1 exemplar is the same as repeating it for every image.
    const tiled = tf.tile(exemplar, [batch, 1, 1, 1]) as tf.Tensor4D;
    const repeated = discriminate(store, cfg, judged, tiled);
    // Noise on the input changes the logits.
    const noise = tf.randomNormal([batch, side, side, 6], 0, cfg.discriminatorNoise, 'float32', 9) as tf.Tensor4D;
    const noisy = discriminate(store, cfg, judged, tiled, noise);
    const [same, moved] = tf.tidy(() =>
      [tf.max(tf.abs(tf.sub(shared, repeated))), tf.max(tf.abs(tf.sub(noisy, repeated)))].map((t) => t.dataSync()[0]),
    );
    expect(same).toBeLessThan(1e-6);
    expect(moved).toBeGreaterThan(0);
    expect(() => discriminate(store, cfg, judged, tf.zeros([1, side, side, 1]) as tf.Tensor4D)).toThrow(
      /exemplar \[B or 1, H, W, 3\]/,
    );
    tf.dispose([judged, exemplar, shared, tiled, repeated, noise, noisy]);
  });
});

describe('tiny preset, whole model', () => {
  test('a forward pass of every network inside tidy leaves no tensors behind', () => {
    const cfg = presetConfig('tiny');
    const store = fullStore(cfg);
    const image = tf.randomUniform([1, 32, 32, 3], -1, 1, 'float32', 14) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const { latent } = encode(store, cfg, image);
      const out = decode(store, cfg, 'dec', latent, colourOf(1, 8));
      discriminate(store, cfg, out, image);
    });
    expect(tf.memory().numTensors).toBe(before);
    const kept = encode(store, cfg, image);
    expect(tf.memory().numTensors).toBe(before + 2); // exactly middle and latent
    tf.dispose([image, kept.middle, kept.latent]);
    store.dispose();
  });

  test('as in the reference architecture, the decoders ignore the global style vector', () => {
    // The merge conv is 1×1 and linear, so a spatially constant vector only adds a per-channel constant,
    // and the instance norm right after it subtracts exactly that. Documented in the README (Model fidelity).
    const cfg = presetConfig('tiny');
    const store = fullStore(cfg);
    const { content, globalStyle, localStyle } = latentChannels(cfg);
    const zc = tf.randomUniform([1, 8, 8, content], 0, 1, 'float32', 21);
    const zl = tf.randomUniform([1, 8, 8, localStyle], 0, 1, 'float32', 22);
    // The global-style net emits one vector per image, broadcast over every position.
    const globalOf = (seed: number) =>
      tf.add(tf.zeros([1, 8, 8, globalStyle]), tf.randomUniform([1, 1, 1, globalStyle], 0, 5, 'float32', seed));
    const latent = tf.concat([zc, globalOf(23), zl], 3) as tf.Tensor4D;
    const swapped = tf.concat([zc, globalOf(24), zl], 3) as tf.Tensor4D;
    const changedLocal = tf.concat(
      [zc, globalOf(23), tf.add(zl, tf.randomUniform(zl.shape, 0, 1, 'float32', 25))],
      3,
    ) as tf.Tensor4D;
    for (const prefix of ['dec', 'decAux'] as const) {
      const a = decode(store, cfg, prefix, latent, colourOf(1, 9));
      const diff = (t: tf.Tensor4D) =>
        tf.max(tf.abs(tf.sub(decode(store, cfg, prefix, t, colourOf(1, 9)), a))).dataSync()[0];
      expect(diff(swapped)).toBeLessThan(1e-5);
      // The same comparison does see a change of the local style.
      expect(diff(changedLocal)).toBeGreaterThan(1e-3);
    }
    store.dispose();
  });

  test('gradients of a generator and a discriminator objective reach every parameter', () => {
    const cfg = presetConfig('tiny');
    const store = fullStore(cfg);
    const image = tf.randomUniform([1, 32, 32, 3], -1, 1, 'float32', 12) as tf.Tensor4D;
    const style = tf.randomUniform([1, 32, 32, 3], -1, 1, 'float32', 13) as tf.Tensor4D;
    const objective = (): tf.Scalar =>
      tf.tidy(() => {
        const { middle, latent } = encode(store, cfg, image);
        const main = decode(store, cfg, 'dec', latent, colourOf(1, 10));
        const aux = decode(store, cfg, 'decAux', latent, colourOf(1, 10));
        const logits = discriminate(store, cfg, main, style);
        // Every term depends on its own parameters; the middle term reaches only the stem, which the
        // latent already depends on, and keeps the stem's output in the objective as training does.
        return tf.addN([
          tf.mean(tf.square(tf.sub(main, image))),
          tf.mean(tf.abs(tf.sub(aux, style))),
          tf.mean(logits),
          tf.mean(middle),
        ]) as tf.Scalar;
      });
    const variables = store.trainable();
    const { value, grads } = tf.variableGrads(objective, variables);
    const silent = variables.filter(
      (v) => tf.tidy(() => tf.sum(tf.abs(defined(grads[v.name], `the gradient of ${v.name}`))).dataSync()[0]) === 0,
    );
    expect(silent.map((v) => v.name)).toEqual([]);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    tf.dispose([image, style, value, ...Object.values(grads)]);
    store.dispose();
  });
});

describe('paper sizes (shape inference only)', () => {
  const cfg = presetConfig('paper');
  const encoderAll = [...encoderLayers(cfg), ...globalStyleLayers(cfg)];

  test.each([
    ['encoder (stem + body + global style)', () => countParams(encoderAll), 9.43e6],
    ['main merge + decoder', () => countParams(decoderLayers(cfg, 'dec')), 7.94e6],
    ['auxiliary merge + decoder', () => countParams(decoderLayers(cfg, 'decAux')), 7.94e6],
    ['discriminator', () => countParams(discriminatorLayers(cfg)), 2.77e6],
  ])('%s has the published parameter count within 0.5%%', (_, count, published) => {
    expect(Math.abs(count() - published) / published).toBeLessThan(0.005);
  });

  test('a declared paper encoder holds exactly the counted parameters, all under enc.', () => {
    const store = new ParamStore(1);
    declareEncoder(store, cfg);
    expect(store.count(['enc.'])).toBe(countParams(encoderAll));
    expect(store.count()).toBe(store.count(['enc.']));
    store.dispose();
  });

  test('instance norm refuses a 1×1 map, so a too-small input cannot silently zero the global style', () => {
    const small = presetConfig('small');
    expect(() => outputShape(globalStyleLayers(small), [1, 8, 8, 64])).toThrow(
      'Instance norm needs more than one spatial element per channel, got 1×1',
    );
    expect(outputShape(globalStyleLayers(small), [1, 16, 16, 64])).toEqual([1, 1, 1, 64]);
  });

  test('256 px crops give a 64×64×768 latent, a 256 px image back and a 68×68 patch map', () => {
    expect(outputShape(encoderLayers(cfg), [1, 256, 256, 3])).toEqual([1, 64, 64, 768]);
    expect(outputShape(globalStyleLayers(cfg), [1, 64, 64, 256])).toEqual([1, 1, 1, 256]);
    expect(outputShape(decoderLayers(cfg, 'dec'), [1, 64, 64, 768])).toEqual([1, 256, 256, 3]);
    expect(outputShape(discriminatorLayers(cfg), [1, 256, 256, 6])).toEqual([1, 68, 68, 1]);
  });

  test('decoder instances differ only in their parameter prefix', () => {
    const names = (prefix: 'dec' | 'decAux') =>
      JSON.stringify(decoderLayers(cfg, prefix)).replace(new RegExp(`"${prefix}\\.`, 'g'), '"P.');
    expect(names('decAux')).toBe(names('dec'));
    expect(() => decoderLayers(cfg, 'decoder' as 'dec')).toThrow(
      'Unknown decoder prefix "decoder". Expected one of: dec, decAux.',
    );
  });

  test('convolution FLOPs at 256 px are dominated by the residual blocks', () => {
    const encoderFlops = layerFlops(encoderLayers(cfg), [1, 256, 256, 3]);
    const blockFlops = 2 * cfg.encoderBlocks * (2 * 64 * 64 * 9 * 256 * 256);
    expect(encoderFlops).toBeGreaterThan(blockFlops);
    expect(blockFlops / encoderFlops).toBeGreaterThan(0.8);
  });
});
